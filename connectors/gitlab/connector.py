"""GitLab (gitlab.com and self-managed): seed a plan into a project and pull progress back.

Built on the project's HttpClient, not python-gitlab: python-gitlab's ``retry_transient_errors`` sends a
timed-out POST again blindly (a duplicate issue) and ``obey_rate_limit`` sleeps any Retry-After with no
ceiling. Here a create whose answer was lost is looked up by its key first, and a Retry-After beyond
``max_retry_wait`` ends the run with a message.

Gates become GitLab milestones with start and due dates. Tasks and milestones become issues with their
gate's milestone, due date, labels (plan, phase, clauses, role), an ``/estimate`` quick action the connector
adds itself and, on Premium, a weight. Every issue carries the plan label and a hidden marker
``<!-- iso20k:<plan>:<key> <kind> -->`` in its description, so one list call finds the plan's issues
without the store; every line of plan text starting with "/" is escaped, so no quick action runs.
Dependencies are ``blocks`` links on Premium and Ultimate, ``relates_to`` links plus a "Depends on" line in
the successor's description on Free (written once its links are made, so a re-seed reads them there).
GitLab's list answers hold no links: the links made are also kept in the memo; without either, a link is
posted again and GitLab's 409 for a link it has is taken as done. Phases are no items (epics are work
items created over GraphQL only, left out): each issue is labelled with its phase instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from .. import answers
from ..errors import SetupError, UncertainOutcome
from ..http import HttpClient, HttpError, RetryPolicy, site_client
from ..http.auth import HeaderAuth
from ..protocol import Capabilities, Connector
from ..values import (
    BulkResult,
    ContainerSpec,
    CreateFailure,
    ExternalItem,
    Inventory,
    ItemKind,
    ItemSpec,
    ItemUpdate,
    LinkSpec,
    NoteReceipt,
    NoteWrite,
    ProgressRecord,
    PullResult,
)
from . import mapping
from .api import GitLabApi
from .budget import BudgetedPacer, budget_for
from .settings import GitLabSettings

REPORTER, DEVELOPER = 20, 30
ROLES = {0: "no access", 5: "Minimal access", 10: "Guest", 15: "Planner", 20: "Reporter", 30: "Developer"}
ROLES |= {40: "Maintainer", 50: "Owner"}
CREATORS = {"developer": 30, "maintainer": 40, "owner": 50, "noone": 99}
"""A group's ``project_creation_level``: the least access that may create projects in it."""
TIERS = {"free": 0, "premium": 1, "ultimate": 2}
PLANS = {"bronze": "free", "silver": "premium", "premium_trial": "premium", "gold": "ultimate"}
PLANS |= {"ultimate_trial": "ultimate", "opensource": "ultimate"}
"""gitlab.com's older and trial plan names; "default" (self-managed) says nothing of the licence."""
REFUSED = frozenset({400, 409, 422})
"""Answers to a create that are about the issue itself (reported per item); others stop the run."""
LOOK_BACK = timedelta(hours=1)
"""How far back a look-up after a lost answer searches (clock skew between this host and GitLab)."""


class GitLabConnector(Connector):
    def __init__(
        self,
        settings: GitLabSettings,
        plan_key: str,
        token: str,
        http: HttpClient | None = None,
        memo: Mapping[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.plan_key = plan_key
        self._memo: dict[str, Any] = dict(memo or {})
        if http is None:
            auth = HeaderAuth("PRIVATE-TOKEN", token)
            http = site_client(settings.url, settings, auth, name="GitLab", secrets=[token])
            # GitLab's header-less 429s (Projects, Groups, Users APIs) may last up to a minute
            http.retry = RetryPolicy(8, 1.0, 60.0, max_retry_after=settings.max_retry_wait)
        parts = urlsplit(settings.url)
        site = f"{parts.scheme}://{parts.netloc}"
        self._requests = budget_for(site, "requests", self._per_minute())
        self._creates = budget_for(site, "creates", self._creates_per_minute())
        http.pacer = BudgetedPacer(http.pacer, self._requests)
        self.http = http
        self.api = GitLabApi(http)
        self._checked_now = False
        self._descriptions: dict[str, str] = {}
        """Descriptions by issue iid as read or created in this run (for the Free "Depends on" line)."""
        self.capabilities = Capabilities(
            phases=False,
            links=True,
            cost_fields=False,
            bulk_size=1,
            session_size=20,
            incremental_pull=True,
            write_back=True,
            updates=True,
        )

    def memo(self) -> dict[str, Any]:
        return dict(self._memo)

    def usage(self) -> dict[str, int]:
        return {"requests": self.http.requests_sent, "throttled": self.http.throttled}

    # --- budgets --------------------------------------------------------------------------------------

    @property
    def tier(self) -> str:
        return str(self._memo.get("tier") or "free")

    @property
    def premium(self) -> bool:
        return TIERS[self.tier] >= TIERS["premium"]

    def _per_minute(self) -> int | None:
        if self.settings.requests_per_minute or not self.settings.gitlab_com:
            return self.settings.requests_per_minute
        return 1250 if self.premium else 100

    def _creates_per_minute(self) -> int | None:
        if self.settings.creates_per_minute or not self.settings.gitlab_com:
            return self.settings.creates_per_minute
        return 200

    # --- pre-flight -----------------------------------------------------------------------------------

    @property
    def _project(self) -> str | int:
        return self._memo.get("project_id") or self.settings.project_ref

    @cached_property
    def _plan_label(self) -> str:
        return f"{self.settings.labels.plan}{self.plan_key}"

    def check(self) -> dict[str, Any] | None:
        """Everything a seed relies on, before anything is created: the token's scopes, the project (or the
        group and the right to create in it), the access level, issues enabled, and the tier (a Premium
        option on a Free project is refused). Returns the project, or None when it is to be created."""
        token = self._check_token()
        project = self._find_project()
        if project is None:
            namespace = self._check_group(token)
        else:
            self._check_project(project)
            namespace = project.get("namespace") or {}
        self._memo["tier"] = self._check_tier(namespace)
        self._requests.limit = self._per_minute()
        if project is not None:
            self._remember(project)
        self._checked_now = True
        return project

    def _ensure_checked(self) -> None:
        if not self._checked_now and not {"tier", "project_id"} <= set(self._memo):
            self.check()

    def _check_token(self) -> dict[str, Any]:
        env = self.settings.token_env
        try:
            token = self.api.token()
        except HttpError as exc:
            if exc.status == 401:
                raise SetupError(
                    f"GitLab at {self.settings.url} refused the token in {env} ({exc.message}): check that "
                    "it is valid, active and not expired"
                ) from None
            if exc.status == 404:  # an instance older than the route: the first write shows the scopes
                return {}
            raise
        scopes = [str(scope) for scope in token.get("scopes") or []]
        if "api" not in scopes:
            raise SetupError(
                f"the GitLab token in {env} lacks the api scope (it has: {', '.join(scopes) or 'none'}); "
                "the seed creates milestones, issues, links and notes: give it a token with the api scope"
            )
        if token.get("active") is False:
            raise SetupError(f"the GitLab token in {env} is not active (revoked or expired)")
        return token

    def _find_project(self) -> dict[str, Any] | None:
        try:
            return self.api.project(self.settings.project_ref)
        except HttpError as exc:
            if exc.status == 404:
                return None
            raise

    def _check_project(self, project: dict[str, Any]) -> None:
        where = project.get("path_with_namespace") or self.settings.project_ref
        if project.get("issues_enabled") is False:
            raise SetupError(f"GitLab project {where} has issues turned off: turn them on in its settings")
        permissions = project.get("permissions")
        if isinstance(permissions, dict):
            levels = [(permissions.get(k) or {}).get("access_level") or 0 for k in permissions]
            level = max([0, *levels])
            if level < REPORTER:
                raise SetupError(
                    f"the token's user is {ROLES.get(level, level)} in GitLab project {where}; the seed "
                    "needs at least Reporter to set milestones, labels, due dates and estimates and to link "
                    "issues"
                )

    def _check_group(self, token: dict[str, Any]) -> dict[str, Any]:
        """The group a missing project is to be created in, and the right to create it there."""
        ref, group_ref = self.settings.project_ref, self.settings.group
        if group_ref is None:
            raise SetupError(
                f"GitLab project {ref!r} not found at {self.settings.url}, or the token's user may not see "
                "it; create it, or set `group` to have it created there"
            )
        try:
            group = self.api.group(group_ref)
        except HttpError as exc:
            if exc.status != 404:
                raise
            raise SetupError(
                f"GitLab project {ref!r} does not exist and its group {group_ref!r} was not found at "
                f"{self.settings.url}, or the token's user may not see it"
            ) from None
        needed = CREATORS.get(str(group.get("project_creation_level") or "developer"), DEVELOPER)
        if token.get("user_id") is not None:
            try:
                level = int(self.api.group_member(group["id"], token["user_id"]).get("access_level") or 0)
            except HttpError as exc:
                if exc.status != 404:
                    raise
                level = 0
            if level < needed:
                who = f"at least {ROLES[needed]}" if needed in ROLES else "a role nobody has"
                raise SetupError(
                    f"GitLab project {ref!r} does not exist and the token's user may not create it: it is "
                    f"{ROLES.get(level, level)} in group {group_ref!r}, where creating projects needs {who} "
                    "(the group's setting)"
                )
        self._memo["group_id"] = group["id"]
        return {"id": group["id"], "full_path": group.get("full_path") or group_ref}

    def _check_tier(self, namespace: dict[str, Any]) -> str:
        """The tier: the namespace's plan where GitLab shows it (gitlab.com, to Maintainers and Owners), Free
        on Community Edition; a self-managed licence is not visible, so ``tier`` says it there."""
        wanted = self.settings.tier
        where = namespace.get("full_path") or self.settings.project_ref
        plan = ""
        if "id" in namespace:
            try:
                plan = str(self.api.namespace(namespace["id"]).get("plan") or "").lower()
            except HttpError as exc:
                if exc.status not in (403, 404):
                    raise
        actual = PLANS.get(plan, plan)
        if actual not in TIERS:  # "default" on self-managed Enterprise Edition, nothing elsewhere
            version = self.api.version()
            if version.get("enterprise"):
                return "free" if wanted == "auto" else wanted
            actual = "free"
            where = f"{self.settings.url} (GitLab Community Edition {version.get('version', '')})"
        if wanted != "auto" and TIERS[wanted] > TIERS[actual]:
            raise SetupError(
                f"tier: {wanted} is set, but {where} is on GitLab {actual.title()}: blocks links and weights "
                f"need Premium; set tier: auto (or {actual})"
            )
        return actual if wanted == "auto" else wanted

    def _remember(self, project: dict[str, Any]) -> None:
        self._memo.update(
            project_id=project["id"],
            web_url=project.get("web_url") or f"{self.settings.url}/{project.get('path_with_namespace')}",
            checked_at=datetime.now(UTC).isoformat(),
        )

    # --- the plan's items -----------------------------------------------------------------------------

    def ensure_container(self, spec: ContainerSpec) -> str:
        """Check everything, create the project if it is missing, then a milestone per gate (or its dates
        put right)."""
        project = self.check()
        if project is None:
            project = self._create_project(spec)
            self._remember(project)
        self._memo["milestones"] = self._ensure_milestones(spec)
        return str(self._memo["web_url"])

    def _create_project(self, spec: ContainerSpec) -> dict[str, Any]:
        path = self.settings.project_ref.rsplit("/", 1)[-1]
        try:
            return self.api.create_project(spec.plan_name, path, self._memo["group_id"])
        except UncertainOutcome:
            project = self._find_project()
            if project is None:
                raise
            return project
        except HttpError as exc:
            if exc.status in (400, 403):
                raise SetupError(
                    f"GitLab refused to create project {self.settings.project_ref!r}: {exc.message}"
                ) from None
            raise

    def _ensure_milestones(self, spec: ContainerSpec) -> dict[str, int]:
        gates = sorted(spec.gates, key=lambda gate: gate.due)
        existing: dict[str, dict[str, Any]] = {}
        for milestone in self.api.milestones(self._project):
            found = mapping.read_marker(self.plan_key, milestone.get("description"))
            if found is not None and found[0] not in existing:
                existing[found[0]] = milestone
        ids: dict[str, int] = {}
        start = spec.start
        for gate in gates:
            begin = min(start, gate.due - timedelta(days=1))  # GitLab: the due date after the start
            dates = {"start_date": begin.isoformat(), "due_date": gate.due.isoformat()}
            start = gate.due + timedelta(days=1)
            current = existing.get(gate.key)
            if current is None:
                marker = mapping.marker(self.plan_key, gate.key, ItemKind.milestone)
                description = f"{mapping.escape(gate.title)}\n\n{marker}"
                fields = {"title": mapping.one_line(gate.title), "description": description, **dates}
                current = self._create_milestone(gate.key, fields)
            elif any(current.get(name) != value for name, value in dates.items()):
                self.api.update_milestone(self._project, current["id"], dates)
            ids[gate.key] = int(current["id"])
        return ids

    def _create_milestone(self, key: str, fields: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.api.create_milestone(self._project, fields)
        except UncertainOutcome:
            for milestone in self.api.milestones(self._project):
                if (mapping.read_marker(self.plan_key, milestone.get("description")) or ("",))[0] == key:
                    return milestone
            return self.api.create_milestone(self._project, fields)
        except HttpError as exc:
            if exc.status != 400 or ":title=>" not in exc.message:
                raise
            title = f"{mapping.one_line(fields['title'], 200)} ({self.plan_key})"  # another's title
            return self.api.create_milestone(self._project, {**fields, "title": title})

    def find_items(self, known: Mapping[str, ExternalItem] | None = None) -> Inventory:
        """The plan's issues in one list call (a page per 100), by the marker each carries; the links made
        between them as the memo remembers them (GitLab's issue list has no links; a link posted again is
        refused with 409 and counts as made, so a lost memo costs requests, never duplicates)."""
        items: dict[str, ExternalItem] = {}
        for issue in self.api.issues(self._project, self._plan_label):
            found = mapping.read_marker(self.plan_key, issue.get("description"))
            if found is None or found[0] in items:
                continue
            items[found[0]] = item = self._external(*found, issue)
            self._descriptions[item.external_id] = issue.get("description") or ""
        keys = {item.external_id: key for key, item in items.items()}
        made = self._memo.get("links", [])
        links = frozenset((keys[a], keys[b]) for a, b in made if a in keys and b in keys)
        return Inventory(items=items, links=links)

    def create_items(self, specs: Sequence[ItemSpec], parents: Mapping[str, ExternalItem]) -> BulkResult:
        """One issue per request (GitLab has no bulk create); what GitLab refuses is reported in its words."""
        self._ensure_checked()
        created, failed = [], []
        for spec in specs:
            try:
                item = self._create(spec, parents)
            except HttpError as exc:
                if exc.status not in REFUSED:
                    raise
                failed.append(CreateFailure(key=spec.key, message=exc.message))
                continue
            if item is None:
                message = "GitLab's answer was lost twice; the next seed finds the issue if it was created"
                failed.append(CreateFailure(key=spec.key, message=message))
            else:
                created.append(item)
        return BulkResult(created=created, failed=failed)

    def _create(self, spec: ItemSpec, known: Mapping[str, ExternalItem]) -> ExternalItem | None:
        """POST the issue; when the answer is lost, look it up by its key and send it again only if GitLab
        does not hold it."""
        fields = self._fields(spec, known)
        for _ in range(2):
            since = datetime.now(UTC) - LOOK_BACK
            self._creates.take()
            try:
                issue = self.api.create_issue(self._project, fields)
            except UncertainOutcome:
                found = self._look_up(spec.key, since)
                if found is not None:
                    return found
                continue
            item = self._external(spec.key, spec.kind, issue)
            self._descriptions[item.external_id] = issue.get("description") or ""
            return item
        return None

    def _look_up(self, key: str, since: datetime) -> ExternalItem | None:
        for issue in self.api.issues(self._project, self._plan_label, since.isoformat()):
            found = mapping.read_marker(self.plan_key, issue.get("description"))
            if found is not None and found[0] == key:
                self._descriptions[str(issue["iid"])] = issue.get("description") or ""
                return self._external(*found, issue)
        return None

    def _fields(self, spec: ItemSpec, known: Mapping[str, ExternalItem]) -> dict[str, Any]:
        """The issue's fields; on Free its "Depends on" line names the predecessors that exist already
        (the engine creates in plan order, so most do), and link_items adds the rest."""
        entries = [
            mapping.dependency(f"#{known[link.predecessor].external_id}", link)
            for link in spec.depends_on
            if link.predecessor in known and not self.premium
        ]
        description = mapping.description(spec, self.plan_key, self.settings.hours_per_day, entries)
        fields: dict[str, Any] = {
            "title": mapping.one_line(spec.title),
            "description": description,
            "labels": ",".join(mapping.labels(self.settings.labels, self.plan_key, spec)),
            "due_date": spec.due.isoformat(),
        }
        milestone = self._memo.get("milestones", {}).get(spec.gate or "")
        if milestone is not None:
            fields["milestone_id"] = milestone
        if self.premium and spec.estimate_days > 0:
            fields["weight"] = max(1, int(spec.estimate_days.to_integral_value(ROUND_HALF_UP)))
        return fields

    def link_items(self, links: Sequence[LinkSpec], items: Mapping[str, ExternalItem]) -> list[CreateFailure]:
        """A ``blocks`` link per dependency (Premium), or a ``relates_to`` link and the successor's
        "Depends on" line (Free); one request each, a link GitLab has already (409) counts as made."""
        self._ensure_checked()
        by_successor: dict[str, dict[str, LinkSpec]] = {}
        for link in links:
            by_successor.setdefault(link.successor, {}).setdefault(link.predecessor, link)
        made: list[list[str]] = list(self._memo.get("links", []))
        failures = []
        for successor, wanted in by_successor.items():
            linked = []
            for link in wanted.values():
                try:
                    self._link(items[link.predecessor], items[successor])
                except HttpError as exc:
                    failures.append(
                        CreateFailure(key=f"{link.predecessor} -> {successor}", message=exc.message)
                    )
                    continue
                linked.append(link)
            if linked and not self.premium:
                try:
                    self._write_dependencies(items[successor], linked, items)
                except HttpError as exc:
                    failures += [
                        CreateFailure(key=f"{link.predecessor} -> {successor}", message=exc.message)
                        for link in linked
                    ]
                    continue
            made += [[items[link.predecessor].external_id, items[successor].external_id] for link in linked]
        self._memo["links"] = made
        return failures

    def _link(self, predecessor: ExternalItem, successor: ExternalItem) -> None:
        if self.premium:
            source, target, kind = predecessor, successor, "blocks"
        else:
            source, target, kind = successor, predecessor, "relates_to"
        for attempt in range(2):
            try:
                self.api.link(
                    self._project, source.external_id, self._memo["project_id"], target.external_id, kind
                )
                return
            except UncertainOutcome:  # a second POST is safe: GitLab refuses a duplicate link with 409
                if attempt:
                    raise
            except HttpError as exc:
                if exc.status == 409:
                    return
                if exc.status == 403 and kind == "blocks":
                    raise SetupError(
                        f"GitLab refused a blocks link ({exc.message}): the project is not on Premium or "
                        "Ultimate; set tier: free (or auto)"
                    ) from None
                raise

    def _write_dependencies(
        self, successor: ExternalItem, linked: Sequence[LinkSpec], items: Mapping[str, ExternalItem]
    ) -> None:
        """The successor's "Depends on" line, with the entries it had and the new ones."""
        iid = successor.external_id
        if iid not in self._descriptions:
            self._descriptions[iid] = self.api.issue(self._project, iid).get("description") or ""
        current = self._descriptions[iid]
        entries = mapping.dependency_entries(current)
        for link in linked:
            predecessor = items[link.predecessor]
            reference = f"#{predecessor.external_id}"
            entries[reference] = mapping.dependency(reference, link)
        text = mapping.with_dependencies(current, list(entries.values()))
        if text != current:
            self.api.update_issue(self._project, iid, {"description": text})
            self._descriptions[iid] = text

    def update_items(
        self, updates: Sequence[ItemUpdate], items: Mapping[str, ExternalItem]
    ) -> list[CreateFailure]:
        """Titles and due dates (PUT issue); GitLab issues have no start date, and the estimate is set once,
        when the issue is created."""
        failures = []
        for update in updates:
            item = items.get(update.key)
            if item is None:
                failures.append(CreateFailure(key=update.key, message="not seeded"))
                continue
            fields: dict[str, Any] = {}
            if update.title is not None:
                fields["title"] = mapping.one_line(update.title)
            if update.due is not None:
                fields["due_date"] = update.due.isoformat()
            if fields:
                try:
                    self.api.update_issue(self._project, item.external_id, fields)
                except HttpError as exc:
                    failures.append(CreateFailure(key=update.key, message=exc.message))
            if update.estimate_days is not None:
                message = "the estimate is not changed in GitLab (set once, when the issue is created)"
                failures.append(CreateFailure(key=update.key, message=message))
        return failures

    # --- progress and notes ---------------------------------------------------------------------------

    def pull_progress(self, items: Mapping[str, ExternalItem], since: datetime | None) -> PullResult:
        """One list call per 100 issues (``updated_after`` for an increment). Closed is done, an open
        issue with an in-progress label, an assignee or time spent is in progress; a checklist gives the
        percentage."""
        after = since.astimezone(UTC).isoformat() if since is not None else None
        held: dict[str, list[dict[str, Any]]] = {}
        for issue in self.api.issues(self._project, self._plan_label, after):
            found = mapping.read_marker(self.plan_key, issue.get("description"))
            if found is not None and found[0] in items:
                held.setdefault(found[0], []).append(issue)
        records, problems = [], []
        for key, issues in held.items():
            ours = next((i for i in issues if str(i["iid"]) == items[key].external_id), issues[0])
            problems += [
                f"{key}: {_reference(i)} carries the same marker as {_reference(ours)}; only "
                f"{_reference(ours)} is read"
                for i in issues
                if i is not ours
            ]
            if ours.get("moved_to_id"):
                problems.append(
                    f"{key}: {_reference(ours)} was moved out of the project (now issue id "
                    f"{ours['moved_to_id']}); its progress is no longer read"
                )
                continue
            facts, trouble = mapping.progress(
                key,
                ours,
                self.settings.in_progress_labels,
                self.settings.assignee_in_progress,
                self.settings.hours_per_day,
            )
            problems += trouble
            updated = answers.timestamp(ours.get("updated_at"))
            records.append(ProgressRecord(key=key, progress=facts, updated_at=updated))
        missing = sorted(k for k in items if k not in held) if since is None else []
        return PullResult(records=records, problems=problems, missing=missing)

    def write_notes(self, notes: Sequence[NoteWrite], items: Mapping[str, ExternalItem]) -> list[NoteReceipt]:
        """Each gate's note as one note on its milestone's issue, edited in place by its id (found again by
        its marker when the id is lost); the plan's own note has no place in GitLab and is left out."""
        receipts = []
        for write in notes:
            item = items.get(write.note.key or "")
            if item is None:
                continue
            body = mapping.note_body(write.note, self.plan_key)
            ref = write.ref
            if ref is not None:
                try:
                    self.api.update_note(self._project, item.external_id, ref, body)
                except HttpError as exc:
                    if exc.status not in (403, 404):  # deleted, or written by another user: find or add
                        raise
                    ref = None
            if ref is None:
                ref = self._find_note(item.external_id, body)
            if ref is None:
                ref = str(self.api.add_note(self._project, item.external_id, body)["id"])
            receipts.append(NoteReceipt(key=write.note.key, ref=ref))
        return receipts

    def _find_note(self, iid: str, body: str) -> str | None:
        """Our status note on an issue by its marker, brought up to date; None if there is none."""
        marker = mapping.status_marker(self.plan_key)
        for note in self.api.notes(self._project, iid):
            if note.get("system") or marker not in (note.get("body") or ""):
                continue
            ref = str(note["id"])
            if note.get("body") != body:
                try:
                    self.api.update_note(self._project, iid, ref, body)
                except HttpError as exc:
                    if exc.status != 403:
                        raise
                    continue
            return ref
        return None

    # --- helpers --------------------------------------------------------------------------------------

    def _external(self, key: str, kind: ItemKind, issue: dict[str, Any]) -> ExternalItem:
        return ExternalItem(
            key=key,
            kind=kind,
            external_id=str(issue["iid"]),
            display_id=_reference(issue),
            url=issue.get("web_url"),
        )


def _reference(issue: dict[str, Any]) -> str:
    return str((issue.get("references") or {}).get("short") or f"#{issue.get('iid')}")

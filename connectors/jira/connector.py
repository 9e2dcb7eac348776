"""Jira Cloud and Jira Data Center: seed a plan into an existing project and pull progress back.

Phases become epics, tasks become issues (Task or Story), milestones become issues of a Milestone type (or
labelled tasks), gates become versions with release dates, dependencies become "Blocks" links. Every
issue carries the labels ``iso20k:<plan>`` and ``iso20k:<plan>:<task>``, so a re-seed finds it even with
an empty store. Everything a seed needs is checked before anything is created: the project, the
permissions, the issue types, the mapped fields, each field on the create screen of its issue type, and
the link type. What the checks learn is kept in :meth:`JiraConnector.memo`, so a daily sync repeats none
of them while the memo is fresh.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from ..errors import SetupError, TrackerError, UncertainOutcome
from ..http import HttpClient, HttpError, site_client
from ..http.auth import BearerAuth, basic_auth
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
from .api import JiraApi
from .settings import JiraSettings

LINK_TYPE = "Blocks"
PERMISSIONS = {
    "BROWSE_PROJECTS": "to see the project",
    "CREATE_ISSUES": "to create issues",
    "EDIT_ISSUES": "to update planned values",
    "SCHEDULE_ISSUES": "to set due dates",
    "RESOLVE_ISSUES": "to set fix versions",
    "LINK_ISSUES": "to link dependencies",
    "ADD_COMMENTS": "to add the status comments",
    "EDIT_OWN_COMMENTS": "to keep the status comments up to date",
}
VERSION_PERMISSION = {"ADMINISTER_PROJECTS": "to create a version per gate"}
SEARCH_FIELDS = ("labels", "issuetype", "issuelinks")
PROGRESS_FIELDS = ("labels", "project", "status", "resolutiondate", "timespent", "timeestimate", "updated")
STATUS_MARK = "iso20k-sync status"
"""Starts every status comment; plain words, so Cloud's wiki-to-ADF conversion leaves them as they are."""
MEMO_MAX_AGE = timedelta(days=7)
"""A sync trusts the checks of an earlier run this long; a seed always checks again."""


class JiraConnector(Connector):
    def __init__(
        self,
        settings: JiraSettings,
        plan_key: str,
        token: str,
        http: HttpClient | None = None,
        memo: Mapping[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.plan_key = plan_key
        self._memo: dict[str, Any] = dict(memo or {})
        known = {"cloud": True, "datacenter": False}.get(settings.deployment)
        if known is not None:
            self._memo["cloud"] = known
        basic = settings.deployment != "datacenter" and bool(settings.email)
        auth = basic_auth(settings.email or "", token) if basic else BearerAuth(token)
        self.http = http or site_client(settings.url, settings, auth, name="Jira", secrets=[token])
        self._checked_now = False
        self._gates = True
        self.capabilities = Capabilities(
            phases=True,
            links=True,
            cost_fields=settings.fields.actual_cost is not None,
            bulk_size=50,
            session_size=50,
            incremental_pull=True,
            write_back=True,
            updates=True,
            search_lag=settings.search_lag if known is not False else 0.0,
        )

    def memo(self) -> dict[str, Any]:
        return dict(self._memo)

    def usage(self) -> dict[str, int]:
        return {"requests": self.http.requests_sent, "throttled": self.http.throttled}

    # --- set-up and checks ---------------------------------------------------------------------------

    @property
    def cloud(self) -> bool:
        if "cloud" not in self._memo:
            info = self.http.get("/rest/api/2/serverInfo")
            self._memo["cloud"] = info.get("deploymentType") == "Cloud"
        return bool(self._memo["cloud"])

    @cached_property
    def api(self) -> JiraApi:
        return JiraApi(self.http, self.cloud, self.settings.page_size)

    def check(self, seeding: bool, gates: bool = True) -> None:
        """Everything a seed (or a sync) relies on, checked before anything is written. A sync trusts a
        fresh memo of an earlier check; a seed checks again once per run."""
        if self._checked_now or (not seeding and self._memo_fresh()):
            return
        self._gates = gates
        key = self.settings.project
        try:
            project = self.api.project(key)
        except HttpError as exc:
            if exc.status == 404:
                raise SetupError(
                    f"Jira project {key!r} not found at {self.settings.url}, or you may not see it: "
                    f"{exc.message}"
                ) from None
            raise
        self._check_permissions(key, versions=seeding and gates)
        types = {t["name"]: t for t in project.get("issueTypes", []) if not t.get("subtask")}
        names = self.settings.issue_types
        for role, name in (("phase", names.phase), ("task", names.task)):
            if name not in types:
                raise SetupError(
                    f"issue type {name!r} (for a {role}) is not in project {key}; it has: "
                    f"{', '.join(sorted(types))}"
                )
        milestone = names.milestone if names.milestone in types else None
        fields = self._field_ids()
        self._memo.update(
            project_id=project["id"],
            fields=fields,
            milestone_type=milestone,
            checked_at=datetime.now(UTC).isoformat(),
        )
        if seeding:
            for name in {names.phase, names.task, milestone or names.task}:
                self._check_screen(types[name], fields, epic=name == names.phase)
            link_types = {t["name"] for t in self.api.link_types()}
            if LINK_TYPE not in link_types:
                raise SetupError(
                    f"Jira has no {LINK_TYPE!r} link type; it has: {', '.join(sorted(link_types))}"
                )
        self._checked_now = True

    def _memo_fresh(self) -> bool:
        checked = self._memo.get("checked_at")
        if not checked or "fields" not in self._memo:
            return False
        return datetime.now(UTC) - datetime.fromisoformat(checked) < MEMO_MAX_AGE

    def _check_permissions(self, project: str, versions: bool) -> None:
        wanted = {**PERMISSIONS, **(VERSION_PERMISSION if versions else {})}
        missing = [name for name, ok in self.api.permissions(project, list(wanted)).items() if not ok]
        if missing:
            why = ", ".join(f"{name} ({wanted[name]})" for name in missing)
            raise SetupError(f"missing Jira permission(s) in project {project}: {why}")

    def _check_screen(self, issue_type: dict[str, Any], fields: Mapping[str, str], epic: bool) -> None:
        """Every field the seed sends for this issue type must be on its create screen."""
        needed = {"summary": "Summary", "description": "Description", "labels": "Labels"}
        needed["duedate"] = "Due date"
        if self._gates:
            needed["fixVersions"] = "Fix versions"
        if not epic:
            needed["timetracking"] = "Time tracking"
        if "start_date" in fields:
            needed[fields["start_date"]] = str(self.settings.fields.start_date)
        if self.cloud and not epic:
            needed["parent"] = "Parent"
        elif not self.cloud:
            role = "epic_name" if epic else "epic_link"
            needed[fields[role]] = getattr(self.settings.fields, role)
        screen = self.api.create_screen(self.settings.project, str(issue_type["id"]))
        absent = [f"{name} ({field})" for field, name in needed.items() if field not in screen]
        if absent:
            raise SetupError(
                f"Jira's create screen of issue type {issue_type['name']!r} in project "
                f"{self.settings.project} lacks {', '.join(absent)}: add them to the screen "
                "(or grant the permission that shows them) before seeding"
            )

    def _field_ids(self) -> dict[str, str]:
        by_name: dict[str, list[str]] = {}
        for field in self.api.fields():
            by_name.setdefault(field["name"], []).append(field["id"])
        wanted = {
            "actual_cost": self.settings.fields.actual_cost,
            "start_date": self.settings.fields.start_date,
            "write_back": self.settings.write_back_field,
        }
        if not self.cloud:
            wanted |= {
                "epic_link": self.settings.fields.epic_link,
                "epic_name": self.settings.fields.epic_name,
            }
        ids = {}
        for role, name in wanted.items():
            if name is None:
                continue
            found = by_name.get(name)
            if not found:
                similar = [n for n in by_name if name.split()[0].lower() in n.lower()][:5]
                hint = f"; fields with similar names: {', '.join(similar)}" if similar else ""
                raise SetupError(f"Jira field {name!r} (fields.{role}) does not exist{hint}")
            if len(found) > 1:
                raise SetupError(
                    f"Jira has {len(found)} fields named {name!r} (fields.{role}): {', '.join(found)}"
                )
            ids[role] = found[0]
        return ids

    @property
    def _fields(self) -> dict[str, str]:
        return self._memo.get("fields", {})

    # --- the plan's items ----------------------------------------------------------------------------

    def ensure_container(self, spec: ContainerSpec) -> str:
        """Check everything, then create the versions of the gates that are missing."""
        self.check(seeding=True, gates=bool(spec.gates))
        existing: dict[str, str] = {}
        for version in self.api.versions(self.settings.project):
            for gate in spec.gates:
                if mapping.marker(self.plan_key, gate.key) in (version.get("description") or ""):
                    existing[gate.key] = version["id"]
        for gate in spec.gates:
            if gate.key in existing:
                continue
            description = f"{gate.title} {mapping.marker(self.plan_key, gate.key)}"
            title = mapping.one_line(gate.title)
            try:
                version = self.api.create_version(
                    self._memo["project_id"], title, description, gate.due.isoformat()
                )
            except HttpError as exc:
                if exc.status != 400 or "name" not in str(exc.details):
                    raise
                version = self.api.create_version(
                    self._memo["project_id"],
                    f"{mapping.one_line(gate.title, 200)} ({self.plan_key})",
                    description,
                    gate.due.isoformat(),
                )
            existing[gate.key] = version["id"]
        self._memo["versions"] = existing
        return self.settings.browse(self.settings.project)

    def find_items(self, known: Mapping[str, ExternalItem] | None = None) -> Inventory:
        reconcile = sorted((i.external_id for i in (known or {}).values()), key=int)
        jql = f'project = {self.settings.project} AND labels = "{mapping.plan_label(self.plan_key)}"'
        return self._inventory(self.api.search(jql, SEARCH_FIELDS, reconcile))

    def _inventory(self, issues: Any) -> Inventory:
        items: dict[str, ExternalItem] = {}
        by_id: dict[str, str] = {}
        raw_links: list[tuple[str, str]] = []
        for issue in issues:
            fields = issue.get("fields", {})
            key = mapping.item_key(self.plan_key, fields.get("labels", []))
            if key is None or key in items:
                continue
            by_id[issue["id"]] = key
            items[key] = self._external(key, self._kind(fields), issue)
            for link in fields.get("issuelinks", []):
                if link.get("type", {}).get("name") != LINK_TYPE:
                    continue
                if "inwardIssue" in link:  # this issue "is blocked by" the other
                    raw_links.append((link["inwardIssue"]["id"], issue["id"]))
                if "outwardIssue" in link:  # this issue "blocks" the other
                    raw_links.append((issue["id"], link["outwardIssue"]["id"]))
        links = frozenset((by_id[a], by_id[b]) for a, b in raw_links if a in by_id and b in by_id)
        return Inventory(items=items, links=links)

    def create_items(self, specs: Sequence[ItemSpec], parents: Mapping[str, ExternalItem]) -> BulkResult:
        """Bulk create (at most 50); elements Jira refused are sent once more, alone. Elements Jira may
        have created are never sent again: a lost answer is resolved by looking the items up."""
        self.check(seeding=True)
        first = self._create(specs, parents)
        refused = {f.key for f in first.failed if f.refused}
        if not refused:
            return first.result
        again = self._create([s for s in specs if s.key in refused], parents)
        failed = [f for f in first.failed if not f.refused] + again.failed
        return BulkResult(created=first.created + again.created, failed=[f.failure for f in failed])

    def _create(self, specs: Sequence[ItemSpec], parents: Mapping[str, ExternalItem]) -> _Attempt:
        try:
            answer = self.api.bulk_create([self._fields_for(s, parents) for s in specs])
        except UncertainOutcome:
            return self._look_up(specs, parents)
        errors = {
            e["failedElementNumber"]: _element_message(e)
            for e in answer.get("errors", [])
            if isinstance(e, dict) and isinstance(e.get("failedElementNumber"), int)
        }
        ids = [str(issue["id"]) for issue in answer.get("issues", [])]
        # Jira documents no order for the created issues (JRACLOUD-81005): read back which is which.
        found = self._visible(ids, expected=len(ids))
        attempt = _Attempt(created=[found[s.key] for s in specs if s.key in found])
        for number, spec in enumerate(specs):
            if number in errors:
                attempt.refuse(spec.key, errors[number])
            elif spec.key not in found:
                attempt.unsure(spec.key)
        return attempt

    def _visible(self, ids: Sequence[str], expected: int) -> dict[str, ExternalItem]:
        """The created issues by plan key, read back by id; waits (up to the search lag, at least a few
        seconds) for issues a lagging search index does not show yet."""
        found: dict[str, ExternalItem] = {}
        deadline = time.monotonic() + max(self.settings.search_lag, 5.0)
        wait = 0.1
        while ids:
            jql = f"id in ({', '.join(ids)})"
            found |= self._inventory(self.api.search(jql, ("labels", "issuetype"), ids)).items
            seen = {item.external_id for item in found.values()}
            ids = [i for i in ids if i not in seen]
            if not ids or len(found) >= expected or time.monotonic() + wait > deadline:
                break
            time.sleep(wait)
            wait *= 2
        return found

    def _look_up(self, specs: Sequence[ItemSpec], parents: Mapping[str, ExternalItem]) -> _Attempt:
        """After a create whose answer was lost: what of ``specs`` Jira holds now, found by label (after
        the search lag, so an issue created a moment ago is visible); only the rest is created."""
        if self.settings.search_lag > 0:
            time.sleep(self.settings.search_lag)
        labels = ", ".join(f'"{mapping.item_label(self.plan_key, s.key)}"' for s in specs)
        jql = f"project = {self.settings.project} AND labels in ({labels})"
        found = self._inventory(self.api.search(jql, ("labels", "issuetype"))).items
        attempt = _Attempt(created=[found[s.key] for s in specs if s.key in found])
        missing = [s for s in specs if s.key not in found]
        return attempt.merge(self._create(missing, parents)) if missing else attempt

    def _fields_for(self, spec: ItemSpec, parents: Mapping[str, ExternalItem]) -> dict[str, Any]:
        labels = [mapping.plan_label(self.plan_key), mapping.item_label(self.plan_key, spec.key)]
        labels += [f"iso20000-1:{clause}" for clause in spec.clauses]
        types = self.settings.issue_types
        milestone_type = self._memo.get("milestone_type")
        if spec.kind is ItemKind.phase:
            issue_type = types.phase
        elif spec.kind is ItemKind.milestone and milestone_type:
            issue_type = milestone_type
        else:
            issue_type = types.task
            if spec.kind is ItemKind.milestone:
                labels.append("milestone")
        marker = f"{mapping.marker(self.plan_key, spec.key)} WBS {spec.wbs}"
        title = mapping.one_line(spec.title)
        long_title = spec.title if title != spec.title.strip() else ""
        description = "\n\n".join(part for part in (long_title, spec.description, marker) if part)
        fields: dict[str, Any] = {
            "project": {"key": self.settings.project},
            "issuetype": {"name": issue_type},
            "summary": title,
            "description": description,
            "labels": labels,
            "duedate": spec.due.isoformat(),
        }
        if "start_date" in self._fields:
            fields[self._fields["start_date"]] = spec.start.isoformat()
        if spec.estimate_days > 0 and spec.kind is not ItemKind.phase:
            fields["timetracking"] = {"originalEstimate": self._hours(spec.estimate_days)}
        version = self._memo.get("versions", {}).get(spec.gate or "")
        if version:
            fields["fixVersions"] = [{"id": version}]
        if spec.kind is ItemKind.phase and not self.cloud:
            fields[self._fields["epic_name"]] = title
        epic = parents.get(spec.parent or "")
        if spec.kind is not ItemKind.phase and epic is not None:
            if self.cloud:
                fields["parent"] = {"id": epic.external_id}
            else:
                fields[self._fields["epic_link"]] = _issue_key(epic)
        return fields

    def _hours(self, days: Any) -> str:
        return f"{max(round(float(days) * self.settings.hours_per_day), 1)}h"

    def link_items(
        self, links: Sequence[LinkSpec], items: Mapping[str, ExternalItem]
    ) -> list[CreateFailure]:
        """Create Blocks links, ``link_concurrency`` at a time (one request each: Jira has no bulk link
        API); pacing and Retry-After still hold across the threads. Posting a link Jira already has is
        harmless (Jira keeps one)."""
        wanted: dict[tuple[str, str], LinkSpec] = {}
        for link in links:
            wanted.setdefault((items[link.predecessor].external_id, items[link.successor].external_id), link)

        def create(pair: tuple[str, str]) -> CreateFailure | None:
            try:
                self.api.link(LINK_TYPE, *pair)
            except TrackerError as exc:
                link = wanted[pair]
                message = exc.message if isinstance(exc, HttpError) else str(exc)
                return CreateFailure(key=f"{link.predecessor} -> {link.successor}", message=message)
            return None

        with ThreadPoolExecutor(max_workers=self.settings.link_concurrency) as pool:
            return [failure for failure in pool.map(create, wanted) if failure is not None]

    def update_items(
        self, updates: Sequence[ItemUpdate], items: Mapping[str, ExternalItem]
    ) -> list[CreateFailure]:
        self.check(seeding=False)
        failures = []
        for update in updates:
            item = items.get(update.key)
            if item is None:
                failures.append(CreateFailure(key=update.key, message="not seeded"))
                continue
            fields: dict[str, Any] = {}
            if update.title is not None:
                fields["summary"] = mapping.one_line(update.title)
            if update.due is not None:
                fields["duedate"] = update.due.isoformat()
            if update.start is not None and "start_date" in self._fields:
                fields[self._fields["start_date"]] = update.start.isoformat()
            if update.estimate_days is not None and item.kind is not ItemKind.phase:
                fields["timetracking"] = {"originalEstimate": self._hours(update.estimate_days)}
            try:
                self.api.update_fields(item.external_id, fields)
            except HttpError as exc:
                failures.append(CreateFailure(key=update.key, message=exc.message))
        return failures

    # --- progress and notes --------------------------------------------------------------------------

    def pull_progress(self, items: Mapping[str, ExternalItem], since: datetime | None) -> PullResult:
        self.check(seeding=False)
        cost_field = self._fields.get("actual_cost")
        fields = [*PROGRESS_FIELDS, *([cost_field] if cost_field else [])]
        jql = f'labels = "{mapping.plan_label(self.plan_key)}"'
        if since is not None:
            minutes = max(1, int((datetime.now(since.tzinfo) - since).total_seconds() // 60) + 1)
            jql += f' AND updated >= "-{minutes}m"'
        records, problems, seen = [], [], set()
        for issue in self.api.search(jql, fields):
            data = issue.get("fields", {})
            key = mapping.item_key(self.plan_key, data.get("labels", []))
            if key is None or key not in items or key in seen:
                continue
            seen.add(key)
            project = (data.get("project") or {}).get("key")
            if project and project != self.settings.project:
                problems.append(
                    f"{key}: {issue['key']} was moved out of project {self.settings.project} into {project}"
                )
                continue
            facts, trouble = mapping.progress(
                key, data, cost_field, self.settings.hours_per_day, dict(self.settings.status_map)
            )
            problems += trouble
            records.append(
                ProgressRecord(key=key, progress=facts, updated_at=_timestamp(data.get("updated")))
            )
        missing = sorted(k for k in items if k not in seen) if since is None else []
        return PullResult(records=records, problems=problems, missing=missing)

    def write_notes(
        self, notes: Sequence[NoteWrite], items: Mapping[str, ExternalItem]
    ) -> list[NoteReceipt]:
        """Each milestone's note as one comment on its issue, edited in place (or in the configured text
        field); the plan's own note has no place in Jira and is left out."""
        self.check(seeding=False)
        receipts = []
        for write in notes:
            item = items.get(write.note.key or "")
            if item is None:
                continue
            text = f"{STATUS_MARK}: {write.note.text}"
            if "write_back" in self._fields:
                self.api.update_fields(item.external_id, {self._fields["write_back"]: text})
                receipts.append(NoteReceipt(key=write.note.key))
                continue
            ref = write.ref or self._find_comment(item.external_id)
            if ref is not None:
                try:
                    self.api.update_comment(item.external_id, ref, text)
                except HttpError as exc:
                    if exc.status != 404:  # deleted by someone: write it again below
                        raise
                    ref = None
            if ref is None:
                ref = str(self.api.add_comment(item.external_id, text)["id"])
            receipts.append(NoteReceipt(key=write.note.key, ref=ref))
        return receipts

    def _find_comment(self, issue: str) -> str | None:
        """Our status comment on an issue, found by its opening words (also once Cloud stored it as ADF)."""
        for comment in self.api.comments(issue):
            if mapping.plain_text(comment.get("body")).lstrip().startswith(STATUS_MARK):
                return str(comment["id"])
        return None

    # --- helpers -------------------------------------------------------------------------------------

    def _kind(self, fields: dict[str, Any]) -> ItemKind:
        name = (fields.get("issuetype") or {}).get("name")
        if name == self.settings.issue_types.phase:
            return ItemKind.phase
        if name == self._memo.get("milestone_type") or "milestone" in fields.get("labels", []):
            return ItemKind.milestone
        return ItemKind.task

    def _external(self, key: str, kind: ItemKind, issue: dict[str, Any]) -> ExternalItem:
        return ExternalItem(
            key=key,
            kind=kind,
            external_id=str(issue["id"]),
            display_id=issue.get("key"),
            url=f"{self.settings.url.rstrip('/')}/browse/{issue.get('key')}",
        )


class _Failed:
    def __init__(self, key: str, message: str, refused: bool) -> None:
        self.failure = CreateFailure(key=key, message=message)
        self.key = key
        self.refused = refused
        """Jira said no to this element (so sending it again cannot duplicate it)."""


class _Attempt:
    """One bulk create's outcome: created, refused by Jira, or not known to exist (never re-sent)."""

    def __init__(self, created: list[ExternalItem]) -> None:
        self.created = created
        self.failed: list[_Failed] = []

    def refuse(self, key: str, message: str) -> None:
        self.failed.append(_Failed(key, message, refused=True))

    def unsure(self, key: str) -> None:
        message = "Jira answered that it was created but no search shows it yet; a later seed records it"
        self.failed.append(_Failed(key, message, refused=False))

    def merge(self, other: _Attempt) -> _Attempt:
        self.created += other.created
        self.failed += other.failed
        return self

    @property
    def result(self) -> BulkResult:
        return BulkResult(created=self.created, failed=[f.failure for f in self.failed])


def _issue_key(item: ExternalItem) -> str:
    """An issue's key (ISO-12): recorded, or the last part of its browse URL."""
    return item.display_id or (item.url or "").rsplit("/", 1)[-1]


def _element_message(error: dict[str, Any]) -> str:
    details = error.get("elementErrors") or {}
    parts = [
        *details.get("errorMessages", []),
        *(f"{f}: {m}" for f, m in (details.get("errors") or {}).items()),
    ]
    return "; ".join(parts) or f"status {error.get('status')}"


def _timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return None

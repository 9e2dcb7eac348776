"""Jira Cloud and Jira Data Center: seed a plan into an existing project and pull progress back.

Phases become epics, tasks become issues (Task or Story), milestones become issues of a Milestone type (or
labelled tasks) and versions with release dates; dependencies become "Blocks" links. Every issue carries
the labels ``iso20k:<plan>`` and ``iso20k:<plan>:<task>``, so a re-seed finds it even with an empty store.
Everything a seed needs is checked (project, permissions, issue types, mapped fields, link type) before
anything is created.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import cached_property
from typing import Any

import requests

from iso20k_sync.analytics.status import PlanStatus
from iso20k_sync.config import JiraTracker

from ..base import (
    BulkResult,
    Capabilities,
    ContainerSpec,
    CreateFailure,
    ExternalItem,
    ItemKind,
    ItemSpec,
    LinkSpec,
    ProgressRecord,
    PullResult,
    TrackerError,
)
from ..http import HttpClient, HttpError
from . import mapping
from .api import JiraApi

LINK_TYPE = "Blocks"
NEEDED_PERMISSIONS = ("BROWSE_PROJECTS", "CREATE_ISSUES", "EDIT_ISSUES", "LINK_ISSUES", "ADD_COMMENTS")
VERSION_PERMISSION = "ADMINISTER_PROJECTS"
SEARCH_FIELDS = ("labels", "issuetype", "issuelinks", "project")
PROGRESS_FIELDS = ("labels", "project", "status", "resolutiondate", "timespent", "timeestimate", "updated")
STATUS_MARK = "[iso20k-sync status]"


def jira_session(settings: JiraTracker, token: str, cloud_hint: bool) -> requests.Session:
    """An authenticated session from the jira library: Basic with an API token on Cloud, a bearer
    personal access token on Data Center. Its own retries are off: the shared HttpClient retries."""
    from jira import JIRA

    options = {"check_update": False, "headers": {"Content-Type": "application/json"}}
    if settings.email and cloud_hint:
        client = JIRA(
            settings.url,
            options=options,
            basic_auth=(settings.email, token),
            get_server_info=False,
            max_retries=0,
        )
    else:
        client = JIRA(settings.url, options=options, token_auth=token, get_server_info=False, max_retries=0)
    return client._session


def _send_through(session: requests.Session) -> Any:
    """The jira library's session raises on error answers; give them back as responses instead."""
    from jira.exceptions import JIRAError

    def send(method: str, url: str, **kwargs: Any) -> requests.Response:
        session.timeout = kwargs.pop("timeout", None)  # the library's session passes its own timeout
        try:
            return session.request(method, url, **kwargs)
        except JIRAError as exc:
            if exc.response is not None:
                return exc.response
            raise

    return send


class JiraConnector:
    def __init__(
        self, settings: JiraTracker, plan_key: str, token: str, http: HttpClient | None = None
    ) -> None:
        self.settings = settings
        self.plan_key = plan_key
        cloud_hint = settings.deployment != "datacenter" and bool(settings.email)
        self.http = http or HttpClient(
            settings.url,
            _send_through(jira_session(settings, token, cloud_hint)),
            secrets=[token],
            min_interval=1 / settings.requests_per_second,
        )
        self._cloud: bool | None = {"cloud": True, "datacenter": False}.get(settings.deployment)
        self._project: dict[str, Any] | None = None
        self._fields: dict[str, str] = {}
        self._versions: dict[str, str] = {}
        self._milestone_type: str | None = None
        self._issues: dict[str, dict[str, Any]] = {}
        self.capabilities = Capabilities(
            phases=True,
            links=True,
            cost_fields=settings.fields.actual_cost is not None,
            bulk_size=50,
            incremental_pull=True,
            write_back=True,
            search_lag=settings.search_lag if self._cloud is not False else 0.0,
        )

    # --- set-up and checks ---------------------------------------------------------------------------

    @property
    def cloud(self) -> bool:
        if self._cloud is None:
            info = self.http.get("/rest/api/2/serverInfo")
            self._cloud = info.get("deploymentType") == "Cloud"
        return self._cloud

    @cached_property
    def api(self) -> JiraApi:
        return JiraApi(self.http, self.cloud, self.settings.page_size)

    def check(self, need_versions: bool) -> None:
        """Everything a seed or sync relies on, checked before anything is written."""
        if self._project is not None:
            return
        key = self.settings.project
        try:
            project = self.api.project(key)
        except HttpError as exc:
            if exc.status == 404:
                raise TrackerError(
                    f"Jira project {key!r} not found at {self.settings.url}, or you may not see it: "
                    f"{exc.message}"
                ) from None
            raise
        wanted = [*NEEDED_PERMISSIONS, *([VERSION_PERMISSION] if need_versions else [])]
        missing = [name for name, ok in self.api.permissions(key, wanted).items() if not ok]
        if missing:
            raise TrackerError(f"missing Jira permission(s) in project {key}: {', '.join(missing)}")
        types = {t["name"]: t for t in project.get("issueTypes", []) if not t.get("subtask")}
        names = self.settings.issue_types
        for role, name in (("phase", names.phase), ("task", names.task)):
            if name not in types:
                raise TrackerError(
                    f"issue type {name!r} (for a {role}) is not in project {key}; it has: "
                    f"{', '.join(sorted(types))}"
                )
        self._milestone_type = names.milestone if names.milestone in types else None
        self._fields = self._field_ids()
        link_types = {t["name"] for t in self.api.link_types()}
        if LINK_TYPE not in link_types:
            raise TrackerError(
                f"Jira has no {LINK_TYPE!r} link type; it has: {', '.join(sorted(link_types))}"
            )
        self._project = project

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
                raise TrackerError(f"Jira field {name!r} (fields.{role}) does not exist{hint}")
            if len(found) > 1:
                raise TrackerError(
                    f"Jira has {len(found)} fields named {name!r} (fields.{role}): {', '.join(found)}"
                )
            ids[role] = found[0]
        return ids

    # --- Connector -----------------------------------------------------------------------------------

    def ensure_container(self, spec: ContainerSpec) -> str:
        self.check(need_versions=bool(spec.gates))
        assert self._project is not None
        existing = {}
        for version in self.api.versions(self.settings.project):
            for gate in spec.gates:
                if mapping.marker(self.plan_key, gate.key) in (version.get("description") or ""):
                    existing[gate.key] = version["id"]
        for gate in spec.gates:
            if gate.key in existing:
                continue
            description = f"{gate.title} {mapping.marker(self.plan_key, gate.key)}"
            try:
                version = self.api.create_version(
                    self._project["id"], gate.title[:255], description, gate.due.isoformat()
                )
            except HttpError as exc:
                if exc.status != 400 or "name" not in str(exc.details):
                    raise
                name = f"{gate.title[:200]} ({self.plan_key})"
                version = self.api.create_version(
                    self._project["id"], name, description, gate.due.isoformat()
                )
            existing[gate.key] = version["id"]
        self._versions = existing
        return f"{self.settings.url.rstrip('/')}/browse/{self.settings.project}"

    def find_items(self, known: Mapping[str, ExternalItem] | None = None) -> dict[str, ExternalItem]:
        reconcile = sorted((i.external_id for i in (known or {}).values()), key=int)
        jql = f'project = {self.settings.project} AND labels = "{mapping.plan_label(self.plan_key)}"'
        items: dict[str, ExternalItem] = {}
        for issue in self.api.search(jql, SEARCH_FIELDS, reconcile):
            fields = issue.get("fields", {})
            key = mapping.item_key(self.plan_key, fields.get("labels", []))
            if key is None or key in items:
                continue
            self._issues[key] = issue
            items[key] = ExternalItem(
                key=key, kind=self._kind(fields), external_id=issue["id"], url=self._browse(issue["key"])
            )
        return items

    def create_items(self, specs: Sequence[ItemSpec]) -> BulkResult:
        self.check(need_versions=False)
        phases = [s for s in specs if s.kind is ItemKind.phase]
        others = [s for s in specs if s.kind is not ItemKind.phase]
        result = BulkResult()
        for group in (phases, others):
            if group:
                part = self._create(group)
                result = BulkResult(created=result.created + part.created, failed=result.failed + part.failed)
        return result

    def _create(self, specs: Sequence[ItemSpec]) -> BulkResult:
        answer = self.api.bulk_create([self._fields_for(s) for s in specs])
        created, failed_specs, errors = self._match(specs, answer)
        failures = []
        if failed_specs:  # once more, only the elements that failed
            retry = self.api.bulk_create([self._fields_for(s) for s in failed_specs])
            more, still, errors = self._match(failed_specs, retry)
            created += more
            failures = [CreateFailure(key=s.key, message=errors[s.key]) for s in still]
        return BulkResult(created=created, failed=failures)

    def _match(
        self, specs: Sequence[ItemSpec], answer: dict[str, Any]
    ) -> tuple[list[ExternalItem], list[ItemSpec], dict[str, str]]:
        """Jira lists successes in input order without the failed elements, and errors by element number."""
        errors = {e["failedElementNumber"]: _element_message(e) for e in answer.get("errors", [])}
        succeeded = iter(answer.get("issues", []))
        created, failed = [], []
        for number, spec in enumerate(specs):
            if number in errors:
                failed.append(spec)
                continue
            issue = next(succeeded)
            self._issues[spec.key] = {"id": issue["id"], "key": issue["key"], "fields": {"issuelinks": []}}
            created.append(
                ExternalItem(
                    key=spec.key, kind=spec.kind, external_id=issue["id"], url=self._browse(issue["key"])
                )
            )
        return created, failed, {specs[n].key: m for n, m in errors.items()}

    def _fields_for(self, spec: ItemSpec) -> dict[str, Any]:
        labels = [mapping.plan_label(self.plan_key), mapping.item_label(self.plan_key, spec.key)]
        labels += [f"iso20000-1:{clause}" for clause in spec.clauses]
        types = self.settings.issue_types
        if spec.kind is ItemKind.phase:
            issue_type = types.phase
        elif spec.kind is ItemKind.milestone and self._milestone_type:
            issue_type = self._milestone_type
        else:
            issue_type = types.task
            if spec.kind is ItemKind.milestone:
                labels.append("milestone")
        description = "\n\n".join(
            part
            for part in (spec.description, f"{mapping.marker(self.plan_key, spec.key)} WBS {spec.wbs}")
            if part
        )
        fields: dict[str, Any] = {
            "project": {"key": self.settings.project},
            "issuetype": {"name": issue_type},
            "summary": spec.title[:255],
            "description": description,
            "labels": labels,
            "duedate": spec.due.isoformat(),
        }
        if "start_date" in self._fields:
            fields[self._fields["start_date"]] = spec.start.isoformat()
        if spec.estimate_days > 0 and spec.kind is not ItemKind.phase:
            hours = round(float(spec.estimate_days) * self.settings.hours_per_day)
            fields["timetracking"] = {"originalEstimate": f"{max(hours, 1)}h"}
        if spec.gate in self._versions:
            fields["fixVersions"] = [{"id": self._versions[spec.gate]}]
        if spec.kind is ItemKind.phase and not self.cloud:
            fields[self._fields["epic_name"]] = spec.title[:255]
        epic = self._issues.get(spec.phase_key or "")
        if spec.kind is not ItemKind.phase and epic is not None:
            if self.cloud:
                fields["parent"] = {"key": epic["key"]}
            else:
                fields[self._fields["epic_link"]] = epic["key"]
        return fields

    def link_items(self, links: Sequence[LinkSpec], items: Mapping[str, ExternalItem]) -> list[CreateFailure]:
        """Create the missing Blocks links, ``link_concurrency`` at a time (one request each: Jira has no
        bulk link API); pacing and Retry-After still hold across the threads."""
        existing = self._existing_links()
        wanted: dict[tuple[str, str], LinkSpec] = {}
        for link in links:
            pair = (items[link.predecessor].external_id, items[link.successor].external_id)
            if pair not in existing:
                wanted.setdefault(pair, link)

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

    def _existing_links(self) -> set[tuple[str, str]]:
        """(blocker id, blocked id) of the Blocks links on the issues found, as read back from Jira."""
        pairs = set()
        for issue in self._issues.values():
            for link in issue.get("fields", {}).get("issuelinks", []):
                if link.get("type", {}).get("name") != LINK_TYPE:
                    continue
                if "inwardIssue" in link:  # this issue "is blocked by" the other
                    pairs.add((link["inwardIssue"]["id"], issue["id"]))
                if "outwardIssue" in link:  # this issue "blocks" the other
                    pairs.add((issue["id"], link["outwardIssue"]["id"]))
        return pairs

    def pull_progress(self, items: Mapping[str, ExternalItem], since: datetime | None) -> PullResult:
        self.check(need_versions=False)
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

    def write_status(self, status: PlanStatus, items: Mapping[str, ExternalItem]) -> None:
        self.check(need_versions=False)
        for milestone in status.milestones:
            item = items.get(milestone.id)
            if item is None:
                continue
            text = (
                f"{STATUS_MARK} {milestone.rag.value.upper()}: forecast {milestone.forecast} against the "
                f"baseline {milestone.baseline} ({milestone.variance_days:+d} working days). "
                f"{milestone.reason}. Status date {status.status_date}."
            )
            if "write_back" in self._fields:
                self.api.update_fields(item.external_id, {self._fields["write_back"]: text})
                continue
            ours = [c for c in self.api.comments(item.external_id) if STATUS_MARK in str(c.get("body", ""))]
            if not ours:
                self.api.add_comment(item.external_id, text)
            elif ours[0].get("body") != text:
                self.api.update_comment(item.external_id, ours[0]["id"], text)

    # --- helpers -------------------------------------------------------------------------------------

    def _kind(self, fields: dict[str, Any]) -> ItemKind:
        name = (fields.get("issuetype") or {}).get("name")
        if name == self.settings.issue_types.phase:
            return ItemKind.phase
        if name == self._milestone_type or "milestone" in fields.get("labels", []):
            return ItemKind.milestone
        return ItemKind.task

    def _browse(self, issue_key: str) -> str:
        return f"{self.settings.url.rstrip('/')}/browse/{issue_key}"


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

"""Planner with premium plans (Dataverse): seed a plan into a project through the Project schedule API and
pull progress back.

The project is made with msdyn_CreateProjectV1 (which also makes its default bucket, and a task needs a
bucket) and found again by a marker in its description. Phases become summary tasks and tasks their
children (msdyn_parenttask), dependencies msdyn_projecttaskdependency records. Every task is created with
its client GUID (``ItemSpec.uid``, uuid5 of plan and key) and carries ``[iso20k:<plan>:<key> <kind>]`` as
the last line of its description, so a read of the project's tasks finds the plan without the store.
Writes go through operation sets (:mod:`.opsets`): one per change session of at most 200 operations.
Dataverse holds no cost per task: progress (a fraction) and effort (hours) are read, and the engine prices
the effort completed at the owner's rate. A milestone's status note is kept in its description, below the
task's own text, rewritten only when it changed. Each task is assigned to a generic team member for its
owner's role (one per role, made with msdyn_CreateTeamMemberV1), in the same set as the task.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import requests

from .. import answers, product
from ..errors import SetupError, TrackerError, UncertainOutcome
from ..http import HttpClient, HttpError, site_client
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
from .api import PAGE_SIZE, DataverseApi
from .identity import SIGN_IN_HINT, PlannerAuth
from .limits import check_limits
from .opsets import OperationSets, SetFailed
from .settings import PlannerSettings

BULK = 100
"""Entities per msdyn_PssCreateV2 / msdyn_PssUpdateV2 request."""
LOGS = "its reason is in Dataverse's logs: Settings > Schedule Integration"
REFUSED = frozenset({400, 404, 409, 412})
"""Answers about the entities themselves (reported per item); others stop the run."""


def dataverse_client(settings: PlannerSettings, auth: requests.auth.AuthBase) -> HttpClient:
    """The shared site client with Dataverse's OData headers and page size."""
    headers = {"OData-MaxVersion": "4.0", "OData-Version": "4.0", "Prefer": f"odata.maxpagesize={PAGE_SIZE}"}
    url = settings.environment_url
    return site_client(url, settings, auth, name="Dataverse", secrets=[], headers=headers)


class PlannerConnector(Connector):
    def __init__(
        self,
        settings: PlannerSettings,
        plan_key: str,
        auth: PlannerAuth,
        http: HttpClient | None = None,
        memo: Mapping[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.plan_key = plan_key
        self.auth = auth
        self.http = http or dataverse_client(settings, auth)
        self.api = DataverseApi(self.http)
        self._memo: dict[str, Any] = dict(memo or {})
        self.sets = OperationSets(
            self.api,
            mapping.set_description(plan_key),
            self._project,
            settings.poll_interval,
            settings.max_execution_wait,
        )
        self._team: set[str] | None = None
        """Ids of the project's team members, read at the first assignment."""
        self.capabilities = Capabilities(
            phases=True,
            links=True,
            cost_fields=False,
            bulk_size=BULK,
            session_size=200,
            incremental_pull=True,
            write_back=True,
            updates=True,
        )

    def memo(self) -> dict[str, Any]:
        return dict(self._memo)

    def usage(self) -> dict[str, int]:
        return {"requests": self.http.requests_sent, "throttled": self.http.throttled}

    # --- change sessions: one operation set at a time, opened at the first write ---------------------

    def begin(self) -> None:
        return None

    def commit(self) -> None:
        try:
            self.sets.execute()
        except SetFailed as failed:
            raise TrackerError(self._after_failure(failed)) from None

    def abort(self) -> None:
        self.sets.abandon()

    @contextmanager
    def _session(self) -> Iterator[None]:
        """The engine's session, or one of our own when a writer is called outside any."""
        with self.changes():
            yield

    def _after_failure(self, failed: SetFailed) -> str:
        """Why a set failed (its error log, where readable) and what it left: re-read what exists."""
        wanted = {
            e.get("msdyn_projecttaskid") for kind, es in failed.operations if kind == "create" for e in es
        }
        wanted.discard(None)
        exists = {
            str(row["msdyn_projecttaskid"]) for row in self.api.tasks(self._project(), "msdyn_projecttaskid")
        }
        made = len(wanted & exists)
        reason = self.api.failure(failed.set_id)
        why = f": {reason}" if reason else f" ({LOGS})"
        then = ": run again"
        if wanted:
            then = f"; {made} of the {len(wanted)} tasks it was to create exist: run the seed again"
        return f"Dataverse could not carry out operation set {failed.set_id}{why}{then}"

    # --- the project ----------------------------------------------------------------------------------

    def check_plan(self, specs: Sequence[ItemSpec], links: Sequence[LinkSpec]) -> None:
        check_limits(specs, links)

    def _project(self) -> str:
        project = self._memo.get("project_id")
        if project is None:
            found = self._find_project()
            if found is None:
                raise TrackerError("the plan's project was not found in Dataverse: seed the plan first")
            project = found
        return str(project)

    def _find_project(self) -> str | None:
        found = self.api.projects(mapping.project_marker(self.plan_key))
        if not found:
            return None
        self._memo["project_id"] = project = str(found[0]["msdyn_projectid"])
        return project

    def ensure_container(self, spec: ContainerSpec) -> str:
        """Check the sign-in, find or create the project, find its bucket, and settle sets left open."""
        try:
            user = self.auth.username()
        except TrackerError as exc:
            raise SetupError(str(exc)) from None
        if user is None:
            raise SetupError(f"nobody is signed in to Planner for plan {self.plan_key}: {SIGN_IN_HINT}")
        try:
            project = self._find_project() or self._create_project(spec)
            buckets = self.api.buckets(project)
        except HttpError as exc:
            if exc.status in (401, 403):
                raise SetupError(f"Dataverse refused {user}: {exc.message}") from None
            raise
        if not buckets:
            raise SetupError(
                f"the Planner project {project} has no bucket, and a task needs one: add a bucket to it"
            )
        self._memo["bucket_id"] = str(buckets[0]["msdyn_projectbucketid"])
        self._memo["checked_at"] = datetime.now(UTC).isoformat()
        self.sets.settle()
        return f"{self.settings.environment_url} project {project}"

    def _create_project(self, spec: ContainerSpec) -> str:
        description = f"{spec.plan_name}, made by {product()}\n{mapping.project_marker(self.plan_key)}"
        start, finish = mapping.dataverse_time(spec.start), mapping.dataverse_time(spec.finish)
        try:
            project = self.api.create_project(mapping.one_line(spec.plan_name), description, start, finish)
        except UncertainOutcome:
            found = self._find_project()
            if found is None:
                raise
            return found
        self._memo["project_id"] = project
        return project

    def _bucket(self) -> str:
        bucket = self._memo.get("bucket_id")
        if bucket is None:
            buckets = self.api.buckets(self._project())
            if not buckets:
                raise TrackerError("the Planner project has no bucket, and a task needs one")
            self._memo["bucket_id"] = bucket = str(buckets[0]["msdyn_projectbucketid"])
        return str(bucket)

    # --- the plan's items -----------------------------------------------------------------------------

    def find_items(self, known: Mapping[str, ExternalItem] | None = None) -> Inventory:
        """The plan's tasks by their markers (one read a page), and the dependencies between them."""
        if self._memo.get("project_id") is None and self._find_project() is None:
            return Inventory()
        project = self._project()
        items: dict[str, ExternalItem] = {}
        for row in self.api.tasks(project, "msdyn_projecttaskid,msdyn_description"):
            found = mapping.read_marker(self.plan_key, row.get("msdyn_description"))
            if found is not None:
                current = items.get(found[0])
                item = ExternalItem(key=found[0], kind=found[1], external_id=str(row["msdyn_projecttaskid"]))
                if current is None or item.external_id < current.external_id:  # the same one every time
                    items[found[0]] = item
        keys = {item.external_id: key for key, item in items.items()}
        links = {
            (keys[a], keys[b])
            for row in self.api.dependencies(project)
            if (a := str(row.get("_msdyn_predecessortask_value"))) in keys
            and (b := str(row.get("_msdyn_successortask_value"))) in keys
        }
        return Inventory(items=items, links=frozenset(links))

    def create_items(self, specs: Sequence[ItemSpec], parents: Mapping[str, ExternalItem]) -> BulkResult:
        """Tasks added to the session's operation set with their own GUIDs; they exist once it commits."""
        project, bucket = self._project(), self._bucket()
        entities, created, failed = [], [], []
        for spec in specs:
            parent = parents.get(spec.parent) if spec.parent else None
            if spec.parent and parent is None:
                failed.append(
                    CreateFailure(key=spec.key, message=f"its parent {spec.parent} is not in Planner")
                )
                continue
            parent_id = parent.external_id if parent else None
            hours = self.settings.hours_per_day
            entities.append(mapping.task_entity(spec, self.plan_key, project, bucket, parent_id, hours))
            created.append(ExternalItem(key=spec.key, kind=spec.kind, external_id=str(spec.uid)))
        # each task's assignment goes in the same set as the task: both are made, or neither
        made = {item.key for item in created}
        entities += [
            mapping.assignment_entity(
                mapping.assignment_id(self.plan_key, spec.key),
                project,
                str(spec.uid),
                self._team_member(spec.owner_role),
                f"{spec.owner_role}: {spec.title}",
            )
            for spec in specs
            if spec.owner_role and spec.kind is ItemKind.task and spec.key in made
        ]
        if not entities:
            return BulkResult(failed=failed)
        try:
            with self._session():
                self.sets.add("create", entities)
        except HttpError as exc:
            if exc.status not in REFUSED:
                raise
            failed += [CreateFailure(key=item.key, message=exc.message) for item in created]
            created = []
        return BulkResult(created=created, failed=failed)

    def _team_member(self, role: str) -> str:
        """The generic team member standing for a role, made at its first use (at once, outside the
        operation set) with an id derived from plan and role."""
        if self._team is None:
            members = self.api.team_members(self._project())
            self._team = {str(member["msdyn_projectteamid"]).lower() for member in members}
        member = mapping.team_member_id(self.plan_key, role)
        if member not in self._team:
            entity = mapping.team_member_entity(member, self._project(), role)
            try:
                self.api.create_team_member(entity)
            except UncertainOutcome:
                self._team = None  # made or not: read the team again, then make it if it is not there
                return self._team_member(role)
            self._team.add(member)
        return member

    def link_items(self, links: Sequence[LinkSpec], items: Mapping[str, ExternalItem]) -> list[CreateFailure]:
        """A dependency record per link (client GUID from plan and keys), up to 100 a request."""
        project = self._project()
        unique = list({(ln.predecessor, ln.successor): ln for ln in links}.values())
        entities = [
            mapping.dependency_entity(
                mapping.link_id(self.plan_key, ln.predecessor, ln.successor),
                project,
                items[ln.predecessor].external_id,
                items[ln.successor].external_id,
                ln.type,
            )
            for ln in unique
        ]
        return self._send("create", entities, [f"{ln.predecessor} -> {ln.successor}" for ln in unique])

    def update_items(
        self, updates: Sequence[ItemUpdate], items: Mapping[str, ExternalItem]
    ) -> list[CreateFailure]:
        """Titles, scheduled dates and effort, through msdyn_PssUpdateV2."""
        failures, entities, keys = [], [], []
        for update in updates:
            item = items.get(update.key)
            if item is None:
                failures.append(CreateFailure(key=update.key, message="not seeded"))
                continue
            entity: dict[str, Any] = {"@odata.type": mapping.TASK, "msdyn_projecttaskid": item.external_id}
            if update.title is not None:
                entity["msdyn_subject"] = mapping.one_line(update.title)
            if update.start is not None:
                entity["msdyn_scheduledstart"] = mapping.dataverse_time(update.start)
            if update.due is not None:
                entity["msdyn_scheduledend"] = mapping.dataverse_time(update.due)
            if update.estimate_days is not None and item.kind is not ItemKind.phase:
                entity["msdyn_effort"] = float(update.estimate_days) * self.settings.hours_per_day
            if len(entity) > 2:
                entities.append(entity)
                keys.append(update.key)
        failures += self._send("update", entities, keys)
        return failures

    def _send(self, kind: str, entities: list[dict[str, Any]], keys: list[str]) -> list[CreateFailure]:
        """Entities added to the session's operation set, 100 a request; the keys of a request Dataverse
        refuses come back as failures in its words."""
        failures = []
        with self._session():
            for start in range(0, len(entities), BULK):
                try:
                    self.sets.add(kind, entities[start : start + BULK])
                except HttpError as exc:
                    if exc.status not in REFUSED:
                        raise
                    failures += [
                        CreateFailure(key=k, message=exc.message) for k in keys[start : start + BULK]
                    ]
        return failures

    # --- progress and notes ---------------------------------------------------------------------------

    def pull_progress(self, items: Mapping[str, ExternalItem], since: datetime | None) -> PullResult:
        """One read a page of the project's tasks (``modifiedon ge`` for an increment)."""
        after = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if since is not None else None
        by_id = {item.external_id: key for key, item in items.items()}
        records, problems, seen = [], [], set()
        for row in self.api.tasks(self._project(), mapping.TASK_FIELDS, after):
            key = by_id.get(str(row.get("msdyn_projecttaskid")))
            if key is None:
                continue
            seen.add(key)
            facts, trouble = mapping.progress(key, row, self.settings.hours_per_day)
            problems += trouble
            records.append(
                ProgressRecord(key=key, progress=facts, updated_at=answers.timestamp(row.get("modifiedon")))
            )
        missing = sorted(k for k in items if k not in seen) if since is None else []
        return PullResult(records=records, problems=problems, missing=missing)

    def write_notes(self, notes: Sequence[NoteWrite], items: Mapping[str, ExternalItem]) -> list[NoteReceipt]:
        """Each milestone's note in its description (below the task's own text), only where it changed."""
        wanted = {items[w.note.key].external_id: w for w in notes if w.note.key in items}
        if not wanted:
            return []
        current = {
            str(row["msdyn_projecttaskid"]): row.get("msdyn_description") or ""
            for row in self.api.tasks(self._project(), "msdyn_projecttaskid,msdyn_description")
        }
        entities, keys, receipts = [], [], []
        for task, write in wanted.items():
            if task not in current:
                continue  # deleted in Planner: the next pull reports it missing
            text = mapping.with_note(current[task], mapping.note_text(write.note))
            if text != current[task]:
                entities.append(
                    {"@odata.type": mapping.TASK, "msdyn_projecttaskid": task, "msdyn_description": text}
                )
                keys.append(write.note.key or "")
            receipts.append(NoteReceipt(key=write.note.key, ref=task))
        failed = {f.key for f in self._send("update", entities, keys)}
        return [r for r in receipts if r.key not in failed]


__all__ = ["PlannerConnector", "dataverse_client"]

"""Project Server Subscription Edition (on premises, /_api/ProjectServer): seed a plan into an enterprise
project and pull progress back from what is published.

Session shape: writes happen in the engine's change sessions and the check-out is lazy, taken at a
session's first write: a session that writes nothing (an unchanged seed or sync) checks nothing out.
Its writes go to the draft (tasks with outline, durations, milestones as zero-duration tasks, links with
their type, one local resource per role with its standard rate, assignments with work); the draft is
saved (``update()``) whenever the changes sent since the last save would pass ``update_bytes``, measured
on the serialized bodies (Microsoft's own example fails at 253 tasks in one 2 MB request); ``commit``
publishes (saving the rest) and checks in with one ``publish(true)``, waiting for each queue job;
``abort`` checks in without saving, best effort.

Idempotent and resumable: every GUID is client-assigned (the project: uuid5 of the plan key; tasks:
``ItemSpec.uid``; links, resources and assignments: uuid5 of plan and their keys), the draft's ids are
read at a session's first write and nothing present is added again, and an Add the server refuses as a
duplicate counts as made. Each task's Notes end with a marker ``[iso20k:<plan>:<key> <kind>]``: Notes is
part of TaskCreationInformation, so the marker arrives in the same request as the task (a custom field
would need a field set up by an administrator and a second write), and ``find_items`` finds the plan's
tasks in the draft without the store. A project left checked out to this account by a crashed or failed
run is carried on (saved, published and checked in) when the next seed starts: a forced check-in would
throw away what that run sent and not saved. Checked out to anyone else, the run stops naming who.

Not written through the API: baselines (Project Server's REST API cannot set baseline fields; the
baseline is kept in iso20k-sync's store) and link lags (TaskLinkCreationInformation has none: kept in the
store and shown in the successor's Notes). Status notes go into the Notes of the milestones (a block of
their own, the rest kept), only when a note changed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import requests

from .. import answers
from ..errors import SetupError, TrackerError, UncertainOutcome
from ..http import HttpClient, HttpError, RetryPolicy, pacer_for
from ..http.auth import windows_auth
from ..protocol import Capabilities, Connector
from ..values import (
    ITEM_NAMESPACE,
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
from . import mapping, queue
from .api import ProjectServerApi, PwaSend, body_size
from .settings import TWO_MB, ProjectServerSettings

DUPLICATE = ("already exists", "duplicate")
"""Words of the server's refusal of an Add whose Id it holds."""
COLLECTIONS = {
    "Tasks": "Id,Notes",
    "TaskLinks": "Id",
    "ProjectResources": "Id",
    "Assignments": "Id",
}


def project_id(plan_key: str) -> str:
    """The plan's project GUID: the same on every run and machine."""
    return str(uuid.uuid5(ITEM_NAMESPACE, plan_key))


def login_name(login: str) -> str:
    """``DOMAIN\\user`` of a SharePoint claims login (``i:0#.w|domain\\user``), lower case."""
    return login.rsplit("|", 1)[-1].lower()


class ProjectServerConnector(Connector):
    def __init__(
        self,
        settings: ProjectServerSettings,
        plan_key: str,
        password: str,
        memo: Mapping[str, Any] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.plan_key = plan_key
        self.pid = project_id(plan_key)
        self._memo: dict[str, Any] = dict(memo or {})
        self._sleep = sleep
        session = requests.Session()
        session.auth = windows_auth(settings.username, password)
        send = PwaSend(session.request)
        self.http = HttpClient(
            settings.url,
            send,
            name="Project Server",
            secrets=[password],
            timeout=(min(10.0, settings.timeout), settings.timeout),
            retry=RetryPolicy(max_retry_after=settings.max_retry_wait),
            pacer=pacer_for(settings.url, 1 / settings.requests_per_second),
        )
        self.api = ProjectServerApi(self.http, send)
        self.capabilities = Capabilities(
            phases=True,
            links=True,
            cost_fields=True,
            bulk_size=100,
            incremental_pull=False,
            write_back=True,
            updates=True,
        )
        self._reset()

    def memo(self) -> dict[str, Any]:
        return dict(self._memo)

    def usage(self) -> dict[str, int]:
        return {"requests": self.http.requests_sent, "throttled": self.http.throttled}

    @property
    def _where(self) -> str:
        return f"project {self.settings.project_name!r} on {self.settings.url}"

    # --- change sessions ------------------------------------------------------------------------------

    def _reset(self) -> None:
        self._checked_out = False
        self._dirty = False
        self._pending = 0
        self.saves = 0
        """Draft saves (update) of this session, for tests and the benchmark."""
        self._ids: dict[str, dict[str, str]] = {}

    def begin(self) -> None:
        self._reset()

    def commit(self) -> None:
        """Save what is pending, publish and check in; nothing at all when the session wrote nothing."""
        try:
            if self._checked_out and self._dirty:  # publish saves what is pending (under update_bytes)
                self._wait(self.api.publish(self.pid), "publish and check in")
            elif self._checked_out:
                self._wait(self.api.check_in(self.pid), "check in")
        finally:
            self._reset()

    def abort(self) -> None:
        """Check in without saving (what was saved stays in the draft, found again by its marker); if that
        fails too, the next seed finds the project checked out to this account and carries on."""
        try:
            if self._checked_out:
                self._wait(self.api.check_in(self.pid), "check in")
        except TrackerError:
            pass
        finally:
            self._reset()

    def _writable(self) -> None:
        """Check the project out at the session's first write."""
        if self._checked_out:
            return
        try:
            self.api.check_out(self.pid)
        except HttpError as exc:
            if exc.status in (401, 403):
                raise SetupError(
                    f"{self.settings.username} may not check out {self._where} ({exc.message}): it needs the "
                    "Save Project to Project Server permission on it"
                ) from None
            holder = self._holder()
            if holder is not None:
                raise self._held(holder) from None
            raise
        self._checked_out = True

    def _holder(self) -> dict[str, Any] | None:
        project = self.api.project(self.pid)
        if not project.get("IsCheckedOut"):
            return None
        holder = project.get("CheckedOutBy") or {}
        if login_name(str(holder.get("LoginName") or "")) == self._me():
            return None
        return {**holder, "since": project.get("CheckedOutDate")}

    def _held(self, holder: dict[str, Any]) -> TrackerError:
        who = login_name(str(holder.get("LoginName") or "someone"))
        title = f" ({holder['Title']})" if holder.get("Title") else ""
        since = f" since {str(holder['since'])[:16].replace('T', ' ')}" if holder.get("since") else ""
        return TrackerError(
            f"{self._where} is checked out to {who}{title}{since}: ask them to check it in (or an "
            "administrator to force the check-in in PWA > Server Settings > Force Check-in Enterprise "
            "Objects), then run again"
        )

    def _send(self, method: str, path: str, body: Any) -> Any:
        """A draft write, with the draft saved first when this body would take the changes sent since the
        last save past ``update_bytes``."""
        size = body_size(body)
        if size >= TWO_MB:
            raise TrackerError(
                f"one change to {self._where} is {size:,} bytes, more than Project Server takes"
            )
        if self._pending and self._pending + size > self.settings.update_bytes:
            self._save()
        self._dirty = True
        self._pending += size
        return self.api.write(method, path, body)

    def _save(self) -> None:
        if self._pending:
            self._wait(self.api.update(self.pid), "save the draft of")
            self.saves += 1
            self._pending = 0

    def _wait(self, job: dict[str, Any], what: str) -> None:
        queue.wait(
            lambda: self.api.job(self.pid, str(job.get("Id"))),
            job,
            what,
            self._where,
            self.settings.queue_poll,
            self.settings.queue_timeout,
            self._sleep,
        )

    def _known(self, collection: str) -> dict[str, str]:
        """The draft's ids in a collection (with Notes for tasks), read once a session."""
        if collection not in self._ids:
            found = self.api.draft(self.pid, collection, COLLECTIONS[collection])
            self._ids[collection] = {str(o["Id"]).lower(): str(o.get("Notes") or "") for o in found}
        return self._ids[collection]

    def _add(self, collection: str, parameters: dict[str, Any], exists: Callable[[], bool]) -> None:
        """``Draft/<collection>/Add`` unless the draft holds the id; an answer lost is looked up by the id,
        and a refusal as a duplicate counts as made."""
        oid = str(parameters["Id"]).lower()
        known = self._known(collection)
        if oid in known:
            return
        path = f"/_api/ProjectServer/Projects('{self.pid}')/Draft/{collection}/Add"
        for attempt in range(2):
            try:
                self._send("POST", path, {"parameters": parameters})
                break
            except UncertainOutcome:  # sent again only when not there (a duplicate is refused anyway)
                if exists():
                    break
                if attempt:
                    raise
            except HttpError as exc:
                if exc.status in (400, 409) and any(w in exc.message.lower() for w in DUPLICATE):
                    break
                raise
        known[oid] = str(parameters.get("Notes") or "")

    # --- pre-flight and the project -------------------------------------------------------------------

    def _me(self) -> str:
        if "login" not in self._memo:
            self._memo["login"] = login_name(str(self.api.current_user().get("LoginName") or ""))
        return str(self._memo["login"])

    def ensure_container(self, spec: ContainerSpec) -> str:
        """Sign-in, site, the project (created if missing, refused if its name is another's) and its
        check-out (this account's from a crashed run: carried on; anyone else's: stop)."""
        self._memo.pop("login", None)
        try:
            self._me()
        except HttpError as exc:
            raise self._setup(exc) from None
        except TrackerError as exc:
            raise SetupError(f"Project Server at {self.settings.url} cannot be reached: {exc}") from None
        project = self._project()
        if project is None:
            project = self._create(spec)
        elif project.get("IsCheckedOut"):
            holder = project.get("CheckedOutBy") or {}
            if login_name(str(holder.get("LoginName") or "")) != self._me():
                raise self._held({**holder, "since": project.get("CheckedOutDate")})
            self._carry_on()
        self._memo.update(project=self.pid, checked_at=datetime.now(UTC).isoformat())
        return f"{self.settings.url}/project.aspx?projuid={self.pid}"

    def _setup(self, exc: HttpError) -> SetupError:
        if exc.status == 401:
            return SetupError(
                f"Windows sign-in refused for {self.settings.username} at {self.settings.url}: check the "
                f"user name and the password in {self.settings.password_env}"
            )
        if exc.status == 403:
            return SetupError(
                f"{self.settings.username} may not use the PWA site {self.settings.url} ({exc.message}): "
                "make the account a Project Web App user"
            )
        if exc.status == 404:
            return SetupError(f"no PWA site at {self.settings.url} (404): check the url (e.g. .../pwa)")
        return SetupError(f"Project Server at {self.settings.url} answered {exc.status}: {exc.message}")

    def _project(self) -> dict[str, Any] | None:
        try:
            return self.api.project(self.pid)
        except HttpError as exc:
            if exc.status == 404:
                return None
            if exc.status in (401, 403):
                raise self._setup(exc) from None
            raise

    def _create(self, spec: ContainerSpec) -> dict[str, Any]:
        name = self.settings.project_name
        taken = [p for p in self.api.projects_named(name) if str(p.get("Id")).lower() != self.pid]
        if taken:
            raise SetupError(
                f"the project name {name!r} is taken on {self.settings.url} by a project not of plan "
                f"{self.plan_key!r} (id {taken[0].get('Id')}): choose another project_name"
            )
        fields = {
            "Id": self.pid,
            "Name": name,
            "Start": f"{spec.start.isoformat()}T08:00:00",
            "Description": f"{mapping.one_line(spec.plan_name, 200)} [iso20k:{self.plan_key}]",
        }
        try:
            return self.api.add_project(fields)
        except UncertainOutcome:
            found = self._project()
            if found is None:
                raise
            return found
        except HttpError as exc:
            if exc.status in (401, 403):
                raise SetupError(
                    f"{self.settings.username} may not create {self._where} ({exc.message}): it needs the "
                    "global permission New Project"
                ) from None
            if exc.status == 400:
                raise SetupError(f"Project Server refused to create {self._where}: {exc.message}") from None
            raise

    def _carry_on(self) -> None:
        """A project left checked out to this account (a run that crashed or whose queue job failed): save,
        publish and check in what its draft holds, so this run starts from one consistent project."""
        self._checked_out = True
        self._dirty = True
        self._pending = 1
        self.commit()

    # --- the plan's items -----------------------------------------------------------------------------

    def find_items(self, known: Mapping[str, ExternalItem] | None = None) -> Inventory:
        """The plan's tasks in the draft (what was saved, published or not) by their marker, and the links
        between them; nothing when the project does not exist yet."""
        items: dict[str, ExternalItem] = {}
        try:
            tasks = list(self.api.draft(self.pid, "Tasks", "Id,Notes"))
        except HttpError as exc:
            if exc.status == 404:
                return Inventory()
            raise
        keys: dict[str, str] = {}
        for task in tasks:
            found = mapping.read_marker(self.plan_key, task.get("Notes"))
            if found is None or found[0] in items:
                continue
            tid = str(task["Id"]).lower()
            items[found[0]] = ExternalItem(key=found[0], kind=found[1], external_id=tid, url=self._url())
            keys[tid] = found[0]
        links = set()
        for link in self.api.draft(self.pid, "TaskLinks", "Id,Start/Id,End/Id", "Start,End"):
            start = str((link.get("Start") or {}).get("Id") or "").lower()
            end = str((link.get("End") or {}).get("Id") or "").lower()
            if start in keys and end in keys:
                links.add((keys[start], keys[end]))
        return Inventory(items=items, links=frozenset(links))

    def _url(self) -> str:
        return f"{self.settings.url}/project.aspx?projuid={self.pid}"

    def _uid(self, what: str) -> str:
        return str(uuid.uuid5(ITEM_NAMESPACE, f"{self.plan_key}:{what}"))

    def create_items(self, specs: Sequence[ItemSpec], parents: Mapping[str, ExternalItem]) -> BulkResult:
        """Each task (under its phase's summary task), its role's resource, its assignment and work."""
        self._writable()
        created, failed = [], []
        for spec in specs:
            parent = parents[spec.parent].external_id if spec.parent else None
            tid = str(spec.uid).lower()
            try:
                parameters = mapping.task_parameters(spec, self.plan_key, parent)
                self._add("Tasks", parameters, lambda tid=tid: self._task_exists(tid))
                if spec.owner_role and spec.kind is ItemKind.task:
                    self._assign(spec, tid)
            except HttpError as exc:
                if exc.status not in (400, 409):
                    raise
                failed.append(CreateFailure(key=spec.key, message=exc.message))
                continue
            created.append(ExternalItem(key=spec.key, kind=spec.kind, external_id=tid, url=self._url()))
        return BulkResult(created=created, failed=failed)

    def _task_exists(self, tid: str) -> bool:
        try:
            return bool(self.api.draft_task(self.pid, tid))
        except HttpError as exc:
            if exc.status == 404:
                return False
            raise

    def _assign(self, spec: ItemSpec, tid: str) -> None:
        role = str(spec.owner_role)
        rid = self._uid(f"role:{role}")
        if rid not in self._known("ProjectResources"):
            self._add("ProjectResources", {"Id": rid, "Name": mapping.resource_name(role)}, lambda: False)
            if spec.owner_rate is not None:
                rate = float(spec.owner_rate) / self.settings.hours_per_day
                self._patch("ProjectResources", rid, {"StandardRate": round(rate, 4)})
        aid = self._uid(f"assignment:{spec.key}")
        self._add("Assignments", {"Id": aid, "ResourceId": rid, "TaskId": tid}, lambda: False)
        if spec.estimate_days > 0:
            self._patch(
                "Tasks", tid, {"Work": mapping.hours(spec.estimate_days, self.settings.hours_per_day)}
            )

    def _patch(self, collection: str, oid: str, fields: dict[str, Any]) -> None:
        """PATCH a draft object; a 412 (the draft changed under us) is answered by reading it again and
        sending the change once more."""
        path = f"/_api/ProjectServer/Projects('{self.pid}')/Draft/{collection}('{oid}')"
        try:
            self._send("PATCH", path, fields)
        except HttpError as exc:
            if exc.status != 412:
                raise
            if collection == "Tasks":
                self.api.draft_task(self.pid, oid)
            self._send("PATCH", path, fields)

    def link_items(self, links: Sequence[LinkSpec], items: Mapping[str, ExternalItem]) -> list[CreateFailure]:
        """One TaskLinks/Add per dependency, with its type (the lag is not settable through the API)."""
        if not links:
            return []
        self._writable()
        failures = []
        for link in links:
            parameters = {
                "Id": self._uid(f"link:{link.predecessor}->{link.successor}"),
                "StartId": items[link.predecessor].external_id,
                "EndId": items[link.successor].external_id,
                "DependencyType": mapping.DEPENDENCY_TYPES[link.type],
            }
            try:
                self._add("TaskLinks", parameters, lambda: False)
            except HttpError as exc:
                if exc.status not in (400, 409):
                    raise
                key = f"{link.predecessor} -> {link.successor}"
                failures.append(CreateFailure(key=key, message=exc.message))
        return failures

    def update_items(
        self, updates: Sequence[ItemUpdate], items: Mapping[str, ExternalItem]
    ) -> list[CreateFailure]:
        """Name, start, finish and work of draft tasks (published at commit)."""
        failures = []
        for update in updates:
            item = items.get(update.key)
            if item is None:
                failures.append(CreateFailure(key=update.key, message="not seeded"))
                continue
            fields: dict[str, Any] = {}
            if update.title is not None:
                fields["Name"] = mapping.one_line(update.title)
            if update.start is not None:
                fields["Start"] = f"{update.start.isoformat()}T08:00:00"
            if update.due is not None:
                fields["Finish"] = f"{update.due.isoformat()}T17:00:00"
            if update.estimate_days is not None and item.kind is ItemKind.task:
                fields["Work"] = mapping.hours(update.estimate_days, self.settings.hours_per_day)
            if not fields:
                continue
            self._writable()
            try:
                self._patch("Tasks", item.external_id, fields)
            except HttpError as exc:
                failures.append(CreateFailure(key=update.key, message=exc.message))
        return failures

    # --- progress and notes ---------------------------------------------------------------------------

    def pull_progress(self, items: Mapping[str, ExternalItem], since: datetime | None) -> PullResult:
        """The published tasks, one request per page: what a PM published, never a draft in progress."""
        by_id = {item.external_id.lower(): key for key, item in items.items()}
        records, problems, seen = [], [], set()
        try:
            tasks: Iterator[dict[str, Any]] = self.api.published_tasks(self.pid)
            for task in tasks:
                key = by_id.get(str(task.get("Id")).lower())
                if key is None or key in seen:
                    continue
                seen.add(key)
                facts, trouble = mapping.progress(key, task, self.settings.hours_per_day)
                problems += trouble
                updated = answers.timestamp(task.get("Modified"))
                records.append(ProgressRecord(key=key, progress=facts, updated_at=updated))
        except HttpError as exc:
            if exc.status == 404:
                raise TrackerError(f"{self._where} was not found (id {self.pid}): was it deleted?") from None
            raise
        missing = sorted(k for k in items if k not in seen) if since is None else []
        return PullResult(records=records, problems=problems, missing=missing)

    def write_notes(self, notes: Sequence[NoteWrite], items: Mapping[str, ExternalItem]) -> list[NoteReceipt]:
        """Each milestone's note as a block in its task's Notes (the rest of the Notes kept)."""
        writes = [(w, items[w.note.key]) for w in notes if w.note.key in items]
        if not writes:
            return []
        self._writable()
        current = self._known("Tasks")
        receipts = []
        for write, item in writes:
            tid = item.external_id.lower()
            if tid not in current:
                continue
            text = mapping.with_status(current[tid], mapping.status_block(write.note))
            if text != current[tid]:
                self._patch("Tasks", tid, {"Notes": text})
                current[tid] = text
            receipts.append(NoteReceipt(key=write.note.key, ref=tid))
        return receipts

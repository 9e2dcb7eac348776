"""A stateful fake Project Server Subscription Edition (/_api/ProjectServer on a PWA site) on the
fake-server kit: only the routes the connector uses, answering JSON ``odata=nometadata`` (collections in
``value``, the next page in ``odata.nextLink``) and SharePoint's ``{"odata.error": {"code", "message":
{"lang", "value"}}}`` errors::

    with FakeProjectServer() as ps:
        session = requests.Session()
        session.auth = HttpNtlmAuth(ps.username, ps.password)
        session.get(f"{ps.site}/_api/web/currentuser", headers={"Accept": ACCEPT})

What it holds to, and refuses:

- Windows authentication for real: every connection signs in with NTLM (``401`` with ``WWW-Authenticate:
  NTLM``, then the handshake, pyspnego as the acceptor with its ``NTLM_USER_FILE``), and a connection
  once signed in stays signed in (as IIS does); a wrong password answers 401.
- A write (POST, PATCH) needs the form digest of ``POST /_api/contextinfo`` in ``X-RequestDigest``: else
  403 "The security validation for this page is invalid ..." (also once it expired, by the fake's clock).
- Projects with a check-out: who holds it, since when. A draft (the working copy of whoever holds the
  check-out; others read the last saved draft) apart from the published project: a read of
  ``Projects('id')/Tasks`` shows only what was published. Draft writes need the check-out (CICO errors).
- ``Draft/update()``, ``Draft/publish(true)`` and ``Draft/checkIn(force)`` answer queue jobs whose
  JobState moves on as they are asked (``job_steps`` answers of Processing first); ``fail_next_job``
  makes one end Failed, FailedNotBlocking, CorrelationBlocked or Canceled (its changes not done),
  ``stall_next_job`` one that never finishes. A check-in discards what was not saved.
- 2 MB: a request body larger than 2,097,152 bytes is refused (413), and so is a save or publish whose
  draft changes since the last save add up to more (400), as Project Server's CSOM limit does.
- Client-assigned GUIDs: an Add of an Id the draft holds is refused ("already exists"); a name longer
  than 255 characters or with a line break, a parent or link end that is not in the draft, a resource
  name with [ ] or a comma, an unknown property in a PATCH: 400.
- PATCH with an ``If-Match`` that is not ``*`` or the object's ETag, or after ``stale_next_patch()``: 412.
- Collections come back in no particular order (a hash of the Id, stable across pages), ``page_size`` a page.
- Rate limits, 503 with Retry-After, dropped and slow answers: the kit's faults.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import os
import re
import secrets
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import spnego

from .kit import ApiError, Call, Clock, FakeServer, Reply

SITE = "/pwa"
API = SITE + "/_api"
PS = API + "/ProjectServer"
TWO_MB = 2 * 1024 * 1024
PS_ERROR = "-1, Microsoft.ProjectServer.PJClientCallableException"
SP_ERROR = "-2130575251, Microsoft.SharePoint.SPException"
DENIED = "Access denied. You do not have permission to perform this action or access this resource."
STALE_DIGEST = (
    "The security validation for this page is invalid and might be corrupted. Please use your web browser's "
    "Back button to try your operation again."
)
TOO_BIG = "The request message is too big. The server does not allow messages larger than 2097152 bytes."
PERMISSIONS = frozenset({"NewProject", "SaveProject", "PublishProject"})
COLLECTIONS = ("Tasks", "TaskLinks", "ProjectResources", "Assignments")
PATCHABLE = {
    "Tasks": {"Name", "Notes", "Start", "Finish", "Duration", "Work", "IsMilestone"},
    "ProjectResources": {"Name", "StandardRate"},
    "TaskLinks": {"DependencyType"},
    "Assignments": {"Work", "Notes"},
}
SUCCESS, PROCESSING, READY = 4, 3, 1

_users_lock = threading.Lock()
_passwords: dict[str, str] = {}
_users_file = os.path.join(tempfile.mkdtemp(prefix="fake-ntlm-"), "users")


def _register(login: str, password: str) -> None:
    """The account in pyspnego's NTLM user file (``NTLM_USER_FILE``: DOMAIN:USER:PASSWORD lines)."""
    with _users_lock:
        _passwords[login.lower()] = password
        lines = [f"{name.split(chr(92))[0]}:{name.split(chr(92))[1]}:{pw}" for name, pw in _passwords.items()]
        with open(_users_file, "w", encoding="utf-8") as file:
            file.write("\n".join(lines) + "\n")
        os.environ["NTLM_USER_FILE"] = _users_file


def fail(status: int, message: str, code: str = PS_ERROR) -> ApiError:
    return ApiError(status, {"odata.error": {"code": code, "message": {"lang": "en-US", "value": message}}})


@dataclass
class User:
    login: str  # DOMAIN\user, lower case
    title: str
    permissions: set[str]


@dataclass
class Schedule:
    """One version of a project's schedule: tasks, links, resources and assignments by Id."""

    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    links: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    assignments: dict[str, dict[str, Any]] = field(default_factory=dict)

    def of(self, collection: str) -> dict[str, dict[str, Any]]:
        return {"Tasks": self.tasks, "TaskLinks": self.links, "ProjectResources": self.resources,
                "Assignments": self.assignments}[collection]  # fmt: skip


@dataclass
class Project:
    id: str
    name: str
    start: str
    description: str = ""
    checked_out_by: str | None = None
    checked_out_at: datetime | None = None
    draft: Schedule = field(default_factory=Schedule)
    saved: Schedule = field(default_factory=Schedule)
    published: Schedule = field(default_factory=Schedule)
    pending: int = 0
    """Bytes of draft changes since the last save."""
    versions: int = 0


@dataclass
class Job:
    id: str
    project: str
    kind: str  # update, publish, checkin
    effect: Any
    outcome: int | str | None
    steps: int
    state: int = READY


class FakeProjectServer(FakeServer):
    """See the module docstring."""

    def __init__(self, *, clock: Clock | None = None, page_size: int = 100, job_steps: int = 0) -> None:
        super().__init__(clock=clock)
        self.page_size = page_size
        self.job_steps = job_steps
        self.users: dict[str, User] = {}
        self.projects: dict[str, Project] = {}
        self.jobs: dict[str, Job] = {}
        self.digest_lifetime = 1800
        self.body_sizes: list[int] = []
        """Bytes of each signed-in request's body."""
        self.saved_bytes: list[int] = []
        """Bytes of draft changes each save or publish carried."""
        self.handshakes = 0
        self._digests: dict[str, datetime] = {}
        self._job_plan: list[tuple[str | None, int | str]] = []
        self._stale_patches = 0
        self._conn = threading.local()
        self.username, self.password = "ACME\\svc", "Svc-pa55word"
        self.add_user(self.username, self.password, "Sync Service")
        api = [
            ("POST", "/contextinfo", self._contextinfo),
            ("GET", "/web/currentuser", self._current_user),
            ("GET", "/ProjectServer/Projects", self._list_projects),
            ("POST", "/ProjectServer/Projects/Add", self._add_project),
            ("GET", "/ProjectServer/Projects('{pid}')", self._get_project),
            ("POST", "/ProjectServer/Projects('{pid}')/checkOut", self._check_out),
            ("POST", "/ProjectServer/Projects('{pid}')/Draft/update()", self._update),
            ("POST", "/ProjectServer/Projects('{pid}')/Draft/publish({flag:true|false})", self._publish),
            ("POST", "/ProjectServer/Projects('{pid}')/Draft/checkIn({flag:true|false})", self._check_in),
            ("GET", "/ProjectServer/Projects('{pid}')/QueueJobs('{jid}')", self._get_job),
            (
                "GET",
                "/ProjectServer/Projects('{pid}')/Draft/{coll:Tasks|TaskLinks|ProjectResources|Assignments}"
                "('{oid}')",
                self._get_draft_object,
            ),
            (
                "PATCH",
                "/ProjectServer/Projects('{pid}')/Draft/{coll:Tasks|TaskLinks|ProjectResources|Assignments}"
                "('{oid}')",
                self._patch,
            ),
            (
                "POST",
                "/ProjectServer/Projects('{pid}')/Draft/{coll:Tasks|TaskLinks|ProjectResources|Assignments}"
                "/Add",
                self._add,
            ),
            (
                "GET",
                "/ProjectServer/Projects('{pid}')/Draft/{coll:Tasks|TaskLinks|ProjectResources|Assignments}",
                self._list_draft,
            ),
            ("GET", "/ProjectServer/Projects('{pid}')/Tasks", self._list_published),
        ]
        for method, path, handler in api:
            self.route(method, API + path, handler)
        self.start()

    @property
    def site(self) -> str:
        return self.url + SITE

    # -- the kit's hooks ---------------------------------------------------------------------------------
    def error_body(self, status: int, message: str) -> Any:
        code = "-1, Microsoft.SharePoint.Client.InvalidClientQueryException"
        return {"odata.error": {"code": code, "message": {"lang": "en-US", "value": message}}}

    def _handle(self, method: str, target: str, raw: bytes,
                headers: dict[str, str]) -> tuple[Reply | None, float]:  # fmt: skip
        """NTLM per connection first (the handshake's legs are not recorded), then the 2 MB cap."""
        if getattr(self._conn, "user", None) is None:
            refused = self._negotiate(headers)
            if refused is not None:
                return refused, 0.0
        with self.lock:
            self.body_sizes.append(len(raw))
        self._conn.size = len(raw)
        if len(raw) > TWO_MB:
            return Reply(413, self.error_body(413, TOO_BIG)), 0.0
        return super()._handle(method, target, raw, headers)

    def _negotiate(self, headers: dict[str, str]) -> Reply | None:
        """One leg of the NTLM handshake: None once the client proved who it is."""
        value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        scheme, _, token = value.partition(" ")
        challenge = {"WWW-Authenticate": "NTLM"}
        unauthorized = self.error_body(401, "401 UNAUTHORIZED")
        if scheme.lower() not in ("ntlm", "negotiate") or not token:
            return Reply(401, unauthorized, challenge)
        try:
            data = base64.b64decode(token)
            if data[8:12] == b"\x01\x00\x00\x00" or getattr(self._conn, "ntlm", None) is None:
                self._conn.ntlm = spnego.server(protocol="ntlm")  # a new handshake starts with a type 1
            answer = self._conn.ntlm.step(data)
        except Exception:  # a wrong password or a broken token
            self._conn.ntlm = None
            return Reply(401, unauthorized, challenge)
        if not self._conn.ntlm.complete:
            return Reply(
                401, unauthorized, {"WWW-Authenticate": f"{scheme} {base64.b64encode(answer).decode()}"}
            )
        self._conn.user = str(self._conn.ntlm.client_principal).lower()
        self._conn.ntlm = None
        with self.lock:
            self.handshakes += 1
        return None

    def authorize(self, call: Call) -> None:
        """A PWA user; a write carries a live form digest."""
        if self._user() is None:
            raise fail(403, DENIED, "-2147024891, System.UnauthorizedAccessException")
        if call.method != "GET" and not call.path.endswith("/contextinfo"):
            digest = call.header("X-RequestDigest") or ""
            until = self._digests.get(digest)
            if until is None or until <= self.clock():
                raise fail(403, STALE_DIGEST, SP_ERROR)

    # -- set-up and people --------------------------------------------------------------------------------
    def add_user(self, login: str, password: str, title: str, permissions: set[str] | None = None) -> User:
        _register(login, password)
        user = User(login.lower(), title, set(PERMISSIONS if permissions is None else permissions))
        self.users[user.login] = user
        return user

    def add_project(self, name: str, pid: str | None = None, *, checked_out_by: str | None = None) -> Project:
        """A project someone made (checked out to ``checked_out_by`` if given)."""
        with self.lock:
            project = Project(pid or str(uuid.uuid4()), name, "2027-01-04T08:00:00")
            self.projects[project.id] = project
            if checked_out_by:
                self.check_out_as(project.id, checked_out_by)
            return project

    def check_out_as(self, pid: str, login: str) -> None:
        with self.lock:
            project = self.projects[pid]
            project.checked_out_by, project.checked_out_at = login.lower(), self.clock()
            project.draft = copy.deepcopy(project.saved)

    def report_progress(self, pid: str, tid: str, **fields: Any) -> None:
        """A PM enters progress and publishes: ``PercentComplete=50, ActualCost=1200.0, ...``."""
        with self.lock:
            project = self.projects[pid]
            for schedule in (project.draft, project.saved, project.published):
                if tid in schedule.tasks:
                    schedule.tasks[tid].update(fields, Modified=self._now())

    def delete_task(self, pid: str, tid: str) -> None:
        """A PM deletes a task and publishes."""
        with self.lock:
            project = self.projects[pid]
            for schedule in (project.draft, project.saved, project.published):
                schedule.tasks.pop(tid, None)
                for link in [k for k, v in schedule.links.items() if tid in (v["StartId"], v["EndId"])]:
                    del schedule.links[link]

    def fail_next_job(self, state: int | str, kind: str | None = None) -> None:
        """The next queue job (of ``kind``: update, publish, checkin) ends in ``state`` (5, 6, 8, 9), or
        never ends (``"stall"``)."""
        with self.lock:
            self._job_plan.append((kind, state))

    def stall_next_job(self, kind: str | None = None) -> None:
        self.fail_next_job("stall", kind)

    def stale_next_patch(self, count: int = 1) -> None:
        with self.lock:
            self._stale_patches += count

    def project_named(self, name: str) -> Project:
        return next(p for p in self.projects.values() if p.name == name)

    # -- helpers ------------------------------------------------------------------------------------------
    def _now(self) -> str:
        return self.clock().strftime("%Y-%m-%dT%H:%M:%S")

    def _user(self) -> User | None:
        login = getattr(self._conn, "user", None)
        return self.users.get(login or "")

    def _me(self) -> User:
        user = self._user()
        assert user is not None
        return user

    def _project(self, call: Call) -> Project:
        project = self.projects.get(call.params["pid"].lower())
        if project is None:
            raise fail(
                404, f"The project {call.params['pid']} does not exist or you do not have access to it."
            )
        return project

    def _holding(self, call: Call) -> Project:
        """The project, checked out to the caller (else Project Server's CICO errors)."""
        project = self._project(call)
        if project.checked_out_by is None:
            raise fail(400, "CICONotCheckedOut: the project is not checked out.")
        if project.checked_out_by != self._me().login:
            raise fail(400, "CICOCheckedOutToOtherUser: the project is checked out to another user.")
        return project

    def _page(self, call: Call, rows: list[dict[str, Any]]) -> Reply:
        """One page of a collection in no particular order (stable across pages), selected fields only."""
        rows = sorted(rows, key=lambda row: hashlib.sha256(str(row.get("Id")).encode()).hexdigest())
        skip = int(call.arg("$skip") or 0)
        page = rows[skip : skip + self.page_size]
        body: dict[str, Any] = {"value": [self._select(call, row) for row in page]}
        if skip + self.page_size < len(rows):
            query = {k: v[0] for k, v in call.query.items() if k != "$skip"} | {
                "$skip": skip + self.page_size
            }
            body["odata.nextLink"] = f"{self.url}{call.path}?{urlencode(query)}"
        return Reply(200, body)

    @staticmethod
    def _select(call: Call, row: dict[str, Any]) -> dict[str, Any]:
        wanted = call.args("$select")
        if not wanted:
            return {k: v for k, v in row.items() if not isinstance(v, dict) and not k.startswith("_")}
        expanded = set(call.args("$expand"))
        out: dict[str, Any] = {}
        for name in wanted:
            nav, _, sub = name.partition("/")
            if sub:
                if nav not in expanded:
                    raise fail(
                        400, f"The query specified in the URI is not valid: expand {nav} to select {name}."
                    )
                target = row.get(nav)
                out[nav] = None if target is None else {**(out.get(nav) or {}), sub: target.get(sub)}
            elif nav in row:
                out[nav] = row[nav]
            else:
                raise fail(400, f"The property '{nav}' does not exist on this type.")
        return out

    def _project_row(self, project: Project) -> dict[str, Any]:
        holder = self.users.get(project.checked_out_by or "")
        by = None
        if project.checked_out_by:
            title = holder.title if holder else project.checked_out_by
            by = {"LoginName": f"i:0#.w|{project.checked_out_by}", "Title": title}
        return {
            "Id": project.id,
            "Name": project.name,
            "StartDate": project.start,
            "Description": project.description,
            "IsCheckedOut": project.checked_out_by is not None,
            "CheckedOutDate": project.checked_out_at.strftime("%Y-%m-%dT%H:%M:%S")
            if project.checked_out_at
            else None,
            "CheckedOutBy": by,
        }

    def _change(self, project: Project) -> None:
        project.pending += int(getattr(self._conn, "size", 0))

    # -- site ---------------------------------------------------------------------------------------------
    def _contextinfo(self, call: Call) -> Reply:
        value = f"0x{secrets.token_hex(64).upper()},{self.clock().strftime('%d %b %Y %H:%M:%S -0000')}"
        self._digests[value] = self.clock() + timedelta(seconds=self.digest_lifetime)
        return Reply(200, {"FormDigestTimeoutSeconds": self.digest_lifetime, "FormDigestValue": value,
                           "LibraryVersion": "16.0.14326.20450", "SiteFullUrl": self.site,
                           "WebFullUrl": self.site})  # fmt: skip

    def _current_user(self, call: Call) -> Reply:
        user = self._me()
        return Reply(200, {"Id": 7, "LoginName": f"i:0#.w|{user.login}", "Title": user.title})

    # -- projects -----------------------------------------------------------------------------------------
    def _list_projects(self, call: Call) -> Reply:
        rows = [self._project_row(p) for p in self.projects.values()]
        wanted = call.arg("$filter")
        if wanted:
            found = re.fullmatch(r"Name eq '((?:[^']|'')*)'", wanted.strip())
            if found is None:
                raise fail(400, "The query specified in the URI is not valid.")
            name = found[1].replace("''", "'")
            rows = [row for row in rows if row["Name"].lower() == name.lower()]
        return self._page(call, rows)

    def _add_project(self, call: Call) -> Reply:
        if "NewProject" not in self._me().permissions:
            raise fail(403, f"GeneralSecurityAccessDenied: {DENIED}")
        info = (call.body or {}).get("parameters") if isinstance(call.body, dict) else None
        if not isinstance(info, dict) or not info.get("Name"):
            raise fail(400, "The parameter 'Name' is required.")
        pid = str(info.get("Id") or uuid.uuid4()).lower()
        if pid in self.projects:
            raise fail(400, f"ProjectAlreadyExists: a project with the id {pid} already exists.")
        if any(p.name.lower() == str(info["Name"]).lower() for p in self.projects.values()):
            raise fail(400, f"ProjectNameAlreadyExists: a project named {info['Name']!r} already exists.")
        project = Project(pid, str(info["Name"]), str(info.get("Start") or self._now()),
                          str(info.get("Description") or ""))  # fmt: skip
        self.projects[pid] = project
        return Reply(200, self._project_row(project))

    def _get_project(self, call: Call) -> Reply:
        row = self._project_row(self._project(call))
        if call.args("$select"):
            return Reply(200, self._select(call, row))
        return Reply(200, {k: v for k, v in row.items() if k != "CheckedOutBy"})

    def _check_out(self, call: Call) -> Reply:
        project = self._project(call)
        me = self._me()
        if "SaveProject" not in me.permissions:
            raise fail(403, f"GeneralSecurityAccessDenied: {DENIED}")
        if project.checked_out_by not in (None, me.login):
            raise fail(400, "CICOCheckedOutToOtherUser: the project is checked out to another user.")
        if project.checked_out_by is None:
            self.check_out_as(project.id, me.login)
            project.pending = 0
        return Reply(200, {"Id": project.id, "Name": project.name})

    # -- the queue ----------------------------------------------------------------------------------------
    def _job(self, project: Project, kind: str, effect: Any) -> Reply:
        planned = next(((k, s) for k, s in self._job_plan if k in (None, kind)), None)
        if planned is not None:
            self._job_plan.remove(planned)
        job = Job(
            str(uuid.uuid4()), project.id, kind, effect, planned[1] if planned else None, self.job_steps
        )
        self.jobs[job.id] = job
        return Reply(200, {"Id": job.id, "JobState": READY, "PercentComplete": 0})

    def _get_job(self, call: Call) -> Reply:
        job = self.jobs.get(call.params["jid"].lower())
        if job is None or job.project != call.params["pid"].lower():
            raise fail(404, f"The queue job {call.params['jid']} does not exist.")
        if job.state in (READY, PROCESSING):
            if job.steps > 0 or job.outcome == "stall":
                job.steps -= 1
                job.state = PROCESSING
            elif job.outcome is None:
                job.effect()
                job.state = SUCCESS
            else:
                job.state = int(job.outcome)
        return Reply(
            200, {"Id": job.id, "JobState": job.state, "PercentComplete": 100 if job.state > 3 else 50}
        )

    def _too_big(self, project: Project) -> None:
        if project.pending > TWO_MB:
            raise fail(400, f"{TOO_BIG} The draft holds {project.pending} bytes of unsaved changes.")

    def _update(self, call: Call) -> Reply:
        project = self._holding(call)
        self._too_big(project)

        def save() -> None:
            self.saved_bytes.append(project.pending)
            project.saved, project.pending = copy.deepcopy(project.draft), 0

        return self._job(project, "update", save)

    def _publish(self, call: Call) -> Reply:
        project = self._holding(call)
        if "PublishProject" not in self._me().permissions:
            raise fail(403, f"GeneralSecurityAccessDenied: {DENIED}")
        self._too_big(project)
        check_in = call.params["flag"] == "true"

        def publish() -> None:
            self.saved_bytes.append(project.pending)
            project.saved, project.pending = copy.deepcopy(project.draft), 0
            project.published = copy.deepcopy(project.draft)
            project.versions += 1
            if check_in:
                project.checked_out_by = project.checked_out_at = None

        return self._job(project, "publish", publish)

    def _check_in(self, call: Call) -> Reply:
        project = self._project(call)
        force = call.params["flag"] == "true"
        if project.checked_out_by is None:
            raise fail(400, "CICONotCheckedOut: the project is not checked out.")
        if project.checked_out_by != self._me().login and not force:
            raise fail(400, "CICOCheckedOutToOtherUser: the project is checked out to another user.")

        def check_in() -> None:
            project.draft, project.pending = copy.deepcopy(project.saved), 0  # what was not saved is lost
            project.checked_out_by = project.checked_out_at = None

        return self._job(project, "checkin", check_in)

    # -- the draft ----------------------------------------------------------------------------------------
    def _schedule(self, project: Project) -> Schedule:
        """The caller's working copy when it holds the check-out, else the last saved draft."""
        me = self._user()
        return project.draft if me is not None and project.checked_out_by == me.login else project.saved

    def _row(self, collection: str, obj: dict[str, Any], schedule: Schedule) -> dict[str, Any]:
        row = dict(obj)
        if collection == "TaskLinks":
            row["Start"] = {"Id": obj["StartId"], "Name": schedule.tasks.get(obj["StartId"], {}).get("Name")}
            row["End"] = {"Id": obj["EndId"], "Name": schedule.tasks.get(obj["EndId"], {}).get("Name")}
        return row

    def _list_draft(self, call: Call) -> Reply:
        schedule = self._schedule(self._project(call))
        collection = call.params["coll"]
        return self._page(
            call, [self._row(collection, o, schedule) for o in schedule.of(collection).values()]
        )

    def _get_draft_object(self, call: Call) -> Reply:
        schedule = self._schedule(self._project(call))
        collection = call.params["coll"]
        obj = schedule.of(collection).get(call.params["oid"].lower())
        if obj is None:
            raise fail(404, f"The object {call.params['oid']} does not exist in the draft.")
        row = self._row(collection, obj, schedule)
        return Reply(200, self._select(call, row), {"ETag": f'"{obj["_etag"]}"'})

    def _add(self, call: Call) -> Reply:
        project = self._holding(call)
        info = (call.body or {}).get("parameters") if isinstance(call.body, dict) else None
        if not isinstance(info, dict):
            raise fail(400, "The parameter 'parameters' is required.")
        collection = call.params["coll"]
        try:
            oid = str(uuid.UUID(str(info.get("Id"))))
        except ValueError:
            raise fail(400, f"Cannot convert {info.get('Id')!r} to a Guid for the property 'Id'.") from None
        draft = project.draft
        if oid in draft.of(collection):
            raise fail(400, f"An object with the id {oid} already exists in the project (duplicate).")
        obj = {"Tasks": self._new_task, "TaskLinks": self._new_link, "ProjectResources": self._new_resource,
               "Assignments": self._new_assignment}[collection](draft, info)  # fmt: skip
        obj |= {"Id": oid, "_etag": 1}
        draft.of(collection)[oid] = obj
        self._change(project)
        return Reply(200, {k: v for k, v in obj.items() if not k.startswith("_")})

    def _new_task(self, draft: Schedule, info: dict[str, Any]) -> dict[str, Any]:
        name = str(info.get("Name") or "")
        if not name or len(name) > 255 or re.search(r"[\r\n\t]", name):
            raise fail(400, "TaskNameInvalid: a task name is 1 to 255 characters on one line.")
        duration = str(info.get("Duration") or "1d")
        found = re.fullmatch(r"(\d+(?:\.\d+)?)d", duration)
        if found is None:
            raise fail(400, f"TaskDurationInvalid: {duration!r} is not a duration.")
        start = _day(info.get("Start"), "Start")
        parent = info.get("ParentId")
        if parent is not None:
            parent = str(parent).lower()
            if parent not in draft.tasks:
                raise fail(400, f"TaskParentNotFound: no task {parent} in the project to be the parent.")
            draft.tasks[parent]["IsSummary"] = True
        days = float(found[1])
        finish = _add_working_days(start, max(int(days) - 1, 0))
        return {
            "Name": name, "Notes": str(info.get("Notes") or ""), "Duration": duration, "ParentId": parent,
            "Start": f"{start}T08:00:00", "Finish": f"{finish}T{'08' if days == 0 else '17'}:00:00",
            "IsMilestone": days == 0, "IsSummary": False, "IsManual": bool(info.get("IsManual")),
            "Work": "0h", "PercentComplete": 0, "ActualCost": 0.0, "Cost": 0.0, "ActualWork": "0h",
            "ActualStart": None, "ActualFinish": None, "Modified": self._now(),
        }  # fmt: skip

    def _new_link(self, draft: Schedule, info: dict[str, Any]) -> dict[str, Any]:
        start, end = str(info.get("StartId") or "").lower(), str(info.get("EndId") or "").lower()
        if start not in draft.tasks or end not in draft.tasks or start == end:
            raise fail(
                400, "TaskLinkInvalid: both ends of a link are tasks of the project, and not the same."
            )
        if any(ln["StartId"] == start and ln["EndId"] == end for ln in draft.links.values()):
            raise fail(400, "TaskLinkAlreadyExists: the tasks are already linked (duplicate).")
        kind = info.get("DependencyType")
        if kind not in (0, 1, 2, 3):
            raise fail(400, f"Cannot convert {kind!r} to PS.DependencyType.")
        return {"StartId": start, "EndId": end, "DependencyType": kind}

    def _new_resource(self, draft: Schedule, info: dict[str, Any]) -> dict[str, Any]:
        name = str(info.get("Name") or "")
        if not name or re.search(r"[\[\],]", name):
            raise fail(400, "ResourceNameInvalid: a resource name has no [ ] or comma.")
        return {"Name": name, "StandardRate": 0.0}

    def _new_assignment(self, draft: Schedule, info: dict[str, Any]) -> dict[str, Any]:
        task, resource = str(info.get("TaskId") or "").lower(), str(info.get("ResourceId") or "").lower()
        if task not in draft.tasks or resource not in draft.resources:
            raise fail(400, "AssignmentInvalid: the task and the resource must be in the project.")
        if any(a["TaskId"] == task and a["ResourceId"] == resource for a in draft.assignments.values()):
            raise fail(
                400, "AssignmentAlreadyExists: the resource is already assigned to the task (duplicate)."
            )
        return {"TaskId": task, "ResourceId": resource, "Work": "0h"}

    def _patch(self, call: Call) -> Reply:
        project = self._holding(call)
        collection = call.params["coll"]
        obj = project.draft.of(collection).get(call.params["oid"].lower())
        if obj is None:
            raise fail(404, f"The object {call.params['oid']} does not exist in the draft.")
        match = call.header("If-Match")
        if self._stale_patches > 0 or (match not in (None, "*") and match.strip('"') != str(obj["_etag"])):
            self._stale_patches = max(0, self._stale_patches - 1)
            raise fail(412, "The request ETag value does not match the object's ETag value.")
        if not isinstance(call.body, dict):
            raise fail(400, "The body of a PATCH is an object of properties.")
        unknown = set(call.body) - PATCHABLE[collection]
        if unknown:
            raise fail(400, f"The property '{sorted(unknown)[0]}' does not exist or cannot be written.")
        changes = dict(call.body)
        if collection == "Tasks":
            if "Name" in changes and (
                len(str(changes["Name"])) > 255 or re.search(r"[\r\n]", str(changes["Name"]))
            ):
                raise fail(400, "TaskNameInvalid: a task name is 1 to 255 characters on one line.")
            for name in ("Start", "Finish"):
                if name in changes:
                    _day(changes[name], name)
            changes["Modified"] = self._now()
        if collection == "ProjectResources" and "StandardRate" in changes:
            try:
                changes["StandardRate"] = float(changes["StandardRate"])
            except (TypeError, ValueError):
                raise fail(400, f"Cannot convert {changes['StandardRate']!r} to a Double.") from None
        obj.update(changes, _etag=obj["_etag"] + 1)
        self._change(project)
        return Reply(204)

    # -- the published project ----------------------------------------------------------------------------
    def _list_published(self, call: Call) -> Reply:
        project = self._project(call)
        return self._page(call, [dict(t) for t in project.published.tasks.values()])


def _day(value: Any, name: str) -> date:
    try:
        return datetime.fromisoformat(str(value)).date()
    except ValueError:
        raise fail(400, f"Cannot convert {value!r} to a DateTime for the property '{name}'.") from None


def _add_working_days(start: date, days: int) -> date:
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day

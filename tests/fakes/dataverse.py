"""A fake Dataverse environment with the Project schedule API, and the Microsoft identity platform's device
code sign-in in front of it, on one loopback server over TLS (msal accepts only https authorities).

As strict as the real ones where the connector could go wrong:
- sign-in: OpenID configuration, ``/devicecode``, ``/token`` with the device code grant (pending until the
  person approves, then tokens with an id_token so msal records the account; declined and expired codes),
  the refresh token grant, and client credentials (app-only tokens, which Dataverse's schedule API then
  refuses); unknown tenants and clients, and apps that are not public clients, are refused;
- Dataverse: bearer tokens checked (unknown, expired, issued for another resource, no user in them);
  errors as ``{"error": {"code", "message"}}``; OData collections with ``$select``, a small ``$filter``,
  ``Prefer: odata.maxpagesize`` and ``@odata.nextLink``, in no guaranteed order;
- the schedule API: msdyn_CreateProjectV1 (with its default bucket), operation sets (at most 200
  operations, at most 10 open per user, nothing added to or run twice from a set that is executed or
  abandoned), msdyn_PssCreateV1/V2 and msdyn_PssUpdateV1/V2 (a task needs a bucket, msdyn_progress is not
  writable at create, dependencies cannot be updated), and asynchronous execution: a set moves from
  Pending to Processing to Completed (or Failed, on demand or when it breaks a rule) as it is polled, all
  or nothing. Per-project limits: 1,000 tasks, 600 dependencies, 20 per task, 10 outline levels.

Rate limits with and without Retry-After, dropped and slow answers come from the kit.
"""

from __future__ import annotations

import base64
import itertools
import json
import random
import re
import secrets
import ssl
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from .entra import EntraTenant, token_error, token_form
from .kit import ApiError, Call, Clock, FakeServer, Reply

API = "/api/data/v9.2"
OPEN, PENDING, FAILED, COMPLETED, ABANDONED = range(192350000, 192350005)
"""msdyn_status as one public client reads it (Open, Executing, Failed, Completed, Abandoned); another
swaps Failed and Abandoned, so the connector tells them apart by nothing but "not Completed"."""
STATUS_NAMES = {OPEN: "Open", PENDING: "Pending", COMPLETED: "Completed", FAILED: "Failed",
                ABANDONED: "Abandoned"}  # fmt: skip
MAX_OPERATIONS, MAX_OPEN_SETS = 200, 10
MAX_TASKS, MAX_LINKS, MAX_LINKS_PER_TASK, MAX_OUTLINE = 1000, 600, 20, 10
DEFAULT_PAGE = 5000
TASK_TYPE = "Microsoft.Dynamics.CRM.msdyn_projecttask"
DEPENDENCY_TYPE = "Microsoft.Dynamics.CRM.msdyn_projecttaskdependency"
TEAM_TYPE = "Microsoft.Dynamics.CRM.msdyn_projectteam"
ASSIGNMENT_TYPE = "Microsoft.Dynamics.CRM.msdyn_resourceassignment"
MAX_RESOURCES, MAX_RESOURCES_PER_TASK = 150, 20
DUPLICATE_KEY = "A record with matching key values already exists."
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
APP_USER = (
    "The Project scheduling service can't be called by an application user: sign in as a licensed user "
    "(application, system and integration users are not supported)."
)
BUCKET_REQUIRED = "Project bucket is required for a project task: msdyn_projectbucket can't be empty."
PROGRESS_AT_CREATE = "msdyn_progress can't be set when a task is created; update it after the task exists."
DEPENDENCY_UPDATE = (
    "Project task dependency records can't be updated. Delete the old record and create a new one instead."
)
TOO_MANY_OPERATIONS = "An OperationSet can contain at most 200 operations."
TOO_MANY_SETS = (
    "The user has reached the limit of 10 open OperationSets. Execute or abandon an OperationSet before "
    "creating another one."
)
FILTER_CLAUSE = re.compile(
    r"^(?:contains\((?P<cfield>\w+),'(?P<cvalue>(?:[^']|'')*)'\)"
    r"|(?P<field>\w+) (?P<op>eq|ne|ge) (?P<value>'(?:[^']|'')*'|[^ ]+))$"
)


def dataverse_error(status: int, message: str, code: str = "0x80040265",
                    headers: dict[str, str] | None = None) -> ApiError:  # fmt: skip
    return ApiError(status, {"error": {"code": code, "message": message}}, headers)



@cache
def loopback_tls() -> tuple[ssl.SSLContext, str]:
    """A server TLS context for 127.0.0.1 and the CA file clients trust it with (``REQUESTS_CA_BUNDLE``)."""
    import tempfile

    import trustme

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    path = Path(tempfile.mkdtemp(prefix="fake-dataverse-")) / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return context, str(path)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@dataclass
class App:
    client_id: str
    public: bool = True
    secret: str | None = None


@dataclass
class User:
    upn: str
    oid: str = field(default_factory=lambda: str(uuid.uuid4()))
    licensed: bool = True


@dataclass
class DeviceCode:
    client_id: str
    scope: str
    user_code: str
    expires: datetime
    user: User | None = None
    declined: bool = False
    pending_polls: int = 1


@dataclass
class Token:
    client_id: str
    user: User | None
    audience: str
    expires: datetime


@dataclass
class OperationSet:
    id: str
    project: str
    user: str
    description: str
    created: datetime
    status: int = OPEN
    polls: int = 0
    operations: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    error_log: str | None = None


class FakeDataverse(EntraTenant, FakeServer):
    """One Dataverse environment (its url is the resource tokens are for) and the sign-in for ``tenant``."""

    device_flow = True

    def __init__(self, *, tenant: str = "contoso", tls: ssl.SSLContext | None = None,
                 clock: Clock | None = None, seed: int = 7) -> None:  # fmt: skip
        super().__init__(clock=clock, tls=tls)
        self.tenant = tenant
        self.apps: dict[str, App] = {}
        self.users: dict[str, User] = {}
        self.approver: str | None = None
        """A user who approves every device code at once (None: tests approve with :meth:`approve`)."""
        self.device_codes: dict[str, DeviceCode] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, tuple[str, User, str]] = {}
        self.token_lifetime = timedelta(hours=1)
        self.projects: dict[str, dict[str, Any]] = {}
        self.buckets: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.dependencies: dict[str, dict[str, Any]] = {}
        self.team: dict[str, dict[str, Any]] = {}
        self.assignments: dict[str, dict[str, Any]] = {}
        self.error_logs: dict[str, dict[str, Any]] = {}
        """Project Scheduling Service error logs, one per failed set (Settings > Schedule Integration)."""
        self.sets: dict[str, OperationSet] = {}
        self.fail_sets = 0
        """Executions to fail on demand (the next ``fail_sets`` sets end Failed, nothing applied)."""
        self.polls_to_finish = 2
        self.largest_set = 0
        self._order = random.Random(seed)
        self._rank: dict[str, float] = {}
        self._codes = itertools.count(1)
        login = "/{tenant}"
        self.route("GET", login + "/v2.0/.well-known/openid-configuration", self._openid, public=True)
        self.route("POST", login + "/oauth2/v2.0/devicecode", self._device_code, public=True)
        self.route("POST", login + "/oauth2/v2.0/token", self._token, public=True)
        self.route("POST", API + "/msdyn_CreateProjectV1", self._create_project)
        self.route("POST", API + "/msdyn_CreateTeamMemberV1", self._create_team_member)
        self.route("POST", API + "/msdyn_CreateOperationSetV1", self._create_set)
        self.route("POST", API + "/{action:msdyn_PssCreateV[12]}", self._pss_create)
        self.route("POST", API + "/{action:msdyn_PssUpdateV[12]}", self._pss_update)
        self.route("POST", API + "/msdyn_ExecuteOperationSetV1", self._execute)
        self.route("POST", API + "/msdyn_AbandonOperationSetV1", self._abandon)
        self.route("GET", API + "/msdyn_operationsets({id})", self._get_set)
        self.route("GET", API + "/msdyn_psserrorlogs({id})", self._get_error_log)
        self.route("GET", API + "/{entities:msdyn_\\w+}", self._list)

    # -- set-up and inspection ---------------------------------------------------------------------------
    def add_app(self, client_id: str, *, public: bool = True, secret: str | None = None) -> App:
        with self.lock:
            self.apps[client_id] = app = App(client_id, public, secret)
            return app

    def add_user(self, upn: str, *, licensed: bool = True) -> User:
        with self.lock:
            self.users[upn] = user = User(upn, licensed=licensed)
            return user

    def approve(self, user_code: str, upn: str, *, decline: bool = False) -> None:
        """The person enters the code at the verification page and signs in (or declines)."""
        with self.lock:
            code = next(c for c in self.device_codes.values() if c.user_code == user_code)
            code.user, code.declined = self.users[upn], decline

    def expire_tokens(self) -> None:
        with self.lock:
            for token in self.tokens.values():
                token.expires = self.clock() - timedelta(seconds=1)

    def project_tasks(self, project: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(t) for t in self.tasks.values() if project in (None, t["_msdyn_project_value"])]

    def delete_task(self, task_id: str) -> None:
        """A person deletes a task in Planner (its dependencies go with it)."""
        with self.lock:
            del self.tasks[task_id]
            self.dependencies = {k: d for k, d in self.dependencies.items()
                                 if task_id not in (d["_msdyn_predecessortask_value"],
                                                    d["_msdyn_successortask_value"])}  # fmt: skip

    def record_progress(self, task_id: str, **fields: Any) -> None:
        """A person reports progress: msdyn_progress (a fraction), msdyn_effortcompleted (hours), ..."""
        with self.lock:
            self.tasks[task_id].update(fields, modifiedon=self._now())

    def open_sets(self, upn: str | None = None) -> list[OperationSet]:
        with self.lock:
            return [s for s in self.sets.values() if s.status == OPEN and upn in (None, s.user)]

    # -- the kit's hooks ---------------------------------------------------------------------------------
    def error_body(self, status: int, message: str) -> Any:
        if status == 429:
            message = "Number of requests exceeded the limit of 6000 over time window of 300 seconds."
            return {"error": {"code": "0x80072322", "message": message}}
        return {"error": {"code": "0x80040216", "message": message}}

    def _dispatch(self, call: Call, problem: str | None) -> Reply:
        """Sign-in bodies are forms, not JSON."""
        kind = (call.header("Content-Type") or "").split(";")[0].strip().lower()
        return super()._dispatch(call, problem if kind in ("", "application/json") else None)

    def authorize(self, call: Call) -> None:
        value = call.credentials("Bearer")
        token = self.tokens.get(value or "")
        if token is None:
            raise dataverse_error(401, "The access token is missing or is not valid.", "0x80072560")
        if token.expires <= self.clock():
            raise dataverse_error(401, "The access token has expired.", "0x80072560")
        if token.audience.rstrip("/") != self.url:
            raise dataverse_error(
                401, f"The access token is for {token.audience}, not for this environment ({self.url}).",
                "0x80072560",
            )  # fmt: skip
        if token.user is None:
            raise dataverse_error(403, APP_USER, "0x80040220")
        if not token.user.licensed:
            message = (
                f"The user {token.user.upn} does not have a license for Project (Planner premium plans)."
            )
            raise dataverse_error(403, message, "0x80040220")
        call.params["_user"] = token.user.upn

    # -- the identity platform ---------------------------------------------------------------------------
    def _app(self, form: dict[str, str]) -> App:
        app = self.apps.get(form.get("client_id", ""))
        if app is None:
            raise token_error(400, "unauthorized_client", f"AADSTS700016: Application with identifier "
                              f"'{form.get('client_id')}' was not found in the directory "
                              f"'{self.tenant}'.")  # fmt: skip
        return app

    def _device_code(self, call: Call) -> Reply:
        self._check_tenant(call)
        form = token_form(call)
        app = self._app(form)
        if not app.public:
            raise token_error(401, "invalid_client", "AADSTS7000218: The request body must contain the "
                              "following parameter: 'client_assertion' or 'client_secret'.")  # fmt: skip
        device, user_code = secrets.token_urlsafe(24), f"FAKE{next(self._codes):04d}"
        self.device_codes[device] = DeviceCode(app.client_id, form.get("scope", ""), user_code,
                                               self.clock() + timedelta(minutes=15))  # fmt: skip
        if self.approver is not None:
            self.device_codes[device].user = self.users[self.approver]
        uri = f"{self.url}/devicelogin"
        return Reply(200, {
            "device_code": device, "user_code": user_code, "verification_uri": uri, "expires_in": 900,
            "interval": 0,
            "message": f"To sign in, use a web browser to open the page {uri} and enter the code {user_code} "
                       "to authenticate.",
        })  # fmt: skip

    def _token(self, call: Call) -> Reply:
        self._check_tenant(call)
        form = token_form(call)
        for record in reversed(self.requests):  # keep codes and secrets out of the recorded requests
            if record.body is call.body:
                record.body = {k: v for k, v in form.items() if k in ("grant_type", "client_id", "scope")}
                break
        app = self._app(form)
        grant = form.get("grant_type")
        if grant == DEVICE_GRANT:
            return self._device_grant(app, form)
        if grant == "refresh_token":
            found = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
            if found is None or found[0] != app.client_id:
                raise token_error(400, "invalid_grant", "AADSTS70000: The refresh token is not valid.")
            return self._issue(app, found[1], form.get("scope") or found[2])
        if grant == "client_credentials":
            if app.secret is None or form.get("client_secret") != app.secret:
                raise token_error(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
            return self._issue(app, None, form.get("scope", ""))
        raise token_error(
            400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type."
        )

    def _device_grant(self, app: App, form: dict[str, str]) -> Reply:
        code = self.device_codes.get(form.get("device_code", ""))
        if code is None or code.client_id != app.client_id:
            raise token_error(400, "invalid_grant", "AADSTS70000: The provided device code is not valid.")
        if code.expires <= self.clock():
            raise token_error(400, "expired_token", "AADSTS70019: Verification code expired.")
        if code.declined:
            raise token_error(400, "authorization_declined", "AADSTS70000: The user declined the sign-in.")
        if code.user is None or code.pending_polls > 0:
            code.pending_polls -= code.user is not None
            raise token_error(400, "authorization_pending", "AADSTS70016: Pending end-user authorization.")
        del self.device_codes[form["device_code"]]
        return self._issue(app, code.user, code.scope)

    def _issue(self, app: App, user: User | None, scope: str) -> Reply:
        resources = [s.removesuffix("/.default") for s in scope.split() if s.endswith("/.default")]
        if len(resources) != 1:
            raise token_error(400, "invalid_scope", f"AADSTS70011: The provided value for scope {scope} is "
                              "not "
                              "valid: ask for one resource's /.default scope.")  # fmt: skip
        access = secrets.token_urlsafe(24)
        now = self.clock()
        self.tokens[access] = Token(app.client_id, user, resources[0], now + self.token_lifetime)
        seconds = int(self.token_lifetime.total_seconds())
        answer: dict[str, Any] = {"token_type": "Bearer", "scope": f"{resources[0]}/user_impersonation",
                                  "expires_in": seconds, "ext_expires_in": seconds,
                                  "access_token": access}  # fmt: skip
        if user is not None:
            refresh = secrets.token_urlsafe(24)
            self.refresh_tokens[refresh] = (app.client_id, user, scope)
            claims = {"iss": f"{self.url}/{self.tenant}/v2.0", "aud": app.client_id, "tid": self.tenant,
                      "oid": user.oid, "sub": user.oid, "preferred_username": user.upn, "name": user.upn,
                      "iat": int(now.timestamp()), "nbf": int(now.timestamp()),
                      "exp": int((now + self.token_lifetime).timestamp())}  # fmt: skip
            answer |= {
                "refresh_token": refresh,
                "id_token": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
                "client_info": _b64({"uid": user.oid, "utid": self.tenant}),
            }
        return Reply(200, answer)

    # -- the schedule API --------------------------------------------------------------------------------
    def _now(self) -> str:
        return self.clock().strftime("%Y-%m-%dT%H:%M:%SZ")

    def _new_id(self) -> str:
        return str(uuid.uuid4())

    def _create_project(self, call: Call) -> Reply:
        entity = dict((call.body or {}).get("Project") or {})
        if not entity.get("msdyn_subject"):
            raise dataverse_error(400, "msdyn_subject is required to create a project.")
        project = self._new_id()
        self._rank[project] = self._order.random()
        self.projects[project] = {"msdyn_projectid": project, "msdyn_subject": entity["msdyn_subject"],
                                  "msdyn_description": entity.get("msdyn_description"),
                                  "createdon": self._now()}  # fmt: skip
        bucket = self._new_id()
        self._rank[bucket] = self._order.random()
        self.buckets[bucket] = {"msdyn_projectbucketid": bucket, "msdyn_name": "Bucket 1",
                                "_msdyn_project_value": project}  # fmt: skip
        return Reply(200, {"@odata.context": f"{self.url}{API}/$metadata#Microsoft.Dynamics.CRM."
                           "msdyn_CreateProjectV1Response", "ProjectId": project})  # fmt: skip

    def _create_team_member(self, call: Call) -> Reply:
        """A project team member is made at once (not in an operation set); a generic one has a name and
        no bookable resource."""
        entity = dict((call.body or {}).get("TeamMember") or {})
        if entity.get("@odata.type") != TEAM_TYPE or not entity.get("msdyn_name"):
            raise dataverse_error(400, "TeamMember must be a msdyn_projectteam with msdyn_name.")
        try:
            project = _bound(entity, "msdyn_project")
        except ValueError as exc:
            raise dataverse_error(400, str(exc)) from None
        if project not in self.projects:
            raise dataverse_error(404, f"msdyn_project With Id = {project} Does Not Exist", "0x80040217")
        member = str(entity.get("msdyn_projectteamid") or self._new_id()).lower()
        if member in self.team:
            raise dataverse_error(400, DUPLICATE_KEY, "0x80040237")
        if len([m for m in self.team.values() if m["_msdyn_project_value"] == project]) >= MAX_RESOURCES:
            raise dataverse_error(400, f"A project can have at most {MAX_RESOURCES} team members.")
        self._rank[member] = self._order.random()
        self.team[member] = {"msdyn_projectteamid": member, "msdyn_name": entity["msdyn_name"],
                             "_msdyn_project_value": project}  # fmt: skip
        return Reply(200, {"TeamMemberId": member})

    def _create_set(self, call: Call) -> Reply:
        body = call.body or {}
        project = str(body.get("ProjectId") or "")
        if project not in self.projects:
            raise dataverse_error(404, f"msdyn_project With Id = {project} Does Not Exist", "0x80040217")
        user = call.params["_user"]
        if len([s for s in self.sets.values() if s.status == OPEN and s.user == user]) >= MAX_OPEN_SETS:
            raise dataverse_error(400, TOO_MANY_SETS)
        found = OperationSet(self._new_id(), project, user, str(body.get("Description") or ""), self.clock())
        self.sets[found.id] = found
        self._rank[found.id] = self._order.random()
        return Reply(200, {"OperationSetId": found.id})

    def _open_set(self, call: Call) -> OperationSet:
        set_id = str((call.body or {}).get("OperationSetId") or "")
        found = self.sets.get(set_id)
        if found is None:
            raise dataverse_error(404, f"msdyn_operationset With Id = {set_id} Does Not Exist", "0x80040217")
        if found.status != OPEN:
            raise dataverse_error(400, f"OperationSet {set_id} is {STATUS_NAMES[found.status]}: "
                                  "operations can "
                                  "be added to and executed from an open OperationSet only.")  # fmt: skip
        if found.user != call.params["_user"]:
            raise dataverse_error(403, f"OperationSet {set_id} belongs to another user.", "0x80040220")
        return found

    def _entities(self, call: Call) -> list[dict[str, Any]]:
        body = call.body or {}
        if call.params["action"].endswith("V1"):
            return [dict(body.get("Entity") or {})]
        entities = body.get("EntityCollection")
        if not isinstance(entities, list) or not entities:
            raise dataverse_error(400, "EntityCollection is required and can't be empty.")
        return [dict(e) for e in entities]

    def _add(self, found: OperationSet, kind: str, entities: list[dict[str, Any]]) -> Reply:
        if len(found.operations) + len(entities) > MAX_OPERATIONS:
            raise dataverse_error(400, TOO_MANY_OPERATIONS)
        found.operations += [(kind, e) for e in entities]
        self.largest_set = max(self.largest_set, len(found.operations))
        return Reply(200, {"OperationSetResponse": json.dumps({"OperationSetId": found.id})})

    def _pss_create(self, call: Call) -> Reply:
        found = self._open_set(call)
        entities = self._entities(call)
        for entity in entities:
            kind = entity.get("@odata.type")
            if kind == TASK_TYPE:
                if "msdyn_progress" in entity:
                    raise dataverse_error(400, PROGRESS_AT_CREATE)
                if not entity.get("msdyn_projectbucket@odata.bind"):
                    raise dataverse_error(400, BUCKET_REQUIRED)
                if not entity.get("msdyn_subject"):
                    raise dataverse_error(400, "msdyn_subject is required for a project task.")
            elif kind == ASSIGNMENT_TYPE:
                binds = ("msdyn_projectid", "msdyn_taskid", "msdyn_projectteamid")
                if missing := [b for b in binds if not entity.get(f"{b}@odata.bind")]:
                    raise dataverse_error(400, f"A resource assignment needs {', '.join(missing)}.")
            elif kind != DEPENDENCY_TYPE:
                raise dataverse_error(
                    400, f"Entity type {kind!r} is not supported by this fake's msdyn_PssCreate."
                )
        return self._add(found, "create", entities)

    def _pss_update(self, call: Call) -> Reply:
        found = self._open_set(call)
        entities = self._entities(call)
        for entity in entities:
            if entity.get("@odata.type") == DEPENDENCY_TYPE:
                raise dataverse_error(400, DEPENDENCY_UPDATE)
            if entity.get("@odata.type") != TASK_TYPE or not entity.get("msdyn_projecttaskid"):
                raise dataverse_error(400, "msdyn_PssUpdate needs an entity with its type and id.")
        return self._add(found, "update", entities)

    def _execute(self, call: Call) -> Reply:
        found = self._open_set(call)
        found.status = PENDING
        found.polls = 0
        return Reply(200, {"OperationSetResponse": json.dumps({"OperationSetId": found.id})})

    def _abandon(self, call: Call) -> Reply:
        found = self._open_set(call)
        found.status = ABANDONED
        return Reply(204)

    def _get_set(self, call: Call) -> Reply:
        found = self.sets.get(call.params["id"])
        if found is None:
            raise dataverse_error(404, f"msdyn_operationset With Id = {call.params['id']} Does Not Exist",
                                  "0x80040217")  # fmt: skip
        if found.status == PENDING:
            found.polls += 1
            if found.polls >= self.polls_to_finish:
                self._run(found)
        return Reply(200, self._select(self._set_row(found), call.args("$select")))

    def _set_row(self, found: OperationSet) -> dict[str, Any]:
        return {"msdyn_operationsetid": found.id, "msdyn_status": found.status,
                "msdyn_description": found.description, "_msdyn_project_value": found.project,
                "_msdyn_psserrorlog_value": found.error_log,
                "createdon": found.created.strftime("%Y-%m-%dT%H:%M:%SZ")}  # fmt: skip

    def _get_error_log(self, call: Call) -> Reply:
        found = self.error_logs.get(call.params["id"])
        if found is None:
            raise dataverse_error(404, f"msdyn_psserrorlog With Id = {call.params['id']} Does Not Exist",
                                  "0x80040217")  # fmt: skip
        return Reply(200, self._select(found, call.args("$select")))

    def _fail(self, found: OperationSet, reason: str) -> None:
        """The set ends Failed, nothing applied, with the reason in a PSS error log."""
        found.status = FAILED
        found.error_log = log = self._new_id()
        text = f"Operation set {found.id} failed: {reason}\n   at PSS"
        self.error_logs[log] = {"msdyn_psserrorlogid": log, "msdyn_errorcode": "400", "msdyn_log": text}

    # -- carrying out a set, all or nothing --------------------------------------------------------------
    def _run(self, found: OperationSet) -> None:
        if self.fail_sets > 0:
            self.fail_sets -= 1
            self._fail(found, "the scheduling service failed (on demand)")
            return
        tasks = {k: dict(v) for k, v in self.tasks.items()}
        links = {k: dict(v) for k, v in self.dependencies.items()}
        assignments = {k: dict(v) for k, v in self.assignments.items()}
        try:
            for kind, entity in found.operations:
                if kind == "update":
                    _update_task(tasks, entity, self._now())
                elif entity["@odata.type"] == TASK_TYPE:
                    _create_task(tasks, entity, found.project, self._now())
                elif entity["@odata.type"] == ASSIGNMENT_TYPE:
                    _create_assignment(tasks, self.team, assignments, entity, found.project)
                else:
                    _create_link(tasks, links, entity, found.project)
            _check_limits(tasks, links, found.project)
        except ValueError as exc:
            self._fail(found, str(exc))
            return
        for key in set(tasks) - set(self.tasks):
            self._rank[key] = self._order.random()
        for key in (set(links) - set(self.dependencies)) | (set(assignments) - set(self.assignments)):
            self._rank[key] = self._order.random()
        self.tasks, self.dependencies, self.assignments = tasks, links, assignments
        found.status = COMPLETED

    # -- OData reads -------------------------------------------------------------------------------------
    def _list(self, call: Call) -> Reply:
        rows: dict[str, dict[str, Any]] = {
            "msdyn_projects": self.projects,
            "msdyn_projectbuckets": self.buckets,
            "msdyn_projecttasks": self.tasks,
            "msdyn_projecttaskdependencies": self.dependencies,
            "msdyn_projectteams": self.team,
            "msdyn_resourceassignments": self.assignments,
            "msdyn_operationsets": {s.id: self._set_row(s) for s in self.sets.values()},
        }.get(call.params["entities"])  # type: ignore[assignment]
        if rows is None:
            raise dataverse_error(404, f"Resource not found for the segment '{call.params['entities']}'.",
                                  "0x8006088a")  # fmt: skip
        matches = _filter(call.arg("$filter"))
        found = sorted((k for k, row in rows.items() if matches(row)), key=lambda k: self._rank.get(k, 0))
        prefer = re.search(r"odata\.maxpagesize=(\d+)", call.header("Prefer") or "")
        size = int(prefer[1]) if prefer else DEFAULT_PAGE
        offset = int(call.arg("$skiptoken") or 0)
        page = [self._select(rows[k], call.args("$select")) for k in found[offset : offset + size]]
        answer: dict[str, Any] = {"@odata.context": f"{self.url}{API}/$metadata#{call.params['entities']}",
                                  "value": page}  # fmt: skip
        if offset + size < len(found):
            query = {k: v[0] for k, v in call.query.items() if k != "$skiptoken"} | {
                "$skiptoken": offset + size
            }
            answer["@odata.nextLink"] = f"{self.url}{call.path}?{urlencode(query, safe='$,()')}"
        return Reply(200, answer)

    @staticmethod
    def _select(row: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        if fields and (unknown := [f for f in fields if f not in row]):
            raise dataverse_error(400, f"Could not find a property named '{unknown[0]}' on type "
                                  "'Microsoft.Dynamics.CRM.entity'.", "0x80060888")  # fmt: skip
        return {k: v for k, v in row.items() if not fields or k in fields}


def _bound(entity: dict[str, Any], name: str) -> str | None:
    value = entity.get(f"{name}@odata.bind")
    if value is None:
        return None
    found = re.fullmatch(r"/?msdyn_\w+\(([0-9a-fA-F-]{36})\)", str(value))
    if found is None:
        raise ValueError(f"{name}@odata.bind {value!r} is not a reference")
    return found[1].lower()


def _create_task(tasks: dict[str, dict[str, Any]], entity: dict[str, Any], project: str, now: str) -> None:
    task = str(entity.get("msdyn_projecttaskid") or uuid.uuid4()).lower()
    if task in tasks:
        raise ValueError(f"a task with id {task} exists")
    if _bound(entity, "msdyn_project") != project:
        raise ValueError("the task is for another project")
    parent = _bound(entity, "msdyn_parenttask")
    if parent is not None and parent not in tasks:
        raise ValueError(f"parent task {parent} does not exist")
    level = tasks[parent]["msdyn_outlinelevel"] + 1 if parent else 1
    effort = float(entity.get("msdyn_effort") or 0)
    tasks[task] = {
        "msdyn_projecttaskid": task,
        "msdyn_subject": entity["msdyn_subject"],
        "msdyn_description": entity.get("msdyn_description"),
        "_msdyn_project_value": project,
        "_msdyn_projectbucket_value": _bound(entity, "msdyn_projectbucket"),
        "_msdyn_parenttask_value": parent,
        "msdyn_outlinelevel": level,
        "msdyn_scheduledstart": entity.get("msdyn_scheduledstart"),
        "msdyn_scheduledend": entity.get("msdyn_scheduledend"),
        "msdyn_duration": entity.get("msdyn_duration"),
        "msdyn_effort": effort,
        "msdyn_effortcompleted": 0.0,
        "msdyn_effortremaining": effort,
        "msdyn_progress": 0.0,
        "msdyn_actualstart": None,
        "msdyn_actualend": None,
        "createdon": now,
        "modifiedon": now,
    }


def _update_task(tasks: dict[str, dict[str, Any]], entity: dict[str, Any], now: str) -> None:
    task = str(entity["msdyn_projecttaskid"]).lower()
    if task not in tasks:
        raise ValueError(f"task {task} does not exist")
    writable = ("msdyn_subject", "msdyn_description", "msdyn_scheduledstart", "msdyn_scheduledend",
                "msdyn_duration", "msdyn_effort", "msdyn_progress")  # fmt: skip
    tasks[task].update({k: v for k, v in entity.items() if k in writable}, modifiedon=now)


def _create_link(tasks: dict[str, dict[str, Any]], links: dict[str, dict[str, Any]],
                 entity: dict[str, Any], project: str) -> None:  # fmt: skip
    link = str(entity.get("msdyn_projecttaskdependencyid") or uuid.uuid4()).lower()
    predecessor, successor = _bound(entity, "msdyn_predecessortask"), _bound(entity, "msdyn_successortask")
    if link in links or predecessor not in tasks or successor not in tasks or predecessor == successor:
        raise ValueError("the dependency exists, or one of its tasks does not")
    if any((d["_msdyn_predecessortask_value"], d["_msdyn_successortask_value"]) == (predecessor, successor)
           for d in links.values()):  # fmt: skip
        raise ValueError("the two tasks are linked already")
    links[link] = {"msdyn_projecttaskdependencyid": link, "_msdyn_project_value": project,
                   "_msdyn_predecessortask_value": predecessor, "_msdyn_successortask_value": successor,
                   "msdyn_linktype": entity.get("msdyn_linktype", 192350000)}  # fmt: skip


def _create_assignment(tasks: dict[str, dict[str, Any]], team: dict[str, dict[str, Any]],
                       assignments: dict[str, dict[str, Any]], entity: dict[str, Any],
                       project: str) -> None:  # fmt: skip
    assignment = str(entity.get("msdyn_resourceassignmentid") or uuid.uuid4()).lower()
    task, member = _bound(entity, "msdyn_taskid"), _bound(entity, "msdyn_projectteamid")
    if _bound(entity, "msdyn_projectid") != project or assignment in assignments:
        raise ValueError("the assignment exists, or is for another project")
    if task not in tasks or member not in team or team[member]["_msdyn_project_value"] != project:
        raise ValueError("the task or the team member of an assignment does not exist in the project")
    if len([a for a in assignments.values() if a["_msdyn_taskid_value"] == task]) >= MAX_RESOURCES_PER_TASK:
        raise ValueError("a task can have at most 20 resources")
    assignments[assignment] = {"msdyn_resourceassignmentid": assignment, "_msdyn_projectid_value": project,
                               "_msdyn_taskid_value": task, "_msdyn_projectteamid_value": member,
                               "msdyn_name": entity.get("msdyn_name")}  # fmt: skip


def _check_limits(tasks: dict[str, dict[str, Any]], links: dict[str, dict[str, Any]], project: str) -> None:
    ours = [t for t in tasks.values() if t["_msdyn_project_value"] == project]
    deps = [d for d in links.values() if d["_msdyn_project_value"] == project]
    per_task: dict[str, int] = {}
    for d in deps:
        for key in (d["_msdyn_predecessortask_value"], d["_msdyn_successortask_value"]):
            per_task[key] = per_task.get(key, 0) + 1
    if (len(ours) > MAX_TASKS or len(deps) > MAX_LINKS
            or max(per_task.values(), default=0) > MAX_LINKS_PER_TASK
            or max((t["msdyn_outlinelevel"] for t in ours), default=0) > MAX_OUTLINE):  # fmt: skip
        raise ValueError("a per-project limit is exceeded")


def _filter(text: str | None) -> Any:
    """The small part of OData's $filter the connector uses: clauses joined by ``and``, and a
    parenthesised group of clauses joined by ``or``."""
    if not text:
        return lambda row: True
    tests = []
    for clause in re.split(r" and (?=(?:[^']|'[^']*')*$)", text.strip()):
        group = re.fullmatch(r"\((.+)\)", clause.strip())
        if group is not None:
            either = [_filter(part) for part in re.split(r" or (?=(?:[^']|'[^']*')*$)", group[1])]
            tests.append(lambda row, e=either: any(t(row) for t in e))
            continue
        found = FILTER_CLAUSE.match(clause.strip())
        if found is None:
            raise dataverse_error(400, f"This fake does not support the $filter clause {clause!r}",
                                  "0x80060888")  # fmt: skip
        if found["cfield"]:
            name, wanted = found["cfield"], found["cvalue"].replace("''", "'")
            tests.append(lambda row, n=name, w=wanted: w.lower() in str(row.get(n) or "").lower())
            continue
        name, op, raw = found["field"], found["op"], found["value"]
        value: Any = raw[1:-1].replace("''", "'") if raw.startswith("'") else raw
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value) and not raw.startswith("'"):
            value = int(value)

        def test(row: dict[str, Any], n: str = name, o: str = op, v: Any = value) -> bool:
            have = row.get(n)
            if isinstance(have, str) and isinstance(v, str):
                have, v = have.lower(), v.lower()
            if o == "eq":
                return have == v
            if o == "ne":
                return have != v
            return have is not None and str(have) >= str(v)

        tests.append(test)
    return lambda row: all(t(row) for t in tests)

"""A stateful fake GitLab (REST API v4) on the fake-server kit: only the routes in the project's GitLab notes
(/work/notes/gitlab-api-spec.md), as strict as GitLab. Tiers per namespace (Free, Premium, Ultimate) on
gitlab.com (``hosted``) or one licence on a self-managed instance; gitlab.com's rate limits on the kit's
clock; helpers (``close_issue``, ...) act like a person in GitLab's UI; faults, latency and clock come from
the kit::

    with FakeGitLab(tier="premium", clock=ManualClock()) as gitlab:
        gitlab.add_project("group/iso20k")
        requests.get(f"{gitlab.url}/api/v4/projects/group%2Fiso20k", headers={"PRIVATE-TOKEN": gitlab.token})

Where it follows GitLab's documentation (docs.gitlab.com) or, where that is silent, its source
(gitlab-org/gitlab, read through the gitlabhq/gitlabhq mirror):

- Errors: Grape's ``{"error": "title is missing"}`` for parameters, ``{"message": {field: [...]}}`` for a
  record that does not validate, ``{"message": "404 Project Not Found"}`` for a project or group and
  ``{"message": "404 Not found"}`` for a record (issue, milestone, note) found by id. 401
  ``{"message": "401 Unauthorized"}``; a token without ``api`` (``read_api`` lets GETs through) answers 403
  ``{"error": "insufficient_scope", ...}``; a token may always read ``/personal_access_tokens/self``.
- Project ids in paths: a number or the URL-encoded full path; an unencoded ``group/iso20k`` does not route
  (404), as on GitLab ("Path parameters that are required to be URL-encoded must be followed").
- Offset pagination (doc/api/rest/_index.md): X-Page, X-Per-Page, X-Next-Page and X-Prev-Page (empty at the
  ends), X-Total and X-Total-Pages, a Link header with prev/next/first/last; above 10,000 rows no X-Total,
  X-Total-Pages or rel="last". per_page defaults to 20 and is capped at 100. Keyset pagination on project
  issues exists since GitLab 18.3 (``pagination=keyset``, order_by id, created_at, updated_at, title,
  due_date, weight or relative_position): a ``cursor`` in a ``Link: <...>; rel="next"`` header while more
  remain and no other pagination header; an older version, another list or another order ignores it and
  pages by offset. ``order_by=id`` on issues is refused (400) before 18.3.
- Quick actions (lib/gitlab/quick_actions/extractor.rb, issuable_actions.rb): a command is a whole line
  starting with ``/`` (any case) outside a fenced code block or a ``>>>`` quote; every known command is
  removed from the text whether or not it may run, and runs only when "available": ``/close``, ``/reopen``
  and ``/title`` need a saved issue, so on create they are removed and do nothing; ``/label`` takes only
  labels that exist. ``\\/close`` and an indented ``/close`` stay text. The stored text loses ``\\r`` and
  trailing white space. A note of nothing but commands answers 202 with ``commands_changes``.
- System notes (app/services/issuable/common_system_notes_service.rb): time tracking changes (on create
  too), title, description and due date changes, links and moves. Labels, milestone, state and weight
  changes are resource events, not notes. System notes do not touch the issue; user notes do.
- Tiers (ee/app/services/ee/issue_links/create_service.rb): ``blocks``/``is_blocked_by`` below Premium
  answer 403 "Blocked issues not available for current license"; ``weight`` is ignored below Premium and
  the issue JSON has no ``weight`` key there (doc/api/issues.md: "Users on GitLab Premium ... also see the
  weight parameter"); below Premium only the first assignee is kept. The plan shows in
  ``GET /namespaces/:id`` for a Maintainer or Owner only (doc/api/namespaces.md): gitlab.com's free,
  premium or ultimate, "default" on a self-managed Enterprise Edition, nothing on Community Edition.
- Creating a project where the user may not (Projects::CreateService#deny_namespace) answers 400
  ``{"message": {"namespace": ["is not valid"]}}``; 403 comes only from the personal project limit.
  A duplicate milestone title (Milestone#uniqueness_of_title via lib/api/milestone_responses.rb) answers
  400 ``{"message": "Failed to create milestone {:title=>[...]}"}``, and so does a due date not after the
  start date. A duplicate label 409 ``{"message": "Label already exists"}``.
- Rate limits (doc/user/gitlab_com/rate_limits.md, doc/administration/settings/user_and_ip_rate_limits.md):
  on gitlab.com issue creation 200 a minute (per user and project), notes 60 a minute, project creation 200
  a day, and the per-plan burst for all API requests (Free 100, Premium 1,250, Ultimate 2,000 a minute;
  documented as proposed, not yet in effect). The API throttle counts in fixed windows (Rack::Attack), shows
  RateLimit-Name, -Limit, -Observed, -Remaining and -Reset on every answer, and answers 429 with
  Retry-After and RateLimit-ResetTime and no body (GitLab's is plain "Retry later"). Application limits
  count from their first request, answer 429 ``{"message": {"error": "This endpoint has been requested too
  many times. Try again later."}}`` with Retry-After and RateLimit-ResetTime, and show nothing before.
  Self-managed: notes 300 a minute, the rest off. ``rate_limits=False`` lifts them all; ``limit()`` sets one.
- Time tracking (Gitlab::TimeTrackingFormatter): 1mo = 4w, 1w = 5d, 1d = 8h; a bare number is hours.

Recorded requests keep a project's encoded path: ``gitlab.requests_to("group%2Fiso20k/issues", "POST")``.

Left alone: search lag (GitLab's lists are consistent: no ``settle``), resource events, epics, iterations,
group milestones and labels, assignees beyond ids, ``/assign`` and the other quick actions the fake does not
know (they stay text), the hourly sustained limits, and Chronic's date language beyond ISO dates, "today",
"tomorrow" and "in N days|weeks".
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import math
import random
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from .kit import ApiError, Call, Clock, FakeServer, Reply

API = "/api/v4"
GUEST, PLANNER, REPORTER, DEVELOPER, MAINTAINER, OWNER = 10, 15, 20, 30, 40, 50
TIERS = ("free", "premium", "ultimate")
DEFAULT_VERSION = "18.3.0"  # keyset pagination of project issues came with 18.3
TITLE_MAX, DESCRIPTION_MAX = 255, 1_048_576
COUNT_LIMIT = 10_000  # above this many rows GitLab leaves out X-Total, X-Total-Pages and rel="last"
LABEL_COLOR = "#6699cc"  # Label::DEFAULT_COLOR, for labels an issue creates
CREATION_LEVELS = {"noone": 99, "owner": OWNER, "maintainer": MAINTAINER, "developer": DEVELOPER}
PLAN_BURST = {"free": 100, "premium": 1250, "ultimate": 2000}  # API requests a user and minute, gitlab.com
HOSTED_LIMITS = {"issue_create": (200, 60.0), "note_create": (60, 60.0), "project_create": (200, 86400.0)}
SELF_MANAGED_LIMITS = {"note_create": (300, 60.0)}
LIMIT_NAMES = ("api", "issue_create", "note_create", "project_create")
PERSONAL_PROJECTS_OFF = (
    "Personal project creation is not allowed. Please contact your administrator with questions"
)
PERSONAL_PROJECTS_LIMIT = (
    "Your project limit is {} projects! Please contact your administrator to increase it"
)
THROTTLED = {"error": "This endpoint has been requested too many times. Try again later."}
FORBIDDEN, NOT_FOUND = "403 Forbidden", "404 Not found"
BLOCKED_UNLICENSED = "Blocked issues not available for current license"
INSUFFICIENT_SCOPE = "The request requires higher privileges than provided by the access token."
LINK_TYPES = ("relates_to", "blocks", "is_blocked_by")
LINK_WORDS = {
    "relates_to": ("related to", "related to"),
    "blocks": ("blocking", "blocked by"),
}  # system notes
ISSUE_ORDERS = ("created_at", "updated_at", "priority", "due_date", "relative_position", "label_priority",
                "milestone_due", "popularity", "weight", "title")  # fmt: skip
ISSUE_UPDATES = ("assignee_ids", "description", "due_date", "labels", "add_labels", "remove_labels",
                 "milestone_id", "state_event", "title", "weight")  # fmt: skip
COMMANDS = {  # the quick actions the fake knows: name or alias -> name
    "close": "close", "reopen": "reopen", "title": "title", "label": "label", "labels": "label",
    "unlabel": "unlabel", "remove_label": "unlabel", "relabel": "relabel", "milestone": "milestone",
    "remove_milestone": "remove_milestone", "due": "due", "remove_due_date": "remove_due_date",
    "estimate": "estimate", "estimate_time": "estimate", "remove_estimate": "remove_estimate",
    "remove_time_estimate": "remove_estimate", "spend": "spend", "spent": "spend", "spend_time": "spend",
    "remove_time_spent": "remove_time_spent", "weight": "weight", "clear_weight": "clear_weight",
}  # fmt: skip
SUMMARIES = {
    "close": "Closed this issue.", "reopen": "Reopened this issue.", "title": "Changed the title.",
    "label": "Added labels.", "unlabel": "Removed labels.", "relabel": "Replaced all labels.",
    "milestone": "Set the milestone.", "remove_milestone": "Removed the milestone.",
    "due": "Set the due date.", "remove_due_date": "Removed the due date.",
    "estimate": "Set time estimate.", "remove_estimate": "Removed time estimate.",
    "spend": "Added spent time.", "remove_time_spent": "Removed spent time.", "weight": "Set weight.",
    "clear_weight": "Cleared weight.",
}  # fmt: skip
_COMMAND_LINE = re.compile(
    r"(?P<code>^```.+?\n```$)|(?P<quote>^>>>.+?\n>>>$)"
    r"|^/(?P<cmd>"
    + "|".join(sorted(COMMANDS, key=len, reverse=True))
    + r")(?:\ (?P<arg>[^\n]*))?(?:\s*\n|$)",
    re.IGNORECASE | re.MULTILINE | re.DOTALL,
)
_TASK = re.compile(r"^(?:>\s{0,4})*(?:[ \t]*(?:[-+*]|\d+[.)]))+[ \t]+(\[[xX]\]|\[[ \t]\])([ \t].+)", re.M)
_DURATION = re.compile(r"(?:\s*\d+(?:\.\d+)?\s*(?:mo|w|d|h|m|s)(?![a-z]))+\s*")
_UNITS = {"mo": 160 * 3600, "w": 40 * 3600, "d": 8 * 3600, "h": 3600, "m": 60, "s": 1}
_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
_NAMED_COLORS = frozenset({"red", "green", "blue", "yellow", "orange", "purple", "black", "white", "gray"})
_PATH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def fail(status: int, message: Any) -> ApiError:
    """GitLab's ``{"message": ...}`` answer: a string, or field -> messages for a record that cannot save."""
    return ApiError(status, {"message": message})


def bad_param(text: str) -> ApiError:
    """A parameter GitLab's API layer (Grape) refuses: 400 ``{"error": "title is missing"}``."""
    return ApiError(400, {"error": text})


def iso(moment: datetime | None) -> str | None:
    """GitLab's timestamps: UTC with milliseconds, ``2027-01-04T09:00:00.000Z``."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_duration(text: str) -> int | None:
    """Seconds of a time-tracking duration ('1w 2d 3h 30m', '-1h'; a bare number is hours), or None."""
    value = text.strip().lower()
    sign = -1 if value.startswith("-") else 1
    value = value.removeprefix("-").strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return sign * round(float(value) * 3600)
    if not value or not _DURATION.fullmatch(value):
        return None
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*(mo|w|d|h|m|s)", value)
    return sign * round(sum(float(number) * _UNITS[unit] for number, unit in parts))


def format_duration(seconds: int) -> str:
    """GitLab's short form of a duration: '1w 2d 3h 30m'."""
    parts, left = [], abs(seconds)
    for unit, size in _UNITS.items():
        count, left = divmod(left, size)
        parts += [f"{count}{unit}"] if count else []
    return ("-" if seconds < 0 else "") + " ".join(parts or ["0m"])


def extract_commands(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The text without its quick-action lines, and the commands (name, argument) in order."""
    found: list[tuple[str, str]] = []

    def take(match: re.Match[str]) -> str:
        if match["cmd"] is None:  # a code block or a quote: left as it is
            return match[0]
        found.append((COMMANDS[match["cmd"].lower()], (match["arg"] or "").strip()))
        return ""

    return _COMMAND_LINE.sub(take, text.replace("\r", "")).rstrip(), found


def task_counts(text: str | None) -> tuple[int, int]:
    """Checklist items (``- [ ] ...``, ``* [x] ...``, ``1. [ ] ...``) and how many are checked."""
    boxes = [box for box, _ in _TASK.findall(text or "")]
    return len(boxes), sum(box.lower() == "[x]" for box in boxes)


def parse_due(text: str, today: date) -> str | None:
    """A ``/due`` date: ISO, 'today', 'tomorrow' or 'in N days|weeks' (a small part of Chronic)."""
    value = text.strip().lower()
    if value in {"today", "tomorrow"}:
        return (today + timedelta(days=value == "tomorrow")).isoformat()
    if relative := re.fullmatch(r"in (\d+) (day|week)s?", value):
        return (today + timedelta(days=int(relative[1]) * (7 if relative[2] == "week" else 1))).isoformat()
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return None


def parse_spend(text: str) -> int | None:
    """A ``/spend`` argument: a duration, optionally followed by the date it was spent on."""
    parts = text.split()
    if parts and re.fullmatch(r"\d{4}-\d\d-\d\d", parts[-1]):
        parts.pop()
    return (parse_duration(" ".join(parts)) or None) if parts else None


def _as_int(value: Any, name: str) -> int | None:
    """An integer parameter (JSON number or digits, as a form sends it); None when absent or empty."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise bad_param(f"{name} is invalid")


def _as_date(value: Any, name: str) -> str | None:
    """A date parameter: ISO ``YYYY-MM-DD``; anything else that is a string becomes no date (Rails' cast)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise bad_param(f"{name} is invalid")
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        return None


def _as_names(value: Any, name: str) -> list[str]:
    """Label names, comma-separated or a list, without blanks and repeats."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise bad_param(f"{name} is invalid")
    return list(dict.fromkeys(item.strip() for item in value if item.strip()))


def _as_ids(value: Any) -> list[int]:
    """User ids: a list, a comma-separated string or one id; repeats dropped."""
    items = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else [value]
    return list(dict.fromkeys(n for item in items if (n := _as_int(item, "assignee_ids")) is not None))


def _as_text(params: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None and required:
        raise bad_param(f"{name} is missing")
    if value is not None and not isinstance(value, str):
        raise bad_param(f"{name} is invalid")
    return value


def _ruby(errors: dict[str, list[str]]) -> str:
    """A Ruby hash as GitLab puts one in a message: ``{:title=>["..."]}``."""
    return "{" + ", ".join(f":{name}=>{json.dumps(messages)}" for name, messages in errors.items()) + "}"


def _has_labels(issue: Issue, wanted: list[str]) -> bool:
    """The ``labels`` filter: all of them; ``None``: no label; ``Any``: some label."""
    special = {name.lower() for name in wanted}
    if special in ({"none"}, {"any"}):
        return bool(issue.labels) == (special == {"any"})
    return set(wanted) <= set(issue.labels)


def _on_side(moment: datetime, bound: datetime, side: str) -> bool:
    """``*_after`` and ``*_before`` include the bound itself."""
    return moment >= bound if side == "after" else moment <= bound


def _long_date(value: str) -> str:
    day = date.fromisoformat(value)
    return f"{day:%B} {day.day}, {day.year}"


@dataclass
class User:
    id: int
    username: str
    name: str


@dataclass
class Namespace:
    """A group or a user's personal namespace; a top-level one carries the plan (``tier``)."""

    id: int
    path: str
    full_path: str
    kind: str  # "group" or "user"
    parent_id: int | None = None
    tier: str = "free"
    members: dict[int, int] = field(default_factory=dict)  # user id: access level
    project_creation_level: str = "developer"  # developer | maintainer | owner | noone


@dataclass
class Project:
    id: int
    name: str
    path: str
    namespace: Namespace
    created_at: datetime
    visibility: str = "private"
    members: dict[int, int] = field(default_factory=dict)
    next_iid: int = 1
    next_milestone_iid: int = 1

    @property
    def full_path(self) -> str:
        return f"{self.namespace.full_path}/{self.path}"


@dataclass
class Milestone:
    id: int
    iid: int
    project_id: int
    title: str
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    start_date: str | None = None
    due_date: str | None = None
    state: str = "active"


@dataclass
class Label:
    id: int
    project_id: int
    name: str
    color: str
    description: str | None = None


@dataclass
class Issue:
    id: int
    iid: int
    project_id: int
    title: str
    author_id: int
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    state: str = "opened"
    closed_at: datetime | None = None
    closed_by: int | None = None
    labels: list[str] = field(default_factory=list)
    milestone_id: int | None = None
    due_date: str | None = None
    weight: int | None = None
    assignee_ids: list[int] = field(default_factory=list)
    time_estimate: int = 0
    time_spent: int = 0
    moved_to_id: int | None = None


@dataclass
class Note:
    id: int
    issue_id: int
    body: str
    author_id: int
    created_at: datetime
    updated_at: datetime
    system: bool = False


@dataclass
class Link:
    """An issue link; ``is_blocked_by`` is stored as the other issue blocking this one, as GitLab does."""

    id: int
    source_id: int
    target_id: int
    link_type: str  # "relates_to" or "blocks"
    created_at: datetime


@dataclass
class _Counter:
    """Requests counted in one window: Rack::Attack's windows sit on multiples of the period (``aligned``),
    an application limit's window starts with its first request."""

    limit: int
    period: float
    aligned: bool
    start: float = float("-inf")
    count: int = 0

    def hit(self, now: float) -> bool:
        if now >= self.start + self.period:
            self.start, self.count = (now - now % self.period if self.aligned else now), 0
        self.count += 1
        return self.count <= self.limit


Sorter = Callable[[Issue], tuple[Any, ...]]
ISSUE_SORTS: dict[str, Sorter] = {  # order_by -> sort key (ties go by id); None-able values sort last
    "id": lambda issue: (),
    "relative_position": lambda issue: (),  # the fake keeps issues in creation order
    "created_at": lambda issue: (issue.created_at.astimezone(UTC).isoformat(),),
    "updated_at": lambda issue: (issue.updated_at.astimezone(UTC).isoformat(),),
    "title": lambda issue: (issue.title,),
    "due_date": lambda issue: (issue.due_date is None, issue.due_date or ""),
    "weight": lambda issue: (issue.weight is None, issue.weight or 0),
}


# --------------------------------------------------------------------------------------------------------
# The fake


class FakeGitLab(FakeServer):
    """A running fake GitLab (see the module); the kit's ``lock`` guards all state. Methods in sections.

    ``tier``: every namespace's plan unless ``add_project``/``add_group`` give one (on a self-managed fake the
    one licence); ``hosted``: gitlab.com (plans per namespace, its rate limits) or self-managed, then
    ``enterprise`` False is Community Edition; ``token``/``scopes``: the one token and what it may do;
    ``rate_limits`` False lifts every limit; ``version`` as ``GET /version`` tells it (keyset needs 18.3);
    ``latency`` (seconds before each answer) and ``clock`` as in the kit; ``seed`` fixes list order.
    """

    def __init__(self, *, tier: str = "free", hosted: bool = True, enterprise: bool = True,
                 token: str = "glpat-fake-0123456789abcdef", scopes: Iterable[str] = ("api",),
                 username: str = "sync-bot", rate_limits: bool = True, version: str | None = None,
                 latency: float = 0.0, clock: Clock | None = None, seed: int = 1) -> None:  # fmt: skip
        if tier not in TIERS:
            raise ValueError(f"tier must be one of {', '.join(TIERS)}, not {tier!r}")
        if not (hosted or enterprise) and tier != "free":
            raise ValueError("GitLab Community Edition has no paid tier")
        super().__init__(clock=clock)
        self.tier, self.hosted, self.enterprise = tier, hosted, hosted or enterprise
        self.token, self.scopes, self.latency, self.seed = token, list(scopes), latency, seed
        self.version = version or DEFAULT_VERSION + ("-ee" if self.enterprise else "")
        self.projects_limit = 100_000  # personal projects the API user may create (GitLab's default; 0: none)
        self.users: dict[int, User] = {}
        self.namespaces: dict[int, Namespace] = {}
        self.projects: dict[int, Project] = {}
        self.milestones: dict[int, Milestone] = {}
        self.labels: dict[int, Label] = {}
        self._issues: dict[int, Issue] = {}
        self.notes: dict[int, Note] = {}
        self.links: dict[int, Link] = {}
        self.limits: dict[str, tuple[int, float]] = {}
        self._counters: dict[tuple[str, Any], _Counter] = {}
        starts = {"user": 1, "namespace": 10, "project": 100, "milestone": 500, "label": 700, "issue": 1000,
                  "note": 5000, "link": 9000}  # fmt: skip
        self._ids = {name: itertools.count(start) for name, start in starts.items()}
        self.user = self._person(username)
        self.user_namespace = self._add_namespace(username, None, "user")
        self.user_namespace.members[self.user.id] = OWNER
        self.token_created = self.clock()
        if rate_limits:
            self.limits = (
                {"api": (PLAN_BURST[tier], 60.0), **HOSTED_LIMITS} if hosted else {**SELF_MANAGED_LIMITS}
            )
        for method, path, handler in (
            ("GET", "/personal_access_tokens/self", self._token_info),
            ("GET", "/version", self._version),
            ("GET", "/namespaces/{namespace}", self._get_namespace),
            ("GET", "/groups/{group}", self._get_group),
            ("GET", "/groups/{group}/members/all/{user}", self._get_group_member),
            ("GET", "/projects/{project}", self._get_project),
            ("POST", "/projects", self._create_project),
            ("GET", "/projects/{project}/milestones", self._list_milestones),
            ("POST", "/projects/{project}/milestones", self._create_milestone),
            ("PUT", "/projects/{project}/milestones/{milestone}", self._update_milestone),
            ("GET", "/projects/{project}/labels", self._list_labels),
            ("POST", "/projects/{project}/labels", self._create_label),
            ("GET", "/projects/{project}/issues", self._list_issues),
            ("POST", "/projects/{project}/issues", self._create_issue),
            ("GET", "/projects/{project}/issues/{iid}", self._get_issue),
            ("PUT", "/projects/{project}/issues/{iid}", self._update_issue),
            ("POST", "/projects/{project}/issues/{iid}/add_spent_time", self._add_spent_time),
            ("GET", "/projects/{project}/issues/{iid}/links", self._list_links),
            ("POST", "/projects/{project}/issues/{iid}/links", self._create_link),
            ("GET", "/projects/{project}/issues/{iid}/notes", self._list_notes),
            ("POST", "/projects/{project}/issues/{iid}/notes", self._create_note),
            ("PUT", "/projects/{project}/issues/{iid}/notes/{note}", self._update_note),
        ):
            self.route(method, API + path, self._metered(handler))
        self.start()

    def authorize(self, call: Call) -> None:
        """``PRIVATE-TOKEN`` or ``Authorization: Bearer``, else 401; then the scope: ``api`` for everything,
        ``read_api`` for GETs (the token may always read itself)."""
        token = call.header("PRIVATE-TOKEN") or call.credentials("Bearer") or ""
        if not secrets.compare_digest(token.encode(), self.token.encode()):
            raise fail(401, "401 Unauthorized")
        if call.path.rstrip("/") == API + "/personal_access_tokens/self":
            return
        needed = ("api", "read_api") if call.method == "GET" else ("api",)
        if not set(needed) & set(self.scopes):
            scope = " ".join(needed)
            challenge = (f'Bearer realm="Protected by OAuth 2.0", error="insufficient_scope", '
                         f'error_description="{INSUFFICIENT_SCOPE}", scope="{scope}"')  # fmt: skip
            body = {"error": "insufficient_scope", "error_description": INSUFFICIENT_SCOPE, "scope": scope}
            raise ApiError(403, body, {"WWW-Authenticate": challenge})

    def error_body(self, status: int, message: str) -> Any:
        """GitLab's words for what the kit answers: an unknown route, a wrong method, bad JSON, a fault."""
        match status:
            case 404:
                return {"error": "404 Not Found"}
            case 405:
                return {"error": "405 Not Allowed"}
            case 400:
                return {"error": message}
            case 429:
                return {"message": THROTTLED}
        return {"message": f"{status} {message}"}

    def _handle(self, method: str, target: str, raw: bytes,
                headers: dict[str, str]) -> tuple[Reply | None, float]:  # fmt: skip
        """Before the kit decodes the request: keep an encoded ``%2F`` in the path (a project's full path is
        one segment, an unencoded one does not route) and read a form-encoded body as GitLab does."""
        path, mark, query = target.partition("?")
        target = re.sub("%2F", "%252F", path, flags=re.IGNORECASE) + mark + query
        kind = next((value for name, value in headers.items() if name.lower() == "content-type"), "")
        if raw and kind.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
            form: dict[str, Any] = {}
            for name, value in parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True):
                if name.endswith("[]"):
                    form.setdefault(name[:-2], []).append(value)
                else:
                    form[name] = value
            raw = json.dumps(form).encode()
        return super()._handle(method, target, raw, headers)

    # -- set-up helpers ----------------------------------------------------------------------------------
    def add_group(self, path: str, *, access: int | None = OWNER, tier: str | None = None,
                  project_creation_level: str = "developer") -> Namespace:  # fmt: skip
        """A group (with its parents) where the API user has ``access`` (None: not a member); ``tier`` is
        its top-level group's plan; ``project_creation_level``: developer, maintainer, owner or noone."""
        if project_creation_level not in CREATION_LEVELS:
            raise ValueError(f"project_creation_level must be one of {', '.join(CREATION_LEVELS)}")
        with self.lock:
            group = self._ensure_group(path, tier)
            group.project_creation_level = project_creation_level
            self._grant(group.members, self.user, access)
            return group

    def add_project(self, path: str, *, tier: str | None = None, access: int | None = MAINTAINER,
                    name: str | None = None, visibility: str = "private") -> Project:  # fmt: skip
        """A project at ``group/.../path`` (or ``<username>/path``, the API user's own) where the API user is
        a member with ``access`` (None: not a member); groups are made as needed, ``tier`` is the plan of
        the top-level namespace."""
        with self.lock:
            owner_path, _, project_path = path.strip("/").rpartition("/")
            if not owner_path or not _PATH.fullmatch(project_path):
                raise ValueError(f"a project needs a namespace and a path: 'group/project', not {path!r}")
            if self._find_project(path.strip("/")) is not None:
                raise ValueError(f"project {path} exists")
            if owner_path.lower() == self.user.username.lower():
                namespace = self.user_namespace
                if tier is not None:
                    self._set_tier(namespace, tier)
            else:
                namespace = self._ensure_group(owner_path, tier)
            project = self._new_project(namespace, project_path, name or project_path, visibility)
            self._grant(project.members, self.user, access)
            return project

    def set_access(self, path: str, access: int | None) -> None:
        """The API user's own access in a project or group (None: not a member)."""
        with self.lock:
            self._grant(self._members_of(path), self.user, access)

    def add_member(self, path: str, username: str, access: int) -> User:
        """Another person with ``access`` in a project or group (an assignee, say)."""
        with self.lock:
            self._grant(self._members_of(path), person := self._person(username), access)
            return person

    def limit(self, name: str, requests: int | None, per: float = 60.0) -> None:
        """Limit ``name`` (api, issue_create, note_create, project_create) to ``requests`` each ``per``
        seconds of the fake's clock; None lifts it. Its counting starts afresh."""
        if name not in LIMIT_NAMES:
            raise ValueError(f"limit must be one of {', '.join(LIMIT_NAMES)}, not {name!r}")
        with self.lock:
            if requests is None:
                self.limits.pop(name, None)
            else:
                self.limits[name] = (requests, per)
            self._counters = {key: counter for key, counter in self._counters.items() if key[0] != name}

    # -- a person in GitLab's UI -------------------------------------------------------------------------
    def project(self, reference: str | int) -> Project:
        """A project by full path or id; KeyError when there is none."""
        with self.lock:
            return self._project_ref(reference)

    def issues(self, project: str | int) -> list[Issue]:
        """The project's issues as stored, by iid (deleted ones are gone, moved ones stay closed)."""
        with self.lock:
            found = self._project_ref(project)
            return sorted((i for i in self._issues.values() if i.project_id == found.id), key=lambda i: i.iid)

    def issue(self, project: str | int, iid: int) -> Issue:
        with self.lock:
            return self._stored_issue(project, iid)

    def notes_of(self, project: str | int, iid: int) -> list[Note]:
        """The issue's notes, system notes included, oldest first."""
        with self.lock:
            issue = self._stored_issue(project, iid)
            return sorted((n for n in self.notes.values() if n.issue_id == issue.id), key=lambda n: n.id)

    def create_issue(self, project: str | int, title: str, description: str | None = None, *,
                     author: str | None = None, labels: Iterable[str] = (), milestone: str | None = None,
                     created: datetime | None = None, **fields: Any) -> Issue:  # fmt: skip
        """An issue created in the UI by ``author`` (default the API user), quick actions included; labels
        that do not exist are made; ``fields``: due_date, weight (Premium), assignee_ids."""
        with self.lock:
            target, person = self._project_ref(project), self._person(author)
            values: dict[str, Any] = {"title": title, "labels": list(labels), **fields}
            if milestone is not None:
                values["milestone_id"] = self._milestone_titled(target, milestone).id
            text, commands = extract_commands(description) if description is not None else (None, [])
            return self._open_issue(target, person, values | {"description": text}, commands, at=created)

    def edit_issue(self, project: str | int, iid: int, *, by: str | None = None, **changes: Any) -> Issue:
        """Change fields as a person editing the issue: title, description (its quick actions run), labels,
        milestone (a title or None), due_date, weight, time_estimate (seconds)."""
        with self.lock:
            target, person = self._project_ref(project), self._person(by)
            issue, commands = self._stored_issue(target, iid), []
            if "description" in changes and changes["description"] is not None:
                changes["description"], commands = extract_commands(changes["description"])
            if "labels" in changes:
                changes["labels"] = self._ensure_labels(target, changes["labels"])
            if "milestone" in changes:
                title = changes.pop("milestone")
                changes["milestone_id"] = None if title is None else self._milestone_titled(target, title).id
            self._edit(issue, changes, person)
            self._run_commands(
                issue, target, commands, person, persisted=True, can_update=True, can_meta=True
            )
            return issue

    def close_issue(self, project: str | int, iid: int, *, by: str | None = None) -> Issue:
        return self.edit_issue(project, iid, by=by, state="closed")

    def reopen_issue(self, project: str | int, iid: int, *, by: str | None = None) -> Issue:
        return self.edit_issue(project, iid, by=by, state="opened")

    def set_labels(
        self, project: str | int, iid: int, labels: Iterable[str], *, by: str | None = None
    ) -> Issue:
        return self.edit_issue(project, iid, by=by, labels=list(labels))

    def log_time(self, project: str | int, iid: int, seconds: int, *, by: str | None = None) -> Issue:
        """Time spent (negative: subtracted), as the time-tracking widget or ``/spend`` does."""
        with self.lock:
            issue = self._stored_issue(project, iid)
            self._edit(issue, {"spend": seconds}, self._person(by))
            return issue

    def add_note(self, project: str | int, iid: int, body: str, *, author: str | None = None) -> Note | None:
        """A comment by ``author`` (default the API user); its quick actions run. None when it held nothing
        but quick actions (GitLab keeps no note then)."""
        with self.lock:
            target, person = self._project_ref(project), self._person(author)
            issue = self._stored_issue(target, iid)
            text, commands = extract_commands(body)
            self._run_commands(
                issue, target, commands, person, persisted=True, can_update=True, can_meta=True
            )
            return self._add_note(issue, text, person) if text.strip() else None

    def move_issue(self, project: str | int, iid: int, other_project: str | int, *,
                   by: str | None = None) -> Issue:  # fmt: skip
        """Move as GitLab does: a new issue in ``other_project`` (labels and milestone matched by name there,
        notes copied, links carried over); the old one is closed with ``moved_to_id``. The new issue."""
        with self.lock:
            source, target = self._project_ref(project), self._project_ref(other_project)
            old, person, now = self._stored_issue(source, iid), self._person(by), self.clock()
            milestone = self.milestones.get(old.milestone_id or 0)
            found = milestone and next(
                (m for m in self._milestones_of(target) if m.title == milestone.title), None
            )
            number = next(self._ids["issue"])
            new = Issue(number, target.next_iid, target.id, old.title, old.author_id, now, now,
                        description=old.description, labels=[n for n in old.labels if self._label(target, n)],
                        milestone_id=found.id if found else None, due_date=old.due_date, weight=old.weight,
                        assignee_ids=list(old.assignee_ids), time_estimate=old.time_estimate,
                        time_spent=old.time_spent)  # fmt: skip
            target.next_iid += 1
            self._issues[new.id] = new
            for note in [n for n in self.notes.values() if n.issue_id == old.id]:
                copied = Note(next(self._ids["note"]), new.id, note.body, note.author_id, note.created_at,
                              note.updated_at, note.system)  # fmt: skip
                self.notes[copied.id] = copied
            for link in self.links.values():
                link.source_id = new.id if link.source_id == old.id else link.source_id
                link.target_id = new.id if link.target_id == old.id else link.target_id
            self._edit(old, {"state": "closed", "moved_to_id": new.id}, person, at=now)
            self._add_note(old, f"moved to {self._reference(new, source)}", person, system=True, at=now)
            self._add_note(new, f"moved from {self._reference(old, target)}", person, system=True, at=now)
            return new

    def delete_issue(self, project: str | int, iid: int) -> None:
        """Delete an issue with its notes and links (its iid is not used again)."""
        with self.lock:
            issue = self._stored_issue(project, iid)
            del self._issues[issue.id]
            self.notes = {key: n for key, n in self.notes.items() if n.issue_id != issue.id}
            self.links = {
                key: k for key, k in self.links.items() if issue.id not in {k.source_id, k.target_id}
            }

    # -- handlers: who, where, which tier ----------------------------------------------------------------
    def _token_info(self, call: Call) -> Reply:
        expires = (self.token_created + timedelta(days=365)).date().isoformat()
        return Reply(200, {
            "id": 1, "name": "iso20k-sync", "revoked": False, "created_at": iso(self.token_created),
            "description": None, "scopes": list(self.scopes), "user_id": self.user.id,
            "last_used_at": iso(self.clock()), "active": True, "expires_at": expires,
        })  # fmt: skip

    def _version(self, call: Call) -> Reply:
        kas = {"enabled": False, "externalUrl": None, "externalK8sProxyUrl": None, "version": None}
        return Reply(200, {"version": self.version, "revision": "5c1b1b0c5d2", "kas": kas,
                           "enterprise": self.enterprise})  # fmt: skip

    def _get_namespace(self, call: Call) -> Reply:
        """A namespace; ``plan`` only for its Maintainers and Owners (a personal one's owner) on EE."""
        namespace = self._find_namespace(unquote(call.params["namespace"]))
        if namespace is None or not self._sees(namespace):
            raise fail(404, "404 Namespace Not Found")
        body = self._namespace_json(namespace)
        if self.enterprise and self._namespace_access(namespace) >= MAINTAINER:
            body["plan"] = self._root(namespace).tier if self.hosted else "default"
        return Reply(200, body)

    def _get_group(self, call: Call) -> Reply:
        group = self._find_namespace(unquote(call.params["group"]))
        if group is None or group.kind != "group" or not self._sees(group):
            raise fail(404, "404 Group Not Found")
        return Reply(200, self._group_json(group))

    def _get_group_member(self, call: Call) -> Reply:
        """A member of the group, inherited membership included (``members/all``)."""
        group = self._find_namespace(unquote(call.params["group"]))
        if group is None or group.kind != "group" or not self._sees(group):
            raise fail(404, "404 Group Not Found")
        person = self.users.get(_as_int(call.params["user"], "user_id") or 0)
        level = self._namespace_access(group, person) if person else 0
        if person is None or level == 0:
            raise fail(404, NOT_FOUND)
        return Reply(200, self._user_json(person) | {"access_level": level, "expires_at": None})

    def _get_project(self, call: Call) -> Reply:
        return Reply(200, self._project_json(self._project(call), permissions=True))

    def _create_project(self, call: Call) -> Reply:
        params = self._params(call)
        name, path = _as_text(params, "name"), _as_text(params, "path")
        if not name and not path:
            raise bad_param("name, path are missing, at least one parameter must be provided")
        self._throttle("project_create", self.user.id)
        namespace_id = _as_int(params.get("namespace_id"), "namespace_id")
        if namespace_id is None:
            namespace = self.user_namespace
            mine = [p for p in self.projects.values() if p.namespace is namespace]
            if len(mine) >= self.projects_limit:
                raise fail(403, [PERSONAL_PROJECTS_OFF if self.projects_limit == 0 else
                                 PERSONAL_PROJECTS_LIMIT.format(self.projects_limit)])  # fmt: skip
        elif (found := self.namespaces.get(namespace_id)) is None or not self._may_create_in(found):
            raise fail(400, {"namespace": ["is not valid"]})
        else:
            namespace = found
        path = path or re.sub(r"[^a-z0-9_.]+", "-", (name or "").lower()).strip("-")
        if not _PATH.fullmatch(path) or path.endswith((".git", ".atom")):
            raise fail(400, {"path": ["can contain only letters, digits, '_', '-' and '.'. Cannot start with "
                                      "'-', end in '.git' or end in '.atom'"]})  # fmt: skip
        if self._find_project(f"{namespace.full_path}/{path}") is not None:
            raise fail(400, {"name": ["has already been taken"], "path": ["has already been taken"]})
        visibility = _as_text(params, "visibility") or "private"
        return Reply(201, self._project_json(self._new_project(namespace, path, name or path, visibility)))

    # -- handlers: milestones and labels -----------------------------------------------------------------
    def _list_milestones(self, call: Call) -> Reply:
        project, rows = self._project(call), []
        state = call.arg("state") or "all"
        if state not in {"active", "closed", "all"}:
            raise bad_param("state does not have a valid value")
        title, search = call.arg("title"), (call.arg("search") or "").lower()
        for milestone in self._milestones_of(project):
            text = f"{milestone.title} {milestone.description or ''}".lower()
            if state in {"all", milestone.state} and title in {None, milestone.title} and search in text:
                rows.append(milestone)
        return self._page(call, self._unordered(rows), self._milestone_json)

    def _create_milestone(self, call: Call) -> Reply:
        project = self._project(call)
        self._require(project, PLANNER)
        params = self._params(call)
        title = (_as_text(params, "title", required=True) or "").strip()
        values = {"title": title, "description": _as_text(params, "description"),
                  "start_date": _as_date(params.get("start_date"), "start_date"),
                  "due_date": _as_date(params.get("due_date"), "due_date")}  # fmt: skip
        if errors := self._milestone_errors(project, values, None):
            raise fail(400, f"Failed to create milestone {_ruby(errors)}")
        now = self.clock()
        number = next(self._ids["milestone"])
        milestone = Milestone(number, project.next_milestone_iid, project.id, title, now, now,
                              values["description"], values["start_date"], values["due_date"])  # fmt: skip
        project.next_milestone_iid += 1
        self.milestones[milestone.id] = milestone
        return Reply(201, self._milestone_json(milestone))

    def _update_milestone(self, call: Call) -> Reply:
        project = self._project(call)
        self._require(project, PLANNER)
        number = _as_int(call.params["milestone"], "milestone_id")
        milestone = self.milestones.get(number or 0)
        if milestone is None or milestone.project_id != project.id:
            raise fail(404, NOT_FOUND)
        params, fields = self._params(call), ("title", "description", "start_date", "due_date", "state_event")
        if not set(fields) & params.keys():
            raise bad_param(f"{', '.join(fields)} are missing, at least one parameter must be provided")
        values = {"title": milestone.title, "description": milestone.description,
                  "start_date": milestone.start_date, "due_date": milestone.due_date}  # fmt: skip
        if "title" in params:
            values["title"] = (_as_text(params, "title") or "").strip()
        if "description" in params:
            values["description"] = _as_text(params, "description")
        for name in ("start_date", "due_date"):
            values[name] = _as_date(params[name], name) if name in params else values[name]
        event = params.get("state_event")
        if event is not None and event not in {"close", "activate"}:
            raise bad_param("state_event does not have a valid value")
        if errors := self._milestone_errors(project, values, milestone):
            raise fail(400, f"Failed to update milestone {_ruby(errors)}")
        state = {"close": "closed", "activate": "active", None: milestone.state}[event]
        if (values, state) != (self._milestone_values(milestone), milestone.state):
            for name, value in values.items():
                setattr(milestone, name, value)
            milestone.state, milestone.updated_at = state, self.clock()
        return Reply(200, self._milestone_json(milestone))

    def _list_labels(self, call: Call) -> Reply:
        project = self._project(call)
        rows = [label for label in self.labels.values() if label.project_id == project.id]
        return self._page(call, self._unordered(rows), self._label_json)

    def _create_label(self, call: Call) -> Reply:
        project = self._project(call)
        self._require(project, PLANNER)
        params = self._params(call)
        name = (_as_text(params, "name", required=True) or "").strip()
        color = (_as_text(params, "color", required=True) or "").strip()
        if not name:
            raise fail(400, {"title": ["can't be blank"]})
        if not (_COLOR.fullmatch(color) or color.lower() in _NAMED_COLORS):
            raise fail(400, {"color": ["must be a valid color code"]})
        if self._label(project, name) is not None:
            raise fail(409, "Label already exists")
        label = Label(next(self._ids["label"]), project.id, name, color, _as_text(params, "description"))
        self.labels[label.id] = label
        return Reply(201, self._label_json(label))

    # -- handlers: issues --------------------------------------------------------------------------------
    def _list_issues(self, call: Call) -> Reply:
        """The project's issues, filtered (state, labels: all of them, milestone, created_/updated_ after and
        before), by offset or (18.3+, a keyset order) keyset; no guaranteed order without ``order_by``."""
        project = self._project(call)
        rows = [issue for issue in self._issues.values() if issue.project_id == project.id]
        state = call.arg("state") or "all"
        if state not in {"opened", "closed", "all"}:
            raise bad_param("state does not have a valid value")
        rows = [issue for issue in rows if state in {"all", issue.state}]
        if wanted := call.args("labels"):
            rows = [issue for issue in rows if _has_labels(issue, wanted)]
        if (title := call.arg("milestone")) is not None:
            rows = [issue for issue in rows if self._in_milestone(issue, title)]
        for name in ("created_after", "created_before", "updated_after", "updated_before"):
            if (moment := self._moment(call, name)) is not None:
                stamp, _, side = name.partition("_")
                rows = [i for i in rows if _on_side(getattr(i, f"{stamp}_at"), moment, side)]
        keyset = self._at_least(18, 3)
        order_by, sort, pagination = call.arg("order_by"), call.arg("sort") or "desc", call.arg("pagination")
        if order_by is not None and order_by not in (*ISSUE_ORDERS, *(("id",) if keyset else ())):
            raise bad_param("order_by does not have a valid value")
        if sort not in {"asc", "desc"}:
            raise bad_param("sort does not have a valid value")
        if pagination not in {None, "offset", "keyset"}:
            raise bad_param("pagination does not have a valid value")
        sorter = ISSUE_SORTS.get(order_by or "created_at")
        if sorter is not None:
            rows.sort(key=lambda issue: (*sorter(issue), issue.id), reverse=sort == "desc")
        if pagination == "keyset" and keyset and sorter is not None:
            return self._keyset_page(call, rows, sorter, sort == "desc")
        return self._page(call, rows if order_by and sorter else self._unordered(rows), self._issue_json)

    def _get_issue(self, call: Call) -> Reply:
        return Reply(200, self._issue_json(self._issue_at(call)[1]))

    def _create_issue(self, call: Call) -> Reply:
        project = self._project(call)
        if not self._may_report(project):
            raise fail(403, FORBIDDEN)
        self._throttle("issue_create", (self.user.id, project.id))
        values, commands = self._issue_values(project, self._params(call), creating=True), []
        if values.get("description"):
            values["description"], commands = extract_commands(values["description"])
        issue = self._open_issue(
            project, self.user, values, commands, can_meta=self._access(project) >= PLANNER
        )
        return Reply(201, self._issue_json(issue))

    def _update_issue(self, call: Call) -> Reply:
        project, issue = self._issue_at(call)
        params = self._params(call)
        if not set(ISSUE_UPDATES) & params.keys():
            raise bad_param(
                f"{', '.join(ISSUE_UPDATES)} are missing, at least one parameter must be provided"
            )
        can_meta = self._access(project) >= PLANNER
        if not (can_meta or issue.author_id == self.user.id):
            raise fail(403, FORBIDDEN)
        values, commands = self._issue_values(project, params, creating=False, issue=issue), []
        if values.get("description"):
            values["description"], commands = extract_commands(values["description"])
        self._edit(issue, values, self.user)
        self._run_commands(
            issue, project, commands, self.user, persisted=True, can_update=True, can_meta=can_meta
        )
        return Reply(200, self._issue_json(issue))

    def _add_spent_time(self, call: Call) -> Reply:
        project, issue = self._issue_at(call)
        self._require(project, PLANNER)
        raw = _as_text(self._params(call), "duration", required=True) or ""
        if not (seconds := parse_duration(raw)):
            raise fail(400, {"time_spent": ["can't be blank"]})
        if issue.time_spent + seconds < 0:
            raise fail(400, {"base": ["Time to subtract exceeds the total time spent"]})
        self._edit(issue, {"spend": seconds}, self.user)
        return Reply(201, self._time_stats(issue))

    # -- handlers: links and notes -----------------------------------------------------------------------
    def _list_links(self, call: Call) -> Reply:
        """Every issue linked to this one (not paged), each with its link from this issue's side."""
        _, issue = self._issue_at(call)
        found = []
        for link in sorted(self.links.values(), key=lambda link: link.id):
            if issue.id not in {link.source_id, link.target_id}:
                continue
            other = self._issues[link.target_id if link.source_id == issue.id else link.source_id]
            if not self._visible(self.projects[other.project_id]):
                continue
            kind = (
                "is_blocked_by"
                if link.link_type == "blocks" and link.target_id == issue.id
                else link.link_type
            )
            stamp = iso(link.created_at)
            found.append(self._issue_json(other) | {"issue_link_id": link.id, "link_type": kind,
                         "link_created_at": stamp, "link_updated_at": stamp})  # fmt: skip
        return Reply(200, found)

    def _create_link(self, call: Call) -> Reply:
        """Link two issues: the target is looked up first (404), then the licence (403), repeats (409)."""
        project, issue = self._issue_at(call)
        self._require(project, GUEST)
        params = self._params(call)
        for name in ("target_project_id", "target_issue_iid"):
            if params.get(name) is None or params[name] == "":
                raise bad_param(f"{name} is missing")
        kind = params.get("link_type") or "relates_to"
        if kind not in LINK_TYPES:
            raise bad_param("link_type does not have a valid value")
        other_project = self._find_project(str(params["target_project_id"]))
        if other_project is None or not self._visible(other_project):
            raise fail(404, "404 Project Not Found")
        other = self._find_issue(other_project, _as_int(params["target_issue_iid"], "target_issue_iid") or 0)
        if other is None:
            raise fail(404, NOT_FOUND)
        if kind != "relates_to" and not self._licensed(project):
            raise fail(403, BLOCKED_UNLICENSED)
        if other.id == issue.id or any({link.source_id, link.target_id} == {issue.id, other.id}
                                       for link in self.links.values()):  # fmt: skip
            raise fail(409, "Issue(s) already assigned")
        source, target = (other, issue) if kind == "is_blocked_by" else (issue, other)
        now = self.clock()
        stored = "relates_to" if kind == "relates_to" else "blocks"
        link = Link(next(self._ids["link"]), source.id, target.id, stored, now)
        self.links[link.id] = link
        words = LINK_WORDS[stored]
        for here, there, word in ((source, target, words[0]), (target, source, words[1])):
            ref = self._reference(there, self.projects[here.project_id])
            self._add_note(here, f"marked this issue as {word} {ref}", self.user, system=True, at=now)
        return Reply(201, {"source_issue": self._issue_json(issue), "target_issue": self._issue_json(other),
                           "link_type": kind})  # fmt: skip

    def _list_notes(self, call: Call) -> Reply:
        _, issue = self._issue_at(call)
        rows = [note for note in self.notes.values() if note.issue_id == issue.id]
        order_by, sort = call.arg("order_by"), call.arg("sort")
        if order_by not in {None, "created_at", "updated_at"}:
            raise bad_param("order_by does not have a valid value")
        if sort not in {None, "asc", "desc"}:
            raise bad_param("sort does not have a valid value")
        if order_by is None and sort is None:
            return self._page(call, self._unordered(rows), self._note_json)
        stamp = order_by or "created_at"
        rows.sort(key=lambda note: (getattr(note, stamp), note.id), reverse=sort != "asc")
        return self._page(call, rows, self._note_json)

    def _create_note(self, call: Call) -> Reply:
        """A comment; its quick actions run, and one of nothing but quick actions answers 202 with them."""
        project, issue = self._issue_at(call)
        if not self._may_report(project):
            raise fail(403, FORBIDDEN)
        body = _as_text(self._params(call), "body", required=True) or ""
        self._throttle("note_create", self.user.id)
        text, commands = extract_commands(body)
        can_meta = self._access(project) >= PLANNER
        changes, summary = self._run_commands(issue, project, commands, self.user, persisted=True,
                                              can_update=can_meta or issue.author_id == self.user.id,
                                              can_meta=can_meta)  # fmt: skip
        if text.strip():
            return Reply(201, self._note_json(self._add_note(issue, text, self.user)))
        if not commands:
            raise fail(400, {"note": ["can't be blank"]})
        changes = {("spend_time" if name == "spend" else name): value for name, value in changes.items()}
        return Reply(202, {"commands_changes": changes, "summary": summary})

    def _update_note(self, call: Call) -> Reply:
        """Edit a comment: only its author may (a system note, nobody)."""
        _, issue = self._issue_at(call)
        note = self.notes.get(_as_int(call.params["note"], "note_id") or 0)
        if note is None or note.issue_id != issue.id:
            raise fail(404, NOT_FOUND)
        if note.system or note.author_id != self.user.id:
            raise fail(403, FORBIDDEN)
        body = _as_text(self._params(call), "body", required=True) or ""
        if not body.strip():
            raise fail(400, {"note": ["can't be blank"]})
        if body != note.body:
            note.body, note.updated_at = body, self.clock()
            issue.updated_at = note.updated_at  # a note touches its issue
        return Reply(200, self._note_json(note))

    # -- creating and changing issues --------------------------------------------------------------------
    def _issue_values(self, project: Project, params: dict[str, Any], *, creating: bool,
                      issue: Issue | None = None) -> dict[str, Any]:  # fmt: skip
        """The fields a request sets, checked and coerced as GitLab does; without Planner (Reporter before
        17.7) the metadata (labels, milestone, due date, weight, assignees) is dropped silently."""
        values: dict[str, Any] = {}
        if creating or "title" in params:
            title = _as_text(params, "title", required=True) or ""
            if not title.strip():
                raise fail(400, {"title": ["can't be blank"]})
            if len(title) > TITLE_MAX:
                raise fail(400, {"title": [f"is too long (maximum is {TITLE_MAX} characters)"]})
            values["title"] = title
        if "description" in params:
            description = _as_text(params, "description")
            if description is not None and len(description) > DESCRIPTION_MAX:
                raise fail(400, {"description": [f"is too long (maximum is {DESCRIPTION_MAX} characters)"]})
            values["description"] = description
        if "state_event" in params:
            event = params["state_event"]
            if event not in {"close", "reopen"}:
                raise bad_param("state_event does not have a valid value")
            values["state"] = "closed" if event == "close" else "opened"
        weight = _as_int(params.get("weight"), "weight") if self.enterprise else None
        if weight is not None and weight < 0:
            raise fail(400, {"weight": ["must be greater than or equal to 0"]})
        if self._access(project) < PLANNER:
            return values
        labels = _as_names(params["labels"], "labels") if "labels" in params else None
        if issue is not None and ("add_labels" in params or "remove_labels" in params):
            adding, removing = (_as_names(params.get(n) or [], n) for n in ("add_labels", "remove_labels"))
            kept = issue.labels if labels is None else labels
            labels = [name for name in [*kept, *adding] if name not in removing]
        if labels is not None:
            values["labels"] = self._ensure_labels(project, labels)
        if "milestone_id" in params:  # an unknown milestone is dropped, as GitLab's filter_milestone does
            milestone = self.milestones.get(_as_int(params["milestone_id"], "milestone_id") or 0)
            ours = milestone is not None and milestone.project_id == project.id
            values["milestone_id"] = milestone.id if ours else None
        if "due_date" in params:
            values["due_date"] = _as_date(params["due_date"], "due_date")
        if "weight" in params and self.enterprise and self._licensed(project):
            values["weight"] = weight
        if "assignee_ids" in params:
            ids = [i for i in _as_ids(params["assignee_ids"]) if i in self.users]
            ids = [i for i in ids if self._access(project, self.users[i]) >= GUEST]  # who may be assigned
            values["assignee_ids"] = ids if self._licensed(project) else ids[:1]
        return values

    def _open_issue(self, project: Project, author: User, values: dict[str, Any],
                    commands: list[tuple[str, str]], *, can_meta: bool = True,
                    at: datetime | None = None) -> Issue:  # fmt: skip
        """Store a new issue with ``values`` (checked), then run its quick actions as on create."""
        now = at or self.clock()
        number = next(self._ids["issue"])
        issue = Issue(number, project.next_iid, project.id, values["title"], author.id, now, now)
        project.next_iid += 1
        self._issues[issue.id] = issue
        for name in ("description", "milestone_id", "due_date", "weight", "assignee_ids"):
            if values.get(name) is not None and (name != "weight" or self._licensed(project)):
                setattr(issue, name, values[name])
        issue.labels = self._ensure_labels(project, values.get("labels") or [])
        self._run_commands(issue, project, commands, author, persisted=False, can_update=True,
                           can_meta=can_meta, at=now)  # fmt: skip
        issue.updated_at = now
        return issue

    def _run_commands(self, issue: Issue, project: Project, commands: list[tuple[str, str]], actor: User, *,
                      persisted: bool, can_update: bool, can_meta: bool,
                      at: datetime | None = None) -> tuple[dict[str, Any], list[str]]:  # fmt: skip
        """Carry out the quick actions available here, as GitLab decides; the rest do nothing. The changes
        made and a line for each command run."""
        pending: dict[str, Any] = {}
        summary: list[str] = []

        def current(name: str) -> Any:
            return pending.get(name, getattr(issue, name))

        weights = self.enterprise and self._licensed(project)
        for name, arg in commands:
            if name in {"close", "reopen", "title"}:
                if not (persisted and can_update):
                    continue
                if name == "close" and current("state") == "opened":
                    pending["state"] = "closed"
                elif name == "reopen" and current("state") == "closed":
                    pending["state"] = "opened"
                elif name == "title" and arg:
                    pending["title"] = arg[:TITLE_MAX]
                else:
                    continue
            elif not can_meta:
                continue
            elif name in {"label", "unlabel", "relabel"}:
                named, labels = self._label_args(project, arg), set(current("labels"))
                if name == "label" and named:
                    pending["labels"] = sorted(labels | named)
                elif name == "unlabel" and persisted and labels:
                    pending["labels"] = sorted(labels - named) if arg else []
                elif name == "relabel" and persisted and labels and named:
                    pending["labels"] = sorted(named)
                else:
                    continue
            elif name == "milestone" and (milestone := self._milestone_arg(project, arg)) is not None:
                pending["milestone_id"] = milestone.id
            elif name == "remove_milestone" and persisted and current("milestone_id"):
                pending["milestone_id"] = None
            elif name == "due" and (due := parse_due(arg, self.clock().date())) is not None:
                pending["due_date"] = due
            elif name == "remove_due_date" and persisted and current("due_date"):
                pending["due_date"] = None
            elif name == "estimate" and (seconds := parse_duration(arg)) is not None and seconds >= 0:
                pending["time_estimate"] = seconds
            elif name == "remove_estimate" and persisted and current("time_estimate"):
                pending["time_estimate"] = 0
            elif name == "spend" and (seconds := parse_spend(arg)) is not None:
                pending["spend"] = pending.get("spend", 0) + seconds
            elif name == "remove_time_spent" and persisted and (issue.time_spent or pending.get("spend")):
                pending.pop("spend", None)
                pending["time_spent"] = 0
            elif name == "weight" and weights and arg.isdigit():
                pending["weight"] = int(arg)
            elif name == "clear_weight" and weights and persisted and current("weight") is not None:
                pending["weight"] = None
            else:
                continue
            summary.append(SUMMARIES[name])
        self._edit(issue, pending, actor, at=at, creating=not persisted)
        return pending, summary

    def _edit(self, issue: Issue, changes: dict[str, Any], actor: User, *, at: datetime | None = None,
              creating: bool = False) -> bool:  # fmt: skip
        """Apply field changes (``spend``: seconds to add); when a value changed ``updated_at`` moves and the
        system notes GitLab writes follow: time tracking always; title, description, due date on updates."""
        now, notes, changed = at or self.clock(), [], False
        for name, value in changes.items():
            if name == "spend":
                if value:
                    issue.time_spent, changed = max(0, issue.time_spent + value), True
                    verb = "added" if value > 0 else "subtracted"
                    notes.append(f"{verb} {format_duration(abs(value))} of time spent")
                continue
            old = getattr(issue, name)
            if old == value:
                continue
            setattr(issue, name, value)
            changed = True
            if name == "state":
                issue.closed_at, issue.closed_by = (now, actor.id) if value == "closed" else (None, None)
            notes += self._change_notes(name, old, value, creating)
        if changed:
            issue.updated_at = now
        for text in notes:
            self._add_note(issue, text, actor, system=True, at=now)
        return changed

    @staticmethod
    def _change_notes(name: str, old: Any, new: Any, creating: bool) -> list[str]:
        if name == "time_estimate":
            return [f"changed time estimate to {format_duration(new)}" if new else "removed time estimate"]
        if name == "time_spent":
            return [] if new else ["removed time spent"]
        if creating:
            return []
        if name == "title":
            return [f"changed title from **{old}** to **{new}**"]
        if name == "description":
            return ["changed the description"]
        if name == "due_date":
            return [f"changed due date to {_long_date(new)}" if new else "removed due date"]
        return []

    def _add_note(self, issue: Issue, body: str, author: User, *, system: bool = False,
                  at: datetime | None = None) -> Note:  # fmt: skip
        """A note; a person's touches the issue (``updated_at``), a system note does not."""
        now = at or self.clock()
        note = Note(next(self._ids["note"]), issue.id, body, author.id, now, now, system)
        self.notes[note.id] = note
        if not system:
            issue.updated_at = now
        return note

    def _ensure_labels(self, project: Project, names: Iterable[str]) -> list[str]:
        """The names, sorted, each a label of the project (made with GitLab's default colour if missing)."""
        for name in (names := sorted(set(names))):
            if self._label(project, name) is None:
                label = Label(next(self._ids["label"]), project.id, name, LABEL_COLOR)
                self.labels[label.id] = label
        return names

    def _label_args(self, project: Project, arg: str) -> set[str]:
        """The existing labels a quick action names: ``~a ~"b c" ~12`` or, without tildes, ``a "b c"``."""
        if "~" in arg:
            names = [quoted or plain for quoted, plain in re.findall(r'~"([^"]+)"|~([^\s~"]+)', arg)]
        else:
            names = [quoted or plain for quoted, plain in re.findall(r'"([^"]+)"|(\S+)', arg)]
        found = set()
        for name in names:
            label = self._label(project, name) or (self.labels.get(int(name)) if name.isdigit() else None)
            if label is not None and label.project_id == project.id:
                found.add(label.name)
        return found

    def _milestone_arg(self, project: Project, arg: str) -> Milestone | None:
        """The active milestone ``/milestone %"v1"`` (or ``%v1``, ``v1``, ``%3`` by iid) names."""
        value = arg.strip().removeprefix("%").strip('"')
        active = [m for m in self._milestones_of(project) if m.state == "active"]
        return next((m for m in active if m.title == value), None) or next(
            (m for m in active if value.isdigit() and m.iid == int(value)), None)  # fmt: skip

    # -- permissions and lookups -------------------------------------------------------------------------
    def _person(self, username: str | None) -> User:
        """The user of that name (made on first mention); None: the API user."""
        if username is None:
            return self.user
        found = next((u for u in self.users.values() if u.username == username), None)
        if found is None:
            found = User(next(self._ids["user"]), username, username.replace(".", " ").title())
            self.users[found.id] = found
        return found

    @staticmethod
    def _grant(members: dict[int, int], person: User, access: int | None) -> None:
        if access is None:
            members.pop(person.id, None)
        else:
            members[person.id] = access

    def _members_of(self, path: str) -> dict[int, int]:
        if (project := self._find_project(path)) is not None:
            return project.members
        if (namespace := self._find_namespace(path)) is not None:
            return namespace.members
        raise KeyError(path)

    def _add_namespace(self, full_path: str, parent: Namespace | None, kind: str = "group") -> Namespace:
        namespace = Namespace(next(self._ids["namespace"]), full_path.rpartition("/")[2], full_path, kind,
                              parent.id if parent else None, tier=self.tier)  # fmt: skip
        self.namespaces[namespace.id] = namespace
        return namespace

    def _ensure_group(self, full_path: str, tier: str | None) -> Namespace:
        parts, group = full_path.strip("/").split("/"), None
        if parts[0].lower() == self.user.username.lower():
            raise ValueError(f"{parts[0]} is the API user's personal namespace, not a group")
        for depth in range(len(parts)):
            prefix = "/".join(parts[: depth + 1])
            found = self._find_namespace(prefix)
            group = found if found is not None else self._add_namespace(prefix, group)
        assert group is not None
        if tier is not None:
            self._set_tier(self._root(group), tier)
        return group

    def _set_tier(self, namespace: Namespace, tier: str) -> None:
        if tier not in TIERS:
            raise ValueError(f"tier must be one of {', '.join(TIERS)}, not {tier!r}")
        if not self.hosted and tier != self.tier:
            raise ValueError(
                f"a self-managed instance has one licence ({self.tier}); set it in FakeGitLab(tier=)"
            )
        namespace.tier = tier

    def _new_project(self, namespace: Namespace, path: str, name: str, visibility: str) -> Project:
        project = Project(next(self._ids["project"]), name, path, namespace, self.clock(), visibility)
        self.projects[project.id] = project
        return project

    def _lineage(self, namespace: Namespace) -> list[Namespace]:
        """The namespace and its parents, the top-level one last."""
        chain = [namespace]
        while chain[-1].parent_id is not None:
            chain.append(self.namespaces[chain[-1].parent_id])
        return chain

    def _root(self, namespace: Namespace) -> Namespace:
        return self._lineage(namespace)[-1]

    def _namespace_access(self, namespace: Namespace, person: User | None = None) -> int:
        person = person or self.user
        return max(n.members.get(person.id, 0) for n in self._lineage(namespace))

    def _access(self, project: Project, person: User | None = None) -> int:
        """A user's access level in the project: its own membership or an ancestor's (0: none)."""
        person = person or self.user
        return max(project.members.get(person.id, 0), self._namespace_access(project.namespace, person))

    def _visible(self, project: Project) -> bool:
        return self._access(project) >= GUEST or project.visibility != "private"

    def _may_report(self, project: Project) -> bool:
        """Issues and comments: Guests, and anyone where the project is not private."""
        return self._visible(project)

    def _sees(self, namespace: Namespace) -> bool:
        """A namespace the API user belongs to (or above a project it sees)."""
        if self._namespace_access(namespace) >= GUEST:
            return True
        return any(
            namespace in self._lineage(p.namespace) and self._visible(p) for p in self.projects.values()
        )

    def _may_create_in(self, namespace: Namespace) -> bool:
        if namespace.kind == "user":
            return namespace is self.user_namespace
        return self._namespace_access(namespace) >= CREATION_LEVELS[namespace.project_creation_level]

    def _require(self, project: Project, level: int) -> None:
        if self._access(project) < level:
            raise fail(403, FORBIDDEN)

    def _licensed(self, project: Project) -> bool:
        """Premium features (blocking links, weights, several assignees) for this project's namespace."""
        tier = self._root(project.namespace).tier if self.hosted else self.tier
        return tier != "free"

    def _at_least(self, major: int, minor: int) -> bool:
        found = re.match(r"(\d+)\.(\d+)", self.version)
        return found is not None and (int(found[1]), int(found[2])) >= (major, minor)

    def _find_namespace(self, reference: str) -> Namespace | None:
        if reference.isdigit():
            return self.namespaces.get(int(reference))
        return next((n for n in self.namespaces.values() if n.full_path.lower() == reference.lower()), None)

    def _find_project(self, reference: str) -> Project | None:
        if reference.isdigit():
            return self.projects.get(int(reference))
        return next((p for p in self.projects.values() if p.full_path.lower() == reference.lower()), None)

    def _project_ref(self, reference: str | int | Project) -> Project:
        """A helper's project (a Project, an id or a full path); KeyError when there is none."""
        if isinstance(reference, Project):
            return reference
        if (project := self._find_project(str(reference))) is None:
            raise KeyError(reference)
        return project

    def _project(self, call: Call) -> Project:
        """The path's project; 404 when it is missing or the API user may not see it."""
        project = self._find_project(unquote(call.params["project"]))
        if project is None or not self._visible(project):
            raise fail(404, "404 Project Not Found")
        return project

    def _find_issue(self, project: Project, iid: int) -> Issue | None:
        return next((i for i in self._issues.values() if i.project_id == project.id and i.iid == iid), None)

    def _stored_issue(self, project: str | int | Project, iid: int) -> Issue:
        if (issue := self._find_issue(self._project_ref(project), iid)) is None:
            raise KeyError(f"{project}#{iid}")
        return issue

    def _issue_at(self, call: Call) -> tuple[Project, Issue]:
        project = self._project(call)
        issue = self._find_issue(project, _as_int(call.params["iid"], "issue_iid") or 0)
        if issue is None:
            raise fail(404, NOT_FOUND)
        return project, issue

    def _label(self, project: Project, name: str) -> Label | None:
        found = (
            label for label in self.labels.values() if label.project_id == project.id and label.name == name
        )
        return next(found, None)

    def _milestones_of(self, project: Project) -> list[Milestone]:
        return [m for m in self.milestones.values() if m.project_id == project.id]

    def _milestone_titled(self, project: Project, title: str) -> Milestone:
        if (found := next((m for m in self._milestones_of(project) if m.title == title), None)) is None:
            raise KeyError(f"{project.full_path} has no milestone {title!r}")
        return found

    def _in_milestone(self, issue: Issue, title: str) -> bool:
        milestone = self.milestones.get(issue.milestone_id or 0)
        if title.lower() in {"none", "any"}:
            return (milestone is None) == (title.lower() == "none")
        return milestone is not None and milestone.title == title

    @staticmethod
    def _milestone_values(milestone: Milestone) -> dict[str, Any]:
        return {"title": milestone.title, "description": milestone.description,
                "start_date": milestone.start_date, "due_date": milestone.due_date}  # fmt: skip

    def _milestone_errors(self, project: Project, values: dict[str, Any],
                          milestone: Milestone | None) -> dict[str, list[str]]:  # fmt: skip
        """Milestone's validations: a title, unique in the project; a due date after the start date."""
        errors: dict[str, list[str]] = {}
        if not values["title"]:
            errors["title"] = ["can't be blank"]
        elif any(m.title == values["title"] and m is not milestone for m in self._milestones_of(project)):
            errors["title"] = ["already being used for another group or project milestone."]
        if values["start_date"] and values["due_date"] and values["due_date"] <= values["start_date"]:
            errors["due_date"] = ["must be greater than start date"]
        return errors

    def _params(self, call: Call) -> dict[str, Any]:
        """Query and body parameters together, as GitLab takes them (the body wins; ``name[]`` is a list)."""
        if call.body is not None and not isinstance(call.body, dict):
            raise bad_param("The request body must be a JSON object")
        params: dict[str, Any] = {}
        for name, values in call.query.items():
            params |= {name[:-2]: values} if name.endswith("[]") else {name: values[-1]}
        return params | (call.body or {})

    def _moment(self, call: Call, name: str) -> datetime | None:
        """An ISO 8601 time parameter (a '+' must come encoded as %2B: a bare one is a space, and refused)."""
        if not (raw := call.arg(name)):
            return None
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise bad_param(f"{name} is invalid") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    # -- rate limits -------------------------------------------------------------------------------------
    def _metered(self, handler: Callable[[Call], Reply]) -> Callable[[Call], Reply]:
        """The handler behind the per-user API throttle, whose RateLimit-* headers go on every answer."""

        def run(call: Call) -> Reply:
            headers = self._throttle("api", self.user.id)
            try:
                reply = handler(call)
            except ApiError as error:
                error.reply.headers = headers | error.reply.headers
                raise
            reply.headers = headers | reply.headers
            return reply

        return run

    def _throttle(self, name: str, scope: Any) -> dict[str, str]:
        """Count a request against limit ``name``: the headers to show (the API throttle's), or 429."""
        if (rule := self.limits.get(name)) is None:
            return {}
        now, api = self.clock().timestamp(), name == "api"
        counter = self._counters.setdefault((name, scope), _Counter(*rule, aligned=api))
        admitted, reset = counter.hit(now), counter.start + counter.period
        headers = {}
        if api:
            headers = {"RateLimit-Name": "throttle_authenticated_api",
                       "RateLimit-Limit": str(round(counter.limit * 60 / counter.period)),
                       "RateLimit-Observed": str(counter.count),
                       "RateLimit-Remaining": str(max(0, counter.limit - counter.count)),
                       "RateLimit-Reset": str(math.ceil(reset))}  # fmt: skip
        if admitted:
            return headers
        headers["Retry-After"] = str(max(1, math.ceil(reset - now)))
        headers["RateLimit-ResetTime"] = format_datetime(datetime.fromtimestamp(reset, UTC), usegmt=True)
        raise ApiError(429, None if api else {"message": THROTTLED}, headers)

    # -- pagination --------------------------------------------------------------------------------------
    def _page(self, call: Call, rows: list[Any], render: Callable[[Any], Any]) -> Reply:
        """One offset page of ``rows`` (in their order) with GitLab's pagination headers."""
        per_page, page = self._per_page(call), max(1, _as_int(call.arg("page"), "page") or 1)
        total, counted = len(rows), len(rows) <= COUNT_LIMIT
        pages, more = max(1, math.ceil(total / per_page)), page * per_page < total
        headers = {"X-Page": str(page), "X-Per-Page": str(per_page),
                   "X-Next-Page": str(page + 1) if more else "",
                   "X-Prev-Page": str(page - 1) if page > 1 else ""}  # fmt: skip
        if counted:
            headers |= {"X-Total": str(total), "X-Total-Pages": str(pages)}
        links = [*([("prev", page - 1)] if page > 1 else []), *([("next", page + 1)] if more else []),
                 ("first", 1), *([("last", pages)] if counted else [])]  # fmt: skip
        headers["Link"] = ", ".join(f'<{self._page_url(call, page=n, per_page=per_page)}>; rel="{rel}"'
                                    for rel, n in links)  # fmt: skip
        return Reply(200, [render(row) for row in rows[(page - 1) * per_page : page * per_page]], headers)

    def _keyset_page(self, call: Call, rows: list[Issue], sorter: Sorter, descending: bool) -> Reply:
        """One keyset page: the issues after ``cursor`` (rows come sorted by the key, then id), and a Link
        rel="next" with the next cursor while more remain; no other pagination header."""
        per_page, start = self._per_page(call), 0
        if cursor := call.arg("cursor"):
            try:
                after = tuple(json.loads(base64.urlsafe_b64decode(cursor.encode()))["position"])
            except (ValueError, KeyError, TypeError, binascii.Error):
                raise bad_param("cursor is invalid") from None
            positions = [(*sorter(issue), issue.id) for issue in rows]
            try:
                start = next(n for n, p in enumerate(positions) if (p < after if descending else p > after))
            except StopIteration:
                start = len(rows)
            except TypeError:
                raise bad_param("cursor is invalid") from None
        chunk, headers = rows[start : start + per_page], {}
        if start + per_page < len(rows):
            position = {"position": [*sorter(chunk[-1]), chunk[-1].id], "_kd": "n"}
            cursor = base64.urlsafe_b64encode(json.dumps(position).encode()).decode()
            headers["Link"] = f'<{self._page_url(call, cursor=cursor)}>; rel="next"'
        return Reply(200, [self._issue_json(issue) for issue in chunk], headers)

    def _per_page(self, call: Call) -> int:
        number = _as_int(call.arg("per_page"), "per_page") or 20
        return 20 if number < 1 else min(number, 100)

    def _page_url(self, call: Call, **changes: Any) -> str:
        query = {name: values for name, values in call.query.items() if name not in changes}
        query |= {name: [str(value)] for name, value in changes.items()}
        return f"{self.url}{call.path}?{urlencode(query, doseq=True)}"

    def _unordered(self, rows: list[Any]) -> list[Any]:
        """No guaranteed order: a shuffle fixed by the seed and each row's id, so pages stay consistent."""
        return sorted(
            rows, key=lambda row: random.Random(f"{self.seed}:{type(row).__name__}:{row.id}").random()
        )

    # -- rendering ---------------------------------------------------------------------------------------
    def _user_json(self, person: User) -> dict[str, Any]:
        return {"id": person.id, "username": person.username, "name": person.name, "state": "active",
                "locked": False, "avatar_url": None, "web_url": f"{self.url}/{person.username}"}  # fmt: skip

    def _namespace_json(self, namespace: Namespace) -> dict[str, Any]:
        user = namespace.kind == "user"
        name = self.user.name if user else namespace.path
        return {"id": namespace.id, "name": name, "path": namespace.path, "kind": namespace.kind,
                "full_path": namespace.full_path, "parent_id": namespace.parent_id, "avatar_url": None,
                "web_url": f"{self.url}/{'' if user else 'groups/'}{namespace.full_path}"}  # fmt: skip

    def _group_json(self, group: Namespace) -> dict[str, Any]:
        full_name = " / ".join(n.path for n in reversed(self._lineage(group)))
        return {"id": group.id, "web_url": f"{self.url}/groups/{group.full_path}", "name": group.path,
                "path": group.path, "description": "", "visibility": "private", "full_name": full_name,
                "full_path": group.full_path, "parent_id": group.parent_id,
                "project_creation_level": group.project_creation_level}  # fmt: skip

    def _project_json(self, project: Project, *, permissions: bool = False) -> dict[str, Any]:
        namespace, link = project.namespace, f"{self.url}{API}/projects/{project.id}"
        body = {
            "id": project.id, "name": project.name, "path": project.path,
            "name_with_namespace": f"{self._namespace_json(namespace)['name']} / {project.name}",
            "path_with_namespace": project.full_path, "description": None, "visibility": project.visibility,
            "created_at": iso(project.created_at), "default_branch": None, "issues_enabled": True,
            "web_url": f"{self.url}/{project.full_path}", "namespace": self._namespace_json(namespace),
            "_links": {"self": link, "issues": f"{link}/issues", "labels": f"{link}/labels"},
        }  # fmt: skip
        if permissions:
            own, inherited = project.members.get(self.user.id, 0), self._namespace_access(namespace)
            if namespace.kind == "user":
                own, inherited = max(own, inherited), 0
            body["permissions"] = {
                "project_access": {"access_level": own, "notification_level": 3} if own else None,
                "group_access": {"access_level": inherited, "notification_level": 3} if inherited else None,
            }
        return body

    def _milestone_json(self, milestone: Milestone) -> dict[str, Any]:
        project, due = self.projects[milestone.project_id], milestone.due_date
        return {"id": milestone.id, "iid": milestone.iid, "project_id": milestone.project_id,
                "title": milestone.title, "description": milestone.description, "state": milestone.state,
                "created_at": iso(milestone.created_at), "updated_at": iso(milestone.updated_at),
                "due_date": due, "start_date": milestone.start_date,
                "expired": bool(due and due < self.clock().date().isoformat()),
                "web_url": f"{self.url}/{project.full_path}/-/milestones/{milestone.iid}"}  # fmt: skip

    def _label_json(self, label: Label) -> dict[str, Any]:
        issues = [
            i for i in self._issues.values() if i.project_id == label.project_id and label.name in i.labels
        ]
        rgb = label.color.lstrip("#")
        rgb = "".join(c * 2 for c in rgb) if len(rgb) == 3 else rgb
        light = len(rgb) == 6 and sum(int(rgb[n : n + 2], 16) for n in (0, 2, 4)) > 3 * 160
        return {"id": label.id, "name": label.name, "color": label.color,
                "text_color": "#1F1E24" if light else "#FFFFFF", "description": label.description,
                "open_issues_count": sum(i.state == "opened" for i in issues),
                "closed_issues_count": sum(i.state == "closed" for i in issues),
                "open_merge_requests_count": 0, "subscribed": False, "priority": None,
                "is_project_label": True}  # fmt: skip

    def _reference(self, issue: Issue, seen_from: Project) -> str:
        project = self.projects[issue.project_id]
        return f"#{issue.iid}" if project is seen_from else f"{project.full_path}#{issue.iid}"

    def _time_stats(self, issue: Issue) -> dict[str, Any]:
        estimate, spent = issue.time_estimate, issue.time_spent
        return {"time_estimate": estimate, "total_time_spent": spent,
                "human_time_estimate": format_duration(estimate) if estimate else None,
                "human_total_time_spent": format_duration(spent) if spent else None}  # fmt: skip

    def _issue_json(self, issue: Issue) -> dict[str, Any]:
        project = self.projects[issue.project_id]
        milestone = self.milestones.get(issue.milestone_id or 0)
        assignees = [self._user_json(self.users[i]) for i in issue.assignee_ids if i in self.users]
        count, completed = task_counts(issue.description)
        link = f"{self.url}{API}/projects/{project.id}/issues/{issue.iid}"
        body = {
            "id": issue.id, "iid": issue.iid, "project_id": issue.project_id, "title": issue.title,
            "description": issue.description, "state": issue.state, "created_at": iso(issue.created_at),
            "updated_at": iso(issue.updated_at), "closed_at": iso(issue.closed_at),
            "closed_by": self._user_json(self.users[issue.closed_by]) if issue.closed_by else None,
            "labels": sorted(issue.labels),
            "milestone": self._milestone_json(milestone) if milestone else None,
            "assignees": assignees, "assignee": assignees[0] if assignees else None,
            "author": self._user_json(self.users[issue.author_id]), "type": "ISSUE", "issue_type": "issue",
            "user_notes_count": sum(n.issue_id == issue.id and not n.system for n in self.notes.values()),
            "merge_requests_count": 0, "upvotes": 0, "downvotes": 0, "due_date": issue.due_date,
            "confidential": False, "discussion_locked": None,
            "web_url": f"{self.url}/{project.full_path}/-/issues/{issue.iid}",
            "references": {"short": f"#{issue.iid}", "relative": f"#{issue.iid}",
                           "full": f"{project.full_path}#{issue.iid}"},
            "time_stats": self._time_stats(issue), "has_tasks": count > 0,
            "task_status": f"{completed} of {count} checklist items completed",
            "task_completion_status": {"count": count, "completed_count": completed},
            "moved_to_id": issue.moved_to_id,
            "_links": {"self": link, "notes": f"{link}/notes", "project": link.rpartition("/issues/")[0]},
        }  # fmt: skip
        if self.enterprise and self._licensed(project):
            body["weight"] = issue.weight
        return body

    def _note_json(self, note: Note) -> dict[str, Any]:
        issue = self._issues[note.issue_id]
        return {"id": note.id, "type": None, "body": note.body,
                "author": self._user_json(self.users[note.author_id]), "created_at": iso(note.created_at),
                "updated_at": iso(note.updated_at), "system": note.system, "noteable_id": issue.id,
                "noteable_type": "Issue", "project_id": issue.project_id, "noteable_iid": issue.iid,
                "resolvable": False, "confidential": False, "internal": False}  # fmt: skip

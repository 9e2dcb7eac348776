"""A stateful fake Jira (Cloud or Data Center) on the fake-server kit: only the routes (``FakeJira.__init__``)
and JQL (``parse_jql``, ``FakeJira._compile``) the connector uses, as strict as Jira. Issue types have create
screens that permissions shape; bulk create answers in no guaranteed order; Cloud keeps rich text as ADF.
Helpers (``transition``, ...) act like a person in Jira's UI; faults, latency and clock come from the kit::

    with FakeJira(flavour="cloud", clock=ManualClock()) as jira:
        jira.add_project("ISO", name="ISO 20000")
        requests.get(f"{jira.url}/rest/api/2/project/ISO", auth=("pm@example.com", jira.token))
"""

from __future__ import annotations

import copy
import itertools
import random
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from .kit import ApiError, Call, Clock, FakeServer, Reply, Timeline

CLOUD, DATACENTER = "cloud", "datacenter"
MAX_BULK = MAX_RECONCILE = 50
DEFAULT_ISSUE_TYPES = ("Epic", "Task", "Story", "Sub-task")
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."
NOT_ON_SCREEN = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."
SEARCH_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
UNBOUNDED_JQL = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
KNOWN_PERMISSIONS = (
    "BROWSE_PROJECTS", "CREATE_ISSUES", "EDIT_ISSUES", "TRANSITION_ISSUES", "RESOLVE_ISSUES", "LINK_ISSUES",
    "SCHEDULE_ISSUES", "ADD_COMMENTS", "EDIT_OWN_COMMENTS", "EDIT_ALL_COMMENTS", "WORK_ON_ISSUES",
    "DELETE_ISSUES", "ADMINISTER_PROJECTS",
)  # fmt: skip
STATUS_CATEGORIES = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"},
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}
LINK_TYPES = (
    {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
    {"id": "10001", "name": "Relates", "inward": "relates to", "outward": "relates to"},
)
_PLUGIN = "com.atlassian.jira.plugin.system.customfieldtypes:"
CUSTOM_TYPES = {  # kind: (schema type, custom type)
    "number": ("number", _PLUGIN + "float"), "date": ("date", _PLUGIN + "datepicker"),
    "datetime": ("datetime", _PLUGIN + "datetime"), "string": ("string", _PLUGIN + "textfield"),
    "labels": ("array", _PLUGIN + "labels"), "epiclink": ("any", "com.pyxis.greenhopper.jira:gh-epic-link"),
    "epicname": ("string", "com.pyxis.greenhopper.jira:gh-epic-label"),
}  # fmt: skip
SYSTEM_FIELDS = (  # id, name, kind (drives validation; "readonly" cannot be set), schema type
    ("summary", "Summary", "summary", "string"), ("description", "Description", "richtext", "string"),
    ("issuetype", "Issue Type", "fixed", "issuetype"), ("project", "Project", "fixed", "project"),
    ("labels", "Labels", "labels", "array"), ("duedate", "Due date", "date", "date"),
    ("fixVersions", "Fix versions", "versions", "array"),
    ("timetracking", "Time tracking", "timetracking", "timetracking"),
    ("priority", "Priority", "object", "priority"), ("assignee", "Assignee", "object", "user"),
    ("reporter", "Reporter", "object", "user"), ("parent", "Parent", "parent", "issuelink"),
    ("timeoriginalestimate", "Original estimate", "readonly", "number"),
    ("timeestimate", "Remaining Estimate", "readonly", "number"),
    ("timespent", "Time Spent", "readonly", "number"), ("status", "Status", "readonly", "status"),
    ("aggregatetimespent", "Σ Time Spent", "readonly", "number"),
    ("updated", "Updated", "readonly", "datetime"),
    ("resolutiondate", "Resolved", "readonly", "datetime"), ("created", "Created", "readonly", "datetime"),
    ("issuelinks", "Linked Issues", "readonly", "array"),
)  # fmt: skip
SYSTEM_IDS = [field_id for field_id, *_ in SYSTEM_FIELDS]
TIME_TRACKING = {"originalEstimate": "timeoriginalestimate", "remainingEstimate": "timeestimate",
                 "timeSpent": "timespent"}  # fmt: skip
CUSTOM_FIELDS = (  # the ids the old fake used (tests refer to them); the Epic ones only on Data Center
    ("customfield_10050", "Actual cost", "number"),
    ("customfield_10015", "Start date", "date"),
    ("customfield_10100", "Epic Link", "epiclink"),
    ("customfield_10101", "Epic Name", "epicname"),
)
DEFAULT_SCREEN = ("summary", "issuetype", "project", "description", "labels", "duedate", "fixVersions",
                  "timetracking", "priority", "assignee", "reporter")  # fmt: skip
_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d{4}|Z)?")


def _is_date(value: Any) -> bool:
    try:
        return isinstance(value, str) and len(value) == 10 and bool(date.fromisoformat(value))
    except ValueError:
        return False


_PLAIN_KINDS: dict[str, tuple[Callable[[Any], bool], str]] = {  # kind: (accepts a value, Jira's refusal)
    "date": (_is_date, "Error parsing date string: {}"),
    "datetime": (lambda v: bool(_DATETIME.fullmatch(str(v))), "Error parsing time string: {}"),
    "number": (lambda v: type(v) in {int, float}, "Operation value must be a number"),
    "string": (lambda v: isinstance(v, str), "Operation value must be a string"),
    "object": (lambda v: isinstance(v, dict), "Operation value must be an object"),
}


def fail(status: int, *messages: str, errors: dict[str, str] | None = None) -> ApiError:
    """An error answer in Jira's shape: ``{"errorMessages": [...], "errors": {field: message}}``."""
    return ApiError(status, {"errorMessages": list(messages), "errors": dict(errors or {})})


class _Problem(ValueError):
    """One field's value is refused; the message goes into ``errors[field]``."""


@dataclass
class IssueType:
    id: str
    name: str
    subtask: bool = False

    @property
    def level(self) -> int:
        return -1 if self.subtask else 1 if self.name == "Epic" else 0


@dataclass
class Project:
    id: str
    key: str
    name: str
    issue_types: list[IssueType] = field(default_factory=list)
    next_number: int = 1


@dataclass
class Version:
    id: str
    name: str
    project_id: str
    description: str = ""
    release_date: str | None = None


@dataclass
class FieldDef:
    id: str
    name: str
    kind: str
    schema: dict[str, Any]
    custom: bool = False


@dataclass
class Link:
    id: str
    type_id: str
    inward_id: str  # the issue POSTed as inwardIssue: for Blocks, the one that blocks
    outward_id: str


@dataclass
class Comment:
    id: str
    body: Any  # ADF on Cloud, wiki text on Data Center
    created: datetime
    updated: datetime
    author: str | None = None  # None: the API user


@dataclass
class Issue:
    """A stored issue: canonical ``fields`` (ids, datetimes, seconds, status name); ``issue["key"]`` works."""

    id: str
    key: str
    fields: dict[str, Any]
    comments: list[Comment] = field(default_factory=list)

    def __getitem__(self, name: str) -> Any:
        if name in {"id", "key", "fields", "comments"}:
            return getattr(self, name)
        raise KeyError(name)


_Prepared = tuple[Project, IssueType, dict[str, Any]]  # an issue to create: project, type, canonical values


# --------------------------------------------------------------------------------------------------------
# Times, durations, rich text


def format_jira_time(tz: tzinfo, moment: datetime | None) -> str | None:
    """Jira's timestamp form, ``2027-02-01T10:00:00.000+0100``, in the user's time zone."""
    if moment is None:
        return None
    local = moment.astimezone(tz)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}" + local.strftime("%z")


def parse_duration(text: Any, hours_per_day: int = 8, days_per_week: int = 5) -> int | None:
    """Seconds of a Jira duration ('1w 2d 3h 30m', working days and weeks); a bare number is minutes."""
    value = str(text).strip()
    if value.isdigit():
        return int(value) * 60
    if not re.fullmatch(r"(\s*\d+(\.\d+)?\s*[wdhm]\s*)+", value, re.IGNORECASE):
        return None
    unit = {"m": 60, "h": 3600, "d": 3600 * hours_per_day, "w": 3600 * hours_per_day * days_per_week}
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([wdhm])", value, re.IGNORECASE)
    return round(sum(float(number) * unit[u.lower()] for number, u in parts))


def format_duration(seconds: int, hours_per_day: int = 8, days_per_week: int = 5) -> str:
    parts, minutes = [], seconds // 60
    for suffix, size in (("w", 60 * hours_per_day * days_per_week), ("d", 60 * hours_per_day), ("h", 60)):
        count, minutes = divmod(minutes, size)
        parts += [f"{count}{suffix}"] if count else []
    return " ".join(parts + ([f"{minutes}m"] if minutes or not parts else []))


def is_adf(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") == "doc" and isinstance(value.get("content"), list)


_INLINE = re.compile(
    r"\[(?P<text>[^\[\]|]+)(?:\|(?P<href>[^\[\]]+))?\]"
    r"|(?<![\w*])\*(?P<strong>[^\s*](?:[^*]*[^\s*])?)\*(?![\w*])"
    r"|(?<![\w_])_(?P<em>[^\s_](?:[^_]*[^\s_])?)_(?![\w_])"
)


def wiki_to_adf(wiki: str) -> dict[str, Any]:
    """Jira Cloud's conversion of a v2 (wiki) body, kept small: paragraphs, hard breaks, ``*strong*``,
    ``_em_``, ``[text|url]`` and ``[url]`` links, text. Lossy as Jira: CRLF becomes LF, trailing spaces go."""

    def text(value: str, mark: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"type": "text", "text": value, **({"marks": [mark]} if mark else {})}

    content = []
    for paragraph in re.split(r"\n[ \t]*\n+", wiki.replace("\r\n", "\n").replace("\r", "\n").strip("\n")):
        nodes: list[dict[str, Any]] = []
        for number, line in enumerate(paragraph.split("\n")):
            nodes += [{"type": "hardBreak"}] if number else []
            line, pos = line.rstrip(), 0
            for match in _INLINE.finditer(line):
                nodes += [text(line[pos : match.start()])] if match.start() > pos else []
                if match["text"] is not None:
                    href = (match["href"] or match["text"]).strip()
                    nodes.append(text(match["text"].strip(), {"type": "link", "attrs": {"href": href}}))
                else:
                    kind = "strong" if match["strong"] is not None else "em"
                    nodes.append(text(match[kind], {"type": kind}))
                pos = match.end()
            nodes += [text(line[pos:])] if pos < len(line) else []
        if any(node["type"] == "text" for node in nodes):
            content.append({"type": "paragraph", "content": nodes})
    return {"type": "doc", "version": 1, "content": content}


def adf_to_wiki(node: Any) -> str:
    """A stored document as a v2 read renders it: links come back as ``[text|url]``."""
    if not isinstance(node, dict):
        return ""
    if node.get("type") == "text":
        value = str(node.get("text", ""))
        for mark in sorted(node.get("marks") or [], key=lambda mark: mark.get("type") == "link"):
            link = f"[{value}|{(mark.get('attrs') or {}).get('href')}]"
            value = {"strong": f"*{value}*", "em": f"_{value}_", "link": link}.get(mark["type"], value)
        return value
    if node.get("type") == "hardBreak":
        return "\n"
    separator = {"doc": "\n\n", "bulletList": "\n", "orderedList": "\n"}.get(str(node.get("type")), "")
    return separator.join(adf_to_wiki(child) for child in node.get("content") or [])


# --------------------------------------------------------------------------------------------------------
# JQL: the few shapes the connector sends, parsed properly

_TOKEN = re.compile(
    r"""\s*(?:(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>!=|!~|>=|<=|=|>|<|~)|(?P<punct>[(),])
    |(?P<word>[^\s()=,!<>~"']+)|(?P<bad>\S))""",
    re.VERBOSE,
)
_RESERVED = {"AND", "OR", "NOT", "IN", "IS", "EMPTY", "NULL", "ORDER", "BY", "ASC", "DESC"}
_OPERATORS = "'=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'"
_VALUE, _WORDS = "either a value, list or function", {"word", "string"}
_ISSUE_FIELDS = ("id", "issue", "key", "issuekey")
_SUPPORTED = {"project": ("=",), "labels": ("=", "in"), "updated": (">=",)}
_SUPPORTED |= dict.fromkeys(_ISSUE_FIELDS, ("in",))
Clause = tuple[str, str, tuple[str, ...]]  # field, operator ("=", ">=", "in", ...), values
Token = tuple[str, str, int]  # kind (word, string, op, "(", ")", ",", eof), text, position


class JqlError(ValueError):
    """A query Jira refuses; the message is Jira's wording (answered as 400)."""


def _syntax(message: str, pos: int) -> JqlError:
    return JqlError(f"Error in the JQL Query: {message} (line 1, character {pos + 1})")


def _tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "word"
        raw, pos = match[kind], match.start(kind)
        if kind == "bad":
            unclosed = f"The quoted string starting at character {pos + 1} has not been completed."
            reserved = f"The character '{raw}' is a reserved JQL character."
            raise _syntax(unclosed if raw in "\"'" else reserved, pos)
        value = re.sub(r"\\(.)", r"\1", raw[1:-1]) if kind == "string" else raw
        tokens.append((raw if kind == "punct" else kind, value, pos))
    return [*tokens, ("eof", "", len(text))]


def parse_jql(text: str) -> tuple[list[Clause], tuple[str, bool] | None]:
    """Clauses joined by AND (``field op value``, ``field IN (v, ...)``), then ``ORDER BY field [ASC|DESC]``;
    :class:`JqlError` in Jira's wording for bad syntax. Which fields and operators count is checked later."""
    tokens, index = _tokenize(text), 0

    def take(kinds: set[str] | None = None, what: str = "") -> str:
        nonlocal index
        kind, value, pos = tokens[index]
        index += kind != "eof"
        if kinds is not None and (kind not in kinds or (kind == "word" and value.upper() in _RESERVED)):
            raise _syntax(f"Expecting {what} but got '{value or '<EOF>'}'.", pos)
        if what == _VALUE and tokens[index][0] == "(":
            raise _syntax(f"Unable to find JQL function '{value}()'.", pos)
        return value

    def at(*words: str) -> bool:
        return tokens[index][0] == "word" and tokens[index][1].upper() in words

    clauses: list[Clause] = []
    more = tokens[index][0] != "eof" and not at("ORDER")
    while more:
        name, (kind, op, pos) = take(_WORDS, "a field name"), tokens[index]
        take()
        if kind == "op":
            clauses.append((name, op, (take(_WORDS, _VALUE),)))
        elif kind == "word" and op.upper() == "IN":
            take({"("}, "'('")
            values = [take(_WORDS, _VALUE)]
            while tokens[index][0] == ",":
                values.append(take() and take(_WORDS, _VALUE))
            take({")"}, "')'")
            clauses.append((name, "in", tuple(values)))
        else:
            got = f"Expecting operator but got '{op or '<EOF>'}'."
            raise _syntax(f"{got} The valid operators are {_OPERATORS}.", pos)
        more = at("AND") and bool(take())  # after AND another clause must follow
        if not more and tokens[index][0] != "eof" and not at("ORDER"):
            raise _syntax(f"Expecting 'AND' or 'ORDER BY' but got '{tokens[index][1]}'.", tokens[index][2])
    order = None
    if at("ORDER"):
        take()
        if not at("BY"):
            raise _syntax(f"Expecting 'BY' but got '{tokens[index][1] or '<EOF>'}'.", tokens[index][2])
        take()
        order = (take(_WORDS, "a field name"), not (at("ASC", "DESC") and take().upper() == "DESC"))
        take({"eof"}, "the end of the query")
    return clauses, order


def jql_moment(value: str, field_name: str, now: datetime, tz: tzinfo) -> datetime:
    """A JQL date: relative ('-15m', '-2h', '-1d') or absolute ('yyyy/MM/dd HH:mm') in the user's zone."""
    if relative := re.fullmatch(r"([+-]?)\s*((?:\d+\s*[mhd]\s*)+)", value.strip(), re.IGNORECASE):
        parts = re.findall(r"(\d+)\s*([mhd])", relative[2], re.IGNORECASE)
        seconds = sum(int(n) * {"m": 60, "h": 3600, "d": 86400}[u.lower()] for n, u in parts)
        return now + timedelta(seconds=-seconds if relative[1] == "-" else seconds)
    for pattern in ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d"):
        try:
            return datetime.strptime(value.strip(), pattern).replace(tzinfo=tz)
        except ValueError:
            continue
    formats = "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd'"
    raise JqlError(f"Date value '{value}' for field '{field_name}' is invalid. Valid formats include: "
                   f"{formats}, or a period format e.g. '-5d', '4w 2d'.")  # fmt: skip


def _key_order(issue: Issue) -> tuple[str, int]:
    prefix, _, number = issue.key.rpartition("-")
    return prefix, int(number)


def _wanted_fields(items: Iterable[Any], default: str) -> tuple[Callable[[FieldDef], bool], bool]:
    """Which fields ``?fields=summary,-labels,*all,*navigable`` asks for, and whether it asks for ids only."""
    parts = [p.strip() for item in items for p in str(item).split(",") if p.strip()] or [default]
    names, excluded = {p for p in parts if p[0] not in "*-"}, {p[1:] for p in parts if p[0] == "-"}
    every = bool({"*all", "*navigable"} & set(parts))
    return (lambda d: d.id not in excluded and (every or d.id in names)), not every and names <= {"id"}


def _integer(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    if type(value) in {int, str} and str(value).lstrip("-").isdigit():
        return int(value)
    raise fail(400, f"The value '{value}' for '{name}' is not a valid number.")


def _as_list(value: Any) -> list[Any]:
    return [] if value is None else value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------------------------------------
# The fake


class FakeJira(FakeServer):
    """A running fake Jira (see the module); the kit's ``lock`` guards all state. Methods come in sections."""

    def __init__(self, flavour: str = CLOUD, *, token: str = "secret-token", clock: Clock | None = None,
                 version: str | None = None, timezone: str = "Europe/Berlin", hours_per_day: int = 8,
                 days_per_week: int = 5, search_max_results: int = 100, seed: int = 1) -> None:  # fmt: skip
        if flavour not in {CLOUD, DATACENTER}:
            raise ValueError(f"flavour must be {CLOUD!r} or {DATACENTER!r}, not {flavour!r}")
        super().__init__(clock=clock)
        self.flavour, self.token = flavour, token
        self.version = version or ("1001.0.0-SNAPSHOT" if self.cloud else "9.12.0")
        self.timezone, self.tz = timezone, ZoneInfo(timezone)
        self.hours_per_day, self.days_per_week = hours_per_day, days_per_week
        self.search_max_results = search_max_results
        self.consistency_lag = 0.0
        self.permissions: dict[str, bool] = dict.fromkeys(KNOWN_PERMISSIONS, True)
        self.projects: dict[str, Project] = {}
        self.issue_types: dict[str, IssueType] = {}
        self.issues: dict[str, Issue] = {}
        self.fields: dict[str, FieldDef] = {}
        self.versions: dict[str, Version] = {}
        self.links: dict[str, Link] = {}
        self.statuses = {"to do": ("10000", "To Do", "new"), "done": ("10001", "Done", "done"),
                         "in progress": ("3", "In Progress", "indeterminate")}  # fmt: skip
        self.off_screen: set[tuple[str, str]] = set()  # (issue type name, field id)
        self.rng = random.Random(seed)
        self.timeline = Timeline(self.clock)  # what search sees, ``consistency_lag`` seconds late
        self._keys: dict[str, str] = {}
        self._page_tokens: dict[str, tuple[str, int]] = {}
        self._bulk_failure: str | None = None
        counters = ("issue", "project", "version", "link", "comment", "issuetype", "field", "status")
        self._ids = {name: itertools.count(10200 if name == "field" else 10000) for name in counters}
        for field_id, name, kind, schema_type in SYSTEM_FIELDS:
            items = {"labels": "string", "fixVersions": "version", "issuelinks": "issuelinks"}.get(field_id)
            schema = {"type": schema_type, "system": field_id} | ({"items": items} if items else {})
            self.fields[field_id] = FieldDef(field_id, name, kind, schema)
        for field_id, name, kind in CUSTOM_FIELDS[: 2 if self.cloud else 4]:
            self._add_custom(field_id, name, kind)
        api = "/rest/api/{api:2|3}/" if self.cloud else "/rest/api/{api:2|latest}/"
        self.route("GET", api + "serverInfo", self._server_info, public=True)
        for method, path, handler in (
            ("GET", "project/{project}", self._project_info),
            ("GET", "project/{project}/versions", self._project_info),
            ("POST", "version", self._create_version), ("GET", "mypermissions", self._my_permissions),
            ("GET", "field", lambda call: Reply(200, [self._json(f) for f in self.fields.values()])),
            ("GET", "issueLinkType", lambda call: Reply(200, {"issueLinkTypes": self._link_types()})),
            ("GET", "issue/createmeta/{project}/issuetypes/{type}", self._create_meta),
            ("POST", "issue/bulk", self._create_bulk), ("POST", "issueLink", self._create_link),
            ("GET", "issue/{issue}", self._get_issue), ("PUT", "issue/{issue}", self._edit_issue),
            ("GET", "issue/{issue}/comment", self._comments),
            ("POST", "issue/{issue}/comment", self._comment),
            ("PUT", "issue/{issue}/comment/{comment}", self._comment),
            ("GET", "search", self._search_offset), ("POST", "search", self._search_offset),
            *((("GET", "search/jql", self._search_token), ("POST", "search/jql", self._search_token))
              if self.cloud else ()),
        ):  # fmt: skip
            self.route(method, api + path, handler)
        self.start()

    @property
    def cloud(self) -> bool:
        return self.flavour == CLOUD

    def error_body(self, status: int, message: str) -> Any:
        return {"errorMessages": [message], "errors": {}}

    def authorize(self, call: Call) -> None:
        """Cloud: Basic email:API token; Data Center: Bearer personal access token. 401 otherwise."""
        email, _, token = (call.credentials("Basic") or "").partition(":") if self.cloud else ("-", "", "")
        token = token if self.cloud else call.credentials("Bearer") or ""
        if not (email and token and secrets.compare_digest(token.encode(), self.token.encode())):
            raise fail(401, NOT_AUTHENTICATED)

    # -- set-up helpers ----------------------------------------------------------------------------------
    def add_project(self, key: str, name: str | None = None, *,
                    issue_types: Iterable[str] = DEFAULT_ISSUE_TYPES) -> Project:  # fmt: skip
        """A project with these issue types (default Epic, Task, Story, Sub-task)."""
        with self.lock:
            if key.upper() in self.projects:
                raise ValueError(f"project {key} exists")
            project = self.projects[key.upper()] = Project(self._next("project"), key.upper(), name or key)
            for type_name in issue_types:
                self.add_issue_type(project.key, type_name, subtask=type_name == "Sub-task")
            return project

    def add_issue_type(self, project_key: str, name: str, *, subtask: bool = False) -> IssueType:
        """Make an issue type (e.g. "Milestone") available in a project; ids are shared across projects."""
        with self.lock:
            project = self._project(project_key)
            issue_type = next((t for t in self.issue_types.values() if t.name == name), None)
            if issue_type is None:
                issue_type = self.issue_types[key] = IssueType(key := self._next("issuetype"), name, subtask)
            if issue_type not in project.issue_types:
                project.issue_types.append(issue_type)
            return issue_type

    def add_field(self, name: str, type: str = "string") -> str:
        """A custom field (number, date, datetime, string or labels), on every create screen; its id."""
        if type not in {"number", "date", "datetime", "string", "labels"}:
            raise ValueError(f"type must be number, date, datetime, string or labels, not {type!r}")
        with self.lock:
            self._add_custom(field_id := f"customfield_{self._next('field')}", name, type)
            return field_id

    def remove_field(self, field_id: str) -> None:
        """Remove a field from the server (stored values stay but are no longer shown or settable)."""
        with self.lock:
            del self.fields[field_id]

    def remove_from_screen(self, issue_type_name: str, field_id: str) -> None:
        """Take a field off one issue type's create and edit screens."""
        with self.lock:
            self.off_screen.add((issue_type_name, field_id))

    def create_issue(self, project_key: str, summary: str, issuetype: str = "Task", *,
                     created: datetime | None = None, **fields: Any) -> Issue:  # fmt: skip
        """Create an issue as a person would: API-shaped ``fields`` (v2), validated against the screen."""
        element = {"fields": {"project": {"key": project_key}, "issuetype": {"name": issuetype},
                              "summary": summary, **fields}}  # fmt: skip
        with self.lock:
            if isinstance(prepared := self._prepare(element, "2", person=True), dict):
                raise ValueError(f"cannot create the issue: {prepared}")
            return self._materialise(*prepared, at=created)

    def fail_bulk_element(self, summary_contains: str | None) -> None:
        """Creating an issue whose summary contains this text fails (an error on summary); None stops it."""
        with self.lock:
            self._bulk_failure = summary_contains

    def settle(self) -> None:
        """Make search consistent now: every issue's current state becomes visible to search."""
        with self.lock:
            self.timeline.settle()

    # -- a person in Jira's UI ---------------------------------------------------------------------------
    def issue(self, key_or_id: str) -> Issue:
        """The stored issue by key (current or former) or id; KeyError when there is none."""
        with self.lock:
            if (issue := self._find_issue(key_or_id)) is None:
                raise KeyError(key_or_id)
            return issue

    def transition(self, key: str, status_name: str, category: str | None = None) -> None:
        """Move to a status; ``category`` new | indeterminate | done (needed for a status not seen before)."""
        with self.lock:
            issue, status = self.issue(key), self.statuses.get(status_name.lower())
            if status is None and category in STATUS_CATEGORIES:  # a status not seen before needs a category
                status = self.statuses[status_name.lower()] = (self._next("status"), status_name, category)
            if status is None or category not in {None, status[2]}:
                raise ValueError(f"{status_name}: a new status needs a category; a known one keeps its own")
            if status[2] != "done" or self.statuses[issue.fields["status"].lower()][2] != "done":
                issue.fields["resolutiondate"] = self.clock() if status[2] == "done" else None
            issue.fields["status"] = status[1]
            self._touch(issue)

    def log_work(self, key: str, seconds: int, *, remaining: int | None = None) -> None:
        """Log work: timespent grows, timeestimate shrinks by as much (or is set to ``remaining``)."""
        with self.lock:
            fields = (issue := self.issue(key)).fields
            fields["timespent"] = (fields.get("timespent") or 0) + seconds
            left = fields.get("timeestimate")
            fields["timeestimate"] = remaining if remaining is not None else left and max(0, left - seconds)
            self._touch(issue)

    def set_field(self, key: str, field_id: str, value: Any) -> None:
        """Store a canonical value as is; setting ``updated`` or ``created`` back-dates without touching."""
        with self.lock:
            (issue := self.issue(key)).fields[field_id] = value
            self._touch(issue, bump=field_id not in {"updated", "created"})

    def add_comment(self, key: str, body: Any, *, author: str | None = None) -> Comment:
        """A comment by ``author`` (None: the API user); a string is wiki text (kept as ADF on Cloud)."""
        with self.lock:
            issue, now = self.issue(key), self.clock()
            stored = wiki_to_adf(body) if self.cloud and isinstance(body, str) else body
            issue.comments.append(comment := Comment(self._next("comment"), stored, now, now, author))
            self._touch(issue)
            return comment

    def add_link(self, blocker: str, blocked: str, type_name: str = "Blocks") -> Link:
        """``blocker`` blocks ``blocked`` (as POST /issueLink with inwardIssue=blocker)."""
        with self.lock:
            type_id = next(t["id"] for t in LINK_TYPES if t["name"] == type_name)
            return self._link(type_id, self.issue(blocker), self.issue(blocked))

    def delete_issue(self, key: str) -> None:
        """Delete an issue with its sub-tasks and links (search stops finding it once the lag has passed)."""
        with self.lock:
            self._delete(self.issue(key))

    def move_issue(self, key: str, project_key: str) -> str:
        """Move to another project: a new key (the old one still resolves); returns the new key."""
        with self.lock:
            issue, target = self.issue(key), self._project(project_key)
            issue.key, target.next_number = f"{target.key}-{target.next_number}", target.next_number + 1
            self._keys[issue.key] = issue.id
            issue.fields.update(project=target.id, fixVersions=[])
            self._touch(issue)
            return issue.key

    def screen(self, issue_type: IssueType, *, edit: bool = False, person: bool = False) -> list[str]:
        """A type's create (or edit) screen: Jira's default one, parent (Cloud: not epics; DC: sub-tasks),
        Epic Name (DC epics), Epic Link (DC standard issues), custom fields; no due date without Schedule
        issues, no fix versions without Resolve issues (a helper's ``person`` may do all), none removed."""
        ids, epic = list(DEFAULT_SCREEN), issue_type.name == "Epic"
        if (self.cloud and not epic) or (not self.cloud and issue_type.subtask):
            ids.append("parent")
        for f in self.fields.values():
            on_screen = {"epicname": epic, "epiclink": issue_type.level == 0}.get(f.kind, f.custom)
            ids += [f.id] if on_screen else []
        hidden = {"project", "issuetype"} if edit else set()
        hidden |= set() if person or self.permissions.get("SCHEDULE_ISSUES") else {"duedate"}
        hidden |= set() if person or self.permissions.get("RESOLVE_ISSUES") else {"fixVersions"}
        hidden |= {i for name, i in self.off_screen if name == issue_type.name}
        return [i for i in ids if i in self.fields and i not in hidden]

    # -- handlers: server, project, metadata -------------------------------------------------------------
    def _server_info(self, call: Call) -> Reply:
        return Reply(200, {
            "baseUrl": self.url, "version": self.version, "serverTitle": "Fake Jira",
            "versionNumbers": [int(part) for part in re.findall(r"\d+", self.version)[:3]],
            "deploymentType": "Cloud" if self.cloud else "Server",
            "serverTime": format_jira_time(self.tz, self.clock()),
        })  # fmt: skip

    def _project_info(self, call: Call) -> Reply:
        """GET project/{key} (with issueTypes and versions) and GET project/{key}/versions."""
        project = self._project(call.params["project"], http=True)
        versions = [self._json(v) for v in self._project_versions(project)]
        if call.path.endswith("/versions"):
            return Reply(200, versions)
        issue_types = [self._json(t) for t in project.issue_types]
        return Reply(200, self._json(project) | {"issueTypes": issue_types, "versions": versions})

    def _create_version(self, call: Call) -> Reply:
        body = self._object(call)
        if (reference := body.get("projectId", body.get("project"))) is None:
            raise fail(400, errors={"projectId": "You must specify a valid project."})
        project = self._project(str(reference), http=True)
        if not self.permissions.get("ADMINISTER_PROJECTS"):
            # Cloud documents 404 ("the user does not have the required permissions"); Data Center 403.
            raise fail(404 if self.cloud else 403, "You do not have permission to create versions here.")
        name, release_date = body.get("name"), body.get("releaseDate")
        if not isinstance(name, str) or not name.strip():
            raise fail(400, errors={"name": "You must specify a valid version name"})
        if release_date is not None and not _is_date(release_date):
            raise fail(400, errors={"releaseDate": f"Error parsing date string: {release_date}"})
        if any(v.name.lower() == name.strip().lower() for v in self._project_versions(project)):
            raise fail(400, errors={"name": "A version with this name already exists in this project."})
        description = str(body.get("description") or "")
        version = Version(self._next("version"), name.strip(), project.id, description, release_date)
        self.versions[version.id] = version
        return Reply(201, self._json(version))

    def _my_permissions(self, call: Call) -> Reply:
        if call.arg("projectKey"):
            self._project(call.arg("projectKey") or "", http=True)
        if not (wanted := call.args("permissions")) and self.cloud:
            raise fail(400, "The 'permissions' query parameter is required.")
        return Reply(200, {"permissions": {
            key: {"id": str(number), "key": key, "name": key.replace("_", " ").title(), "type": "PROJECT",
                  "description": "", "havePermission": bool(self.permissions.get(key, False))}
            for number, key in enumerate(wanted or dict.fromkeys([*KNOWN_PERMISSIONS, *self.permissions]), 1)
        }})  # fmt: skip

    def _create_meta(self, call: Call) -> Reply:
        """The create screen of one issue type, paged (startAt, maxResults default 50).
        Cloud: ``{startAt, maxResults, total, fields: [{required, schema, name, key, fieldId, ...}]}``, see
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/
        #api-rest-api-2-issue-createmeta-projectidorkey-issuetypes-issuetypeid-get
        Data Center 9: ``{startAt, maxResults, total, isLast, values: [{required, schema, name, ...}]}``,
        https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/#api/2/issue-getCreateIssueMetaFields
        Without Create issues the page is empty. The old ``issue/createmeta?projectKeys=..`` is gone on both
        (Cloud CHANGE-1304, DC 9.0): it falls to GET issue/{idOrKey} and answers 404, as both do."""
        project, type_id = self._project(call.params["project"], http=True), call.params["type"]
        if (issue_type := next((t for t in project.issue_types if t.id == type_id), None)) is None:
            raise fail(404, f"Issue type with id '{type_id}' does not exist in project {project.key}.")
        start = max(0, _integer(call.arg("startAt"), "startAt", 0))
        limit = max(0, _integer(call.arg("maxResults"), "maxResults", 50))
        metas = []
        ids = self.screen(issue_type) if self.permissions.get("CREATE_ISSUES") else []
        for f in map(self.fields.__getitem__, ids):
            required = f.id in {"summary", "issuetype", "project"} or f.kind == "epicname"
            operations = ["set", "add", "remove"] if f.kind in {"labels", "versions"} else ["set"]
            metas.append(
                {
                    "required": required or (f.id == "parent" and issue_type.subtask),
                    "schema": f.schema,
                    "name": f.name,
                    "fieldId": f.id,
                    "operations": operations,
                    "hasDefaultValue": f.id == "priority",
                }
                | ({"key": f.id} if self.cloud else {})
            )
        page, chunk = {"startAt": start, "maxResults": limit, "total": len(metas)}, metas[start:][:limit]
        if self.cloud:
            return Reply(200, page | {"fields": chunk})
        return Reply(200, page | {"isLast": start + limit >= len(metas), "values": chunk})

    # -- handlers: issues, links, comments ---------------------------------------------------------------
    def _create_bulk(self, call: Call) -> Reply:
        if not isinstance(updates := self._object(call).get("issueUpdates"), list):
            raise fail(400, "The request must contain a list of issueUpdates.")
        if len(updates) > MAX_BULK:
            raise fail(400, f"Bulk create takes at most {MAX_BULK} issues, not {len(updates)}.")
        # Jira validates every element before creating any: an element cannot refer to another one.
        prepared = [self._prepare(update, call.params["api"]) for update in updates]
        issues, errors = [], []
        for number, element in enumerate(prepared):
            if isinstance(element, dict):
                errors.append({"status": 400, "elementErrors": element, "failedElementNumber": number})
            else:
                issues.append(self._ref(self._materialise(*element), call.params["api"], fields=False))
        self.rng.shuffle(issues)  # successes in no guaranteed order: match them by key or label, not place
        return Reply(201 if issues or not updates else 400, {"issues": issues, "errors": errors})

    def _get_issue(self, call: Call) -> Reply:
        wants, _ = _wanted_fields(call.query.get("fields", []), "*all")
        return Reply(200, self._issue_json(self._issue(call.params["issue"]), wants, call.params["api"]))

    def _edit_issue(self, call: Call) -> Reply:
        issue, body, api = self._issue(call.params["issue"]), self._object(call), call.params["api"]
        if not self.permissions.get("EDIT_ISSUES"):
            raise fail(403, "You do not have permission to edit issues in this project.")
        if body.get("update") or not isinstance(fields := body.get("fields") or {}, dict):
            raise fail(400, "The fake Jira takes edits as a 'fields' object ('update' is not supported).")
        issue_type = self.issue_types[issue.fields["issuetype"]]
        project = next(p for p in self.projects.values() if p.id == issue.fields["project"])
        values, errors = self._collect(fields, self.screen(issue_type, edit=True), project, api)
        if "parent" in values and "parent" not in errors:
            self._check_parent(issue_type, values, errors, child=issue)
        if errors:
            raise fail(400, errors=errors)
        self._apply(issue.fields, values, creating=False)
        self._touch(issue)
        return Reply(204)

    def _create_link(self, call: Call) -> Reply:
        body = self._object(call)
        wanted = body.get("type") if isinstance(body.get("type"), dict) else {}
        found = (t for t in LINK_TYPES if t["name"] == wanted.get("name") or t["id"] == str(wanted.get("id")))
        if (link_type := next(found, None)) is None:
            raise fail(404, f"No issue link type with name '{wanted.get('name')}' found.")
        refs = [r if isinstance(r := body.get(end), dict) else {} for end in ("inwardIssue", "outwardIssue")]
        if None in (ends := [self._find_issue(str(r.get("key") or r.get("id") or "")) for r in refs]):
            raise fail(404, "Issue Does Not Exist")
        if not self.permissions.get("LINK_ISSUES"):  # Cloud documents a 404 when the user may not link issues
            raise fail(404, f"No Link Issue Permission for issue '{ends[0].key}'.")
        self._link(link_type["id"], *ends)  # posting an existing link again stores it once
        return Reply(201)

    def _comments(self, call: Call) -> Reply:
        """A page of comments: Cloud documents a maxResults default of 5000, Data Center 9 one of 50."""
        issue, api = self._issue(call.params["issue"]), call.params["api"]
        start = max(0, _integer(call.arg("startAt"), "startAt", 0))
        limit = max(0, _integer(call.arg("maxResults"), "maxResults", 5000 if self.cloud else 50))
        limit = min(limit, 5000 if self.cloud else limit)
        page = [self._comment_json(issue, comment, api) for comment in issue.comments[start : start + limit]]
        return Reply(200, {"startAt": start, "maxResults": limit, "total": len(issue.comments),
                           "comments": page})  # fmt: skip

    def _comment(self, call: Call) -> Reply:
        """POST a comment (Add comments) or PUT one (Edit own comments for yours, else Edit all comments)."""
        issue, api, now, comment = self._issue(call.params["issue"]), call.params["api"], self.clock(), None
        if call.method == "POST":
            if not self.permissions.get("ADD_COMMENTS"):
                raise fail(403, "You do not have the permission to comment on this issue.")
        elif (comment := next((c for c in issue.comments if c.id == call.params["comment"]), None)) is None:
            raise fail(404, f"Can not find a comment for the id: {call.params['comment']}.")
        elif not (self.permissions.get("EDIT_ALL_COMMENTS") or (
                comment.author is None and self.permissions.get("EDIT_OWN_COMMENTS"))):  # fmt: skip
            raise fail(403, "You do not have the permission to edit this comment.")
        body = self._object(call).get("body")
        if not (is_adf(body) if api == "3" else isinstance(body, str)):
            wanted = "an Atlassian Document" if api == "3" else "a string"
            raise fail(400, errors={"comment": f"Comment body must be {wanted}."})
        stored = wiki_to_adf(body) if self.cloud and isinstance(body, str) else body
        if not (adf_to_wiki(stored) if is_adf(stored) else stored).strip():
            raise fail(400, errors={"comment": "Comment body can not be empty!"})
        if comment is None:
            issue.comments.append(comment := Comment(self._next("comment"), stored, now, now))
        comment.body, comment.updated = stored, now
        self._touch(issue)
        return Reply(201 if call.method == "POST" else 200, self._comment_json(issue, comment, api))

    # -- handlers: search --------------------------------------------------------------------------------
    def _search_offset(self, call: Call) -> Reply:
        """Data Center's /search (startAt, total); on Cloud the endpoint is gone (410)."""
        if self.cloud:
            raise fail(410, SEARCH_REMOVED)
        params = self._search_params(call, {"jql", "startAt", "maxResults", "fields", "expand", "properties"})
        start = max(0, _integer(params.get("startAt"), "startAt", 0))
        limit = min(max(0, _integer(params.get("maxResults"), "maxResults", 50)), self.search_max_results)
        wants, _ = _wanted_fields(_as_list(params.get("fields")), "*navigable")
        found = self._run_jql(str(params.get("jql") or ""), set())
        api, chosen = call.params["api"], found[start : start + limit]
        issues = [self._issue_json(issue, wants, api) for issue in chosen]
        return Reply(200, {"startAt": start, "maxResults": limit, "total": len(found), "issues": issues})

    def _search_token(self, call: Call) -> Reply:
        """Cloud's /search/jql: nextPageToken pages, no total, ids only unless fields are asked for."""
        allowed = {"jql", "nextPageToken", "maxResults", "fields", "expand", "properties", "fieldsByKeys",
                   "failFast", "reconcileIssues"}  # fmt: skip
        params = self._search_params(call, allowed)
        jql, reconcile = str(params.get("jql") or ""), _as_list(params.get("reconcileIssues"))
        wants, ids_only = _wanted_fields(_as_list(params.get("fields")), "id")
        limit = min(max(1, _integer(params.get("maxResults"), "maxResults", 50)), 5000 if ids_only else 100)
        if len(reconcile) > MAX_RECONCILE:
            raise fail(400, f"The number of issues to reconcile cannot exceed {MAX_RECONCILE}.")
        if not all(type(v) in {int, str} and str(v).isdigit() for v in reconcile):
            raise fail(400, "reconcileIssues must be a list of issue ids (numbers).")
        offset = 0
        if params.get("nextPageToken"):
            stored = self._page_tokens.get(str(params["nextPageToken"]))
            if stored is None or stored[0] != jql:
                raise fail(400, "The provided next page token is invalid or expired.")
            offset = stored[1]
        found = self._run_jql(jql, {str(v) for v in reconcile}, bounded=True)
        api, page = call.params["api"], found[offset : offset + limit]
        issues = [{"id": i.id} if ids_only else self._issue_json(i, wants, api) for i in page]
        body: dict[str, Any] = {"issues": issues}
        if offset + limit < len(found):
            body["nextPageToken"] = token = secrets.token_urlsafe(24)
            self._page_tokens[token] = (jql, offset + limit)
        return Reply(200, body | {"isLast": "nextPageToken" not in body})

    def _search_params(self, call: Call, allowed: set[str]) -> dict[str, Any]:
        if call.body is None:
            params: dict[str, Any] = {name: values[0] for name, values in call.query.items() if values}
            lists = {name: call.args(name) for name in ("fields", "reconcileIssues") if name in call.query}
            return params | lists
        if unknown := sorted(set(self._object(call)) - allowed):
            raise fail(400, f'Unrecognized field "{unknown[0]}", not marked as ignorable.')
        return call.body

    def _run_jql(self, jql: str, reconcile: set[str], *, bounded: bool = False) -> list[Issue]:
        """The issues search finds, in key order unless ORDER BY id or key says otherwise."""
        try:
            clauses, order = parse_jql(jql)
            if bounded and not clauses:
                raise JqlError(UNBOUNDED_JQL)
            tests = [self._compile(*clause) for clause in clauses]
            name, ascending = order or ("key", True)
            if name.lower() not in _ISSUE_FIELDS:
                raise JqlError(f"Not able to sort using field '{name}'.")
        except JqlError as error:
            raise fail(400, str(error)) from error
        # Search sees each issue as it was ``consistency_lag`` seconds ago, reconciled ones as they are now.
        views = self.timeline.visible(self.consistency_lag)
        views |= {i: self.issues[i] for i in reconcile if i in self.issues}
        found = [issue for issue in views.values() if all(test(issue) for test in tests)]
        by_id = name.lower() == "id"
        return sorted(found, key=lambda i: ("", int(i.id)) if by_id else _key_order(i), reverse=not ascending)

    def _compile(self, name: str, op: str, values: tuple[str, ...]) -> Callable[[Issue], bool]:
        """One clause as a test: ``project = K``, ``labels = x``, ``labels in (..)``, ``id in (..)`` (or
        issue, key), ``updated >= "-15m"`` (or an absolute date); other fields and operators are refused."""
        if (low := name.lower()) not in _SUPPORTED:
            raise JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")
        if op not in _SUPPORTED[low]:
            raise JqlError(f"The operator '{op.upper()}' is not supported by the '{name}' field.")
        if low == "labels":
            return lambda issue: bool(set(values) & set(issue.fields.get("labels") or ()))
        if low == "updated":
            bound = jql_moment(values[0], name, self.clock(), self.tz)
            return lambda issue: issue.fields["updated"] >= bound
        if low == "project":
            if (project := self._find_project(values[0])) is None:
                raise JqlError(f"The value '{values[0]}' does not exist for the field 'project'.")
            return lambda issue: issue.fields["project"] == project.id
        ids = set()
        for value in values:
            if (found := self._find_issue(value)) is None:
                raise JqlError(f"An issue with key '{value}' does not exist for field '{name}'.")
            ids.add(found.id)
        return lambda issue: issue.id in ids

    # -- validation and creation -------------------------------------------------------------------------
    def _prepare(self, element: Any, api: str, *, person: bool = False) -> _Prepared | dict[str, Any]:
        """What to create, or the element's errors (as Jira checks); a helper's ``person`` may do anything."""

        fields = element.get("fields") if isinstance(element, dict) else None
        if not isinstance(fields, dict) or "update" in element:
            message = "An issue to create needs a 'fields' object ('update' is not supported here)."
            return {"errorMessages": [message], "errors": {}}
        errors: dict[str, str] = {}
        if not (person or self.permissions.get("CREATE_ISSUES")):
            return {"errorMessages": [], "errors": {"project": "You may not create issues in this project."}}
        issue_type = None
        ref = fields.get("project") if isinstance(fields.get("project"), dict) else {}
        wanted = {str(ref.get("id")), str(ref.get("key")).upper()}
        if (project := next((p for p in self.projects.values() if {p.id, p.key} & wanted), None)) is None:
            errors["project"] = "Specify a valid project ID or key"
        else:
            ref = fields.get("issuetype") if isinstance(fields.get("issuetype"), dict) else {}
            wanted = {str(ref.get("id")), str(ref.get("name")).lower()}
            issue_type = next((t for t in project.issue_types if {t.id, t.name.lower()} & wanted), None)
            errors |= {} if issue_type else {"issuetype": "Specify a valid issue type"}
        screen = self.screen(issue_type, person=person) if issue_type else list(self.fields)
        rest = {k: v for k, v in fields.items() if k not in {"project", "issuetype"}}
        values, field_errors = self._collect(rest, screen, project, api)
        errors |= field_errors
        if "summary" not in errors and not values.get("summary"):
            errors["summary"] = "You must specify a summary of the issue."
        if issue_type is not None and "parent" not in errors:
            self._check_parent(issue_type, values, errors)
        for f in self.fields.values():
            if f.kind == "epicname" and f.id in screen and issue_type and not values.get(f.id):
                errors.setdefault(f.id, "Epic Name is required.")
        if not person and self._bulk_failure and self._bulk_failure in str(values.get("summary", "")):
            errors["summary"] = f"Injected failure: the summary contains '{self._bulk_failure}'."
        if errors or project is None or issue_type is None:
            return {"errorMessages": [], "errors": errors}
        return project, issue_type, values

    def _collect(self, fields: dict[str, Any], screen: list[str], project: Project | None,
                 api: str) -> tuple[dict[str, Any], dict[str, str]]:  # fmt: skip
        """Each field's canonical value, or Jira's message for it; a field off the screen is refused."""
        values, errors = {}, {}
        for field_id, raw in fields.items():
            try:
                if field_id not in screen or self.fields[field_id].kind == "readonly":
                    raise _Problem(NOT_ON_SCREEN.format(field_id))
                values[field_id] = self._coerce(self.fields[field_id], raw, project, api)
            except _Problem as problem:
                errors[field_id] = str(problem)
        return values, errors

    def _coerce(self, definition: FieldDef, raw: Any, project: Project | None, api: str) -> Any:
        kind = "string" if definition.kind == "epicname" else definition.kind
        if kind == "summary":
            if not isinstance(raw, str) or not raw.strip():
                raise _Problem("You must specify a summary of the issue.")
            if "\n" in raw or "\r" in raw:
                raise _Problem("The summary is invalid because it contains newline characters.")
            if len(raw) > 255:
                raise _Problem("Summary must be less than 255 characters.")
            return raw
        if raw is None:
            return [] if kind in {"labels", "versions"} else {} if kind == "timetracking" else None
        if kind in _PLAIN_KINDS:
            if not _PLAIN_KINDS[kind][0](raw):
                raise _Problem(_PLAIN_KINDS[kind][1].format(raw))
            return copy.deepcopy(raw)
        if kind == "richtext":
            if not (is_adf(raw) if api == "3" else isinstance(raw, str)):
                adf = "an Atlassian Document (see the Atlassian Document Format)"
                raise _Problem(f"Operation value must be {adf if api == '3' else 'a string'}")
            return wiki_to_adf(raw) if self.cloud and isinstance(raw, str) else raw
        if kind == "labels":
            if not isinstance(raw, list) or not all(isinstance(label, str) and label for label in raw):
                raise _Problem("Labels must be a list of non-empty strings.")
            if spaced := [label for label in raw if any(c.isspace() for c in label)]:
                raise _Problem(f"The label '{spaced[0]}' contains spaces which is invalid.")
            return list(dict.fromkeys(raw))
        if kind == "versions":
            if not isinstance(raw, list):
                raise _Problem("Fix versions must be a list of versions.")
            available, ids = self._project_versions(project) if project else [], []
            for ref in (r if isinstance(r, dict) else {"name": r} for r in raw):
                by = "id" if ref.get("id") is not None else "name"
                if not (found := [v.id for v in available if getattr(v, by) == str(ref.get(by))]):
                    raise _Problem(f"Version {by} '{ref.get(by)}' is not valid")
                ids.append(found[0])
            return list(dict.fromkeys(ids))
        if kind == "timetracking":
            if not isinstance(raw, dict):
                raise _Problem("Time tracking takes an object with originalEstimate and remainingEstimate.")
            names = {"originalEstimate": "original", "remainingEstimate": "remaining"}
            result = {label: parse_duration(raw[name], self.hours_per_day, self.days_per_week)
                      for name, label in names.items() if raw.get(name) is not None}  # fmt: skip
            if bad := [label for label, seconds in result.items() if seconds is None]:
                raise _Problem(f"The {bad[0]} estimate specified is not valid.")
            return result
        if kind == "parent":
            reference = raw if isinstance(raw, dict) else {}
            if (parent := self._find_issue(str(reference.get("key") or reference.get("id") or ""))) is None:
                raise _Problem("Could not find issue by id or key.")
            return parent.id
        epic = self._find_issue(str(raw))  # kind == "epiclink"
        if epic is None or self.issue_types[epic.fields["issuetype"]].name != "Epic":
            raise _Problem(f"The issue key '{raw}' for field 'Epic Link' is invalid.")
        return epic.id

    def _check_parent(self, issue_type: IssueType, values: dict[str, Any], errors: dict[str, str],
                      child: Issue | None = None) -> None:  # fmt: skip
        """Sub-tasks need a standard parent; on Cloud a standard issue's parent is an Epic (one level up)."""
        if (parent_id := values.get("parent")) is None:
            if issue_type.subtask and child is None:
                errors["parent"] = "Issue type is a sub-task but parent issue key or id not specified."
        elif self.issue_types[self.issues[parent_id].fields["issuetype"]].level != issue_type.level + 1:
            errors["parent"] = "Given parent work item does not belong to appropriate hierarchy."

    def _materialise(self, project: Project, issue_type: IssueType, values: dict[str, Any],
                     at: datetime | None = None) -> Issue:  # fmt: skip
        now = at or self.clock()
        fields: dict[str, Any] = dict.fromkeys(SYSTEM_IDS) | {
            "summary": "", "issuetype": issue_type.id, "project": project.id, "labels": [], "fixVersions": [],
            "priority": {"id": "3", "name": "Medium"}, "status": "To Do", "created": now, "updated": now,
            "issuelinks": [],
        }  # fmt: skip
        self._apply(fields, values, creating=True)
        issue = Issue(self._next("issue"), f"{project.key}-{project.next_number}", fields)
        project.next_number += 1
        self.issues[issue.id], self._keys[issue.key] = issue, issue.id
        self._touch(issue, bump=False)
        return issue

    def _apply(self, fields: dict[str, Any], values: dict[str, Any], *, creating: bool) -> None:
        tracking = values.get("timetracking") or {}
        fields.update({name: value for name, value in values.items() if name != "timetracking"})
        if "original" in tracking:
            fields["timeoriginalestimate"] = tracking["original"]
            if "remaining" not in tracking and (creating or not fields.get("timespent")):
                fields["timeestimate"] = tracking["original"]
        if "remaining" in tracking:
            fields["timeestimate"] = tracking["remaining"]

    # -- state changes and lookups -----------------------------------------------------------------------
    def _touch(self, issue: Issue, *, bump: bool = True) -> None:
        """The issue changed: ``updated`` moves (unless not ``bump``) and search will see the new state."""
        if bump:
            issue.fields["updated"] = self.clock()
        self.timeline.record(issue.id, Issue(issue.id, issue.key, copy.deepcopy(issue.fields)))

    def _link(self, type_id: str, inward: Issue, outward: Issue) -> Link:
        for link in self.links.values():
            if (link.type_id, link.inward_id, link.outward_id) == (type_id, inward.id, outward.id):
                return link
        link = self.links[key] = Link(key := self._next("link"), type_id, inward.id, outward.id)
        # Read back, the issue POSTed as inwardIssue shows the link outward ("blocks" the other one).
        inward.fields["issuelinks"].append({"id": link.id, "type": type_id, "outward": outward.id})
        outward.fields["issuelinks"].append({"id": link.id, "type": type_id, "inward": inward.id})
        self._touch(inward)
        self._touch(outward)
        return link

    def _delete(self, issue: Issue) -> None:
        for other in list(self.issues.values()):
            if other.fields.get("parent") == issue.id and self.issue_types[other.fields["issuetype"]].subtask:
                self._delete(other)
        del self.issues[issue.id]
        self._keys = {key: issue_id for key, issue_id in self._keys.items() if issue_id != issue.id}
        self.links = {i: k for i, k in self.links.items() if issue.id not in {k.inward_id, k.outward_id}}
        references = {"parent"} | {f.id for f in self.fields.values() if f.kind == "epiclink"}
        for other in self.issues.values():
            links = [entry for entry in other.fields["issuelinks"] if issue.id not in entry.values()]
            cleared = [name for name in references if other.fields.get(name) == issue.id]
            if cleared or len(links) != len(other.fields["issuelinks"]):
                other.fields.update(dict.fromkeys(cleared), issuelinks=links)
                self._touch(other, bump=False)
        self.timeline.record(issue.id, None)

    def _next(self, counter: str) -> str:
        return str(next(self._ids[counter]))

    def _add_custom(self, field_id: str, name: str, kind: str) -> None:
        schema_type, custom = CUSTOM_TYPES[kind]
        schema = {"type": schema_type, "custom": custom, "customId": int(field_id.split("_")[1])} | (
            {"items": "string"} if kind == "labels" else {})  # fmt: skip
        self.fields[field_id] = FieldDef(field_id, name, kind, schema, custom=True)

    def _find_project(self, reference: str) -> Project | None:
        found = (p for p in self.projects.values() if reference.strip() in {p.id, p.name})
        return self.projects.get(reference.strip().upper()) or next(found, None)

    def _project(self, reference: str, *, http: bool = False) -> Project:
        """The project by key, id or name: KeyError for a helper, Jira's 404 for a request."""
        if (project := self._find_project(reference)) is None:
            message = f"No project could be found with key '{reference}'."
            raise fail(404, message) if http else KeyError(reference)
        return project

    def _project_versions(self, project: Project) -> list[Version]:
        return [v for v in self.versions.values() if v.project_id == project.id]

    def _find_issue(self, reference: str) -> Issue | None:
        wanted = reference.strip()
        return self.issues.get(wanted if wanted.isdigit() else self._keys.get(wanted.upper(), ""))

    def _issue(self, reference: str) -> Issue:
        if (issue := self._find_issue(reference)) is None:
            raise fail(404, "Issue does not exist or you do not have permission to see it." if self.cloud
                       else "Issue Does Not Exist")  # fmt: skip
        return issue

    def _object(self, call: Call) -> dict[str, Any]:
        if not isinstance(call.body, dict):
            raise fail(400, "The request body must be a JSON object.")
        return call.body

    # -- rendering ---------------------------------------------------------------------------------------
    def _link_types(self) -> list[dict[str, Any]]:
        return [t | {"self": f"{self.url}/rest/api/2/issueLinkType/{t['id']}"} for t in LINK_TYPES]

    def _json(self, item: Project | IssueType | Version | FieldDef) -> dict[str, Any]:
        """How project, issue type, version and field objects read back (v2 shapes)."""
        match item:
            case Project():
                return {"self": f"{self.url}/rest/api/2/project/{item.id}", "id": item.id, "key": item.key,
                        "name": item.name, "projectTypeKey": "software"}  # fmt: skip
            case IssueType():
                return {"self": f"{self.url}/rest/api/2/issuetype/{item.id}", "id": item.id,
                        "name": item.name, "subtask": item.subtask, "hierarchyLevel": item.level}  # fmt: skip
            case Version():
                body = {"self": f"{self.url}/rest/api/2/version/{item.id}", "id": item.id, "name": item.name,
                        "description": item.description, "archived": False, "released": False,
                        "projectId": int(item.project_id)}  # fmt: skip
                return body | ({"releaseDate": item.release_date} if item.release_date else {})
        number = item.id.removeprefix("customfield_")
        return {"id": item.id, "key": item.id, "name": item.name, "custom": item.custom, "searchable": True,
                "orderable": item.kind != "readonly", "navigable": True, "schema": item.schema,
                "clauseNames": [f"cf[{number}]", item.name] if item.custom else [item.id]}  # fmt: skip

    def _status_json(self, name: str) -> dict[str, Any]:
        status_id, status_name, category = self.statuses[name.lower()]
        return {"self": f"{self.url}/rest/api/2/status/{status_id}", "id": status_id, "name": status_name,
                "statusCategory": dict(STATUS_CATEGORIES[category])}  # fmt: skip

    def _ref(self, issue: Issue, api: str, *, fields: bool = True) -> dict[str, Any]:
        """An issue as a reference (a created issue, a link's other end, a parent)."""
        ref = {"id": issue.id, "key": issue.key, "self": f"{self.url}/rest/api/{api}/issue/{issue.id}"}
        if fields:
            issue_type = self._json(self.issue_types[issue.fields["issuetype"]])
            status = self._status_json(issue.fields["status"])
            ref["fields"] = {"summary": issue.fields["summary"], "status": status, "issuetype": issue_type}
        return ref

    def _rich(self, value: Any, api: str) -> Any:
        """A stored description or comment body as the API version shows it (Cloud v2 renders the ADF)."""
        if value is None or not self.cloud:
            return value
        document = value if is_adf(value) else wiki_to_adf(str(value))
        return document if api == "3" else adf_to_wiki(document)

    def _issue_json(self, issue: Issue, wants: Callable[[FieldDef], bool], api: str) -> dict[str, Any]:
        fields = {d.id: self._field_value(issue, d, api) for d in self.fields.values()
                  if wants(d) and (d.id != "parent" or issue.fields.get("parent"))}  # fmt: skip
        return self._ref(issue, api, fields=False) | {"expand": "renderedFields,names", "fields": fields}

    def _field_value(self, issue: Issue, definition: FieldDef, api: str) -> Any:
        values, field_id = issue.fields, definition.id
        match field_id:
            case "description":
                return self._rich(values.get("description"), api)
            case "issuetype":
                return self._json(self.issue_types[values["issuetype"]])
            case "project":
                return self._json(next(p for p in self.projects.values() if p.id == values[field_id]))
            case "fixVersions":
                return [self._json(self.versions[v]) for v in values[field_id] if v in self.versions]
            case "status":
                return self._status_json(values["status"])
            case "created" | "updated" | "resolutiondate":
                return format_jira_time(self.tz, values.get(field_id))
            case "aggregatetimespent":
                spent = [o.fields.get("timespent") for o in self.issues.values() if o.fields.get("parent")
                         == issue.id and self.issue_types[o.fields["issuetype"]].subtask]  # fmt: skip
                present = [s for s in [values.get("timespent"), *spent] if s is not None]
                return sum(present) if present else None
            case "timetracking":
                result: dict[str, Any] = {}
                for name, source in TIME_TRACKING.items():
                    if values.get(source) is not None:
                        result[name] = format_duration(values[source], self.hours_per_day, self.days_per_week)
                        result[f"{name}Seconds"] = values[source]
                return result
            case "parent":
                return self._ref(self.issues[values["parent"]], api)
            case "issuelinks":
                return [self._link_json(entry, api) for entry in values["issuelinks"]]
        value = copy.deepcopy(values.get(field_id))
        return self.issues[value].key if definition.kind == "epiclink" and value in self.issues else value

    def _link_json(self, entry: dict[str, str], api: str) -> dict[str, Any]:
        side = "outward" if "outward" in entry else "inward"
        return {"id": entry["id"], "self": f"{self.url}/rest/api/{api}/issueLink/{entry['id']}",
                "type": next(t for t in self._link_types() if t["id"] == entry["type"]),
                f"{side}Issue": self._ref(self.issues[entry[side]], api)}  # fmt: skip

    def _comment_json(self, issue: Issue, comment: Comment, api: str) -> dict[str, Any]:
        name = comment.author or "fake.user"
        author = {"accountId": f"557058:{name}"} if self.cloud else {"name": name, "key": f"JIRAUSER-{name}"}
        author["displayName"] = name.replace(".", " ").title()
        return {"self": f"{self.url}/rest/api/{api}/issue/{issue.id}/comment/{comment.id}", "id": comment.id,
                "author": author, "body": self._rich(comment.body, api), "updateAuthor": author,
                "created": format_jira_time(self.tz, comment.created),
                "updated": format_jira_time(self.tz, comment.updated)}  # fmt: skip

"""A stateful fake Jira, Cloud or Data Center, served over real HTTP on 127.0.0.1, for tests and benchmarks.

It answers with the documented request and response shapes of the Jira REST API, including the details
that bite a connector: bulk create with per-element errors, Cloud's token-paginated ``/search/jql`` (and
the 410 of the removed offset search), Data Center's offset search with ``total``, eventual consistency of
search with ``reconcileIssues``, Retry-After on 429, issue links read back in Jira's direction, and a small
JQL subset parsed properly (400 with Jira's wording for anything else)::

    with FakeJira(flavour="cloud") as jira:
        jira.add_project("ISO", name="ISO 20000")
        requests.get(f"{jira.url}/rest/api/2/project/ISO", auth=("pm@example.com", jira.token))

As a pytest fixture::

    @pytest.fixture
    def jira() -> Iterator[FakeJira]:
        with FakeJira(flavour="datacenter") as fake:
            yield fake

The helpers (``transition``, ``log_work``, ``set_field``, ``delete_issue``, ...) act like a person in
Jira's UI: they change the stored issue (and its ``updated`` time) without any HTTP request.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import operator
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

CLOUD = "cloud"
DATACENTER = "datacenter"
MAX_BULK = 50
MAX_RECONCILE = 50
DEFAULT_ISSUE_TYPES = ("Epic", "Task", "Story", "Sub-task")
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."
ISSUE_NOT_FOUND = "Issue does not exist or you do not have permission to see it."
SEARCH_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
UNBOUNDED_JQL = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
KNOWN_PERMISSIONS = (
    "BROWSE_PROJECTS",
    "CREATE_ISSUES",
    "EDIT_ISSUES",
    "TRANSITION_ISSUES",
    "RESOLVE_ISSUES",
    "LINK_ISSUES",
    "SCHEDULE_ISSUES",
    "ADD_COMMENTS",
    "EDIT_OWN_COMMENTS",
    "EDIT_ALL_COMMENTS",
    "WORK_ON_ISSUES",
    "DELETE_ISSUES",
    "ADMINISTER_PROJECTS",
)
STATUS_CATEGORIES = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"},
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}
CUSTOM_TYPES = {
    "number": ("number", "com.atlassian.jira.plugin.system.customfieldtypes:float"),
    "date": ("date", "com.atlassian.jira.plugin.system.customfieldtypes:datepicker"),
    "datetime": ("datetime", "com.atlassian.jira.plugin.system.customfieldtypes:datetime"),
    "string": ("string", "com.atlassian.jira.plugin.system.customfieldtypes:textfield"),
    "labels": ("array", "com.atlassian.jira.plugin.system.customfieldtypes:labels"),
}
EPIC_LINK = "com.pyxis.greenhopper.jira:gh-epic-link"
EPIC_NAME = "com.pyxis.greenhopper.jira:gh-epic-label"


# --------------------------------------------------------------------------------------------------------
# Errors and records


class JiraError(Exception):
    """An error answer in Jira's shape: ``{"errorMessages": [...], "errors": {field: message}}``."""

    def __init__(
        self,
        status: int,
        messages: str | Iterable[str] = (),
        errors: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})
        super().__init__(f"{status}: {self.messages} {self.errors}")

    def reply(self) -> Reply:
        return Reply(self.status, {"errorMessages": self.messages, "errors": self.errors}, self.headers)


class JqlError(ValueError):
    """A JQL query Jira refuses; the message is Jira's wording (answered as 400)."""


class _FieldProblem(ValueError):
    """One field's value is not acceptable; the message goes into ``errors[field]``."""


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RecordedRequest:
    """One request as it reached the server; ``status`` is filled in with the answer actually sent."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    time: float
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------------
# State


@dataclass
class IssueType:
    id: str
    name: str
    subtask: bool = False

    @property
    def hierarchy_level(self) -> int:
        if self.subtask:
            return -1
        return 1 if self.name == "Epic" else 0


@dataclass
class Version:
    id: str
    name: str
    project_id: str
    description: str = ""
    release_date: str | None = None
    released: bool = False
    archived: bool = False


@dataclass
class Project:
    id: str
    key: str
    name: str
    issue_types: list[IssueType] = field(default_factory=list)
    next_number: int = 1
    project_type_key: str = "software"


@dataclass
class FieldDef:
    """A field as ``GET /field`` lists it; ``kind`` drives validation and rendering."""

    id: str
    name: str
    kind: str
    schema: dict[str, Any]
    custom: bool = False
    settable: bool = True
    navigable: bool = True


@dataclass(frozen=True)
class LinkType:
    id: str
    name: str
    inward: str
    outward: str


@dataclass
class Link:
    """``inward_id`` is the issue POSTed as ``inwardIssue``: for Blocks it is the one that blocks."""

    id: str
    type_id: str
    inward_id: str
    outward_id: str


@dataclass
class Status:
    id: str
    name: str
    category: str
    transition_id: str


@dataclass
class Comment:
    id: str
    body: Any
    created: datetime
    updated: datetime


@dataclass
class Issue:
    """A stored issue. ``fields`` holds canonical values: ids for references (issuetype, project,
    fixVersions, parent), datetimes for times, seconds for time tracking, the status name.
    Also readable like a dict: ``issue["key"]``, ``issue["fields"]``, ``issue["created"]``."""

    id: str
    key: str
    fields: dict[str, Any]
    comments: list[Comment] = field(default_factory=list)
    old_keys: list[str] = field(default_factory=list)

    @property
    def created(self) -> datetime:
        return self.fields["created"]

    @property
    def updated(self) -> datetime:
        return self.fields["updated"]

    def __getitem__(self, name: str) -> Any:
        if name in {"id", "key", "fields", "comments", "old_keys", "created", "updated"}:
            return getattr(self, name)
        raise KeyError(name)

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default


@dataclass
class _Fault:
    status: int
    retry_after: float | None
    remaining: int
    path: str | None
    method: str | None
    after_processing: bool
    body: Any

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or self.path in path)

    def reply(self) -> Reply:
        headers = {} if self.retry_after is None else {"Retry-After": _seconds_header(self.retry_after)}
        body = self.body
        if body is None:
            message = {429: "Rate limit exceeded.", 503: "Service unavailable."}.get(
                self.status, f"Injected failure: HTTP {self.status}."
            )
            body = {"errorMessages": [message], "errors": {}}
        return Reply(self.status, body, headers)


@dataclass
class _Prepared:
    project: Project
    issue_type: IssueType
    values: dict[str, Any]


@dataclass
class _Rejected:
    messages: list[str]
    errors: dict[str, str]


# --------------------------------------------------------------------------------------------------------
# Small helpers: times, durations, Atlassian Document Format


def _seconds_header(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


def format_jira_time(moment: datetime | None, tz: tzinfo) -> str | None:
    """Jira's timestamp form: ``2027-02-01T10:00:00.000+0100`` in the user's time zone."""
    if moment is None:
        return None
    local = moment.astimezone(tz)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}" + local.strftime("%z")


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhm])", re.IGNORECASE)
_DURATION_WHOLE = re.compile(r"(\s*\d+(?:\.\d+)?\s*[wdhm]\s*)+", re.IGNORECASE)


def parse_duration(text: Any, hours_per_day: int = 8, days_per_week: int = 5) -> int | None:
    """Seconds of a Jira duration ('1w 2d 3h 30m', working days and weeks); a bare number is minutes."""
    value = str(text).strip()
    if re.fullmatch(r"\d+", value):
        return int(value) * 60
    if not _DURATION_WHOLE.fullmatch(value):
        return None
    unit = {"m": 60, "h": 3600, "d": 3600 * hours_per_day, "w": 3600 * hours_per_day * days_per_week}
    return round(sum(float(number) * unit[u.lower()] for number, u in _DURATION_PART.findall(value)))


def format_duration(seconds: int, hours_per_day: int = 8, days_per_week: int = 5) -> str:
    parts = []
    remaining = seconds // 60
    for suffix, minutes in (("w", 60 * hours_per_day * days_per_week), ("d", 60 * hours_per_day), ("h", 60)):
        count, remaining = divmod(remaining, minutes)
        if count:
            parts.append(f"{count}{suffix}")
    if remaining or not parts:
        parts.append(f"{remaining}m")
    return " ".join(parts)


def is_adf(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.get("type") == "doc"
        and value.get("version") == 1
        and isinstance(value.get("content"), list)
    )


def text_to_adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document: blank lines separate paragraphs, newlines are hard breaks."""
    content = []
    for paragraph in text.split("\n\n") if text else []:
        nodes: list[dict[str, Any]] = []
        for number, line in enumerate(paragraph.split("\n")):
            if number:
                nodes.append({"type": "hardBreak"})
            if line:
                nodes.append({"type": "text", "text": line})
        content.append({"type": "paragraph", "content": nodes})
    return {"type": "doc", "version": 1, "content": content}


def adf_to_text(node: Any) -> str:
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    children = [adf_to_text(child) for child in node.get("content") or []]
    if kind == "doc":
        return "\n\n".join(children)
    if kind in {"bulletList", "orderedList", "table", "tableRow"}:
        return "\n".join(children)
    return "".join(children)


def _rich_text_for(value: Any, api: str) -> Any:
    """A stored description or comment body as the API version shows it (ADF on /rest/api/3)."""
    if value is None:
        return None
    if api == "3":
        return value if is_adf(value) else text_to_adf(str(value))
    return adf_to_text(value) if is_adf(value) else value


# --------------------------------------------------------------------------------------------------------
# JQL: tokenizer, parser (pure syntax) and compiler (against the fake's state)


@dataclass(frozen=True)
class JqlClause:
    field: str
    op: str  # = != > >= < <= ~ !~ in, not in, is, is not
    values: tuple[str, ...]
    pos: int


@dataclass(frozen=True)
class JqlBool:
    op: str  # and, or
    items: tuple[JqlNode, ...]


@dataclass(frozen=True)
class JqlNot:
    item: JqlNode


JqlNode = JqlClause | JqlBool | JqlNot


@dataclass(frozen=True)
class JqlOrder:
    field: str
    ascending: bool
    pos: int


@dataclass(frozen=True)
class JqlQuery:
    where: JqlNode | None
    order_by: tuple[JqlOrder, ...]


@dataclass(frozen=True)
class _Tok:
    kind: str  # word, string, op, (, ), ",", eof
    text: str
    pos: int


_JQL_TOKEN = re.compile(
    r"""(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      |(?P<op>!=|!~|>=|<=|=|>|<|~)
      |(?P<punct>[(),])
      |(?P<word>[^\s()=,!<>~"']+)""",
    re.VERBOSE,
)
_JQL_RESERVED = frozenset({"AND", "OR", "NOT", "IN", "IS", "EMPTY", "NULL", "ORDER", "BY", "ASC", "DESC"})
_OPERATORS_TEXT = "'=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'"


def _syntax(message: str, pos: int) -> JqlError:
    return JqlError(f"Error in the JQL Query: {message} (line 1, character {pos + 1})")


def _tokenize(text: str) -> list[_Tok]:
    tokens = []
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        match = _JQL_TOKEN.match(text, pos)
        if match is None:
            if text[pos] in "\"'":
                raise _syntax(
                    f"The quoted string starting at character {pos + 1} has not been completed.", pos
                )
            raise _syntax(f"The character '{text[pos]}' is a reserved JQL character.", pos)
        kind, raw = match.lastgroup or "word", match.group()
        if kind == "string":
            tokens.append(_Tok("string", re.sub(r"\\(.)", r"\1", raw[1:-1]), pos))
        elif kind == "punct":
            tokens.append(_Tok(raw, raw, pos))
        else:
            tokens.append(_Tok(kind, raw, pos))
        pos = match.end()
    tokens.append(_Tok("eof", "", len(text)))
    return tokens


class _JqlParser:
    """Recursive descent over the tokens::

    query  := [or] [ORDER BY field [ASC|DESC], ...]
    or     := and (OR and)*
    and    := not (AND not)*
    not    := NOT not | '(' or ')' | clause
    clause := field op value | field [NOT] IN (value, ...) | field IS [NOT] EMPTY
    """

    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0

    def peek(self) -> _Tok:
        return self.tokens[self.index]

    def take(self) -> _Tok:
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        token = self.peek()
        return token.kind == "word" and token.text.upper() in words

    def query(self) -> JqlQuery:
        where = None
        if self.peek().kind != "eof" and not self.at_keyword("ORDER"):
            where = self.or_expr()
        order: tuple[JqlOrder, ...] = ()
        if self.at_keyword("ORDER"):
            self.take()
            by = self.take()
            if not (by.kind == "word" and by.text.upper() == "BY"):
                raise _syntax(f"Expecting 'BY' but got '{by.text or '<EOF>'}'.", by.pos)
            order = self.order_by()
        token = self.peek()
        if token.kind != "eof":
            raise _syntax(f"Expecting either 'OR' or 'AND' but got '{token.text}'.", token.pos)
        return JqlQuery(where, order)

    def or_expr(self) -> JqlNode:
        items = [self.and_expr()]
        while self.at_keyword("OR", "||"):
            self.take()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else JqlBool("or", tuple(items))

    def and_expr(self) -> JqlNode:
        items = [self.unary()]
        while self.at_keyword("AND", "&&"):
            self.take()
            items.append(self.unary())
        return items[0] if len(items) == 1 else JqlBool("and", tuple(items))

    def unary(self) -> JqlNode:
        if self.at_keyword("NOT"):
            self.take()
            return JqlNot(self.unary())
        if self.peek().kind == "(":
            self.take()
            node = self.or_expr()
            close = self.take()
            if close.kind != ")":
                raise _syntax(f"Expecting ')' but got '{close.text or '<EOF>'}'.", close.pos)
            return node
        return self.clause()

    def field_name(self) -> _Tok:
        token = self.take()
        reserved = token.kind == "word" and token.text.upper() in _JQL_RESERVED
        if token.kind not in {"word", "string"} or reserved:
            raise _syntax(f"Expecting a field name but got '{token.text or '<EOF>'}'.", token.pos)
        return token

    def clause(self) -> JqlClause:
        name = self.field_name()
        op = self.operator()
        values: tuple[str, ...] = ()
        if op in {"=", "!="} and self.at_keyword("EMPTY", "NULL"):
            self.take()
            op = "is" if op == "=" else "is not"
        elif op in {"in", "not in"}:
            values = self.value_list()
        elif op in {"is", "is not"}:
            token = self.take()
            if not (token.kind == "word" and token.text.upper() in {"EMPTY", "NULL"}):
                raise _syntax(f"Expecting 'EMPTY' or 'NULL' but got '{token.text or '<EOF>'}'.", token.pos)
        else:
            values = (self.value(),)
        return JqlClause(name.text, op, values, name.pos)

    def operator(self) -> str:
        token = self.take()
        if token.kind == "op":
            return token.text
        word = token.text.upper() if token.kind == "word" else ""
        if word == "IN":
            return "in"
        if word == "NOT" and self.at_keyword("IN"):
            self.take()
            return "not in"
        if word == "IS":
            if self.at_keyword("NOT"):
                self.take()
                return "is not"
            return "is"
        got = token.text or "<EOF>"
        raise _syntax(
            f"Expecting operator but got '{got}'. The valid operators are {_OPERATORS_TEXT}.", token.pos
        )

    def value(self) -> str:
        token = self.take()
        if token.kind == "string":
            return token.text
        if token.kind == "word" and token.text.upper() not in _JQL_RESERVED:
            if self.peek().kind == "(":
                raise _syntax(f"Unable to find JQL function '{token.text}()'.", token.pos)
            return token.text
        got = token.text or "<EOF>"
        raise _syntax(f"Expecting either a value, list or function but got '{got}'.", token.pos)

    def value_list(self) -> tuple[str, ...]:
        opening = self.take()
        if opening.kind != "(":
            raise _syntax(f"Expecting '(' but got '{opening.text or '<EOF>'}'.", opening.pos)
        values = [self.value()]
        while self.peek().kind == ",":
            self.take()
            values.append(self.value())
        closing = self.take()
        if closing.kind != ")":
            raise _syntax(f"Expecting ')' but got '{closing.text or '<EOF>'}'.", closing.pos)
        return tuple(values)

    def order_by(self) -> tuple[JqlOrder, ...]:
        items = []
        while True:
            name = self.field_name()
            ascending = True
            if self.at_keyword("ASC", "DESC"):
                ascending = self.take().text.upper() == "ASC"
            items.append(JqlOrder(name.text, ascending, name.pos))
            if self.peek().kind != ",":
                return tuple(items)
            self.take()


def parse_jql(text: str) -> JqlQuery:
    """The syntax tree of a JQL query; :class:`JqlError` with Jira's wording when it is not valid."""
    return _JqlParser(text).query()


@dataclass
class JqlEnv:
    """What compiling a query needs to know about the server's state."""

    now: datetime
    tz: tzinfo
    project_id: Callable[[str], str | None]
    issue_type_ids: Callable[[str], set[str]]
    issue_id: Callable[[str], str | None]
    status_name: Callable[[str], str | None]
    status_category: Callable[[str], str]
    version_ids: Callable[[str], set[str]]
    custom_kind: Callable[[str], str | None]


Predicate = Callable[[Issue], bool]
_COMPARE = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_JQL_ALIASES = {
    "issuekey": "key",
    "type": "issuetype",
    "resolved": "resolutiondate",
    "due": "duedate",
    "createddate": "created",
    "updateddate": "updated",
    "fixversion": "fixVersions",
    "statuscategory": "statusCategory",
}
_RELATIVE = re.compile(r"([+-]?)\s*((?:\d+\s*[wdhm]\s*)+)", re.IGNORECASE)
_ABSOLUTE_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")


def _jql_field(name: str) -> str:
    low = name.strip().lower()
    custom = re.fullmatch(r"cf\[(\d+)\]", low)
    if custom:
        return f"customfield_{custom.group(1)}"
    return _JQL_ALIASES.get(low, low)


def _unknown_field(name: str) -> JqlError:
    return JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")


def _unsupported(clause: JqlClause) -> JqlError:
    return JqlError(f"The operator '{clause.op.upper()}' is not supported by the '{clause.field}' field.")


def jql_moment(value: str, field_name: str, env: JqlEnv) -> datetime:
    """A JQL date value: relative ('-90m', '-1d', '4w 2d') or absolute in the user's time zone."""
    text = value.strip()
    relative = _RELATIVE.fullmatch(text)
    if relative:
        unit = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
        seconds = sum(int(n) * unit[u.lower()] for n, u in re.findall(r"(\d+)\s*([wdhm])", relative[2], re.I))
        return env.now + timedelta(seconds=-seconds if relative[1] == "-" else seconds)
    for pattern in _ABSOLUTE_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=env.tz)
        except ValueError:
            continue
    raise JqlError(
        f"Date value '{value}' for field '{field_name}' is invalid. Valid formats include: "
        "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', "
        "or a period format e.g. '-5d', '4w 2d'."
    )


def _resolve(clause: JqlClause, resolver: Callable[[str], Any], message: str) -> set[str]:
    resolved: set[str] = set()
    for value in clause.values:
        found = resolver(value)
        if not found:
            raise JqlError(message.format(value=value))
        resolved |= found if isinstance(found, set) else {found}
    return resolved


def _membership(clause: JqlClause, actual: Callable[[Issue], set[str]], wanted: set[str]) -> Predicate:
    """Jira's semantics: '!=' and 'NOT IN' never match an empty field."""
    if clause.op in {"is", "is not"}:
        present = clause.op == "is not"
        return lambda issue: bool(actual(issue)) == present
    if clause.op in {"=", "in"}:
        return lambda issue: bool(actual(issue) & wanted)
    if clause.op in {"!=", "not in"}:
        return lambda issue: bool(actual(issue)) and not actual(issue) & wanted
    raise _unsupported(clause)


def _dates(clause: JqlClause, env: JqlEnv, value: Callable[[Issue], datetime | None]) -> Predicate:
    if clause.op in {"is", "is not"}:
        present = clause.op == "is not"
        return lambda issue: (value(issue) is not None) == present
    compare = _COMPARE.get(clause.op)
    if compare is None:
        raise _unsupported(clause)
    bound = jql_moment(clause.values[0], clause.field, env)

    def match(issue: Issue) -> bool:
        moment = value(issue)
        return moment is not None and compare(moment, bound)

    return match


def _numbers(clause: JqlClause, value: Callable[[Issue], Any]) -> Predicate:
    if clause.op in {"is", "is not"}:
        present = clause.op == "is not"
        return lambda issue: (value(issue) is not None) == present
    try:
        bounds = [float(v) for v in clause.values]
    except ValueError as error:
        raise JqlError(
            f"The value '{clause.values[0]}' is not a valid number for '{clause.field}'."
        ) from error
    if clause.op in {"in", "not in"}:
        inside = clause.op == "in"
        return lambda issue: value(issue) is not None and (float(value(issue)) in bounds) == inside
    compare = _COMPARE.get(clause.op)
    if compare is None:
        raise _unsupported(clause)
    return lambda issue: value(issue) is not None and compare(float(value(issue)), bounds[0])


def _text(clause: JqlClause, value: Callable[[Issue], str]) -> Predicate:
    if clause.op not in {"~", "!~"}:
        raise _unsupported(clause)
    needle = clause.values[0].strip().strip('"').lower()
    contains = clause.op == "~"
    return lambda issue: (needle in value(issue).lower()) == contains


def _local_date(text: str | None, tz: tzinfo) -> datetime | None:
    return None if not text else datetime.fromisoformat(text).replace(tzinfo=tz)


def _compile_clause(clause: JqlClause, env: JqlEnv) -> Predicate:
    name = _jql_field(clause.field)
    if name == "project":
        wanted = _resolve(
            clause, env.project_id, "The value '{value}' does not exist for the field 'project'."
        )
        return _membership(clause, lambda i: {i.fields["project"]}, wanted)
    if name in {"key", "id"}:
        message = f"An issue with key '{{value}}' does not exist for field '{name}'."
        return _membership(clause, lambda i: {i.id}, _resolve(clause, env.issue_id, message))
    if name == "parent":
        wanted = _resolve(
            clause, env.issue_id, "An issue with key '{value}' does not exist for field 'parent'."
        )
        return _membership(clause, lambda i: {i.fields["parent"]} - {None}, wanted)
    if name == "issuetype":
        message = "The value '{value}' does not exist for the field 'issuetype'."
        return _membership(
            clause, lambda i: {i.fields["issuetype"]}, _resolve(clause, env.issue_type_ids, message)
        )
    if name == "status":
        wanted = _resolve(
            clause, env.status_name, "The value '{value}' does not exist for the field 'status'."
        )
        return _membership(clause, lambda i: {i.fields["status"].lower()}, wanted)
    if name == "statusCategory":
        message = "The value '{value}' does not exist for the field 'statusCategory'."
        wanted = _resolve(clause, _category_key, message)
        return _membership(clause, lambda i: {env.status_category(i.fields["status"])}, wanted)
    if name == "labels":
        return _membership(clause, lambda i: set(i.fields.get("labels") or ()), set(clause.values))
    if name == "fixVersions":
        wanted = _resolve(
            clause, env.version_ids, "The value '{value}' does not exist for the field 'fixVersion'."
        )
        return _membership(clause, lambda i: set(i.fields.get("fixVersions") or ()), wanted)
    if name in {"created", "updated", "resolutiondate"}:
        return _dates(clause, env, lambda i: i.fields.get(name))
    if name == "duedate":
        return _dates(clause, env, lambda i: _local_date(i.fields.get("duedate"), env.tz))
    if name in {"summary", "description"}:
        return _text(clause, lambda i: _plain(i.fields.get(name)))
    if name == "text":
        return _text(clause, lambda i: f"{i.fields['summary']}\n{_plain(i.fields.get('description'))}")
    return _compile_custom(clause, name, env)


def _compile_custom(clause: JqlClause, name: str, env: JqlEnv) -> Predicate:
    kind = env.custom_kind(name) if name.startswith("customfield_") else None
    if kind is None:
        raise _unknown_field(clause.field)
    if kind == "number":
        return _numbers(clause, lambda i: i.fields.get(name))
    if kind == "date":
        return _dates(clause, env, lambda i: _local_date(i.fields.get(name), env.tz))
    if kind == "epiclink":
        message = f"An issue with key '{{value}}' does not exist for field '{clause.field}'."
        return _membership(
            clause, lambda i: {i.fields.get(name)} - {None}, _resolve(clause, env.issue_id, message)
        )
    if clause.op in {"~", "!~"}:
        return _text(clause, lambda i: str(i.fields.get(name) or ""))

    def values(issue: Issue) -> set[str]:
        value = issue.fields.get(name)
        if value is None:
            return set()
        return {str(v) for v in value} if isinstance(value, list) else {str(value)}

    return _membership(clause, values, set(clause.values))


def _category_key(value: str) -> str | None:
    wanted = value.strip().lower()
    for key, category in STATUS_CATEGORIES.items():
        if wanted in {key, category["name"].lower(), str(category["id"])}:
            return key
    return None


def _plain(value: Any) -> str:
    if value is None:
        return ""
    return adf_to_text(value) if is_adf(value) else str(value)


def _compile_node(node: JqlNode, env: JqlEnv) -> Predicate:
    if isinstance(node, JqlClause):
        return _compile_clause(node, env)
    if isinstance(node, JqlNot):
        inner = _compile_node(node.item, env)
        return lambda issue: not inner(issue)
    parts = [_compile_node(item, env) for item in node.items]
    if node.op == "and":
        return lambda issue: all(part(issue) for part in parts)
    return lambda issue: any(part(issue) for part in parts)


def _key_order(issue: Issue) -> tuple[str, int]:
    prefix, _, number = issue.key.rpartition("-")
    return prefix, int(number)


_ORDER_VALUES: dict[str, Callable[[Issue], Any]] = {
    "key": _key_order,
    "id": lambda i: int(i.id),
    "created": lambda i: i.fields["created"],
    "updated": lambda i: i.fields["updated"],
    "resolutiondate": lambda i: i.fields.get("resolutiondate"),
    "duedate": lambda i: i.fields.get("duedate"),
    "summary": lambda i: i.fields["summary"].lower(),
    "status": lambda i: i.fields["status"].lower(),
    "project": lambda i: _key_order(i)[0],
}


def compile_jql(query: JqlQuery, env: JqlEnv) -> tuple[Predicate, Callable[[list[Issue]], list[Issue]]]:
    """The match predicate and the sort of a parsed query. Without ORDER BY: newest issue first."""
    predicate = _compile_node(query.where, env) if query.where is not None else (lambda issue: True)
    keys: list[tuple[Callable[[Issue], Any], bool]] = []
    for item in query.order_by:
        name = _jql_field(item.field)
        value = _ORDER_VALUES.get(name)
        if value is None and name.startswith("customfield_") and env.custom_kind(name):
            value = _custom_order(name)
        if value is None:
            raise JqlError(f"Not able to sort using field '{item.field}'.")
        keys.append((value, item.ascending))
    keys = keys or [(_ORDER_VALUES["id"], False)]

    def sort(issues: list[Issue]) -> list[Issue]:
        result = list(issues)
        for value, ascending in reversed(keys):
            present = [issue for issue in result if value(issue) is not None]
            present.sort(key=value, reverse=not ascending)
            result = present + [issue for issue in result if value(issue) is None]
        return result

    return predicate, sort


def _custom_order(name: str) -> Callable[[Issue], Any]:
    return lambda issue: issue.fields.get(name)


# --------------------------------------------------------------------------------------------------------
# Requested fields (?fields=summary,-comment,*all)


@dataclass(frozen=True)
class _FieldSpec:
    everything: bool = False
    navigable: bool = False
    names: frozenset[str] = frozenset()
    excluded: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, items: Iterable[Any], default: str) -> _FieldSpec:
        parts = [p.strip() for item in items for p in str(item).split(",") if p.strip()] or [default]
        return cls(
            everything="*all" in parts,
            navigable="*navigable" in parts,
            names=frozenset(p for p in parts if not p.startswith(("*", "-"))),
            excluded=frozenset(p[1:] for p in parts if p.startswith("-")),
        )

    def wants(self, definition: FieldDef) -> bool:
        if definition.id in self.excluded:
            return False
        return self.everything or (self.navigable and definition.navigable) or definition.id in self.names

    @property
    def ids_only(self) -> bool:
        return not (self.everything or self.navigable) and self.names <= {"id"}


# --------------------------------------------------------------------------------------------------------
# Routing


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: str
    anonymous: bool = False
    flavours: frozenset[str] = frozenset({CLOUD, DATACENTER})


def _route(
    method: str, template: str, handler: str, *, anonymous: bool = False, only: str | None = None
) -> _Route:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    flavours = frozenset({only}) if only else frozenset({CLOUD, DATACENTER})
    return _Route(method, re.compile(rf"^/rest/api/(?P<api>[^/]+)/{regex}/?$"), handler, anonymous, flavours)


_ROUTES = (
    _route("GET", "serverInfo", "_server_info", anonymous=True),
    _route("GET", "myself", "_myself"),
    _route("GET", "project/{project}", "_get_project"),
    _route("GET", "project/{project}/versions", "_get_versions"),
    _route("POST", "version", "_create_version"),
    _route("GET", "mypermissions", "_my_permissions"),
    _route("GET", "field", "_get_fields"),
    _route("GET", "issueLinkType", "_get_link_types"),
    _route("POST", "issueLink", "_create_link"),
    _route("DELETE", "issueLink/{link}", "_delete_link"),
    _route("POST", "issue/bulk", "_create_bulk"),
    _route("POST", "issue", "_create_issue"),
    _route("GET", "issue/{issue}", "_get_issue"),
    _route("PUT", "issue/{issue}", "_update_issue"),
    _route("DELETE", "issue/{issue}", "_delete_issue"),
    _route("GET", "issue/{issue}/comment", "_get_comments"),
    _route("POST", "issue/{issue}/comment", "_create_comment"),
    _route("PUT", "issue/{issue}/comment/{comment}", "_update_comment"),
    _route("GET", "issue/{issue}/transitions", "_get_transitions"),
    _route("POST", "issue/{issue}/transitions", "_do_transition"),
    _route("GET", "search", "_search_offset"),
    _route("POST", "search", "_search_offset"),
    _route("GET", "search/jql", "_search_token", only=CLOUD),
    _route("POST", "search/jql", "_search_token", only=CLOUD),
)
_API_VERSIONS = {CLOUD: frozenset({"2", "3"}), DATACENTER: frozenset({"2", "latest"})}
_SEARCH_OFFSET_KEYS = frozenset(
    {"jql", "startAt", "maxResults", "fields", "expand", "validateQuery", "properties"}
)
_SEARCH_TOKEN_KEYS = frozenset(
    {"jql", "nextPageToken", "maxResults", "fields", "expand", "properties", "fieldsByKeys", "failFast"}
    | {"reconcileIssues"}
)


@dataclass
class _Call:
    api: str
    params: dict[str, str]
    query: dict[str, list[str]]
    body: Any
    user: str | None

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def args(self, name: str) -> list[str]:
        return [
            part.strip() for value in self.query.get(name, []) for part in value.split(",") if part.strip()
        ]

    def object(self) -> dict[str, Any]:
        if not isinstance(self.body, dict):
            raise JiraError(400, "The request body must be a JSON object.")
        return self.body


def _integer(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise JiraError(400, f"The value '{value}' for '{name}' is not a valid number.")
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise JiraError(400, f"The value '{value}' for '{name}' is not a valid number.") from error


# --------------------------------------------------------------------------------------------------------
# The fake


class FakeJira:
    """A running fake Jira; see the module docstring. All state is guarded by one lock."""

    def __init__(
        self,
        flavour: str = CLOUD,
        *,
        token: str = "secret-token",
        version: str | None = None,
        deployment_type: str | None = None,
        timezone: str = "Europe/Berlin",
        clock: Callable[[], datetime] | None = None,
        hours_per_day: int = 8,
        days_per_week: int = 5,
        search_max_results: int = 100,
    ) -> None:
        if flavour not in {CLOUD, DATACENTER}:
            raise ValueError(f"flavour must be {CLOUD!r} or {DATACENTER!r}, not {flavour!r}")
        self.flavour = flavour
        self.token = token
        self.version = version or ("1001.0.0-SNAPSHOT" if flavour == CLOUD else "9.12.0")
        self.deployment_type = deployment_type or ("Cloud" if flavour == CLOUD else "Server")
        self.timezone = timezone
        self.tz = ZoneInfo(timezone)
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.hours_per_day = hours_per_day
        self.days_per_week = days_per_week
        self.search_max_results = search_max_results
        self.latency = 0.0
        self.consistency_lag = 0.0
        self.permissions: dict[str, bool] = dict.fromkeys(KNOWN_PERMISSIONS, True)
        self.requests: list[RecordedRequest] = []
        self.projects: dict[str, Project] = {}
        self.issues: dict[str, Issue] = {}
        self.fields: dict[str, FieldDef] = {}
        self.versions: dict[str, Version] = {}
        self.links: dict[str, Link] = {}
        self.link_types = [
            LinkType("10000", "Blocks", "is blocked by", "blocks"),
            LinkType("10001", "Relates", "relates to", "relates to"),
        ]
        self.statuses: dict[str, Status] = {}
        self.issue_types: dict[str, IssueType] = {}
        self._keys: dict[str, str] = {}
        self._index: dict[str, list[tuple[float, Issue | None]]] = {}
        self._page_tokens: dict[str, tuple[str, int]] = {}
        self._faults: list[_Fault] = []
        self._rate_per_second: int | None = None
        self._admitted: deque[float] = deque()
        self._bulk_failure: str | None = None
        self._counters = {
            name: itertools.count(start)
            for name, start in (
                ("issue", 10000),
                ("project", 10000),
                ("version", 10000),
                ("link", 10000),
                ("comment", 10000),
                ("issuetype", 10000),
                ("field", 10200),
                ("status", 10100),
                ("transition", 41),
            )
        }
        self._lock = threading.RLock()
        self._closed = False
        self._install_fields()
        for name, category, status_id, transition_id in (
            ("To Do", "new", "10000", "11"),
            ("In Progress", "indeterminate", "3", "21"),
            ("Done", "done", "10001", "31"),
        ):
            self.statuses[name.lower()] = Status(status_id, name, category, transition_id)
        self._server = _Server(self)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-jira", daemon=True
        )
        self._thread.start()

    # -- lifecycle -------------------------------------------------------------------------------------

    def __enter__(self) -> FakeJira:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def cloud(self) -> bool:
        return self.flavour == CLOUD

    # -- setup helpers -----------------------------------------------------------------------------------

    def add_project(
        self, key: str, name: str | None = None, *, issue_types: Iterable[str] = DEFAULT_ISSUE_TYPES
    ) -> Project:
        """A project with the given issue types (default Epic, Task, Story, Sub-task)."""
        with self._lock:
            if key.upper() in self.projects:
                raise ValueError(f"project {key} exists")
            project = Project(self._next("project"), key.upper(), name or key)
            self.projects[project.key] = project
            for type_name in issue_types:
                self.add_issue_type(project.key, type_name, subtask=type_name == "Sub-task")
            return project

    def add_issue_type(self, project_key: str, name: str, *, subtask: bool = False) -> IssueType:
        """Make an issue type (e.g. "Milestone") available in a project; ids are shared across projects."""
        with self._lock:
            project = self._project(project_key)
            issue_type = next((t for t in self.issue_types.values() if t.name == name), None)
            if issue_type is None:
                issue_type = IssueType(self._next("issuetype"), name, subtask)
                self.issue_types[issue_type.id] = issue_type
            if issue_type not in project.issue_types:
                project.issue_types.append(issue_type)
            return issue_type

    def add_field(self, name: str, type: str = "string") -> str:
        """A custom field of type number, date, datetime, string or labels; returns its id."""
        if type not in CUSTOM_TYPES:
            raise ValueError(f"type must be one of {sorted(CUSTOM_TYPES)}")
        with self._lock:
            number = self._next("field")
            self._add_custom(f"customfield_{number}", name, type, CUSTOM_TYPES[type][1])
            return f"customfield_{number}"

    def remove_field(self, field_id: str) -> None:
        """Remove a field from the server (stored values stay but are no longer shown or settable)."""
        with self._lock:
            del self.fields[field_id]

    def add_version(
        self,
        project_key: str,
        name: str,
        *,
        description: str = "",
        release_date: str | None = None,
        released: bool = False,
    ) -> Version:
        with self._lock:
            project = self._project(project_key)
            version = Version(self._next("version"), name, project.id, description, release_date, released)
            self.versions[version.id] = version
            return version

    def create_issue(
        self,
        project_key: str,
        summary: str,
        issuetype: str = "Task",
        *,
        created: datetime | None = None,
        **fields: Any,
    ) -> Issue:
        """Create an issue as a person would (API-shaped ``fields``, validated; no request recorded)."""
        element = {
            "fields": {
                "project": {"key": project_key},
                "issuetype": {"name": issuetype},
                "summary": summary,
                **fields,
            }
        }
        with self._lock:
            prepared = self._prepare(element, "2", inject=False)
            if isinstance(prepared, _Rejected):
                raise ValueError(f"cannot create the issue: {prepared.messages} {prepared.errors}")
            return self._materialise(prepared, at=created)

    # -- behaviour knobs ---------------------------------------------------------------------------------

    def fail_next(
        self,
        status: int = 429,
        retry_after: float | None = None,
        count: int = 1,
        *,
        path: str | None = None,
        method: str | None = None,
        after_processing: bool = False,
        body: Any = None,
    ) -> None:
        """The next ``count`` requests (optionally only those whose path contains ``path`` / with ``method``)
        are answered with ``status`` (and Retry-After when given). With ``after_processing`` the request
        is carried out first and only its answer is replaced: the work is done, the client sees a failure."""
        with self._lock:
            self._faults.append(_Fault(status, retry_after, count, path, method, after_processing, body))

    def rate_limit(self, per_second: int | None) -> None:
        """Beyond ``per_second`` admitted requests in any 1-second window answer 429, Retry-After: 1."""
        with self._lock:
            self._rate_per_second = per_second
            self._admitted.clear()

    def fail_bulk_element(self, summary_contains: str | None) -> None:
        """Issue creation fails (a field error on summary) for summaries containing this text; None stops."""
        with self._lock:
            self._bulk_failure = summary_contains

    def settle(self) -> None:
        """Make search consistent now: every issue's current state becomes visible to search."""
        with self._lock:
            for issue_id, versions in list(self._index.items()):
                latest = versions[-1][1]
                if latest is None:
                    del self._index[issue_id]
                else:
                    self._index[issue_id] = [(float("-inf"), latest)]

    def requests_to(self, path_contains: str, method: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [
                r
                for r in self.requests
                if path_contains in r.path and (method is None or r.method == method.upper())
            ]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- simulating a person in Jira's UI ----------------------------------------------------------------

    def issue(self, key_or_id: str) -> Issue:
        """The stored issue by key (current or former) or id; KeyError when there is none."""
        with self._lock:
            issue = self._find_issue(key_or_id)
            if issue is None:
                raise KeyError(key_or_id)
            return issue

    def transition(self, key: str, status_name: str, category: str | None = None) -> None:
        """Move to a status; category new | indeterminate | done (needed for a status not seen before)."""
        with self._lock:
            issue = self.issue(key)
            self._set_status(issue, self._status(status_name, category))
            self._touch(issue)

    def log_work(self, key: str, seconds: int, *, remaining: int | None = None) -> None:
        """Log work: timespent grows, timeestimate shrinks by as much (or is set to ``remaining``)."""
        with self._lock:
            issue = self.issue(key)
            fields = issue.fields
            fields["timespent"] = (fields.get("timespent") or 0) + seconds
            if remaining is not None:
                fields["timeestimate"] = remaining
            elif fields.get("timeestimate") is not None:
                fields["timeestimate"] = max(0, fields["timeestimate"] - seconds)
            self._touch(issue)

    def set_field(self, key: str, field_id: str, value: Any) -> None:
        """Store a canonical value as is (ids for references, datetimes for times); setting
        ``updated`` or ``created`` back-dates the issue instead of touching it."""
        with self._lock:
            issue = self.issue(key)
            issue.fields[field_id] = value
            self._touch(issue, bump=field_id not in {"updated", "created"})

    def add_comment(self, key: str, body: Any) -> Comment:
        with self._lock:
            issue = self.issue(key)
            now = self.clock()
            comment = Comment(self._next("comment"), body, now, now)
            issue.comments.append(comment)
            self._touch(issue)
            return comment

    def add_link(self, blocker: str, blocked: str, type_name: str = "Blocks") -> Link:
        """``blocker`` blocks ``blocked`` (as POST /issueLink with inwardIssue=blocker)."""
        with self._lock:
            link_type = next(t for t in self.link_types if t.name == type_name)
            return self._link(link_type, self.issue(blocker), self.issue(blocked))

    def delete_issue(self, key: str) -> None:
        """Delete an issue with its sub-tasks and links."""
        with self._lock:
            self._delete(self.issue(key))

    def move_issue(self, key: str, project_key: str) -> str:
        """Move to another project: a new key (the old one still resolves); returns the new key."""
        with self._lock:
            issue = self.issue(key)
            target = self._project(project_key)
            current_type = self.issue_types[issue.fields["issuetype"]]
            if current_type not in target.issue_types:
                raise ValueError(f"{target.key} has no issue type {current_type.name}")
            issue.old_keys.append(issue.key)
            issue.key = f"{target.key}-{target.next_number}"
            target.next_number += 1
            self._keys[issue.key] = issue.id
            issue.fields["project"] = target.id
            issue.fields["fixVersions"] = []
            self._touch(issue)
            return issue.key

    # -- HTTP entry point (called by the handler thread) -------------------------------------------------

    def _dispatch(
        self, method: str, path: str, query: dict[str, list[str]], raw: bytes, headers: Any
    ) -> Reply:
        body, body_problem = _decode_body(raw)
        record = RecordedRequest(method, path, query, body, time.monotonic(), headers=_safe_headers(headers))
        with self._lock:
            self.requests.append(record)
        if self.latency > 0:
            time.sleep(self.latency)
        reply = self._answer(method, path, query, body, body_problem, headers.get("Authorization"))
        record.status = reply.status
        return reply

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        body: Any,
        body_problem: str | None,
        authorization: str | None,
    ) -> Reply:
        with self._lock:
            fault = self._take_fault(method, path)
            if fault is not None and not fault.after_processing:
                return fault.reply()
            if self._over_rate_limit():
                return Reply(
                    429, {"errorMessages": ["Rate limit exceeded."], "errors": {}}, {"Retry-After": "1"}
                )
            try:
                route, params, api = self._match(method, path)
                user = self._authenticate(authorization, anonymous=route.anonymous)
                if body_problem:
                    raise JiraError(400, body_problem)
                reply = getattr(self, route.handler)(_Call(api, params, query, body, user))
            except JiraError as error:
                reply = error.reply()
            return fault.reply() if fault is not None else reply

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.matches(method, path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _over_rate_limit(self) -> bool:
        if self._rate_per_second is None:
            return False
        now = time.monotonic()
        while self._admitted and self._admitted[0] <= now - 1.0:
            self._admitted.popleft()
        if len(self._admitted) >= self._rate_per_second:
            return True
        self._admitted.append(now)
        return False

    def _match(self, method: str, path: str) -> tuple[_Route, dict[str, str], str]:
        allowed = set()
        for route in _ROUTES:
            match = route.pattern.match(path)
            if (
                not match
                or match["api"] not in _API_VERSIONS[self.flavour]
                or self.flavour not in route.flavours
            ):
                continue
            if route.method != method:
                allowed.add(route.method)
                continue
            params = {name: value for name, value in match.groupdict().items() if name != "api"}
            return route, params, match["api"]
        if allowed:
            raise JiraError(
                405,
                f"Method {method} is not allowed for {path}.",
                headers={"Allow": ", ".join(sorted(allowed))},
            )
        raise JiraError(404, f"No resource exists at {path}.")

    def _authenticate(self, authorization: str | None, *, anonymous: bool) -> str | None:
        if not authorization:
            if anonymous:
                return None
            raise JiraError(401, NOT_AUTHENTICATED)
        scheme, _, credentials = authorization.partition(" ")
        credentials = credentials.strip()
        if self.cloud and scheme.lower() == "basic":
            try:
                email, _, token = base64.b64decode(credentials, validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                email, token = "", ""
            if email and secrets.compare_digest(token.encode(), self.token.encode()):
                return email
        if (
            not self.cloud
            and scheme.lower() == "bearer"
            and secrets.compare_digest(credentials.encode(), self.token.encode())
        ):
            return "fake.user"
        raise JiraError(401, NOT_AUTHENTICATED)

    # -- handlers: server, user, project, metadata -------------------------------------------------------

    def _server_info(self, call: _Call) -> Reply:
        numbers = [int(part) for part in re.findall(r"\d+", self.version)[:3]]
        return Reply(
            200,
            {
                "baseUrl": self.url,
                "version": self.version,
                "versionNumbers": numbers,
                "deploymentType": self.deployment_type,
                "buildNumber": 100000 if self.cloud else 9120000,
                "buildDate": "2027-01-01T00:00:00.000+0000",
                "serverTime": format_jira_time(self.clock(), self.tz),
                "scmInfo": "fake",
                "serverTitle": "Fake Jira",
            },
        )

    def _myself(self, call: _Call) -> Reply:
        user = self._user_json(email=call.user)
        user.update({"active": True, "timeZone": self.timezone, "locale": "en_US"})
        return Reply(200, user)

    def _get_project(self, call: _Call) -> Reply:
        project = self._project_or_404(call.params["project"])
        body = self._project_json(project)
        body["issueTypes"] = [self._issue_type_json(t) for t in project.issue_types]
        body["versions"] = [self._version_json(v) for v in self._project_versions(project)]
        return Reply(200, body)

    def _get_versions(self, call: _Call) -> Reply:
        project = self._project_or_404(call.params["project"])
        return Reply(200, [self._version_json(v) for v in self._project_versions(project)])

    def _create_version(self, call: _Call) -> Reply:
        body = call.object()
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise JiraError(400, errors={"name": "You must specify a valid version name"})
        reference = body.get("projectId", body.get("project"))
        if reference is None:
            raise JiraError(400, errors={"projectId": "You must specify a valid project."})
        project = self._project_or_404(str(reference))
        release_date = body.get("releaseDate")
        if release_date is not None and not _is_date(release_date):
            raise JiraError(400, errors={"releaseDate": f"Error parsing date string: {release_date}"})
        if any(v.name.lower() == name.strip().lower() for v in self._project_versions(project)):
            raise JiraError(400, errors={"name": "A version with this name already exists in this project."})
        version = Version(
            self._next("version"),
            name.strip(),
            project.id,
            str(body.get("description") or ""),
            release_date,
            bool(body.get("released", False)),
            bool(body.get("archived", False)),
        )
        self.versions[version.id] = version
        return Reply(201, self._version_json(version))

    def _my_permissions(self, call: _Call) -> Reply:
        project_key = call.arg("projectKey")
        if project_key:
            self._project_or_404(project_key)
        wanted = call.args("permissions")
        if not wanted:
            if self.cloud:
                raise JiraError(400, "The 'permissions' query parameter is required.")
            wanted = list(dict.fromkeys([*KNOWN_PERMISSIONS, *self.permissions]))
        permissions = {
            key: {
                "id": str(number),
                "key": key,
                "name": key.replace("_", " ").title(),
                "type": "PROJECT",
                "description": "",
                "havePermission": bool(self.permissions.get(key, False)),
            }
            for number, key in enumerate(wanted, start=1)
        }
        return Reply(200, {"permissions": permissions})

    def _get_fields(self, call: _Call) -> Reply:
        return Reply(200, [self._field_json(definition) for definition in self.fields.values()])

    def _get_link_types(self, call: _Call) -> Reply:
        return Reply(200, {"issueLinkTypes": [self._link_type_json(t) for t in self.link_types]})

    # -- handlers: issues --------------------------------------------------------------------------------

    def _create_issue(self, call: _Call) -> Reply:
        self._require_create_permission()
        prepared = self._prepare(call.body, call.api)
        if isinstance(prepared, _Rejected):
            raise JiraError(400, prepared.messages, prepared.errors)
        return Reply(201, self._created_json(self._materialise(prepared), call.api))

    def _create_bulk(self, call: _Call) -> Reply:
        updates = call.object().get("issueUpdates")
        if not isinstance(updates, list):
            raise JiraError(400, "The request must contain a list of issueUpdates.")
        if len(updates) > MAX_BULK:
            raise JiraError(
                400,
                f"The number of issues to create ({len(updates)}) exceeds the maximum of {MAX_BULK} "
                "per request.",
            )
        self._require_create_permission()
        # Jira validates every element before creating any: an element cannot refer to another one.
        prepared = [self._prepare(update, call.api) for update in updates]
        issues, errors = [], []
        for number, element in enumerate(prepared):
            if isinstance(element, _Rejected):
                element_errors = {"errorMessages": element.messages, "errors": element.errors}
                errors.append({"status": 400, "elementErrors": element_errors, "failedElementNumber": number})
            else:
                issues.append(self._created_json(self._materialise(element), call.api))
        return Reply(201 if issues or not updates else 400, {"issues": issues, "errors": errors})

    def _get_issue(self, call: _Call) -> Reply:
        issue = self._issue_or_404(call.params["issue"])
        spec = _FieldSpec.parse(call.query.get("fields", []), "*all")
        return Reply(200, self._issue_json(issue, spec, call.api))

    def _update_issue(self, call: _Call) -> Reply:
        issue = self._issue_or_404(call.params["issue"])
        body = call.object()
        fields, update = body.get("fields") or {}, body.get("update") or {}
        if not isinstance(fields, dict) or not isinstance(update, dict):
            raise JiraError(400, "'fields' and 'update' must be JSON objects.")
        project = self.projects[self._project_key_of(issue)]
        issue_type = self.issue_types[issue.fields["issuetype"]]
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        for field_id, raw in fields.items():
            self._collect(field_id, raw, project, call.api, values, errors, creating=False)
        for field_id, operations in update.items():
            self._collect_update(issue, field_id, operations, project, call.api, values, errors)
        if "parent" in values:
            self._check_parent(issue_type, values, errors, child=issue)
        if errors:
            raise JiraError(400, errors=errors)
        self._apply(issue.fields, values, creating=False)
        self._touch(issue)
        return Reply(204)

    def _delete_issue(self, call: _Call) -> Reply:
        issue = self._issue_or_404(call.params["issue"])
        if self._subtasks(issue) and call.arg("deleteSubtasks") != "true":
            raise JiraError(
                400, f"The issue '{issue.key}' has subtasks. Set 'deleteSubtasks' to delete them too."
            )
        self._delete(issue)
        return Reply(204)

    def _get_comments(self, call: _Call) -> Reply:
        issue = self._issue_or_404(call.params["issue"])
        start = max(0, _integer(call.arg("startAt"), "startAt", 0))
        limit = min(max(0, _integer(call.arg("maxResults"), "maxResults", 50)), 5000)
        page = issue.comments[start : start + limit]
        return Reply(
            200,
            {
                "startAt": start,
                "maxResults": limit,
                "total": len(issue.comments),
                "comments": [self._comment_json(issue, c, call.api) for c in page],
            },
        )

    def _create_comment(self, call: _Call) -> Reply:
        issue = self._issue_or_404(call.params["issue"])
        body = self._comment_body(call)
        now = self.clock()
        comment = Comment(self._next("comment"), body, now, now)
        issue.comments.append(comment)
        self._touch(issue)
        return Reply(201, self._comment_json(issue, comment, call.api))

    def _update_comment(self, call: _Call) -> Reply:
        issue = self._issue_or_404(call.params["issue"])
        comment = next((c for c in issue.comments if c.id == call.params["comment"]), None)
        if comment is None:
            raise JiraError(404, f"Can not find a comment for the id: {call.params['comment']}.")
        comment.body = self._comment_body(call)
        comment.updated = self.clock()
        self._touch(issue)
        return Reply(200, self._comment_json(issue, comment, call.api))

    def _get_transitions(self, call: _Call) -> Reply:
        self._issue_or_404(call.params["issue"])
        transitions = [
            {"id": s.transition_id, "name": s.name, "to": self._status_json(s.name), "hasScreen": False}
            for s in self.statuses.values()
        ]
        return Reply(200, {"expand": "transitions", "transitions": transitions})

    def _do_transition(self, call: _Call) -> Reply:
        issue = self._issue_or_404(call.params["issue"])
        transition = call.object().get("transition")
        wanted = str(transition.get("id")) if isinstance(transition, dict) else None
        status = next((s for s in self.statuses.values() if s.transition_id == wanted), None)
        if status is None:
            raise JiraError(400, f"Transition id '{wanted}' is not valid for this issue.")
        self._set_status(issue, status)
        self._touch(issue)
        return Reply(204)

    # -- handlers: links ---------------------------------------------------------------------------------

    def _create_link(self, call: _Call) -> Reply:
        body = call.object()
        reference = body.get("type") if isinstance(body.get("type"), dict) else {}
        link_type = next(
            (
                t
                for t in self.link_types
                if t.name == reference.get("name") or t.id == str(reference.get("id"))
            ),
            None,
        )
        if link_type is None:
            raise JiraError(404, f"No issue link type with name '{reference.get('name')}' found.")
        ends = []
        for side in ("inwardIssue", "outwardIssue"):
            reference = body.get(side) if isinstance(body.get(side), dict) else {}
            issue = self._find_issue(str(reference.get("key") or reference.get("id") or ""))
            if issue is None:
                raise JiraError(404, "Issue Does Not Exist")
            ends.append(issue)
        self._link(link_type, ends[0], ends[1])
        return Reply(201)

    def _delete_link(self, call: _Call) -> Reply:
        link = self.links.pop(call.params["link"], None)
        if link is None:
            raise JiraError(404, f"No issue link with id '{call.params['link']}' exists.")
        for issue_id in (link.inward_id, link.outward_id):
            issue = self.issues.get(issue_id)
            if issue is not None:
                issue.fields["issuelinks"] = [e for e in issue.fields["issuelinks"] if e["id"] != link.id]
                self._touch(issue)
        return Reply(204)

    # -- handlers: search --------------------------------------------------------------------------------

    def _search_offset(self, call: _Call) -> Reply:
        """Data Center's /search (startAt, total); on Cloud the endpoint is gone (410)."""
        if self.cloud:
            raise JiraError(410, SEARCH_REMOVED)
        params = self._search_params(call, _SEARCH_OFFSET_KEYS)
        jql = str(params.get("jql") or "")
        start = max(0, _integer(params.get("startAt"), "startAt", 0))
        limit = min(max(0, _integer(params.get("maxResults"), "maxResults", 50)), self.search_max_results)
        spec = _FieldSpec.parse(_as_list(params.get("fields")), "*navigable")
        matches = self._run_jql(jql, reconcile=set())
        issues = [self._issue_json(issue, spec, call.api) for issue in matches[start : start + limit]]
        return Reply(
            200,
            {
                "expand": "schema,names",
                "startAt": start,
                "maxResults": limit,
                "total": len(matches),
                "issues": issues,
            },
        )

    def _search_token(self, call: _Call) -> Reply:
        """Cloud's /search/jql: nextPageToken pagination, no total, ids only unless fields are asked for."""
        params = self._search_params(call, _SEARCH_TOKEN_KEYS)
        jql = str(params.get("jql") or "")
        spec = _FieldSpec.parse(_as_list(params.get("fields")), "id")
        cap = 5000 if spec.ids_only else 100
        limit = min(max(1, _integer(params.get("maxResults"), "maxResults", 50)), cap)
        reconcile = self._reconcile_ids(params.get("reconcileIssues"))
        offset = 0
        token = params.get("nextPageToken")
        if token:
            stored = self._page_tokens.get(str(token))
            if stored is None or stored[0] != jql:
                raise JiraError(400, "The provided next page token is invalid or expired.")
            offset = stored[1]
        if parse_jql_or_400(jql).where is None:
            raise JiraError(400, UNBOUNDED_JQL)
        matches = self._run_jql(jql, reconcile)
        page = matches[offset : offset + limit]
        body: dict[str, Any] = {"issues": [self._search_issue_json(issue, spec, call.api) for issue in page]}
        if offset + limit < len(matches):
            next_token = secrets.token_urlsafe(24)
            self._page_tokens[next_token] = (jql, offset + limit)
            body["nextPageToken"] = next_token
        body["isLast"] = "nextPageToken" not in body
        return Reply(200, body)

    def _search_params(self, call: _Call, allowed: frozenset[str]) -> dict[str, Any]:
        if call.body is None:
            params: dict[str, Any] = {name: values[0] for name, values in call.query.items() if values}
            for name in ("fields", "reconcileIssues"):
                if name in call.query:
                    params[name] = call.args(name)
            return params
        body = call.object()
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise JiraError(400, f'Unrecognized field "{unknown[0]}", not marked as ignorable.')
        return body

    def _reconcile_ids(self, raw: Any) -> set[str]:
        if raw is None:
            return set()
        values = raw if isinstance(raw, list) else [raw]
        if len(values) > MAX_RECONCILE:
            raise JiraError(400, f"The number of issues to reconcile cannot exceed {MAX_RECONCILE}.")
        if not all((isinstance(v, int) and not isinstance(v, bool)) or str(v).isdigit() for v in values):
            raise JiraError(400, "reconcileIssues must be a list of issue ids (numbers).")
        return {str(v) for v in values}

    def _run_jql(self, jql: str, reconcile: set[str]) -> list[Issue]:
        query = parse_jql_or_400(jql)
        try:
            predicate, sort = compile_jql(query, self._jql_env())
            return sort([issue for issue in self._search_views(reconcile) if predicate(issue)])
        except JqlError as error:
            raise JiraError(400, str(error)) from error

    def _search_views(self, reconcile: set[str]) -> Iterator[Issue]:
        """What search sees: each issue as it was ``consistency_lag`` seconds ago (current if reconciled)."""
        horizon = time.monotonic() - self.consistency_lag
        for issue_id, versions in self._index.items():
            if issue_id in reconcile:
                view = self.issues.get(issue_id)
            else:
                view = next((state for stamp, state in reversed(versions) if stamp <= horizon), None)
            if view is not None:
                yield view

    def _jql_env(self) -> JqlEnv:
        def project_id(value: str) -> str | None:
            project = self._find_project(value)
            return project.id if project else None

        def issue_type_ids(value: str) -> set[str]:
            return {t.id for t in self.issue_types.values() if value.lower() in {t.name.lower(), t.id}}

        def issue_id(value: str) -> str | None:
            issue = self._find_issue(value)
            return issue.id if issue else None

        def status_name(value: str) -> str | None:
            status = self.statuses.get(value.lower()) or next(
                (s for s in self.statuses.values() if s.id == value), None
            )
            return status.name.lower() if status else None

        def status_category(name: str) -> str:
            status = self.statuses.get(name.lower())
            return status.category if status else "new"

        def version_ids(value: str) -> set[str]:
            return {v.id for v in self.versions.values() if value in {v.id, v.name}}

        def custom_kind(field_id: str) -> str | None:
            definition = self.fields.get(field_id)
            return definition.kind if definition and definition.custom else None

        return JqlEnv(
            self.clock(), self.tz, project_id, issue_type_ids, issue_id, status_name, status_category,
            version_ids, custom_kind,
        )  # fmt: skip

    # -- validation and creation -------------------------------------------------------------------------

    def _require_create_permission(self) -> None:
        if not self.permissions.get("CREATE_ISSUES", False):
            raise JiraError(403, "You do not have permission to create issues in this project.")

    def _prepare(self, element: Any, api: str, *, inject: bool = True) -> _Prepared | _Rejected:
        """Validate one issue to create, as Jira does, collecting every field error."""
        if not isinstance(element, dict) or not isinstance(element.get("fields"), dict):
            return _Rejected(["An issue to create needs a 'fields' object."], {})
        if element.get("update"):
            return _Rejected(
                ["The fake Jira does not support 'update' when creating issues; use 'fields'."], {}
            )
        fields = element["fields"]
        errors: dict[str, str] = {}
        project = self._project_from(fields.get("project"))
        if project is None:
            errors["project"] = "Specify a valid project ID or key"
        issue_type = self._issue_type_from(project, fields.get("issuetype")) if project else None
        if project is not None and issue_type is None:
            errors["issuetype"] = "Specify a valid issue type"
        values: dict[str, Any] = {}
        for field_id, raw in fields.items():
            if field_id not in {"project", "issuetype"}:
                self._collect(field_id, raw, project, api, values, errors, creating=True)
        if not values.get("summary") and "summary" not in errors:
            errors["summary"] = "You must specify a summary of the issue."
        if issue_type is not None:
            self._check_parent(issue_type, values, errors)
            self._check_epic_name(issue_type, values, errors)
        if inject and self._bulk_failure and self._bulk_failure in str(values.get("summary", "")):
            errors["summary"] = f"Injected failure: the summary contains '{self._bulk_failure}'."
        if errors or project is None or issue_type is None:
            return _Rejected([], errors)
        return _Prepared(project, issue_type, values)

    def _collect(
        self,
        field_id: str,
        raw: Any,
        project: Project | None,
        api: str,
        values: dict[str, Any],
        errors: dict[str, str],
        *,
        creating: bool,
    ) -> None:
        definition = self.fields.get(field_id)
        if definition is None or not definition.settable or (not creating and definition.kind == "fixed"):
            errors[field_id] = (
                f"Field '{field_id}' cannot be set. It is not on the appropriate screen, or unknown."
            )
            return
        try:
            values[field_id] = self._coerce(definition, raw, project, api)
        except _FieldProblem as problem:
            errors[field_id] = str(problem)

    def _collect_update(
        self,
        issue: Issue,
        field_id: str,
        operations: Any,
        project: Project,
        api: str,
        values: dict[str, Any],
        errors: dict[str, str],
    ) -> None:
        """PUT's ``update``: [{"set": v}] for any field; "add"/"remove" for labels and fixVersions."""
        definition = self.fields.get(field_id)
        if not isinstance(operations, list) or definition is None or not definition.settable:
            errors[field_id] = (
                f"Field '{field_id}' cannot be set. It is not on the appropriate screen, or unknown."
            )
            return
        current = list(values.get(field_id, issue.fields.get(field_id) or []))
        for operation in operations:
            if not isinstance(operation, dict) or len(operation) != 1:
                errors[field_id] = (
                    "Each update operation must be an object with one verb: set, add or remove."
                )
                return
            verb, argument = next(iter(operation.items()))
            if verb == "set":
                self._collect(field_id, argument, project, api, values, errors, creating=False)
                if field_id in errors:
                    return
                if isinstance(values[field_id], list):
                    current = list(values[field_id])
                continue
            if verb not in {"add", "remove"} or definition.kind not in {"labels", "versions"}:
                errors[field_id] = f"Field '{field_id}' does not support the operation '{verb}'."
                return
            try:
                [item] = self._coerce(definition, [argument], project, api)
            except _FieldProblem as problem:
                errors[field_id] = str(problem)
                return
            if verb == "add" and item not in current:
                current.append(item)
            elif verb == "remove" and item in current:
                current.remove(item)
            values[field_id] = current

    def _coerce(self, definition: FieldDef, raw: Any, project: Project | None, api: str) -> Any:
        """The canonical value of one field, or :class:`_FieldProblem` with Jira's message."""
        kind = definition.kind
        if kind == "summary":
            if not isinstance(raw, str) or not raw.strip():
                raise _FieldProblem("You must specify a summary of the issue.")
            if "\n" in raw or "\r" in raw:
                raise _FieldProblem("The summary is invalid because it contains newline characters.")
            if len(raw) > 255:
                raise _FieldProblem("Summary must be less than 255 characters.")
            return raw
        if raw is None:
            return [] if kind in {"labels", "versions"} else {} if kind == "timetracking" else None
        if kind == "description":
            if api == "3" and not is_adf(raw):
                raise _FieldProblem(
                    "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
                )
            if api != "3" and not isinstance(raw, str):
                raise _FieldProblem("Operation value must be a string")
            return raw
        if kind == "labels":
            if not isinstance(raw, list) or not all(isinstance(label, str) and label for label in raw):
                raise _FieldProblem("Labels must be a list of non-empty strings.")
            for label in raw:
                if any(c.isspace() for c in label):
                    raise _FieldProblem(f"The label '{label}' contains spaces which is invalid.")
                if len(label) > 255:
                    raise _FieldProblem("The label must not exceed 255 characters.")
            return list(dict.fromkeys(raw))
        if kind == "date":
            if not _is_date(raw):
                raise _FieldProblem(f"Error parsing date string: {raw}")
            return raw
        if kind == "datetime":
            if not isinstance(raw, str) or not re.fullmatch(
                r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d{4}|Z)?", raw
            ):
                raise _FieldProblem(f"Error parsing time string: {raw}")
            return raw
        if kind == "number":
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise _FieldProblem("Operation value must be a number")
            return raw
        if kind == "string":
            if not isinstance(raw, str):
                raise _FieldProblem("Operation value must be a string")
            return raw
        if kind == "versions":
            return self._coerce_versions(raw, project)
        if kind == "timetracking":
            return self._coerce_timetracking(raw)
        if kind == "parent":
            reference = raw if isinstance(raw, dict) else {}
            parent = self._find_issue(str(reference.get("key") or reference.get("id") or ""))
            if parent is None:
                raise _FieldProblem("Could not find issue by id or key.")
            return parent.id
        if kind == "epiclink":
            epic = self._find_issue(str(raw))
            if epic is None or self.issue_types[epic.fields["issuetype"]].name != "Epic":
                raise _FieldProblem(f"The issue key '{raw}' for field 'Epic Link' is invalid.")
            return epic.id
        raise _FieldProblem(
            f"Field '{definition.id}' cannot be set. It is not on the appropriate screen, or unknown."
        )

    def _coerce_versions(self, raw: Any, project: Project | None) -> list[str]:
        if not isinstance(raw, list):
            raise _FieldProblem("Fix versions must be a list of versions.")
        available = self._project_versions(project) if project else []
        ids = []
        for reference in raw:
            if not isinstance(reference, dict) or not (reference.get("id") or reference.get("name")):
                raise _FieldProblem("Could not find valid 'id' or 'name' in version object.")
            if reference.get("id") is not None:
                found = next((v for v in available if v.id == str(reference["id"])), None)
                if found is None:
                    raise _FieldProblem(f"Version id '{reference['id']}' is not valid")
            else:
                found = next((v for v in available if v.name == reference["name"]), None)
                if found is None:
                    raise _FieldProblem(f"Version name '{reference['name']}' is not valid")
            ids.append(found.id)
        return list(dict.fromkeys(ids))

    def _coerce_timetracking(self, raw: Any) -> dict[str, int]:
        if not isinstance(raw, dict):
            raise _FieldProblem(
                "Time tracking must be an object with originalEstimate and/or remainingEstimate."
            )
        result = {}
        for name, label in (("originalEstimate", "original"), ("remainingEstimate", "remaining")):
            if raw.get(name) is None:
                continue
            seconds = parse_duration(raw[name], self.hours_per_day, self.days_per_week)
            if seconds is None:
                raise _FieldProblem(f"The {label} estimate specified is not valid.")
            result[label] = seconds
        return result

    def _check_parent(
        self,
        issue_type: IssueType,
        values: dict[str, Any],
        errors: dict[str, str],
        child: Issue | None = None,
    ) -> None:
        """Sub-tasks need a standard parent; on Cloud a standard issue's parent is an Epic (one level up)."""
        parent_id = values.get("parent")
        if "parent" in errors:
            return
        if parent_id is None:
            if issue_type.subtask and child is None:
                errors["parent"] = "Issue type is a sub-task but parent issue key or id not specified."
            return
        if not issue_type.subtask and not self.cloud:
            errors["parent"] = (
                "Field 'parent' cannot be set. It is not on the appropriate screen, or unknown."
            )
            return
        parent = self.issues[parent_id]
        if child is not None and parent.id == child.id:
            errors["parent"] = "An issue cannot be its own parent."
        elif self.issue_types[parent.fields["issuetype"]].hierarchy_level != issue_type.hierarchy_level + 1:
            errors["parent"] = "Given parent work item does not belong to appropriate hierarchy."

    def _check_epic_name(self, issue_type: IssueType, values: dict[str, Any], errors: dict[str, str]) -> None:
        if self.cloud or issue_type.name != "Epic":
            return
        for definition in self.fields.values():
            if definition.schema.get("custom") == EPIC_NAME and not values.get(definition.id):
                errors.setdefault(definition.id, "Epic Name is required.")

    def _materialise(self, prepared: _Prepared, at: datetime | None = None) -> Issue:
        project = prepared.project
        now = at or self.clock()
        fields: dict[str, Any] = {
            "summary": "",
            "description": None,
            "issuetype": prepared.issue_type.id,
            "project": project.id,
            "labels": [],
            "duedate": None,
            "fixVersions": [],
            "timeoriginalestimate": None,
            "timeestimate": None,
            "timespent": None,
            "status": "To Do",
            "resolutiondate": None,
            "created": now,
            "updated": now,
            "parent": None,
            "issuelinks": [],
        }
        self._apply(fields, prepared.values, creating=True)
        issue = Issue(self._next("issue"), f"{project.key}-{project.next_number}", fields)
        project.next_number += 1
        self.issues[issue.id] = issue
        self._keys[issue.key] = issue.id
        self._remember(issue)
        return issue

    def _apply(self, fields: dict[str, Any], values: dict[str, Any], *, creating: bool) -> None:
        for field_id, value in values.items():
            if field_id != "timetracking":
                fields[field_id] = value
                continue
            if "original" in value:
                fields["timeoriginalestimate"] = value["original"]
                if "remaining" not in value and (creating or not fields.get("timespent")):
                    fields["timeestimate"] = value["original"]
            if "remaining" in value:
                fields["timeestimate"] = value["remaining"]

    # -- state changes -----------------------------------------------------------------------------------

    def _touch(self, issue: Issue, *, bump: bool = True) -> None:
        if bump:
            issue.fields["updated"] = self.clock()
        self._remember(issue)

    def _remember(self, issue: Issue, *, deleted: bool = False) -> None:
        """Record the issue's state for search, which sees it only ``consistency_lag`` seconds later."""
        now = time.monotonic()
        snapshot = (
            None
            if deleted
            else Issue(issue.id, issue.key, copy.deepcopy(issue.fields), [], list(issue.old_keys))
        )
        versions = self._index.setdefault(issue.id, [])
        versions.append((now, snapshot))
        horizon = now - max(self.consistency_lag, 10.0)
        settled = [number for number, (stamp, _) in enumerate(versions) if stamp <= horizon]
        if settled:
            del versions[: settled[-1]]

    def _status(self, name: str, category: str | None) -> Status:
        status = self.statuses.get(name.lower())
        if status is None:
            if category not in STATUS_CATEGORIES:
                raise ValueError(f"a new status needs a category: one of {sorted(STATUS_CATEGORIES)}")
            status = Status(self._next("status"), name, category, self._next("transition"))
            self.statuses[name.lower()] = status
        elif category is not None and category != status.category:
            raise ValueError(f"status {status.name} has category {status.category}, not {category}")
        return status

    def _set_status(self, issue: Issue, status: Status) -> None:
        was_done = self.statuses[issue.fields["status"].lower()].category == "done"
        issue.fields["status"] = status.name
        if status.category == "done" and not was_done:
            issue.fields["resolutiondate"] = self.clock()
        elif status.category != "done":
            issue.fields["resolutiondate"] = None

    def _link(self, link_type: LinkType, inward: Issue, outward: Issue) -> Link:
        for link in self.links.values():
            if (link.type_id, link.inward_id, link.outward_id) == (link_type.id, inward.id, outward.id):
                return link
        link = Link(self._next("link"), link_type.id, inward.id, outward.id)
        self.links[link.id] = link
        # Read back, the issue POSTed as inwardIssue shows the link outward ("blocks" the other one).
        inward.fields["issuelinks"].append({"id": link.id, "type": link_type.id, "outward": outward.id})
        outward.fields["issuelinks"].append({"id": link.id, "type": link_type.id, "inward": inward.id})
        self._touch(inward)
        self._touch(outward)
        return link

    def _delete(self, issue: Issue) -> None:
        for subtask in self._subtasks(issue):
            self._delete(subtask)
        for link in [link for link in self.links.values() if issue.id in {link.inward_id, link.outward_id}]:
            del self.links[link.id]
            other = self.issues.get(link.outward_id if link.inward_id == issue.id else link.inward_id)
            if other is not None and other is not issue:
                other.fields["issuelinks"] = [e for e in other.fields["issuelinks"] if e["id"] != link.id]
                self._touch(other, bump=False)
        del self.issues[issue.id]
        for key in [issue.key, *issue.old_keys]:
            self._keys.pop(key, None)
        self._remember(issue, deleted=True)

    # -- lookups -----------------------------------------------------------------------------------------

    def _next(self, counter: str) -> str:
        return str(next(self._counters[counter]))

    def _find_project(self, reference: str) -> Project | None:
        wanted = reference.strip()
        project = self.projects.get(wanted.upper())
        if project is None:
            project = next((p for p in self.projects.values() if wanted in {p.id, p.name}), None)
        return project

    def _project(self, reference: str) -> Project:
        project = self._find_project(reference)
        if project is None:
            raise KeyError(f"no project {reference}")
        return project

    def _project_or_404(self, reference: str) -> Project:
        project = self._find_project(reference)
        if project is None:
            raise JiraError(404, f"No project could be found with key '{reference}'.")
        return project

    def _project_from(self, reference: Any) -> Project | None:
        if not isinstance(reference, dict):
            return None
        if reference.get("id") is not None:
            return next((p for p in self.projects.values() if p.id == str(reference["id"])), None)
        key = reference.get("key")
        return self.projects.get(key.upper()) if isinstance(key, str) else None

    def _issue_type_from(self, project: Project, reference: Any) -> IssueType | None:
        if not isinstance(reference, dict):
            return None
        if reference.get("id") is not None:
            return next((t for t in project.issue_types if t.id == str(reference["id"])), None)
        name = str(reference.get("name") or "").lower()
        return next((t for t in project.issue_types if t.name.lower() == name), None)

    def _project_versions(self, project: Project) -> list[Version]:
        return [v for v in self.versions.values() if v.project_id == project.id]

    def _project_key_of(self, issue: Issue) -> str:
        return next(p.key for p in self.projects.values() if p.id == issue.fields["project"])

    def _find_issue(self, reference: str) -> Issue | None:
        wanted = reference.strip()
        if wanted.isdigit():
            return self.issues.get(wanted)
        issue_id = self._keys.get(wanted.upper())
        return self.issues.get(issue_id) if issue_id else None

    def _issue_or_404(self, reference: str) -> Issue:
        issue = self._find_issue(reference)
        if issue is None:
            raise JiraError(404, ISSUE_NOT_FOUND)
        return issue

    def _subtasks(self, issue: Issue) -> list[Issue]:
        return [
            other
            for other in self.issues.values()
            if other.fields.get("parent") == issue.id and self.issue_types[other.fields["issuetype"]].subtask
        ]

    def _comment_body(self, call: _Call) -> Any:
        body = call.object().get("body")
        if body is None or body == "" or (is_adf(body) and not adf_to_text(body).strip()):
            raise JiraError(400, errors={"comment": "Comment body can not be empty!"})
        if call.api == "3" and not is_adf(body):
            raise JiraError(400, errors={"comment": "Comment body must be an Atlassian Document."})
        if call.api != "3" and not isinstance(body, str):
            raise JiraError(400, errors={"comment": "Comment body must be a string."})
        return body

    # -- rendering ---------------------------------------------------------------------------------------

    def _api_url(self, api: str, path: str) -> str:
        return f"{self.url}/rest/api/{api}/{path}"

    def _user_json(self, email: str | None = None) -> dict[str, Any]:
        if self.cloud:
            return {
                "self": self._api_url("3", "user?accountId=557058:fake-user"),
                "accountId": "557058:fake-user",
                "accountType": "atlassian",
                "emailAddress": email or "fake.user@example.com",
                "displayName": "Fake User",
            }
        return {
            "self": self._api_url("2", "user?username=fake.user"),
            "name": "fake.user",
            "key": "JIRAUSER10000",
            "emailAddress": "fake.user@example.com",
            "displayName": "Fake User",
        }

    def _project_json(self, project: Project) -> dict[str, Any]:
        return {
            "self": self._api_url("2", f"project/{project.id}"),
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "projectTypeKey": project.project_type_key,
        }

    def _issue_type_json(self, issue_type: IssueType) -> dict[str, Any]:
        return {
            "self": self._api_url("2", f"issuetype/{issue_type.id}"),
            "id": issue_type.id,
            "name": issue_type.name,
            "subtask": issue_type.subtask,
            "hierarchyLevel": issue_type.hierarchy_level,
        }

    def _version_json(self, version: Version) -> dict[str, Any]:
        body = {
            "self": self._api_url("2", f"version/{version.id}"),
            "id": version.id,
            "name": version.name,
            "description": version.description,
            "archived": version.archived,
            "released": version.released,
            "projectId": int(version.project_id),
        }
        if version.release_date:
            body["releaseDate"] = version.release_date
        return body

    def _status_json(self, name: str) -> dict[str, Any]:
        status = self.statuses[name.lower()]
        return {
            "self": self._api_url("2", f"status/{status.id}"),
            "id": status.id,
            "name": status.name,
            "statusCategory": dict(STATUS_CATEGORIES[status.category]),
        }

    def _link_type_json(self, link_type: LinkType) -> dict[str, Any]:
        return {
            "id": link_type.id,
            "name": link_type.name,
            "inward": link_type.inward,
            "outward": link_type.outward,
            "self": self._api_url("2", f"issueLinkType/{link_type.id}"),
        }

    def _field_json(self, definition: FieldDef) -> dict[str, Any]:
        clause_names = [definition.id]
        if definition.custom:
            clause_names = [f"cf[{definition.id.removeprefix('customfield_')}]", definition.name]
        return {
            "id": definition.id,
            "key": definition.id,
            "name": definition.name,
            "custom": definition.custom,
            "orderable": definition.settable,
            "navigable": definition.navigable,
            "searchable": True,
            "clauseNames": clause_names,
            "schema": definition.schema,
        }

    def _created_json(self, issue: Issue, api: str) -> dict[str, Any]:
        return {"id": issue.id, "key": issue.key, "self": self._api_url(api, f"issue/{issue.id}")}

    def _issue_ref(self, issue_id: str, api: str) -> dict[str, Any]:
        other = self.issues.get(issue_id)
        if other is None:
            versions = self._index.get(issue_id) or []
            known = next((state for _, state in reversed(versions) if state is not None), None)
            return {
                "id": issue_id,
                "key": known.key if known else None,
                "self": self._api_url(api, f"issue/{issue_id}"),
            }
        return {
            "id": other.id,
            "key": other.key,
            "self": self._api_url(api, f"issue/{other.id}"),
            "fields": {
                "summary": other.fields["summary"],
                "status": self._status_json(other.fields["status"]),
                "issuetype": self._issue_type_json(self.issue_types[other.fields["issuetype"]]),
            },
        }

    def _issue_json(self, issue: Issue, spec: _FieldSpec, api: str) -> dict[str, Any]:
        return {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": issue.id,
            "self": self._api_url(api, f"issue/{issue.id}"),
            "key": issue.key,
            "fields": self._fields_json(issue, spec, api),
        }

    def _search_issue_json(self, issue: Issue, spec: _FieldSpec, api: str) -> dict[str, Any]:
        if spec.ids_only:
            return {"id": issue.id}
        return self._issue_json(issue, spec, api)

    def _fields_json(self, issue: Issue, spec: _FieldSpec, api: str) -> dict[str, Any]:
        result = {}
        for definition in [*self.fields.values(), _COMMENT_FIELD]:
            if not spec.wants(definition) or (definition.id == "parent" and not issue.fields.get("parent")):
                continue
            result[definition.id] = self._field_value(issue, definition, api)
        return result

    def _field_value(self, issue: Issue, definition: FieldDef, api: str) -> Any:
        values = issue.fields
        field_id = definition.id
        match field_id:
            case "description":
                return _rich_text_for(values.get("description"), api)
            case "issuetype":
                return self._issue_type_json(self.issue_types[values["issuetype"]])
            case "project":
                return self._project_json(
                    next(p for p in self.projects.values() if p.id == values["project"])
                )
            case "fixVersions":
                return [
                    self._version_json(self.versions[v])
                    for v in values.get("fixVersions") or []
                    if v in self.versions
                ]
            case "status":
                return self._status_json(values["status"])
            case "resolution":
                return {"id": "10000", "name": "Done"} if values.get("resolutiondate") else None
            case "created" | "updated" | "resolutiondate":
                return format_jira_time(values.get(field_id), self.tz)
            case "aggregatetimespent" | "aggregatetimeoriginalestimate" | "aggregatetimeestimate":
                return self._aggregate(issue, field_id.removeprefix("aggregate"))
            case "timetracking":
                return self._timetracking_json(values)
            case "parent":
                return self._issue_ref(values["parent"], api)
            case "issuelinks":
                return [self._link_json(entry, api) for entry in values.get("issuelinks") or []]
            case "comment":
                comments = [self._comment_json(issue, c, api) for c in issue.comments]
                return {
                    "comments": comments,
                    "maxResults": len(comments),
                    "total": len(comments),
                    "startAt": 0,
                }
            case "labels":
                return list(values.get("labels") or [])
        value = copy.deepcopy(values.get(field_id))
        if definition.kind == "epiclink" and value is not None:
            return self._issue_ref(value, api)["key"]
        return value

    def _aggregate(self, issue: Issue, base: str) -> int | None:
        own = [issue.fields.get(base)] + [sub.fields.get(base) for sub in self._subtasks(issue)]
        present = [value for value in own if value is not None]
        return sum(present) if present else None

    def _timetracking_json(self, values: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, field_id in (
            ("originalEstimate", "timeoriginalestimate"),
            ("remainingEstimate", "timeestimate"),
            ("timeSpent", "timespent"),
        ):
            seconds = values.get(field_id)
            if seconds is not None:
                result[name] = format_duration(seconds, self.hours_per_day, self.days_per_week)
                result[f"{name}Seconds"] = seconds
        return result

    def _link_json(self, entry: dict[str, str], api: str) -> dict[str, Any]:
        link_type = next(t for t in self.link_types if t.id == entry["type"])
        body: dict[str, Any] = {
            "id": entry["id"],
            "self": self._api_url(api, f"issueLink/{entry['id']}"),
            "type": self._link_type_json(link_type),
        }
        if "outward" in entry:
            body["outwardIssue"] = self._issue_ref(entry["outward"], api)
        else:
            body["inwardIssue"] = self._issue_ref(entry["inward"], api)
        return body

    def _comment_json(self, issue: Issue, comment: Comment, api: str) -> dict[str, Any]:
        author = self._user_json()
        return {
            "self": self._api_url(api, f"issue/{issue.id}/comment/{comment.id}"),
            "id": comment.id,
            "author": author,
            "body": _rich_text_for(comment.body, api),
            "updateAuthor": author,
            "created": format_jira_time(comment.created, self.tz),
            "updated": format_jira_time(comment.updated, self.tz),
        }

    # -- the field registry ------------------------------------------------------------------------------

    def _install_fields(self) -> None:
        system = (
            ("summary", "Summary", "summary", "string", True, True),
            ("description", "Description", "description", "string", True, True),
            ("issuetype", "Issue Type", "fixed", "issuetype", True, True),
            ("project", "Project", "fixed", "project", True, True),
            ("labels", "Labels", "labels", "array", True, True),
            ("duedate", "Due date", "date", "date", True, True),
            ("fixVersions", "Fix versions", "versions", "array", True, True),
            ("timetracking", "Time tracking", "timetracking", "timetracking", True, False),
            ("timeoriginalestimate", "Original estimate", "readonly", "number", False, True),
            ("timeestimate", "Remaining Estimate", "readonly", "number", False, True),
            ("timespent", "Time Spent", "readonly", "number", False, True),
            ("aggregatetimeoriginalestimate", "Σ Original Estimate", "readonly", "number", False, True),
            ("aggregatetimeestimate", "Σ Remaining Estimate", "readonly", "number", False, True),
            ("aggregatetimespent", "Σ Time Spent", "readonly", "number", False, True),
            ("status", "Status", "readonly", "status", False, True),
            ("resolution", "Resolution", "readonly", "resolution", False, True),
            ("resolutiondate", "Resolved", "readonly", "datetime", False, True),
            ("updated", "Updated", "readonly", "datetime", False, True),
            ("created", "Created", "readonly", "datetime", False, True),
            ("parent", "Parent", "parent", "issuelink", True, True),
            ("issuelinks", "Linked Issues", "readonly", "array", False, True),
        )
        for field_id, name, kind, schema_type, settable, navigable in system:
            schema = {"type": schema_type, "system": field_id}
            if schema_type == "array":
                schema["items"] = {"labels": "string", "fixVersions": "version", "issuelinks": "issuelinks"}[
                    field_id
                ]
            self.fields[field_id] = FieldDef(field_id, name, kind, schema, False, settable, navigable)
        self._add_custom("customfield_10050", "Actual cost", "number", CUSTOM_TYPES["number"][1])
        self._add_custom("customfield_10015", "Start date", "date", CUSTOM_TYPES["date"][1])
        if not self.cloud:
            self._add_custom("customfield_10100", "Epic Link", "epiclink", EPIC_LINK)
            self._add_custom("customfield_10101", "Epic Name", "string", EPIC_NAME)

    def _add_custom(self, field_id: str, name: str, kind: str, custom_type: str) -> None:
        schema_type = {"epiclink": "any"}.get(kind) or CUSTOM_TYPES.get(kind, ("string",))[0]
        schema: dict[str, Any] = {
            "type": schema_type,
            "custom": custom_type,
            "customId": int(field_id.split("_")[1]),
        }
        if kind == "labels":
            schema["items"] = "string"
        self.fields[field_id] = FieldDef(field_id, name, kind, schema, custom=True)


_COMMENT_FIELD = FieldDef(
    "comment", "Comment", "readonly", {"type": "comments-page", "system": "comment"}, False, False, False
)


def parse_jql_or_400(jql: str) -> JqlQuery:
    try:
        return parse_jql(jql)
    except JqlError as error:
        raise JiraError(400, str(error)) from error


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d\d-\d\d", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _decode_body(raw: bytes) -> tuple[Any, str | None]:
    if not raw:
        return None, None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw, "The request body is not UTF-8."
    try:
        return json.loads(text), None
    except json.JSONDecodeError as error:
        return text, f"Unexpected character in the JSON body at line {error.lineno}, column {error.colno}."


def _safe_headers(headers: Any) -> dict[str, str]:
    """The request's headers with credentials replaced (the token never leaves the server's memory)."""
    result = {}
    for name, value in headers.items():
        if name.lower() == "authorization":
            value = f"{value.partition(' ')[0]} <redacted>"
        result[name] = value
    return result


# --------------------------------------------------------------------------------------------------------
# HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # keep-alive connections must not hold up close()

    def __init__(self, fake: FakeJira) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeJira/1.0"
    timeout = 60
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``FakeJira.requests`` instead."""

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        query = parse_qs(split.query, keep_blank_values=True)
        reply = self.server.fake._dispatch(self.command, unquote(split.path), query, raw, self.headers)
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        if payload:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.status != 204:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

"""Microsoft Project files read into a plan template: MSPDI XML directly, ``.mpp`` through MPXJ.

Outline level 1 summary tasks become phases (tasks outside any summary go to a phase named after the
project); deeper summaries are flattened into their phase. Durations, lags and work become working days
(hours / the project's hours per day), links keep their type, work resources become roles with a day
rate, assignments become effort, fixed costs and cost or material resources become costs. Ids are slugs
of the names. Whatever a template cannot hold is listed in :attr:`Imported.warnings`.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError, InputProblem
from ..template.model import CLAUSE_PATTERN, CostCategory, LinkType
from .mspdi import LINK_TYPES

SOURCE = "Microsoft Project XML"
ZERO, CENT = Decimal(0), Decimal("0.01")
KINDS = {code: kind for kind, code in LINK_TYPES.items()}
ELAPSED = {4, 6, 8, 10, 12, 20, 36, 38, 40, 42, 44, 52}  # em, eh, ed, ew, emo, e%, and estimated
PERCENT = {19, 20, 51, 52}  # LagFormat: percent of the predecessor's duration
CONSTRAINTS = {
    1: "as late as possible",
    2: "must start on",
    3: "must finish on",
    4: "start no earlier than",
    5: "start no later than",
    6: "finish no earlier than",
    7: "finish no later than",
}
WEEKDAYS = dict(zip("1234567", ("sun", "mon", "tue", "wed", "thu", "fri", "sat"), strict=True))  # DayType
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the compound file a binary .mpp is
UNASSIGNED = -65535  # an assignment's ResourceUID when no resource is assigned
_DURATION = re.compile(
    r"(-)?P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)
_CLAUSES, _DELIVERABLES = "ISO/IEC 20000-1 clauses: ", "Deliverables: "  # as the MSPDI export writes notes


@dataclass
class Imported:
    """A template's YAML data and what of the file it does not carry."""

    template: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def read_project_file(path: Path, cost_category: CostCategory = CostCategory.tools) -> Imported:
    """Read an MSPDI file, or an ``.mpp`` file through MPXJ (it needs a Java runtime)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), [InputProblem((), f"cannot read: {exc.strerror or exc}")]) from None
    if path.suffix.lower() == ".mpp" or data.startswith(OLE_MAGIC):
        data = mpp_to_mspdi(path)
    return template_from_mspdi(data, path.stem, cost_category)


def mpp_to_mspdi(path: Path) -> bytes:
    """The project file as MSPDI, converted by MPXJ in a Java virtual machine."""
    try:
        import jpype
        import mpxj  # noqa: F401  (puts the MPXJ jars on the class path)
    except ImportError:
        raise _mpp_problem(path, "the mpxj and JPype1 Python packages are not installed") from None
    if not jpype.isJVMStarted():
        try:
            jpype.startJVM()
        except Exception as exc:  # JVMNotFoundException, JVMNotSupportedException, OSError...
            raise _mpp_problem(path, f"no Java runtime was found ({exc})") from None
    from java.io import ByteArrayOutputStream
    from java.lang import Exception as JavaException
    from org.mpxj.mspdi import MSPDIWriter
    from org.mpxj.reader import UniversalProjectReader

    try:
        project = UniversalProjectReader().read(str(path))
        if project is None:
            raise InputError(str(path), [InputProblem((), "MPXJ does not recognise this file's format")])
        stream = ByteArrayOutputStream()
        MSPDIWriter().write(project, stream)
    except JavaException as exc:
        raise InputError(str(path), [InputProblem((), f"MPXJ cannot read it: {exc.getMessage()}")]) from None
    return bytes(stream.toByteArray())


def _mpp_problem(path: Path, why: str) -> InputError:
    return InputError(
        str(path),
        [
            InputProblem(
                (),
                f"reading .mpp files needs MPXJ and a Java runtime, and {why}: install Java 11 or later and "
                "`pip install mpxj JPype1`, or save the file from Project as XML (File > Save As > XML "
                "Format) and import that",
            )
        ],
    )


def template_yaml(imported: Imported, source: str) -> str:
    """The template as YAML, with what was not carried in a comment block at the top."""
    head = [f"# Imported from {source} by `iso20k-sync template import`."]
    if imported.warnings:
        head.append("# Not carried, or changed on the way (also printed when importing):")
        head += [f"#   - {w}".replace("\n", " ") for w in imported.warnings]
    body = yaml.dump(imported.template, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
    return "\n".join(head) + "\n\n" + body


def template_from_mspdi(
    data: bytes, fallback_name: str = "imported", cost_category: CostCategory = CostCategory.tools
) -> Imported:
    """Convert an MSPDI document; raise :class:`InputError` naming the elements that are malformed."""
    if re.search(rb"<!DOCTYPE", data, re.IGNORECASE):
        raise InputError(SOURCE, [InputProblem((), "a DOCTYPE declaration is not allowed in a project file")])
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        reason = re.sub(r":? line \d+, column \d+", "", str(exc))
        raise InputError(SOURCE, [InputProblem((), f"not well-formed XML ({reason})")]) from None
    for element in root.iter():
        element.tag = str(element.tag).rpartition("}")[2]
    if root.tag != "Project":
        raise InputError(
            SOURCE, [InputProblem((), f"the root element is {root.tag}; a project file's is Project")]
        )
    return _Importer(root, fallback_name, cost_category).run()


@dataclass
class _Row:
    """A task row of the file, and where it goes in the template."""

    uid: int
    name: str
    level: int
    element: ET.Element
    where: str
    summary: bool = False
    phase: int = -1
    key: str = ""


class _Importer:
    def __init__(self, root: ET.Element, fallback_name: str, cost_category: CostCategory) -> None:
        self.root = root
        self.fallback_name = fallback_name
        self.category = cost_category.value
        self.problems: list[InputProblem] = []
        self.warnings: list[str] = []
        self.tasks: dict[str, dict[str, Any]] = {}  # by id
        self.leaves: dict[int, list[int]] = defaultdict(list)  # a summary's tasks, at any depth
        self.hours_per_day = Decimal(self._int(root, "MinutesPerDay", "Project", 480) or 480) / 60

    def run(self) -> Imported:
        name = self._text(self.root, "Title") or (self._text(self.root, "Name") or "").removesuffix(".xml")
        name = name or self.fallback_name
        currency = self._text(self.root, "CurrencyCode") or ""
        if not re.fullmatch(r"[A-Z]{3}", currency):
            self.warnings.append(f"currency code {currency or 'missing'}: the template uses EUR")
            currency = "EUR"
        self._calendars()
        rows = self._rows()
        phases = self._phases(rows, name)
        tasks = {row.uid: row for row in rows if not row.summary}
        roles = self._roles(tasks)
        self._links(rows, tasks)
        self._unplaced(rows)
        if self.problems:
            raise InputError(SOURCE, self.problems)
        for phase in phases:
            phase["tasks"] = [_ordered(task) for task in phase["tasks"]]
            if not phase["tasks"]:
                self.warnings.append(f"phase {phase['name']!r} has no tasks left: left out")
        if not any(phase["tasks"] for phase in phases):
            raise InputError(SOURCE, [InputProblem((), "Tasks: no task to import")])
        template = {"id": _slug(name, "imported", set()), "name": name, "version": "1", "currency": currency}
        template |= {"roles": roles, "phases": [phase for phase in phases if phase["tasks"]]}
        return Imported(template, self.warnings)

    # --- tasks and phases ----------------------------------------------------------------------------

    def _rows(self) -> list[_Row]:
        """The task rows in outline order, without blank rows, the project summary and left-out tasks."""
        rows: list[_Row] = []
        seen: set[int] = set()
        for n, element in enumerate(self.root.findall("Tasks/Task"), start=1):
            uid = self._int(element, "UID", f"Tasks/Task[{n}]")
            if uid is None:
                self._fail(f"Tasks/Task[{n}]/UID", "missing; every task needs one")
                continue
            where = f"Tasks/Task[UID {uid}]"
            if uid in seen:
                self._fail(f"{where}/UID", f"UID {uid} is used by another task")
            seen.add(uid)
            level = self._int(element, "OutlineLevel", where, 1) or 0
            if self._flag(element, "IsNull", where) or level < 1:
                continue
            name = self._text(element, "Name") or f"Task {uid}"
            if self._text(element, "Active") == "0":
                self.warnings.append(f"task {name!r} is inactive: left out")
            elif self._flag(element, "ExternalTask", where):
                self.warnings.append(f"task {name!r} is an external task: left out")
            else:
                rows.append(_Row(uid, name, level, element, where))
        for row, after in pairwise(rows):
            row.summary = after.level > row.level
        return rows

    def _phases(self, rows: list[_Row], project: str) -> list[dict[str, Any]]:
        """Phases from the level 1 summaries, with their tasks at any depth."""
        phases: list[dict[str, Any]] = []
        phase_ids: set[str] = set()
        task_ids: set[str] = set()
        stack: list[_Row] = []  # the summaries above the row
        loose = -1  # the phase named after the project, made when a task outside any summary needs it
        for row in rows:
            while stack and stack[-1].level >= row.level:
                stack.pop()
            if stack:
                row.phase = stack[0].phase
            elif row.summary:
                row.phase = len(phases)
                phases.append({"id": _slug(row.name, "phase", phase_ids), "name": row.name})
                if notes := self._text(row.element, "Notes"):
                    phases[-1]["description"] = notes
                phases[-1]["tasks"] = []
            else:
                if loose < 0:
                    loose = len(phases)
                    phases.append({"id": _slug(project, "phase", phase_ids), "name": project, "tasks": []})
                row.phase = loose
            if row.summary:
                if stack:
                    self.warnings.append(
                        f"summary task {row.name!r} (outline level {row.level}) flattened into phase "
                        f"{stack[0].name!r}"
                    )
                if self._number(row.element, "FixedCost", row.where):
                    self.warnings.append(f"fixed cost of summary task {row.name!r} not carried")
                stack.append(row)
                continue
            row.key = _slug(row.name, "task", task_ids)
            for summary in stack:
                self.leaves[summary.uid].append(row.uid)
            self.tasks[row.key] = self._task(row)
            phases[row.phase]["tasks"].append(self.tasks[row.key])
        return phases

    def _task(self, row: _Row) -> dict[str, Any]:
        """The task, its keys in the order docs/templates.md lists them; links and effort come later."""
        element, where = row.element, row.where
        hours = self._hours(element, "Duration", where)
        days = hours / self.hours_per_day
        if self._int(element, "DurationFormat", where) in ELAPSED:
            days = hours / 24
            self.warnings.append(
                f"task {row.name!r}: elapsed duration carried as {_plain(days)} working days"
            )
        if days != days.to_integral_value():
            whole = days.to_integral_value(rounding=ROUND_CEILING)
            self.warnings.append(
                f"task {row.name!r}: duration {_plain(days)} working days rounded up to {whole}"
            )
            days = whole
        milestone = self._flag(element, "Milestone", where)
        if milestone and days:
            self.warnings.append(f"task {row.name!r} is a milestone lasting {days} days: imported as a task")
        description, clauses, deliverables = _notes(self._text(element, "Notes") or "")
        fixed = self._number(element, "FixedCost", where) / 100
        return {
            "id": row.key,
            "name": row.name,
            "description": description,
            "duration": _plain(days),
            "depends_on": [],
            "milestone": milestone and not days,
            "clauses": clauses,
            "effort": {},
            "costs": [{"category": self.category, "amount": _plain(fixed)}] if fixed else [],
            "owner": None,
            "deliverables": deliverables,
        }

    def _links(self, rows: list[_Row], tasks: dict[int, _Row]) -> None:
        """Each task's predecessors; a summary's links go to or from its tasks where that is exact: a summary
        finishes with its last task (FS, FF from it) and none of its tasks starts before it (FS, SS to it)."""
        by_uid = {row.uid: row for row in rows}
        for row in rows:
            for n, link in enumerate(row.element.findall("PredecessorLink"), start=1):
                where = f"{row.where}/PredecessorLink[{n}]"
                uid = self._int(link, "PredecessorUID", where)
                code = self._int(link, "Type", where, 1)
                if code not in KINDS:
                    self._fail(
                        f"{where}/Type", f"{code} is not a link type; expected 0 FF, 1 FS, 2 SF or 3 SS"
                    )
                    continue
                kind = KINDS[code]
                predecessor = by_uid.get(uid) if uid is not None else None
                label = f"link {predecessor.name if predecessor else uid!r} -> {row.name!r}"
                if predecessor is None or self._flag(link, "CrossProject", where):
                    self.warnings.append(
                        f"{label}: its predecessor is not among the imported tasks, not carried"
                    )
                    continue
                lag = self._lag(link, where, label)
                if predecessor.summary and kind not in (LinkType.FS, LinkType.FF):
                    self.warnings.append(f"{label}: a {kind.value} link from a summary task not carried")
                    continue
                if row.summary and kind not in (LinkType.FS, LinkType.SS):
                    self.warnings.append(f"{label}: a {kind.value} link to a summary task not carried")
                    continue
                sources = self.leaves[predecessor.uid] if predecessor.summary else [predecessor.uid]
                for target in self.leaves[row.uid] if row.summary else [row.uid]:
                    depends_on = self.tasks[tasks[target].key]["depends_on"]
                    for source in sources:
                        entry = _dependency(tasks[source].key, kind, lag)
                        if source != target and entry not in depends_on:
                            depends_on.append(entry)

    def _lag(self, link: ET.Element, where: str, label: str) -> int:
        tenths = self._int(link, "LinkLag", where, 0) or 0
        fmt = self._int(link, "LagFormat", where, 7)
        if tenths and fmt in PERCENT:
            self.warnings.append(f"{label}: a lag in percent of the predecessor's duration not carried")
            return 0
        if tenths and fmt in ELAPSED:
            self.warnings.append(f"{label}: an elapsed-time lag not carried")
            return 0
        days = Decimal(tenths) / 600 / self.hours_per_day
        whole = int(days.to_integral_value(rounding=ROUND_HALF_UP))
        if whole != days:
            self.warnings.append(f"{label}: lag of {_plain(days)} working days rounded to {whole}")
        return whole

    # --- resources and assignments -------------------------------------------------------------------

    def _roles(self, tasks: dict[int, _Row]) -> list[dict[str, Any]]:
        """Roles from the work resources; effort, and costs of the other resources, from the assignments."""
        roles: dict[int, dict[str, Any]] = {}
        others: dict[int, str] = {}  # cost and material resources
        role_ids: set[str] = set()
        for n, element in enumerate(self.root.findall("Resources/Resource"), start=1):
            uid = self._int(element, "UID", f"Resources/Resource[{n}]")
            where = f"Resources/Resource[UID {uid}]"
            name = self._text(element, "Name")
            if uid is None or name is None or self._flag(element, "IsNull", where):
                continue  # Project's unnamed resource 0
            if self._int(element, "Type", where, 1) != 1:  # 0 material, 1 work, 2 cost
                others[uid] = name
                continue
            rate = (self._number(element, "StandardRate", where) * self.hours_per_day).quantize(
                CENT, ROUND_HALF_UP
            )
            roles[uid] = {"id": _slug(name, "role", role_ids), "name": name, "day_rate": _plain(rate)}
            group = (self._text(element, "Group") or "").lower()
            if group in CostCategory.__members__ and group != CostCategory.internal:
                roles[uid]["category"] = group
            if self._number(element, "CostPerUse", where):
                self.warnings.append(f"cost per use of resource {name!r} not carried")
        if not roles:
            self.warnings.append(
                "no work resources: a role 'team' with day rate 0 added (a template needs one)"
            )
        efforts: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for n, element in enumerate(self.root.findall("Assignments/Assignment"), start=1):
            where = f"Assignments/Assignment[{n}]"
            task_uid = self._int(element, "TaskUID", where)
            resource = self._int(element, "ResourceUID", where)
            if resource not in roles and resource not in others:
                continue  # no resource (-65535), or one left out
            name = roles[resource]["name"] if resource in roles else others[resource]
            row = tasks.get(task_uid) if task_uid is not None else None
            if row is None:
                if task_uid in self.leaves:
                    self.warnings.append(f"assignment of {name!r} to a summary task not carried")
            elif resource in roles:
                efforts[row.uid][roles[resource]["id"]] += (
                    self._hours(element, "Work", where) / self.hours_per_day
                )
            elif cost := self._number(element, "Cost", where) / 100:
                item = {"category": self.category, "amount": _plain(cost), "description": name}
                self.tasks[row.key]["costs"].append(item)
        owners = {role["name"]: role["id"] for role in roles.values()}
        for row in tasks.values():
            task = self.tasks[row.key]
            effort = {role: days.quantize(CENT, ROUND_HALF_UP) for role, days in efforts[row.uid].items()}
            task["effort"] = {role: _plain(days) for role, days in effort.items() if days}
            if task["effort"] and task["milestone"]:
                self.warnings.append(
                    f"milestone {row.name!r}: its work is not carried (a milestone takes none)"
                )
                task["effort"] = {}
            task["owner"] = owners.get(self._text(row.element, "Contact") or "")
        return list(roles.values()) or [{"id": "team", "name": "Team", "day_rate": 0}]

    # --- what a template has no place for ------------------------------------------------------------

    def _unplaced(self, rows: list[_Row]) -> None:
        for row in rows:
            element, where = row.element, row.where
            constraint = self._int(element, "ConstraintType", where, 0)
            if constraint in CONSTRAINTS:
                self.warnings.append(f"task {row.name!r}: constraint {CONSTRAINTS[constraint]!r} not carried")
            if self._text(element, "Deadline"):
                self.warnings.append(f"task {row.name!r}: deadline not carried")
            if self._flag(element, "Manual", where):
                self.warnings.append(
                    f"task {row.name!r} is manually scheduled: it is scheduled automatically"
                )
            if self._int(element, "CalendarUID", where, -1) != -1:
                self.warnings.append(f"task {row.name!r}: its own calendar not carried")
        progressed = sum(
            1
            for row in rows
            if (self._int(row.element, "PercentComplete", row.where, 0) or 0) > 0
            or self._text(row.element, "ActualStart")
        )
        if progressed:
            self.warnings.append(
                f"progress (percent complete, actual dates and costs) of {progressed} task(s) not carried: "
                "a template holds the plan, not its progress"
            )
        fields = [
            self._text(f, "Alias") or self._text(f, "FieldName") or self._text(f, "FieldID") or "?"
            for f in self.root.findall("ExtendedAttributes/ExtendedAttribute")
        ]
        if fields or self.root.find(".//Task/ExtendedAttribute") is not None:
            self.warnings.append(
                f"custom fields not carried: {', '.join(fields) or 'values without definitions'}"
            )
        if self.root.find("OutlineCodes/OutlineCode") is not None:
            self.warnings.append("outline codes not carried")

    def _calendars(self) -> None:
        """The project calendar's exceptions and weekend, and the other calendars."""
        calendars = self.root.findall("Calendars/Calendar")
        uid = self._text(self.root, "CalendarUID")
        base = next((c for c in calendars if self._text(c, "UID") == uid), None)
        if base is not None:
            week = base.findall("WeekDays/WeekDay")
            exceptions = base.findall("Exceptions/Exception") or [
                d for d in week if self._text(d, "DayType") == "0"
            ]
            if exceptions:
                self.warnings.append(
                    f"{len(exceptions)} exception(s) of calendar {self._text(base, 'Name') or uid!r} "
                    "(holidays, changed working days) not carried: give days off when planning "
                    "(--country, --holiday)"
                )
            off = [
                WEEKDAYS[day]
                for d in week
                if (day := self._text(d, "DayType") or "") in WEEKDAYS and self._text(d, "DayWorking") == "0"
            ]
            if off and sorted(off) != ["sat", "sun"]:
                self.warnings.append(f"non-working days {','.join(off)}: plan with --weekend {','.join(off)}")
        others = [
            repr(self._text(c, "Name") or self._text(c, "UID"))
            for c in calendars
            if c is not base
            and (
                self._text(c, "IsBaseCalendar") in ("1", "true") or c.find("Exceptions/Exception") is not None
            )
        ]
        if others:
            self.warnings.append(f"calendars other than the project's not carried: {', '.join(others)}")

    # --- values --------------------------------------------------------------------------------------

    def _fail(self, where: str, message: str) -> None:
        self.problems.append(InputProblem((), f"{where}: {message}"))

    def _text(self, element: ET.Element, tag: str) -> str | None:
        text = element.findtext(tag)
        return text.strip() if text is not None and text.strip() else None

    def _int(self, element: ET.Element, tag: str, where: str, default: int | None = None) -> int | None:
        text = self._text(element, tag)
        if text is None:
            return default
        try:
            return int(text)
        except ValueError:
            self._fail(f"{where}/{tag}", f"{text!r} is not a whole number")
            return default

    def _number(self, element: ET.Element, tag: str, where: str) -> Decimal:
        text = self._text(element, tag) or "0"
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            self._fail(f"{where}/{tag}", f"{text!r} is not a number")
            return ZERO
        return value

    def _flag(self, element: ET.Element, tag: str, where: str) -> bool:
        text = self._text(element, tag)
        if text not in (None, "0", "1", "true", "false"):
            self._fail(f"{where}/{tag}", f"{text!r} is not a boolean; expected 0 or 1")
        return text in ("1", "true")

    def _hours(self, element: ET.Element, tag: str, where: str) -> Decimal:
        """An xsd:duration as Project writes them (PT36H0M0S) in hours."""
        text = self._text(element, tag)
        if text is None:
            return ZERO
        match = _DURATION.fullmatch(text)
        if match is None or text.endswith(("P", "T")):
            self._fail(f"{where}/{tag}", f"{text!r} is not a duration; expected e.g. PT40H0M0S")
            return ZERO
        days, hours, minutes, seconds = (Decimal(part or 0) for part in match.groups()[1:])
        value = days * 24 + hours + minutes / 60 + seconds / 3600
        return -value if text.startswith("-") else value


class _Flow(dict[str, Any]):
    """A mapping written on one line: ``{task: gap-report, type: SS, lag: 2}``."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Flow, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, True)
)


def _dependency(key: str, kind: LinkType, lag: int) -> str | _Flow:
    if kind is LinkType.FS and lag == 0:
        return key
    return _Flow(task=key, type=kind.value, lag=lag) if lag else _Flow(task=key, type=kind.value)


def _notes(text: str) -> tuple[str, list[str], list[str]]:
    """The description, and the clauses and deliverables paragraphs the MSPDI export adds to notes."""
    kept, clauses, deliverables = [], [], []
    for paragraph in text.strip().split("\n\n"):
        listed = [c.strip() for c in paragraph.removeprefix(_CLAUSES).split(",")]
        if paragraph.startswith(_CLAUSES) and all(re.fullmatch(CLAUSE_PATTERN, c) for c in listed):
            clauses = listed
        elif paragraph.startswith(_DELIVERABLES):
            deliverables = [d.strip() for d in paragraph.removeprefix(_DELIVERABLES).split(";") if d.strip()]
        elif paragraph.strip():
            kept.append(paragraph.strip())
    return "\n\n".join(kept), clauses, deliverables


def _ordered(task: dict[str, Any]) -> dict[str, Any]:
    """The task without its empty keys."""
    return {key: value for key, value in task.items() if value or key in ("id", "name")}


def _slug(text: str, fallback: str, taken: set[str]) -> str:
    """A template id from a name: lower-case ASCII words joined by hyphens, unique among ``taken``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or fallback
    if len(base) > 48:  # ids stay short enough to type: whole words up to 48 characters
        base = base[:49].rsplit("-", 1)[0] if "-" in base[:49] else base[:48]
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def _plain(value: Decimal) -> int | float:
    """A YAML number: whole numbers as integers."""
    return int(value) if value == value.to_integral_value() else float(value.normalize())

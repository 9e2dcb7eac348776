"""Microsoft Project XML (MSPDI) export of an instantiated plan.

The file opens in Microsoft Project (and anything that reads MSPDI, such as MPXJ-based tools) as an
auto-scheduled project: a project summary task, one summary task per phase and the plan's tasks and
milestones with their links, a base calendar with the plan's weekend and holidays, one generic work
resource per role with its effort assignments, and the plan's dates and costs saved as baseline 0.
With a :class:`Progress` (``status --format mspdi``) it also holds each task's percent complete, actual
dates and actual cost at the status date, and its forecast dates, the baseline staying baseline 0.

MSPDI units, as Microsoft Project writes them and MPXJ's ``MSPDIReader`` reads them: money is in
hundredths of the currency unit (``Cost`` 500000 is 5000.00); link lags and slack are in tenths of a
minute; durations and work are ``xsd:duration`` strings in hours; a resource's ``StandardRate`` is per
hour, with ``StandardRateFormat`` choosing the unit Project shows it in (3 = per day).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time
from decimal import ROUND_HALF_UP, Decimal

from ..analytics import Expense, TaskProgress
from ..analytics.forecast import ProgressCalendar, forecast_tasks
from ..analytics.status import actual_costs
from ..budget import money
from ..calendar import WorkCalendar
from ..plan import PhaseSummary, Plan, PlannedTask
from ..template.model import LinkType

NAMESPACE = "http://schemas.microsoft.com/project"
SAVE_VERSION = 14  # Project 2010 format, read by every later version
HOURS_PER_DAY = 8
MINUTES_PER_DAY = HOURS_PER_DAY * 60
TENTHS_PER_DAY = MINUTES_PER_DAY * 10
DAY_START, DAY_END = time(8), time(17)
WORKING_TIMES = ((time(8), time(12)), (time(13), time(17)))
DAYS = 7  # DurationFormat / LagFormat: days
PER_DAY = 3  # StandardRateFormat: per day
PRORATED = 3  # AccrueAt / FixedCostAccrual
FIXED_DURATION = 1  # task Type
TEXT1 = 188743731  # task field Text1, holding the plan's task id
LINK_TYPES = {LinkType.FF: 0, LinkType.FS: 1, LinkType.SF: 2, LinkType.SS: 3}
SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

Value = str | int | bool | Decimal | None
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class TaskActuals:
    """A task at the status date: its progress and actual cost as ``status`` counts them, and its dates
    as now forecast (the actual ones where known)."""

    percent_complete: int
    actual_start: date | None
    actual_finish: date | None
    actual_cost: Decimal
    start: date
    finish: date


@dataclass(frozen=True, slots=True)
class Progress:
    """A plan's progress at a status date; ``unallocated``: expenses tied to no task."""

    status_date: date
    tasks: Mapping[str, TaskActuals]
    unallocated: Decimal = ZERO


def plan_progress(
    plan: Plan, facts: Iterable[TaskProgress], expenses: Iterable[Expense], status_date: date
) -> Progress:
    """Each task's progress as :func:`~iso20k_sync.analytics.plan_status` counts it: actual cost from the
    tracker's cost or time spent x day rates, plus the expenses booked to the task up to the status date."""
    known = {task.id for task in plan.tasks}
    progress = {fact.task_id: fact for fact in facts if fact.task_id in known}
    days = ProgressCalendar(WorkCalendar(plan.calendar, plan.start), status_date)
    forecasts = forecast_tasks(plan, progress, days)
    rates = {role.id: (role.day_rate, role.category) for role in plan.roles}
    spent: dict[str | None, Decimal] = defaultdict(Decimal)
    for expense in expenses:
        if expense.date <= status_date and expense.currency == plan.currency:
            spent[expense.task_id if expense.task_id in known else None] += expense.amount
    tasks = {}
    for task in plan.tasks:
        fact = progress.get(task.id)
        percent = int((fact.fraction_complete * 100).to_integral_value(ROUND_HALF_UP)) if fact else 0
        start = days.calendar.date_of(forecasts[task.id].first)
        finish = days.calendar.date_of(forecasts[task.id].last)
        cost = _sum(actual_costs(task, fact, rates, []).values()) + spent[task.id]
        tasks[task.id] = TaskActuals(
            percent,
            # Project sets the actual dates from percent complete when they are not given.
            (fact.actual_start if fact else None) or (start if percent else None),
            (fact.actual_finish if fact else None) or (finish if percent == 100 else None),
            money(cost),
            start,
            finish,
        )
    return Progress(status_date, tasks, money(spent[None]))


def to_mspdi(plan: Plan, progress: Progress | None = None) -> bytes:
    """The plan as a Microsoft Project XML document (UTF-8); the same plan gives the same bytes."""
    # UID = ID = row number: 0 the project summary, then each phase's summary row and its tasks.
    phases: list[tuple[int, PhaseSummary, list[PlannedTask]]] = []
    uids: dict[str, int] = {}
    row = 0
    for phase in plan.phases:
        children = [task for task in plan.tasks if task.phase == phase.id]
        phases.append((row + 1, phase, children))
        uids.update((task.id, row + n) for n, task in enumerate(children, start=2))
        row += 1 + len(children)
    resource_uids = {role.id: n for n, role in enumerate(plan.roles, start=1)}
    rates = {role.id: role.day_rate for role in plan.roles}
    symbol = SYMBOLS.get(plan.currency, plan.currency)
    root = ET.Element("Project", xmlns=NAMESPACE)
    _fields(
        root,
        ("SaveVersion", SAVE_VERSION),
        ("Name", f"{plan.template.id}.xml"),
        ("Title", plan.template.name),
        ("ScheduleFromStart", True),
        ("StartDate", _at(plan.start, DAY_START)),
        ("FinishDate", _at(plan.finish, DAY_END)),
        ("CurrencyDigits", 2),
        ("CurrencySymbol", symbol),
        ("CurrencyCode", plan.currency),
        ("CurrencySymbolPosition", 0 if symbol in SYMBOLS.values() else 2),
        ("CalendarUID", 1),
        ("DefaultStartTime", DAY_START.isoformat()),
        ("DefaultFinishTime", DAY_END.isoformat()),
        ("MinutesPerDay", MINUTES_PER_DAY),
        ("MinutesPerWeek", MINUTES_PER_DAY * (7 - len(plan.calendar.weekend))),
        ("DaysPerMonth", 20),
        ("DefaultTaskType", FIXED_DURATION),
        ("DefaultFixedCostAccrual", PRORATED),
        ("DurationFormat", DAYS),
        ("WorkFormat", 2),  # hours
        ("EditableActualCosts", True if progress else None),  # the tracker's actual costs, as they are
        ("StatusDate", _at(progress.status_date, DAY_END) if progress else None),
        ("NewTasksAreManual", False),
    )
    definition = ET.SubElement(ET.SubElement(root, "ExtendedAttributes"), "ExtendedAttribute")
    _fields(definition, ("FieldID", TEXT1), ("FieldName", "Text1"), ("Alias", "Plan key"))
    _calendar(ET.SubElement(root, "Calendars"), plan)

    actuals = progress.tasks if progress else None
    tasks = ET.SubElement(root, "Tasks")
    unallocated = progress.unallocated if progress else ZERO
    total = plan.budget.total
    _summary(
        tasks, 0, "0", 0, plan.template.name, plan.tasks, plan.duration, total, None, actuals, unallocated
    )
    role_names = {role.id: role.name for role in plan.roles}
    for uid, phase, children in phases:
        _summary(
            tasks, uid, phase.wbs, 1, phase.name, children, phase.duration, phase.cost, phase.id, actuals
        )
        for task in children:
            _task(tasks, uids[task.id], task, uids, rates, role_names, actuals[task.id] if actuals else None)

    resources = ET.SubElement(root, "Resources")
    assignments = ET.SubElement(root, "Assignments")
    for role in plan.roles:
        uid = resource_uids[role.id]
        resource = ET.SubElement(resources, "Resource")
        _fields(
            resource,
            ("UID", uid),
            ("ID", uid),
            ("Name", role.name),
            ("Type", 1),  # work
            ("Initials", role.id),
            ("Group", role.category.value),
            ("AccrueAt", PRORATED),
            ("Work", _hours(role.effort * HOURS_PER_DAY)),
            ("StandardRate", _number(role.day_rate / HOURS_PER_DAY)),
            ("StandardRateFormat", PER_DAY),
            ("Cost", _cents(role.cost)),
            ("IsGeneric", True),
        )
        baseline = ET.SubElement(resource, "Baseline")
        _fields(
            baseline,
            ("Number", 0),
            ("Work", _hours(role.effort * HOURS_PER_DAY)),
            ("Cost", _cents(role.cost)),
        )
    efforts = [(task, role, days) for task in plan.tasks for role, days in task.effort.items()]
    for uid, (task, role, days) in enumerate(efforts, start=1):
        actual = actuals[task.id] if actuals else None
        _assignment(assignments, uid, task, uids[task.id], resource_uids[role], days, rates[role], actual)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + body + "\n").encode()


def _calendar(calendars: ET.Element, plan: Plan) -> None:
    """The base calendar: working weekdays 08:00-12:00 and 13:00-17:00, and every holiday as a day off."""
    calendar = ET.SubElement(calendars, "Calendar")
    _fields(calendar, ("UID", 1), ("Name", "Standard"), ("IsBaseCalendar", True), ("BaseCalendarUID", -1))
    week_days = ET.SubElement(calendar, "WeekDays")
    for day_type in range(1, 8):  # 1 = Sunday .. 7 = Saturday
        working = (day_type + 5) % 7 not in plan.calendar.weekend  # as date.weekday(): 0 = Monday
        week_day = ET.SubElement(week_days, "WeekDay")
        _fields(week_day, ("DayType", day_type), ("DayWorking", working))
        if working:
            times = ET.SubElement(week_day, "WorkingTimes")
            for start, finish in WORKING_TIMES:
                period = ET.SubElement(times, "WorkingTime")
                _fields(period, ("FromTime", start.isoformat()), ("ToTime", finish.isoformat()))
    # Holidays up to the end of the finish year, so a slipping schedule still skips them.
    days_off = WorkCalendar(plan.calendar, plan.start).days_off_between(
        plan.start, date(plan.finish.year, 12, 31)
    )
    for day, _ in days_off:  # the pre-2007 form, which some other tools read instead of <Exceptions>
        week_day = ET.SubElement(week_days, "WeekDay")
        _fields(week_day, ("DayType", 0), ("DayWorking", False))
        _period(week_day, day)
    exceptions = ET.SubElement(calendar, "Exceptions") if days_off else None
    for day, name in days_off:
        exception = ET.SubElement(exceptions, "Exception")
        _fields(exception, ("EnteredByOccurrences", False))
        _period(exception, day)
        _fields(exception, ("Occurrences", 1), ("Name", name), ("Type", 1), ("DayWorking", False))


def _period(parent: ET.Element, day: date) -> None:
    period = ET.SubElement(parent, "TimePeriod")
    _fields(period, ("FromDate", _at(day, time(0))), ("ToDate", _at(day, time(23, 59))))


def _summary(
    tasks: ET.Element,
    uid: int,
    wbs: str,
    level: int,
    name: str,
    children: list[PlannedTask],
    duration: int,
    cost: Decimal,
    key: str | None = None,
    actuals: Mapping[str, TaskActuals] | None = None,
    unallocated: Decimal = ZERO,
) -> None:
    """The project summary task (level 0) or a phase's summary task (level 1), with its progress."""
    start = min((_start(t) for t in children), default=None)
    finish = max((_finish(t) for t in children), default=None)
    work = _sum(_sum(t.effort.values()) for t in children) * HOURS_PER_DAY
    rollup = _rollup(children, actuals, unallocated) if actuals is not None and children else {}
    element = ET.SubElement(tasks, "Task")
    _fields(
        element,
        ("UID", uid),
        ("ID", uid),
        ("Name", name),
        ("Active", True),
        ("Manual", False),
        ("Type", FIXED_DURATION),
        ("WBS", wbs),
        ("OutlineNumber", wbs),
        ("OutlineLevel", level),
        ("Start", rollup.get("Start", start)),
        ("Finish", rollup.get("Finish", finish)),
        ("Duration", _hours(duration * HOURS_PER_DAY)),
        ("DurationFormat", DAYS),
        ("Work", _hours(work)),
        ("Milestone", False),
        ("Summary", True),
        ("Critical", any(t.critical for t in children)),
        ("PercentComplete", rollup.get("PercentComplete")),
        ("Cost", rollup.get("Cost", _cents(cost))),
        ("ActualStart", rollup.get("ActualStart")),
        ("ActualFinish", rollup.get("ActualFinish")),
        ("ActualCost", rollup.get("ActualCost")),
    )
    if key is not None:
        _fields(ET.SubElement(element, "ExtendedAttribute"), ("FieldID", TEXT1), ("Value", key))
    _baseline(element, start, finish, duration, work, cost)


def _rollup(
    children: list[PlannedTask], actuals: Mapping[str, TaskActuals], unallocated: Decimal
) -> dict[str, Value]:
    """A summary task's progress as Project rolls it up: percent complete weighted by duration."""
    pairs = [(task, actuals[task.id]) for task in children]
    spent = _sum(actual.actual_cost for _, actual in pairs) + unallocated
    weight = sum(task.duration for task in children)
    done = sum(task.duration * actual.percent_complete for task, actual in pairs)
    started = [_start(task, actual.actual_start) for task, actual in pairs if actual.actual_start]
    ended = [_finish(task, actual.actual_finish) for task, actual in pairs if actual.actual_finish]
    return {
        "Start": min(_start(task, actual.start) for task, actual in pairs),
        "Finish": max(_finish(task, actual.finish) for task, actual in pairs),
        "PercentComplete": round(done / weight) if weight else min(a.percent_complete for _, a in pairs),
        "Cost": _cents(_sum(_remaining(task, actual)[1] for task, actual in pairs) + spent),
        "ActualStart": min(started, default=None),
        "ActualFinish": max(ended) if len(ended) == len(pairs) else None,
        "ActualCost": _cents(spent),
    }


def _task(
    tasks: ET.Element,
    uid: int,
    task: PlannedTask,
    uids: dict[str, int],
    rates: dict[str, Decimal],
    role_names: dict[str, str],
    actual: TaskActuals | None = None,
) -> None:
    work = _sum(task.effort.values()) * HOURS_PER_DAY
    share, remaining_cost = _remaining(task, actual)
    hours = task.duration * HOURS_PER_DAY
    labour = _sum(money(days * rates[role]) for role, days in task.effort.items())
    notes = [task.description.strip()]
    if task.clauses:
        notes.append("ISO/IEC 20000-1 clauses: " + ", ".join(task.clauses))
    if task.deliverables:
        notes.append("Deliverables: " + "; ".join(task.deliverables))
    element = ET.SubElement(tasks, "Task")
    _fields(
        element,
        ("UID", uid),
        ("ID", uid),
        ("Name", task.name),
        ("Active", True),
        ("Manual", False),
        ("Type", FIXED_DURATION),
        ("Contact", role_names.get(task.owner or "")),
        ("WBS", task.wbs),
        ("OutlineNumber", task.wbs),
        ("OutlineLevel", 2),
        ("Priority", 500),
        ("Start", _start(task, actual.start if actual else None)),
        ("Finish", _finish(task, actual.finish if actual else None)),
        ("Duration", _hours(hours)),
        ("DurationFormat", DAYS),
        ("Work", _hours(work)),
        ("EffortDriven", False),
        ("Milestone", task.milestone),
        ("Summary", False),
        ("Critical", task.critical),
        ("TotalSlack", task.total_float * TENTHS_PER_DAY),
        ("FixedCost", _cents(task.cost - labour) if task.cost != labour else None),
        ("FixedCostAccrual", PRORATED),
        ("PercentComplete", actual.percent_complete if actual else 0),
        ("PercentWorkComplete", actual.percent_complete if actual else 0),
        ("Cost", _cents(remaining_cost + (actual.actual_cost if actual else ZERO))),
        *_actual_dates(task, actual),
        ("ActualDuration", _hours(hours * share)),
        ("ActualCost", _cents(actual.actual_cost) if actual else 0),
        ("ActualWork", _hours(work * share)),
        ("RemainingDuration", _hours(hours * (1 - share))),
        ("RemainingCost", _cents(remaining_cost)),
        ("RemainingWork", _hours(work * (1 - share))),
        ("ConstraintType", 0),  # as soon as possible
        ("Notes", "\n\n".join(n for n in notes if n) or None),
    )
    for dependency in task.depends_on:
        _fields(
            ET.SubElement(element, "PredecessorLink"),
            ("PredecessorUID", uids[dependency.task]),
            ("Type", LINK_TYPES[dependency.type]),
            ("CrossProject", False),
            ("LinkLag", dependency.lag * TENTHS_PER_DAY),
            ("LagFormat", DAYS),
        )
    _fields(ET.SubElement(element, "ExtendedAttribute"), ("FieldID", TEXT1), ("Value", task.id))
    _baseline(element, _start(task), _finish(task), task.duration, work, task.cost)


def _actual_dates(task: PlannedTask, actual: TaskActuals | None) -> list[tuple[str, Value]]:
    start, finish = (actual.actual_start, actual.actual_finish) if actual else (None, None)
    return [
        ("ActualStart", _start(task, start) if start else None),
        ("ActualFinish", _finish(task, finish) if finish else None),
    ]


def _remaining(task: PlannedTask, actual: TaskActuals | None) -> tuple[Decimal, Decimal]:
    """The share of the task done, and its baseline cost still to spend."""
    share = Decimal(actual.percent_complete) / 100 if actual else ZERO
    return share, money(task.cost * (1 - share))


def _baseline(
    parent: ET.Element, start: str | None, finish: str | None, duration: int, work: Decimal, cost: Decimal
) -> None:
    _fields(
        ET.SubElement(parent, "Baseline"),
        ("Number", 0),
        ("Start", start),
        ("Finish", finish),
        ("Duration", _hours(duration * HOURS_PER_DAY)),
        ("DurationFormat", DAYS),
        ("Work", _hours(work)),
        ("Cost", _cents(cost)),
    )


def _assignment(
    assignments: ET.Element,
    uid: int,
    task: PlannedTask,
    task_uid: int,
    resource_uid: int,
    days: Decimal,
    day_rate: Decimal,
    actual: TaskActuals | None = None,
) -> None:
    hours = days * HOURS_PER_DAY
    share = _remaining(task, actual)[0]
    cost = money(days * day_rate)
    units = days / task.duration if task.duration else Decimal(1)
    element = ET.SubElement(assignments, "Assignment")
    _fields(
        element,
        ("UID", uid),
        ("TaskUID", task_uid),
        ("ResourceUID", resource_uid),
        ("PercentWorkComplete", actual.percent_complete if actual else None),
        *reversed(_actual_dates(task, actual)),  # here ActualFinish comes first
        ("ActualWork", _hours(hours * share) if actual else None),
        ("Cost", _cents(cost)),
        ("Finish", _finish(task, actual.finish if actual else None)),
        ("RemainingWork", _hours(hours * (1 - share))),
        ("Start", _start(task, actual.start if actual else None)),
        ("Units", _number(units.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))),
        ("Work", _hours(hours)),
    )
    _fields(
        ET.SubElement(element, "Baseline"),
        ("Number", 0),
        ("Start", _start(task)),
        ("Finish", _finish(task)),
        ("Work", _hours(hours)),
        ("Cost", _cents(cost)),
    )


def _fields(parent: ET.Element, *fields: tuple[str, Value]) -> None:
    """Append ``<Tag>value</Tag>`` children in the given (schema) order, leaving out ``None`` values."""
    for tag, value in fields:
        if value is None:
            continue
        if isinstance(value, bool):
            text = "1" if value else "0"
        elif isinstance(value, Decimal):
            text = _number(value)
        else:
            text = _INVALID_XML.sub("", str(value))
        ET.SubElement(parent, tag).text = text


def _start(task: PlannedTask, day: date | None = None) -> str:
    """The task's start (or ``day``) at the time of day Project gives it."""
    return _at(day or task.start, _zero_day_time(task) if task.duration == 0 else DAY_START)


def _finish(task: PlannedTask, day: date | None = None) -> str:
    return _at(day or task.finish, _zero_day_time(task) if task.duration == 0 else DAY_END)


def _zero_day_time(task: PlannedTask) -> time:
    """Where Project puts a milestone: at the end of the working day before, or at the project start."""
    return DAY_START if task.early_start_offset == 0 else DAY_END


def _at(day: date, at: time) -> str:
    return f"{day.isoformat()}T{at.isoformat()}"


def _hours(hours: Decimal | int) -> str:
    """An xsd:duration in hours, minutes and seconds, as Project writes it: PT36H0M0S."""
    seconds = int((Decimal(hours) * 3600).to_integral_value(rounding=ROUND_HALF_UP))
    sign = "-" if seconds < 0 else ""
    minutes, secs = divmod(abs(seconds), 60)
    return f"{sign}PT{minutes // 60}H{minutes % 60}M{secs}S"


def _cents(amount: Decimal) -> str:
    return str(int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP)))


def _number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _sum(values: Iterable[Decimal]) -> Decimal:
    return sum(values, Decimal(0))

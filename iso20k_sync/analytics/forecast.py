"""Milestone forecast: re-schedule the remaining work from the status date over the plan's links.

Done tasks keep their actual dates. A task in progress keeps its actual start; the remaining share of
its baseline duration resumes the day after the status date at the earliest, and not before its
predecessors allow (retained logic, Primavera P6's default). Work not started cannot start before the
day after the status date and follows its links. A milestone not yet reached is forecast on the next
working day after the status date at the earliest.

Each forecast also names its driver: the predecessor whose link sets the start of the work still to do,
so a late milestone can say what it waits on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

from ..calendar import WorkCalendar
from ..plan import Plan, PlannedTask
from ..scheduling import Activity, Link, Timing, days_worked, schedule
from ..template.model import LinkType
from .progress import TaskProgress, TaskState


@dataclass(frozen=True, slots=True)
class Forecast:
    """Forecast working-day offsets of one task: first and last day worked (a milestone: its day)."""

    first: int
    last: int
    driver: str | None = None
    """The predecessor whose link sets the start of the work still to do (None: the status date or the
    actual dates set it)."""


class ProgressCalendar:
    """Offsets of actual dates and of the status date on the plan's working-day calendar."""

    def __init__(self, calendar: WorkCalendar, status_date: date) -> None:
        self.calendar = calendar
        self.cutoff = self.last_offset(status_date) + 1
        """Working days up to and including the status date: the first offset still to come."""

    def first_offset(self, day: date) -> int:
        """Offset of ``day``, or of the next working day when ``day`` is not one."""
        return self.calendar.offset_of(day)

    def last_offset(self, day: date) -> int:
        """Offset of ``day``, or of the working day before it; -1 before the plan's start."""
        return self.calendar.offset_of(day + timedelta(days=1)) - 1


def baseline_days(task: PlannedTask) -> Forecast:
    return Forecast(*days_worked(task.early_start_offset, task.duration))


def forecast_tasks(
    plan: Plan, progress: Mapping[str, TaskProgress], days: ProgressCalendar
) -> dict[str, Forecast]:
    activities = [_activity(task, progress.get(task.id), days) for task in plan.tasks]
    timings = schedule(activities).timings
    result = {}
    for task, activity in zip(plan.tasks, activities, strict=True):
        t = timings[task.id]
        first, last = days_worked(t.early_start, t.early_finish - t.early_start)
        result[task.id] = Forecast(first, last, _driver(activity, timings))
    return result


def _driver(activity: Activity, timings: Mapping[str, Timing]) -> str | None:
    """The first predecessor whose link bound equals the start of the work still to do, as the forward
    pass of :func:`~iso20k_sync.scheduling.schedule` computed it."""
    if activity.fixed_start is not None and activity.remaining is None:
        return None  # done: its actual dates stand
    length = activity.duration if activity.remaining is None else activity.remaining
    own = timings[activity.id]
    start = own.early_finish - length
    for link in activity.links:
        p = timings[link.predecessor]
        bound = {
            LinkType.FS: p.early_finish + link.lag,
            LinkType.SS: p.early_start + link.lag,
            LinkType.FF: p.early_finish + link.lag - length,
            LinkType.SF: p.early_start + link.lag - length,
        }[link.type]
        if bound == start:
            return link.predecessor
    return None


def _activity(task: PlannedTask, facts: TaskProgress | None, days: ProgressCalendar) -> Activity:
    links = tuple(Link(d.task, d.type, d.lag) for d in task.depends_on)
    state = facts.effective_state if facts else TaskState.not_started
    base = baseline_days(task)
    cutoff = days.cutoff
    if task.duration == 0:
        if state is TaskState.done:
            assert facts is not None
            reached = min(base.first, cutoff - 1)
            if facts.actual_finish:
                reached = days.last_offset(facts.actual_finish)
            return Activity(task.id, 0, links, fixed_start=max(reached, -1) + 1)
        return Activity(task.id, 0, links, earliest_start=cutoff + 1)
    if state is TaskState.not_started:
        return Activity(task.id, task.duration, links, earliest_start=cutoff)
    assert facts is not None
    if state is TaskState.done:
        last = days.last_offset(facts.actual_finish) if facts.actual_finish else min(base.last, cutoff - 1)
        first = days.first_offset(facts.actual_start) if facts.actual_start else min(base.first, last)
        first = max(min(first, last), 0)
        return Activity(task.id, max(last, first) - first + 1, links, fixed_start=first)
    first = days.first_offset(facts.actual_start) if facts.actual_start else min(base.first, cutoff - 1)
    first = max(first, 0)
    remaining = Decimal(task.duration) * (1 - facts.fraction_complete)
    remaining_days = max(int(remaining.to_integral_value(rounding=ROUND_CEILING)), 1)
    return Activity(
        task.id,
        task.duration,
        links,
        earliest_start=max(cutoff, first),
        fixed_start=first,
        remaining=remaining_days,
    )

"""Critical path method over working-day offsets.

A task with early start ``es`` and duration ``d`` occupies working days ``es .. es+d-1``; its
early finish ``ef = es + d`` is exclusive. Links constrain the successor ``s`` by its
predecessor ``p`` (lags in working days, negative for a lead)::

    FS: es(s) >= ef(p) + lag        SS: es(s) >= es(p) + lag
    FF: ef(s) >= ef(p) + lag        SF: ef(s) >= es(p) + lag

No task starts before offset 0 (or its ``earliest_start``). The backward pass mirrors these from the
project finish; total float is ``ls - es`` and a task with no float is critical. For forecasts, work
already started keeps its ``fixed_start`` and its ``remaining`` days follow the links (retained logic).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .template.model import LinkType


@dataclass(frozen=True, slots=True)
class Link:
    predecessor: str
    type: LinkType = LinkType.FS
    lag: int = 0


@dataclass(frozen=True, slots=True)
class Activity:
    id: str
    duration: int
    links: tuple[Link, ...] = ()
    earliest_start: int = 0
    """No early start before this offset (unfinished work cannot start before the status date)."""
    fixed_start: int | None = None
    """Work already started: its actual start, whatever the links say."""
    remaining: int | None = None
    """With ``fixed_start``: working days still to do. They resume no earlier than ``earliest_start``
    and only when the links allow (retained logic); without it the task is finished and ``duration``
    is what it took."""


@dataclass(frozen=True, slots=True)
class Timing:
    early_start: int
    early_finish: int
    late_start: int
    late_finish: int

    @property
    def total_float(self) -> int:
        return self.late_start - self.early_start

    @property
    def critical(self) -> bool:
        return self.total_float <= 0


@dataclass(frozen=True, slots=True)
class Schedule:
    timings: dict[str, Timing]
    finish: int
    """Working days from the project start to the last early finish."""

    def critical_path(self) -> list[str]:
        """Critical tasks in the order they run."""
        critical = [(t.early_start, t.early_finish, i) for i, t in self.timings.items() if t.critical]
        return [i for _, _, i in sorted(critical)]


def days_worked(early_start: int, duration: int) -> tuple[int, int]:
    """First and last working-day offsets of a task. A milestone is dated at the end of the day before
    its offset: the day its predecessor finishes (its start, on the project's first day)."""
    if duration == 0:
        day = max(early_start - 1, 0)
        return day, day
    return early_start, early_start + duration - 1


class CycleError(ValueError):
    pass


def schedule(activities: Sequence[Activity]) -> Schedule:
    """Forward and backward pass; raises :class:`CycleError` if the links form a cycle."""
    index = {a.id: n for n, a in enumerate(activities)}
    count = len(activities)
    duration = [a.duration for a in activities]
    successors: list[list[tuple[int, LinkType, int]]] = [[] for _ in range(count)]
    predecessors: list[list[tuple[int, LinkType, int]]] = [[] for _ in range(count)]
    for n, activity in enumerate(activities):
        for link in activity.links:
            p = index[link.predecessor]
            successors[p].append((n, link.type, link.lag))
            predecessors[n].append((p, link.type, link.lag))
    order = _topological_order(successors, predecessors)

    es = [0] * count
    for n in order:
        activity = activities[n]
        if activity.fixed_start is not None and activity.remaining is None:
            es[n] = activity.fixed_start
            continue
        d = duration[n] if activity.remaining is None else activity.remaining
        start = activity.earliest_start
        for p, kind, lag in predecessors[n]:
            if kind is LinkType.FS:
                bound = es[p] + duration[p] + lag
            elif kind is LinkType.SS:
                bound = es[p] + lag
            elif kind is LinkType.FF:
                bound = es[p] + duration[p] + lag - d
            else:
                bound = es[p] + lag - d
            start = max(start, bound)
        if activity.fixed_start is None or activity.remaining is None:
            es[n] = start
        else:  # started work keeps its start; what remains resumes at ``start``
            es[n] = activity.fixed_start
            duration[n] = start + activity.remaining - activity.fixed_start
    finish = max((es[n] + duration[n] for n in range(count)), default=0)

    lf = [finish] * count
    for n in reversed(order):
        d = duration[n]
        latest = finish
        for s, kind, lag in successors[n]:
            ls_s = lf[s] - duration[s]
            if kind is LinkType.FS:
                bound = ls_s - lag
            elif kind is LinkType.SS:
                bound = ls_s - lag + d
            elif kind is LinkType.FF:
                bound = lf[s] - lag
            else:
                bound = lf[s] - lag + d
            latest = min(latest, bound)
        lf[n] = latest
    timings = {
        activities[n].id: Timing(es[n], es[n] + duration[n], lf[n] - duration[n], lf[n]) for n in range(count)
    }
    return Schedule(timings=timings, finish=finish)


def _topological_order(
    successors: list[list[tuple[int, LinkType, int]]], predecessors: list[list[tuple[int, LinkType, int]]]
) -> list[int]:
    waiting = [len(p) for p in predecessors]
    ready = [n for n, w in enumerate(waiting) if w == 0]
    order: list[int] = []
    while ready:
        n = ready.pop()
        order.append(n)
        for s, _, _ in successors[n]:
            waiting[s] -= 1
            if waiting[s] == 0:
                ready.append(s)
    if len(order) != len(successors):
        raise CycleError("the dependency links form a cycle")
    return order

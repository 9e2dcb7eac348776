"""Stages: the baseline split at its long waits, so each stretch of work is measured on its own.

A certification cycle is implementation, then surveillance years and recertification, with months of
waiting between them. Measured as one schedule, the waits dominate the planned duration; measured per
stage, each stretch of work gets its own earned schedule. A wait is a stretch of at least
``stage_gap_days`` working days on which no task runs and no milestone falls; a stage is named after its
last milestone. A template without such waits is one stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from math import lcm

from ..plan import PlannedTask
from .forecast import Forecast, baseline_days


@dataclass(frozen=True)
class Stage:
    tasks: tuple[PlannedTask, ...]
    first: int
    """Working-day offset of the stage's first baseline day."""
    last: int
    closing: PlannedTask
    """The stage's last milestone (the last-finishing task when it has none)."""


def plan_stages(tasks: Sequence[PlannedTask], min_gap: int) -> list[Stage]:
    """The tasks grouped into stages, in baseline order."""
    spans = sorted(((baseline_days(t), n, t) for n, t in enumerate(tasks)), key=lambda s: (s[0].first, s[1]))
    groups: list[list[_Span]] = []
    reach = 0
    for span in spans:
        if not groups or span[0].first - reach - 1 >= min_gap:
            groups.append([])
        groups[-1].append(span)
        reach = max(reach, span[0].last)
    return [_stage(group) for group in groups]


_Span = tuple[Forecast, int, PlannedTask]
"""A task's baseline days, its place in the plan, the task."""


def _stage(group: list[_Span]) -> Stage:
    milestones = [span for span in group if span[2].milestone] or group
    closing = max(milestones, key=lambda span: (span[0].last, span[1]))[2]
    last = max(span[0].last for span in group)
    return Stage(tasks=tuple(span[2] for span in group), first=group[0][0].first, last=last, closing=closing)


def planned_curve(tasks: Sequence[PlannedTask], first: int, length: int) -> list[Decimal]:
    """Cumulative planned value at the end of each of ``length`` working days from offset ``first`` (the
    window holds all the tasks' days).

    Each task's cost is spread linearly over its working days (a milestone's on its day), exactly as the
    planned value but unrounded: earned value is not rounded either, so a project exactly on plan earns
    exactly the curve. Counted in integers (cents times a common multiple of the spans), so a day on which
    every costed task is either done or not started holds the exact amount.
    """
    costed = [(task, max(task.duration, 1)) for task in tasks if task.cost]
    scale = lcm(*(span for _, span in costed)) if costed else 1
    steps = [0] * (length + 1)
    for task, span in costed:
        share = int(task.cost * 100) * (scale // span)
        start = baseline_days(task).first - first
        steps[start] += share
        steps[min(start + span, length)] -= share
    curve, daily, running = [], 0, 0
    unit = Decimal(100 * scale)
    for step in steps[:length]:
        daily += step
        running += daily
        curve.append(Decimal(running) / unit)
    return curve

"""The tasks a project manager should look at this week: late, due soon, in progress. Pure.

Each unfinished task (milestones aside: the milestone table has them) lands in the first list that fits:

* **late**: its baseline finish is on or before the status date and it is not done. (The forecast of
  unfinished work always lies after the status date, so it is the baseline that makes a task late.)
* **due**: its baseline finish falls in the next ``DUE_WINDOW_DAYS`` working days after the status date.
* **in progress**: started, neither late nor due.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from ..plan import Plan
from .forecast import Forecast, ProgressCalendar, baseline_days
from .progress import TaskProgress, TaskState

DUE_WINDOW_DAYS = 10
"""Working days after the status date in which a baseline finish counts as due: two weeks."""


class TaskAttention(BaseModel):
    """One task that needs attention, with the dates and progress a project manager asks for."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    phase: str
    state: TaskState
    percent_complete: Decimal | None = Field(description="As recorded; 0 when not started, None if unknown")
    start: date = Field(description="Baseline start")
    finish: date = Field(description="Baseline finish")
    actual_start: date | None
    forecast_finish: date = Field(description="The remaining work re-scheduled from the status date")
    variance_days: int = Field(description="Working days forecast minus baseline finish; positive is late")


class Attention(BaseModel):
    """Unfinished tasks to look at, each in the first list that fits (rules in the module's docstring)."""

    model_config = ConfigDict(frozen=True)

    due_by: date | None = Field(
        default=None,
        description=f"Last day of the due window, {DUE_WINDOW_DAYS} working days after the status date "
        "(None in statuses stored before the lists existed)",
    )
    late: list[TaskAttention] = Field(default=[], description="Baseline finish by the status date, not done")
    due: list[TaskAttention] = Field(
        default=[], description="Baseline finish after the status date, up to due_by"
    )
    in_progress: list[TaskAttention] = Field(default=[], description="Started, neither late nor due")


def tasks_needing_attention(
    plan: Plan,
    facts: Mapping[str, TaskProgress],
    forecasts: Mapping[str, Forecast],
    days: ProgressCalendar,
    status_date: date,
) -> Attention:
    due_by = days.calendar.date_of(days.cutoff + DUE_WINDOW_DAYS - 1)
    late: list[TaskAttention] = []
    due: list[TaskAttention] = []
    in_progress: list[TaskAttention] = []
    for task in plan.tasks:
        fact = facts.get(task.id)
        state = fact.effective_state if fact else TaskState.not_started
        if task.milestone or state is TaskState.done:
            continue
        forecast = forecasts[task.id]
        percent = fact.percent_complete if fact else None
        item = TaskAttention(
            id=task.id,
            name=task.name,
            phase=task.phase,
            state=state,
            percent_complete=Decimal(0) if percent is None and state is TaskState.not_started else percent,
            start=task.start,
            finish=task.finish,
            actual_start=fact.actual_start if fact else None,
            forecast_finish=days.calendar.date_of(max(forecast.last, 0)),
            variance_days=forecast.last - baseline_days(task).last,
        )
        if task.finish <= status_date:
            late.append(item)
        elif task.finish <= due_by:
            due.append(item)
        elif state is TaskState.in_progress:
            in_progress.append(item)
    return Attention(
        due_by=due_by,
        late=sorted(late, key=lambda t: (t.finish, t.start)),
        due=sorted(due, key=lambda t: (t.finish, t.start)),
        in_progress=sorted(in_progress, key=lambda t: (t.forecast_finish, t.finish)),
    )

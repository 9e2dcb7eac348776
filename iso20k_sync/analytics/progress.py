"""Progress facts a tracker reports for one task, and expense entries for fixed fees.

These are the tracker-neutral inputs of the analytics: a connector (or the workbook) fills them,
the store keeps them, and :func:`iso20k_sync.analytics.status.plan_status` turns them into figures.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..template.model import CostCategory


class TaskState(StrEnum):
    not_started = "not_started"
    in_progress = "in_progress"
    done = "done"


class TaskProgress(BaseModel):
    """What is known about one task at a status date. Missing values are simply unknown."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task_id: str
    state: TaskState | None = Field(
        default=None, description="Derived from percent_complete and the actual dates when not given"
    )
    percent_complete: Decimal | None = Field(default=None, ge=0, le=100)
    actual_start: date | None = None
    actual_finish: date | None = None
    actual_cost: Decimal | None = Field(
        default=None, ge=0, description="Cost recorded in the tracker; replaces time spent x rate"
    )
    time_spent: dict[str, Decimal] = Field(default={}, description="Person-days spent by role id")
    time_spent_days: Decimal | None = Field(
        default=None, ge=0, description="Person-days spent, role unknown (valued at the owner's rate)"
    )
    remaining_days: Decimal | None = Field(default=None, ge=0, description="Remaining estimate, person-days")
    remaining_cost: Decimal | None = Field(default=None, ge=0, description="Remaining estimate, money")

    @model_validator(mode="after")
    def _consistent(self) -> TaskProgress:
        if self.actual_start and self.actual_finish and self.actual_finish < self.actual_start:
            raise ValueError(f"actual finish {self.actual_finish} is before actual start {self.actual_start}")
        if any(days < 0 for days in self.time_spent.values()):
            raise ValueError("time spent cannot be negative")
        return self

    @property
    def effective_state(self) -> TaskState:
        if self.state is not None:
            return self.state
        if self.actual_finish is not None or self.percent_complete == 100:
            return TaskState.done
        if self.actual_start is not None or (self.percent_complete or 0) > 0:
            return TaskState.in_progress
        return TaskState.not_started

    @property
    def fraction_complete(self) -> Decimal:
        """0..1: done is 1 whatever the percentage says; not started is 0."""
        state = self.effective_state
        if state is TaskState.done:
            return Decimal(1)
        if state is TaskState.not_started:
            return Decimal(0)
        return (self.percent_complete or Decimal(0)) / 100


class Expense(BaseModel):
    """An actual cost outside the tracker's tasks, such as the certification body's invoice."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    category: CostCategory
    amount: Decimal
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    date: date
    task_id: str | None = Field(default=None, description="The plan task it belongs to, if any")
    reference: str = ""

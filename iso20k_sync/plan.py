"""The instantiated plan: scheduled tasks, milestones, phases and the baseline budget.

These are the values every output (table, JSON, workbook, Microsoft Project XML) and, later,
every tracker connector and the progress analytics start from. Money is :class:`Decimal` in the
plan's currency; in JSON it is a decimal string so no precision is lost.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from .calendar import CalendarSpec
from .template.model import CostCategory, Dependency, EarnedValueRule


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


ParameterValue = Annotated[Decimal, PlainSerializer(_json_number, when_used="json")] | bool | str
"""Numbers stay JSON numbers (not strings) so a stored plan reads back with the same parameter types."""


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class TemplateRef(_Out):
    id: str
    name: str
    version: str


class PlannedTask(_Out):
    id: str
    name: str
    phase: str
    wbs: str = Field(description="Outline number, e.g. 3.2 for the second task of the third phase")
    description: str
    start: date
    finish: date
    duration: int = Field(description="Working days")
    depends_on: list[Dependency]
    clauses: list[str]
    milestone: bool
    critical: bool
    total_float: int = Field(description="Working days the task can slip without delaying the finish")
    early_start_offset: int = Field(description="Working days from the project start to the early start")
    late_start: date
    late_finish: date
    owner: str | None
    ev_rule: EarnedValueRule
    effort: dict[str, Decimal] = Field(description="Person-days by role id")
    costs: dict[CostCategory, Decimal] = Field(description="Baseline cost by category (non-zero only)")
    cost: Decimal
    deliverables: list[str]
    labels: list[str]


class PhaseSummary(_Out):
    id: str
    name: str
    wbs: str
    start: date
    finish: date
    duration: int = Field(description="Working days from the first task's start to the last task's finish")
    critical: bool
    cost: Decimal


class Milestone(_Out):
    id: str
    name: str
    phase: str
    date: date
    critical: bool
    total_float: int


class PhaseBudget(_Out):
    total: Decimal
    by_category: dict[CostCategory, Decimal]


class Budget(_Out):
    currency: str
    total: Decimal
    by_category: dict[CostCategory, Decimal] = Field(description="Every category, zero included")
    by_phase: dict[str, PhaseBudget]


class PlannedValuePoint(_Out):
    date: date
    cumulative: Decimal
    by_category: dict[CostCategory, Decimal] = Field(description="Cumulative planned value per category")


class RoleRate(_Out):
    id: str
    name: str
    day_rate: Decimal
    category: CostCategory
    effort: Decimal = Field(description="Person-days over the whole plan")
    cost: Decimal = Field(description="Effort x day rate, task by task to the cent; 0 when its part is off")


class Plan(_Out):
    template: TemplateRef
    currency: str
    parameters: dict[str, ParameterValue]
    excluded_categories: list[CostCategory] = Field(default=[], description="Budget parts switched off")
    calendar: CalendarSpec
    start: date
    finish: date
    duration: int = Field(description="Working days from start to finish")
    critical_path: list[str]
    roles: list[RoleRate]
    phases: list[PhaseSummary]
    tasks: list[PlannedTask]
    milestones: list[Milestone]
    budget: Budget
    planned_value: list[PlannedValuePoint]

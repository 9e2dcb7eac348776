"""The plan template format (documented in docs/templates.md).

These models check the shape of one template file; cross-references (dependencies, roles,
cycles, expression names) are checked by :mod:`iso20k_sync.template.checks` because they need
the whole template.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, WithJsonSchema, model_validator

from ..errors import ExpressionError
from ..expressions import parse

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
CLAUSE_PATTERN = r"^(?:[4-9]|10)(?:\.[1-9][0-9]?)*$"


class CostCategory(StrEnum):
    """The five parts of a certification budget, plus the organisation's own staff effort."""

    consulting = "consulting"
    certification = "certification"
    training = "training"
    materials = "materials"
    tools = "tools"
    internal = "internal"


class LinkType(StrEnum):
    """Dependency types: finish-to-start, start-to-start, finish-to-finish, start-to-finish."""

    FS = "FS"
    SS = "SS"
    FF = "FF"
    SF = "SF"


def _expression(value: Any) -> Decimal | str:
    if isinstance(value, bool):
        raise ValueError("expected a number or an expression string, got a boolean")
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            parse(value)
        except ExpressionError as exc:
            raise ValueError(str(exc)) from None
        return value
    raise ValueError(f"expected a number or an expression string, got {type(value).__name__}")


Expr = Annotated[
    Decimal | str,
    BeforeValidator(_expression),
    WithJsonSchema(
        {
            "anyOf": [{"type": "number"}, {"type": "string"}],
            "description": "A number, or an expression over parameters and variables",
        }
    ),
]
"""A number, or an expression string evaluated safely against the template's parameters."""

Id = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EarnedValueRule(StrEnum):
    """How a task earns value: by its percent complete, or by fixed steps for short tasks."""

    percent = "percent"
    zero_hundred = "0/100"
    fifty_fifty = "50/50"


class Parameter(_Strict):
    """A value the organisation sets when instantiating the template (size, maturity, rates...)."""

    type: Literal["number", "integer", "boolean", "choice", "text"] = "number"
    default: Decimal | bool | str
    description: str = ""
    choices: list[str] | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    follows: str | None = Field(
        default=None,
        description="Unless set, takes the value given to this other parameter (staff_to_train follows "
        "staff_in_scope); `default` applies when neither is set",
    )

    @model_validator(mode="after")
    def _check_default(self) -> Parameter:
        if self.type == "choice":
            if not self.choices:
                raise ValueError("a parameter of type 'choice' needs a non-empty 'choices' list")
            if self.default not in self.choices:
                raise ValueError(f"default {self.default!r} is not one of the choices {self.choices}")
        elif self.choices is not None:
            raise ValueError("'choices' is only allowed with type 'choice'")
        if self.type in ("number", "integer"):
            if isinstance(self.default, bool) or not isinstance(self.default, Decimal):
                raise ValueError(f"default {self.default!r} is not a number")
            if self.type == "integer" and self.default != self.default.to_integral_value():
                raise ValueError(f"default {self.default} is not a whole number")
            if self.minimum is not None and self.default < self.minimum:
                raise ValueError(f"default {self.default} is below the minimum {self.minimum}")
            if self.maximum is not None and self.default > self.maximum:
                raise ValueError(f"default {self.default} is above the maximum {self.maximum}")
        if self.type == "boolean" and not isinstance(self.default, bool):
            raise ValueError(f"default {self.default!r} is not true or false")
        return self


class Role(_Strict):
    """A kind of person working on the plan; effort times ``day_rate`` is cost in ``category``."""

    id: Id
    name: str
    day_rate: Expr
    category: CostCategory = CostCategory.internal


class Dependency(_Strict):
    """A link from a predecessor ``task``; ``lag`` in working days, negative for a lead."""

    task: Id
    type: LinkType = LinkType.FS
    lag: StrictInt = 0

    def label(self) -> str:
        """Short form as planners write it: ``C``, ``D SS``, ``D SS+2``, ``F FF-1``."""
        if self.type is LinkType.FS and self.lag == 0:
            return self.task
        return f"{self.task} {self.type.value}{self.lag:+d}" if self.lag else f"{self.task} {self.type.value}"


def _dependency(value: Any) -> Any:
    return {"task": value} if isinstance(value, str) else value


class CostItem(_Strict):
    """A fixed cost of a task, such as the certification body's fee or a tool licence."""

    category: CostCategory
    amount: Expr
    description: str = ""


class TaskTemplate(_Strict):
    """One task or milestone of the plan."""

    id: Id
    name: str = Field(min_length=1)
    description: str = ""
    duration: Expr = Decimal(0)
    depends_on: list[Annotated[Dependency, BeforeValidator(_dependency)]] = []
    milestone: bool = False
    clauses: list[Annotated[str, Field(pattern=CLAUSE_PATTERN)]] = []
    effort: dict[str, Expr] = {}
    costs: list[CostItem] = []
    owner: Id | None = None
    ev_rule: EarnedValueRule | None = Field(
        default=None, description="Earned value rule for this task; the template's ev_rule when absent"
    )
    deliverables: list[str] = []
    labels: list[str] = []


class Phase(_Strict):
    """A group of tasks, shown as a summary task or epic in trackers."""

    id: Id
    name: str = Field(min_length=1)
    description: str = ""
    tasks: list[TaskTemplate] = Field(min_length=1)


class PlanTemplate(_Strict):
    """A certification implementation plan that can be instantiated for an organisation."""

    id: Id
    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code of every amount")
    description: str = ""
    ev_rule: EarnedValueRule = Field(
        default=EarnedValueRule.percent,
        description="How tasks earn value: percent complete, 0/100 (on completion) or 50/50 (half on start)",
    )
    parameters: dict[Id, Parameter] = {}
    variables: dict[Id, Expr] = Field(
        default={},
        description="Named expressions evaluated in order; each may use parameters and earlier variables",
    )
    roles: list[Role] = Field(min_length=1)
    phases: list[Phase] = Field(min_length=1)

    def tasks(self) -> list[TaskTemplate]:
        return [task for phase in self.phases for task in phase.tasks]

"""The organisation profile a project manager fills in (example: organisation.yaml).

The feasibility scheme and the plan are both built from it, so their numbers agree.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..calendar import CalendarConfig
from ..errors import InputError, InputProblem
from ..template.model import CostCategory
from ..yaml_input import fail, parse_yaml, validation_problems

Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


class Level(IntEnum):
    """The four-level gap scale of a gap assessment."""

    not_addressed = 0
    initial = 1
    defined = 2  # defined but applied inconsistently
    conforming = 3


AREAS = {
    "planning": "8.1 Operational planning and control",
    "portfolio": "8.2 Service portfolio",
    "relationship": "8.3 Relationship and agreement",
    "supply_demand": "8.4 Supply and demand",
    "design_transition": "8.5 Service design, build and transition",
    "resolution": "8.6 Resolution and fulfilment",
    "assurance": "8.7 Service assurance",
}
LevelName = Literal["not_addressed", "initial", "defined", "conforming"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AreaAnswers(_Section):
    """A short questionnaire for one area, when its level is not known."""

    documented: bool = Field(description="The process is written down")
    followed: bool = Field(description="It is followed consistently, with records")
    measured: bool = Field(description="It is measured and reviewed for improvement")

    @property
    def level(self) -> Level:
        return Level(
            int(self.documented)
            + int(self.documented and self.followed)
            + int(self.measured and self.followed)
        )


class Organisation(_Section):
    process_owners_named: bool = False
    pmo: bool = Field(default=False, description="A project management office runs projects like this one")
    service_desk: bool = Field(default=False, description="A single point of contact for users exists")
    sponsor_named: bool = Field(default=False, description="A member of top management sponsors the project")


class Rates(_Section):
    internal_day_rate: Money = Decimal(450)
    consultant_day_rate: Money = Decimal(1200)
    auditor_day_rate: Money = Field(default=Decimal(1750), description="Certification body, per auditor-day")
    auditor_expenses_per_day: Money = Decimal(150)


class Quote(_Section):
    """The certification body's quote; it replaces the IAF MD5 proxy estimate."""

    initial_audit: Money = Field(description="Stage 1 and Stage 2 together, with expenses")
    surveillance_audit: Money = Field(description="One surveillance audit (years 1 and 2)")
    recertification_audit: Money = Field(description="The recertification audit (year 3)")
    certificate_fee_per_year: Money = Field(default=Decimal(0), description="0 when the quote includes it")
    body: str = ""


class Training(_Section):
    approach: Literal["external", "in_house", "e_learning"] = "external"
    course_fee: Money = Decimal(1200)
    budget_per_person: Money = Decimal(60)
    process_training_days: Decimal = Field(default=Decimal(1), ge=0, le=10)


class Include(_Section):
    """Optional budget parts; certification and internal effort cannot be switched off."""

    consulting: bool = True
    training: bool = True
    materials: bool = True
    tools: bool = True


class Benefits(_Section):
    """Numbers that make benefits concrete; whatever is left out is described qualitatively."""

    tender_revenue_per_year: Money | None = Field(
        default=None, description="Revenue from tenders requiring it"
    )
    incident_hours_per_month: Decimal | None = Field(default=None, ge=0)
    expected_incident_reduction_percent: Decimal = Field(default=Decimal(15), ge=0, le=100)
    development_goals: str | None = None


class OrganisationProfile(_Section):
    name: str = Field(min_length=1)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    staff_in_scope: int = Field(ge=1, le=20000, description="People working in the SMS scope")
    staff_to_train: int | None = Field(default=None, ge=0, description="Default: everyone in scope")
    services_in_scope: list[str] = Field(min_length=1)
    sites_in_scope: list[str] = Field(min_length=1)
    management_systems: list[Literal["iso9001", "iso27001"]] = []
    maturity: dict[Literal[tuple(AREAS)], LevelName] = Field(  # type: ignore[valid-type]
        default={}, description="Clause 8 area -> level on the gap scale"
    )
    questionnaire: dict[Literal[tuple(AREAS)], AreaAnswers] = {}  # type: ignore[valid-type]
    organisation: Organisation = Organisation()
    rates: Rates = Rates()
    use_consultant: bool = True
    training: Training = Training()
    itsm_tool: Literal["fit", "needs_change", "needs_purchase"] = "needs_change"
    quote: Quote | None = None
    include: Include = Include()
    benefits: Benefits = Benefits()
    planned_start: date
    target_certification: date | None = None
    calendar: CalendarConfig = CalendarConfig()
    budget_limit: Money | None = Field(
        default=None, description="What the sponsor can spend over three years"
    )

    @model_validator(mode="after")
    def _complete(self) -> OrganisationProfile:
        missing = [area for area in AREAS if area not in self.maturity and area not in self.questionnaire]
        if missing:
            raise ValueError(
                f"maturity is missing for {', '.join(missing)}: give each clause 8 area a level "
                "(not_addressed, initial, defined, conforming) under maturity, or answer its questionnaire"
            )
        if self.target_certification is not None and self.target_certification <= self.planned_start:
            raise ValueError("target_certification must be after planned_start")
        return self

    def levels(self) -> dict[str, Level]:
        """Each clause 8 area's level: stated, or derived from its questionnaire."""
        return {
            area: Level[self.maturity[area]] if area in self.maturity else self.questionnaire[area].level
            for area in AREAS
        }

    @property
    def consultant(self) -> bool:
        """A consultant is engaged: wanted, and the consulting part is in the budget."""
        return self.use_consultant and self.include.consulting

    def excluded(self) -> set[CostCategory]:
        parts = self.include
        off = {name for name in ("consulting", "training", "materials", "tools") if not getattr(parts, name)}
        if not self.consultant:
            off.add("consulting")
        return {CostCategory(name) for name in off}


def load_profile(path: Path) -> OrganisationProfile:
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(source, [InputProblem((), "organisation profile not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(source, [InputProblem((), f"cannot read the profile: {exc}")]) from None
    data = parse_yaml(text, source)
    if not isinstance(data, dict):
        raise InputError(source, [InputProblem((), "expected a mapping with the profile's keys at the top")])
    try:
        return OrganisationProfile.model_validate(data)
    except ValidationError as exc:
        raise fail(text, source, validation_problems(exc)) from None

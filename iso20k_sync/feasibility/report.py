"""The feasibility scheme: everything top managers need for the go/no-go decision, in one value."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from ..plan import Plan
from .assessment import ManagementBasis, assess
from .benefits import Benefit, analyse
from .estimate import CostEstimate, certificate_date, estimate, profile_plan
from .profile import OrganisationProfile
from .recommendation import Recommendation, recommend


class Scope(BaseModel):
    model_config = ConfigDict(frozen=True)

    organisation: str
    staff_in_scope: int
    staff_to_train: int
    services: list[str]
    sites: list[str]
    management_systems: list[str]
    planned_start: date
    target_certification: date | None
    certificate_forecast: date | None
    budget_limit: Decimal | None = None


class FeasibilityReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str
    generated: date
    template: str
    scope: Scope
    management_basis: ManagementBasis
    benefits: list[Benefit]
    costs: CostEstimate
    recommendation: Recommendation


def feasibility(
    profile: OrganisationProfile, source: str, today: date | None = None
) -> tuple[FeasibilityReport, Plan]:
    """The scheme and the plan it is based on (the same plan ``plan --org`` gives)."""
    plan = profile_plan(profile, source)
    certificate = certificate_date(plan)
    basis = assess(profile, plan, certificate)
    costs = estimate(profile, plan)
    benefits = analyse(profile)
    report = FeasibilityReport(
        title=f"ISO/IEC 20000-1 certification: feasibility scheme for {profile.name}",
        generated=today or date.today(),
        template=f"{plan.template.name} ({plan.template.id} v{plan.template.version})",
        scope=Scope(
            organisation=profile.name,
            staff_in_scope=profile.staff_in_scope,
            staff_to_train=int(plan.parameters["staff_to_train"]),  # type: ignore[arg-type]
            services=profile.services_in_scope,
            sites=profile.sites_in_scope,
            management_systems=profile.management_systems,
            planned_start=plan.start,
            target_certification=profile.target_certification,
            certificate_forecast=certificate,
            budget_limit=profile.budget_limit,
        ),
        management_basis=basis,
        benefits=benefits,
        costs=costs,
        recommendation=recommend(profile, plan, basis, costs, certificate, benefits),
    )
    return report, plan

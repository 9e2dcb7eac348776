"""The advice for the top managers' decision: proceed, proceed with conditions, or not now."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ..plan import Plan
from .assessment import ManagementBasis
from .benefits import Benefit
from .estimate import CostEstimate
from .profile import OrganisationProfile

Verdict = Literal["proceed", "proceed_with_conditions", "not_now"]
NOT_NOW_BELOW = 25
"""An overall management-basis score below this: build the foundations before certifying."""


class Gate(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    date: date


class Recommendation(BaseModel):
    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    headline: str
    reasons: list[str]
    conditions: list[str]
    timeline: list[Gate]
    decisions: list[str]


def recommend(
    profile: OrganisationProfile,
    plan: Plan,
    basis: ManagementBasis,
    costs: CostEstimate,
    certificate: date | None,
    benefits: list[Benefit],
) -> Recommendation:
    reasons: list[str] = []
    conditions = [f"{r.name}: {r.countermeasure}" for r in basis.risks if r.level == "high"]
    limit, unit = profile.budget_limit, costs.currency
    over_budget = limit is not None and costs.expected > limit
    cost_risk = ""  # the estimate range crosses the limit: the expected cost is within it, the high is not
    weak = basis.overall < NOT_NOW_BELOW
    if limit is not None and over_budget:
        reasons.append(
            f"the expected three-year cost {costs.expected:,.0f} {unit} exceeds the budget limit "
            f"{limit:,.0f} {unit}"
        )
    elif limit is not None and costs.high > limit:
        cost_risk = f"the high estimate {costs.high:,.0f} {unit} exceeds the budget limit {limit:,.0f} {unit}"
        reasons.append(f"{cost_risk}; the expected {costs.expected:,.0f} {unit} is within it")
        conditions.append(
            f"Cost risk: {cost_risk}. Hold a contingency of {costs.high - limit:,.0f} {unit}, or agree "
            "beforehand which parts give way if costs run high."
        )
    if weak:
        reasons.append(
            f"the management basis scores {basis.overall}/100: processes, structure and management "
            "system first"
        )
    verdict: Verdict = (
        "not_now" if over_budget or weak else ("proceed_with_conditions" if conditions else "proceed")
    )
    if verdict != "not_now":
        reasons.append(f"the management basis scores {basis.overall}/100")
        reasons += [f"{b.axis}: {b.text}" for b in benefits if b.kind == "quantified"]
    if certificate:
        months = (certificate - plan.start).days / 30.44
        reasons.append(f"a realistic certificate date is {certificate}, {months:.0f} months after the start")
    headline = {
        "proceed": "Proceed with ISO/IEC 20000-1 certification as planned.",
        "proceed_with_conditions": "Proceed, on the conditions below.",
        "not_now": "Not now: strengthen the basis (or the budget) first, then reassess.",
    }[verdict]
    if cost_risk and verdict != "not_now":
        headline = (
            f"Proceed with a cost risk ({cost_risk}), on the conditions below."
            if len(conditions) > 1
            else f"Proceed with a cost risk: {cost_risk}."
        )
    return Recommendation(
        verdict=verdict,
        headline=headline,
        reasons=reasons,
        conditions=conditions,
        timeline=[
            Gate(name=m.name.removeprefix("Gate: "), date=m.date)
            for m in sorted(plan.milestones, key=lambda m: m.date)
        ],
        decisions=_decisions(profile, costs),
    )


def _decisions(profile: OrganisationProfile, costs: CostEstimate) -> list[str]:
    decisions = [
        f"Approve the budget: expected {costs.expected:,.0f} {costs.currency} over three years "
        f"(range {costs.low:,.0f} to {costs.high:,.0f}), of which {_external(costs):,.0f} "
        f"{costs.currency} is paid to others.",
        f"Confirm the scope: {', '.join(profile.services_in_scope)} at {', '.join(profile.sites_in_scope)}.",
        "Appoint the sponsor, the SMS manager and the process owners, and release their time.",
        f"Release {costs.training_person_days:,.0f} person-days of staff time for awareness and process "
        "training.",
        "Engage a consultant, or accept the longer, internally led plan."
        if profile.consultant
        else "Confirm doing without a consultant (internal effort rises, Stage 1 risk grows).",
        "Select the certification body; check that the quote covers surveillance, recertification and "
        "certificate management fees.",
    ]
    if profile.itsm_tool != "fit":
        decisions.append("Decide the ITSM tool change or purchase before SMS design starts.")
    return decisions


def _external(costs: CostEstimate) -> Decimal:
    return sum((p.expected for p in costs.parts if p.category.value != "internal"), Decimal(0))

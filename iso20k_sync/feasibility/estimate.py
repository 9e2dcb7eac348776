"""Resources and costs: the plan instantiated from the profile, summed by part, year and range.

The estimate IS the plan's baseline budget (same template, same parameters), so the feasibility scheme
and the plan a tracker is seeded with never disagree.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from statistics import mean
from typing import Any

from pydantic import BaseModel, ConfigDict

from ..audit_time import PROXY_SOURCE, RECERTIFICATION_RATIO, SURVEILLANCE_RATIO, initial_audit_days
from ..budget import money
from ..errors import InputError, InputProblem
from ..instantiate import instantiate
from ..plan import Plan
from ..template import resolve_template
from ..template.model import CostCategory, PlanTemplate
from .profile import OrganisationProfile

TEMPLATE = "iso20000-1-2018"
CERTIFICATE = "certificate-issued"
RANGE = {
    # (low, high) multipliers of the expected amount: how far each part typically moves
    CostCategory.consulting: (Decimal("0.8"), Decimal("1.25")),
    CostCategory.certification: (Decimal("0.85"), Decimal("1.2")),
    CostCategory.training: (Decimal("0.9"), Decimal("1.15")),
    CostCategory.materials: (Decimal("0.8"), Decimal("1.3")),
    CostCategory.tools: (Decimal("0.75"), Decimal("1.4")),
    CostCategory.internal: (Decimal("0.8"), Decimal("1.3")),
}
PART_NAMES = {
    CostCategory.consulting: "Consulting fee (implementation partner)",
    CostCategory.certification: "Certification (audit) fees",
    CostCategory.training: "Training",
    CostCategory.materials: "Reference materials and publicity",
    CostCategory.tools: "Tools and software",
    CostCategory.internal: "Internal effort (own staff, including everyone's training time)",
}
YEARS = (
    "Implementation, to the certificate",
    "Year 1: surveillance",
    "Year 2: surveillance",
    "Year 3: recertification",
)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class CostLine(_Out):
    category: CostCategory
    name: str
    included: bool
    low: Decimal
    expected: Decimal
    high: Decimal


class YearCost(_Out):
    period: str
    by_category: dict[CostCategory, Decimal]
    total: Decimal


class Certification(_Out):
    headcount: int
    basis: str
    """'proxy' (IAF MD5 table, labelled as such) or 'quote'."""
    source: str
    initial_audit_days: Decimal
    surveillance_days: Decimal
    recertification_days: Decimal
    day_rate: Decimal
    expenses_per_day: Decimal
    initial_fee: Decimal
    surveillance_fee: Decimal
    recertification_fee: Decimal
    certificate_fees: Decimal
    three_year_total: Decimal
    check_quote: str


class CostEstimate(_Out):
    currency: str
    parts: list[CostLine]
    low: Decimal
    expected: Decimal
    high: Decimal
    by_year: list[YearCost]
    certification: Certification
    internal_person_days: Decimal
    training_person_days: Decimal


def template_parameters(profile: OrganisationProfile) -> dict[str, Any]:
    levels = profile.levels()
    average = mean(int(level) for level in levels.values())
    systems = set(profile.management_systems)
    management_system = "both" if len(systems) == 2 else (next(iter(systems)) if systems else "none")
    parameters: dict[str, Any] = {
        "staff_in_scope": profile.staff_in_scope,
        "staff_to_train": profile.staff_to_train
        if profile.staff_to_train is not None
        else profile.staff_in_scope,
        "maturity": "low" if average < 1.25 else ("medium" if average < 2.25 else "high"),
        "management_system": management_system,
        "use_consultant": profile.consultant,
        "itsm_tool": profile.itsm_tool,
        "internal_day_rate": profile.rates.internal_day_rate,
        "consultant_day_rate": profile.rates.consultant_day_rate,
        "auditor_day_rate": profile.rates.auditor_day_rate,
        "auditor_expenses_per_day": profile.rates.auditor_expenses_per_day,
        "course_fee": profile.training.course_fee,
        "training_budget_per_person": profile.training.budget_per_person,
        "process_training_days": profile.training.process_training_days,
        "include_publicity": profile.include.materials,
    }
    if profile.quote is not None:
        parameters |= {
            "quote_initial_audit": profile.quote.initial_audit,
            "quote_surveillance_audit": profile.quote.surveillance_audit,
            "quote_recertification_audit": profile.quote.recertification_audit,
            "certificate_fee_per_year": profile.quote.certificate_fee_per_year,
        }
    return parameters


def profile_plan(profile: OrganisationProfile, source: str, template: PlanTemplate | None = None) -> Plan:
    """This organisation's certification plan: what ``plan --org`` shows and a tracker is seeded with."""
    template = template or resolve_template(TEMPLATE)
    if profile.currency != template.currency:
        raise InputError(
            source,
            [
                InputProblem(
                    ("currency",),
                    f"the template's amounts are in {template.currency}; give the profile's "
                    f"rates and quote in {template.currency}",
                )
            ],
        )
    return instantiate(
        template,
        profile.planned_start,
        template_parameters(profile),
        profile.calendar.spec(),
        source=template.id,
        exclude=profile.excluded(),
    )


def estimate(profile: OrganisationProfile, plan: Plan) -> CostEstimate:
    parts = []
    for category in CostCategory:
        expected = plan.budget.by_category[category]
        low, high = RANGE[category]
        if category is CostCategory.certification and profile.quote is not None:
            low = high = Decimal(1)
        parts.append(
            CostLine(
                category=category,
                name=PART_NAMES[category],
                included=category not in plan.excluded_categories,
                low=money(expected * low),
                expected=expected,
                high=money(expected * high),
            )
        )
    role_days = {r.id: r.effort for r in plan.roles if r.category is CostCategory.internal}
    return CostEstimate(
        currency=plan.currency,
        parts=parts,
        low=sum((p.low for p in parts), Decimal(0)),
        expected=plan.budget.total,
        high=sum((p.high for p in parts), Decimal(0)),
        by_year=_by_year(plan),
        certification=_certification(profile, plan),
        internal_person_days=sum(role_days.values(), Decimal(0)),
        training_person_days=role_days.get("staff", Decimal(0)),
    )


def certificate_date(plan: Plan) -> date | None:
    return next((m.date for m in plan.milestones if m.id == CERTIFICATE), None)


def _by_year(plan: Plan) -> list[YearCost]:
    certified = certificate_date(plan) or plan.finish
    buckets = [dict.fromkeys(CostCategory, Decimal("0.00")) for _ in YEARS]
    for task in plan.tasks:
        when = task.finish
        year = 0 if when <= certified else min(3, 1 + (when - certified).days // 366)
        for category, amount in task.costs.items():
            buckets[year][category] += amount
    return [
        YearCost(period=period, by_category=bucket, total=sum(bucket.values(), Decimal("0.00")))
        for period, bucket in zip(YEARS, buckets, strict=True)
    ]


def _certification(profile: OrganisationProfile, plan: Plan) -> Certification:
    days = initial_audit_days(profile.staff_in_scope)
    rates = profile.rates
    per_day = rates.auditor_day_rate + rates.auditor_expenses_per_day
    quote = profile.quote
    if quote is not None:
        initial, surveillance, recertification = (
            quote.initial_audit,
            quote.surveillance_audit,
            quote.recertification_audit,
        )
        basis, source = "quote", f"quote{f' from {quote.body}' if quote.body else ''}"
    else:
        initial = money(days * per_day)
        surveillance = money(days * SURVEILLANCE_RATIO * per_day)
        recertification = money(days * RECERTIFICATION_RATIO * per_day)
        basis, source = "proxy", f"PROXY: {PROXY_SOURCE}"
    audits = money(initial) + 2 * money(surveillance) + money(recertification)
    total = plan.budget.by_category[CostCategory.certification]
    return Certification(
        headcount=profile.staff_in_scope,
        basis=basis,
        source=source,
        initial_audit_days=days,
        surveillance_days=money(days * SURVEILLANCE_RATIO),
        recertification_days=money(days * RECERTIFICATION_RATIO),
        day_rate=rates.auditor_day_rate,
        expenses_per_day=rates.auditor_expenses_per_day,
        initial_fee=money(initial),
        surveillance_fee=money(surveillance),
        recertification_fee=money(recertification),
        certificate_fees=total - audits,
        three_year_total=total,
        check_quote="Confirm that the quote covers next year's review (surveillance, years 1 and 2), the "
        "re-evaluation (recertification, year 3) and certificate management fees.",
    )

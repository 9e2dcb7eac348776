"""Benefit analysis on the seed's six axes, with the organisation's numbers where it gave them."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ..budget import money
from .profile import OrganisationProfile


class Benefit(BaseModel):
    model_config = ConfigDict(frozen=True)

    axis: str
    kind: Literal["quantified", "qualitative"]
    text: str
    annual_value: Decimal | None = None


def analyse(profile: OrganisationProfile) -> list[Benefit]:
    numbers = profile.benefits
    currency = profile.currency
    savings = None
    if numbers.incident_hours_per_month is not None:
        hours = numbers.incident_hours_per_month * 12 * numbers.expected_incident_reduction_percent / 100
        savings = money(hours * profile.rates.internal_day_rate / 8)
    benefits = [
        Benefit(
            axis="Organisational development goals",
            kind="qualitative",
            text=numbers.development_goals
            or "An audited service management system that supports the "
            "organisation's goals, with objectives (6.2) measured and reviewed by top management (9.3).",
        ),
        Benefit(
            axis="Allocating IT resources effectively",
            kind="qualitative",
            text="Budgeting and accounting (8.4.1), demand and capacity management (8.4.2, 8.4.3) match "
            "resources to agreed service levels.",
        ),
        Benefit(
            axis="Improving the operating environment",
            kind="qualitative",
            text="Controlled change, release and configuration (8.5, 8.2.6) and continuity and security "
            "(8.7) make operations more predictable.",
        ),
    ]
    if savings is not None:
        benefits.append(
            Benefit(
                axis="Improving process efficiency",
                kind="quantified",
                annual_value=savings,
                text=f"{numbers.expected_incident_reduction_percent}% fewer of the "
                f"{numbers.incident_hours_per_month} "
                f"incident-handling hours a month saves about {savings:,.0f} {currency} a year of staff "
                "time.",
            )
        )
    else:
        benefits.append(
            Benefit(
                axis="Improving process efficiency",
                kind="qualitative",
                text="Problem management (8.6.3) and known errors reduce repeat incidents and handling time.",
            )
        )
    benefits.append(
        Benefit(
            axis="Reducing staff workload",
            kind="qualitative",
            text="Clear roles (5.3), request fulfilment (8.6.2) and a knowledge base (7.6) cut rework "
            "and escalations.",
        )
    )
    if numbers.tender_revenue_per_year is not None:
        benefits.append(
            Benefit(
                axis="Enhancing profitability",
                kind="quantified",
                annual_value=numbers.tender_revenue_per_year,
                text=f"Tenders requiring ISO/IEC 20000-1 worth {numbers.tender_revenue_per_year:,.0f} "
                f"{currency} a "
                "year become open to the organisation (revenue at stake, not profit).",
            )
        )
    else:
        benefits.append(
            Benefit(
                axis="Enhancing profitability",
                kind="qualitative",
                text="Certification opens public and enterprise tenders that require it and strengthens "
                "customer "
                "confidence (external benefits).",
            )
        )
    return benefits

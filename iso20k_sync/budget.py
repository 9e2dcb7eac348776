"""Baseline budget: cost per task and category, totals, and the time-phased planned value.

A task's cost is spread linearly over its working days; a milestone's cost falls on its date.
Arithmetic is in whole cents so the curve ends exactly at the budget total.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .template.model import CostCategory

CENT = Decimal("0.01")
CATEGORIES = tuple(CostCategory)


def money(value: Decimal) -> Decimal:
    """Round to the currency's minor unit (two decimals), half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class CostedSpan:
    """A task's cost by category and the working-day offsets it spends them over."""

    first_offset: int
    days: int
    costs: Mapping[CostCategory, Decimal]


def task_costs(
    effort: Mapping[str, Decimal],
    rates: Mapping[str, tuple[Decimal, CostCategory]],
    items: Iterable[tuple[CostCategory, Decimal]],
) -> dict[CostCategory, Decimal]:
    """Effort times each role's day rate into the role's category, plus fixed cost items."""
    totals: dict[CostCategory, Decimal] = defaultdict(Decimal)
    for role, days in effort.items():
        rate, category = rates[role]
        totals[category] += days * rate
    for category, amount in items:
        totals[category] += amount
    return {c: money(totals[c]) for c in CATEGORIES if totals.get(c)}


def totals_by_category(costs: Iterable[Mapping[CostCategory, Decimal]]) -> dict[CostCategory, Decimal]:
    """Sum per category, every category present (zero where nothing is planned)."""
    totals = dict.fromkeys(CATEGORIES, Decimal("0.00"))
    for cost in costs:
        for category, amount in cost.items():
            totals[category] += amount
    return totals


def planned_cents(cents: int, days: int, elapsed: int) -> int:
    """Cents of a ``cents`` cost planned after ``elapsed`` of its ``days`` working days.

    Linear, rounded half up, exactly the whole cost on the last day. The baseline curve and the
    planned value at a status date both use this, so they agree to the cent.
    """
    days = max(days, 1)
    elapsed = min(max(elapsed, 0), days)
    return (2 * cents * elapsed + days) // (2 * days)


def planned_value(spans: Iterable[CostedSpan]) -> list[tuple[int, dict[CostCategory, Decimal]]]:
    """Cumulative planned value by category at the end of each working day that has planned cost.

    Returns ``(offset, {category: cumulative})`` in offset order.
    """
    daily: dict[int, list[int]] = defaultdict(lambda: [0] * len(CATEGORIES))
    for span in spans:
        days = max(span.days, 1)
        for category, amount in span.costs.items():
            k = CATEGORIES.index(category)
            cents = int(amount * 100)
            previous = 0
            for day in range(1, days + 1):
                cumulative = planned_cents(cents, days, day)
                daily[span.first_offset + day - 1][k] += cumulative - previous
                previous = cumulative
    running = [0] * len(CATEGORIES)
    curve = []
    for offset in sorted(daily):
        running = [r + d for r, d in zip(running, daily[offset], strict=True)]
        curve.append((offset, {c: Decimal(running[k]).scaleb(-2) for k, c in enumerate(CATEGORIES)}))
    return curve

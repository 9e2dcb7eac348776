from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from iso20k_sync.budget import CostedSpan, planned_value
from iso20k_sync.template.model import CostCategory

from .conftest import HEADER

PLAN = (
    HEADER
    + """\
phases:
  - id: p1
    name: Design
    tasks:
      - {id: a, name: A, duration: 4, effort: {pm: 2.5, consultant: "2 * factor"}}
      - id: b
        name: B
        duration: 3
        depends_on: [a]
        costs:
          - {category: tools, amount: 1000.01}
          - {category: materials, amount: "staff * 3"}
  - id: p2
    name: Audit
    tasks:
      - id: m
        name: Certificate
        milestone: true
        depends_on: [b]
        costs: [{category: certification, amount: "audit_days(staff) * 1750"}]
"""
)


def test_costs_by_task_category_and_phase(make_plan):
    plan = make_plan(PLAN)
    tasks = {t.id: t for t in plan.tasks}
    assert tasks["a"].costs == {
        CostCategory.consulting: Decimal("2400.00"),
        CostCategory.internal: Decimal("2000.00"),
    }
    assert tasks["b"].costs == {
        CostCategory.materials: Decimal("300.00"),
        CostCategory.tools: Decimal("1000.01"),
    }
    # 100 people in scope: 7 auditor-days in the proxy table
    assert tasks["m"].costs == {CostCategory.certification: Decimal("12250.00")}
    assert plan.budget.by_category == {
        CostCategory.consulting: Decimal("2400.00"),
        CostCategory.certification: Decimal("12250.00"),
        CostCategory.training: Decimal("0.00"),
        CostCategory.materials: Decimal("300.00"),
        CostCategory.tools: Decimal("1000.01"),
        CostCategory.internal: Decimal("2000.00"),
    }
    assert plan.budget.total == Decimal("17950.01")
    assert plan.budget.by_phase["p1"].total == Decimal("5700.01")
    assert plan.budget.by_phase["p2"].total == Decimal("12250.00")
    assert {r.id: r.effort for r in plan.roles} == {"pm": Decimal("2.50"), "consultant": Decimal("2.00")}
    assert {r.id: r.cost for r in plan.roles} == {"pm": Decimal("2000.00"), "consultant": Decimal("2400.00")}


def test_parameters_move_costs(make_plan):
    base = make_plan(PLAN)
    low = make_plan(PLAN, parameters={"maturity": "low", "staff": "2000"})
    assert low.budget.by_category[CostCategory.consulting] == Decimal("3600.00")
    assert low.budget.by_category[CostCategory.certification] == Decimal(15 * 1750)
    assert low.budget.total > base.budget.total


def test_planned_value_spreads_linearly_and_puts_milestone_cost_on_its_date(make_plan):
    plan = make_plan(PLAN)
    curve = {p.date: p for p in plan.planned_value}
    # task a: 4400 over Mon 4 - Thu 7 January, 1100 a day
    assert curve[date(2027, 1, 4)].cumulative == Decimal("1100.00")
    assert curve[date(2027, 1, 7)].cumulative == Decimal("4400.00")
    # task b: 1300.01 over Fri 8, Mon 11, Tue 12; the certificate milestone's fee lands on Tue 12
    assert curve[date(2027, 1, 12)].cumulative == plan.budget.total
    assert curve[date(2027, 1, 12)].by_category[CostCategory.certification] == Decimal("12250.00")
    assert curve[date(2027, 1, 11)].by_category[CostCategory.certification] == Decimal("0.00")
    assert plan.planned_value[-1].by_category == plan.budget.by_category
    values = [p.cumulative for p in plan.planned_value]
    assert values == sorted(values)


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=50),
            st.integers(min_value=0, max_value=30),
            st.decimals(min_value=0, max_value=10**7, places=2),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_planned_value_ends_exactly_at_the_total_and_never_falls(spans):
    curve = planned_value(
        CostedSpan(first, days, {CostCategory.training: amount}) for first, days, amount in spans
    )
    totals = [values[CostCategory.training] for _, values in curve]
    assert totals[-1] == sum(amount for _, _, amount in spans)
    assert totals == sorted(totals)
    assert [o for o, _ in curve] == sorted({o for o, _ in curve})

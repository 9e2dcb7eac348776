"""Plan status from a baseline and progress facts: the figures a sponsor reads, and their invariants."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from iso20k_sync.analytics import (
    AnalyticsSettings,
    Expense,
    PlanStatus,
    RagThresholds,
    StatusPoint,
    TaskProgress,
    milestone_summary,
    plan_status,
)
from iso20k_sync.analytics.forecast import ProgressCalendar, baseline_days, forecast_tasks
from iso20k_sync.analytics.rag import Rag
from iso20k_sync.calendar import WorkCalendar
from iso20k_sync.instantiate import instantiate
from iso20k_sync.template.model import CostCategory, PlanTemplate

from .conftest import HEADER, MONDAY

D = Decimal
PLAN = (
    HEADER
    + """\
phases:
  - id: design
    name: Design
    tasks:
      - {id: A, name: Policy, duration: 5, effort: {pm: 5}}
      - {id: B, name: Processes, duration: 5, depends_on: [A], effort: {consultant: 5}}
      - {id: M1, name: Design done, milestone: true, depends_on: [B]}
  - id: audit
    name: Audit
    tasks:
      - {id: C, name: Training, duration: 10, depends_on: [M1], costs: [{category: training, amount: 2000}]}
      - id: M2
        name: Certified
        milestone: true
        depends_on: [C]
        costs: [{category: certification, amount: 10000}]
"""
)
WEDNESDAY = date(2027, 1, 13)  # A ran Mon 4 - Fri 8, B runs Mon 11 - Fri 15, C Mon 18 - Fri 29
PROGRESS = [
    TaskProgress(task_id="A", actual_start=MONDAY, actual_finish=date(2027, 1, 8), time_spent={"pm": D(6)}),
    TaskProgress(task_id="B", percent_complete=D(40), actual_start=date(2027, 1, 11), time_spent_days=D(2)),
]
STANDARD = Expense(
    category="materials", amount=D(150), currency="EUR", date=date(2027, 1, 5), reference="std"
)


def test_status_mid_plan(make_plan):
    plan = make_plan(PLAN)
    status = plan_status(plan, PROGRESS, [STANDARD], WEDNESDAY)
    ev = status.earned_value
    assert (ev.bac, ev.pv, ev.ev, ev.ac) == (D("22000.00"), D("7600.00"), D("6400.00"), D("7350.00"))
    assert (ev.spi, ev.cpi) == (D("0.8421"), D("0.8707"))
    # earned 6,400 was planned by the end of working day 7; eight have passed
    assert (status.earned_schedule.es, status.earned_schedule.actual_time) == (D("7.00"), 8)
    assert status.earned_schedule.spi_t == D("0.8750")
    assert status.tasks.model_dump() == {"not_started": 3, "in_progress": 1, "done": 1}

    category = status.by_category
    assert (category[CostCategory.internal].ev, category[CostCategory.internal].ac) == (
        D("4000.00"),
        D("4800.00"),
    )
    assert category[CostCategory.consulting].pv == D("3600.00")
    assert category[CostCategory.consulting].cpi == D("1.0000")
    assert category[CostCategory.materials].ac == D("150.00")
    assert category[CostCategory.materials].cpi is None
    assert category[CostCategory.certification].bac == D("10000.00")
    assert status.by_phase["design"].ac == D("7200.00")
    assert status.by_phase["audit"].bac == D("12000.00")
    assert status.unallocated_actual_cost == D("150")


def test_milestones_are_forecast_from_the_remaining_work(make_plan):
    status = plan_status(make_plan(PLAN), PROGRESS, [], WEDNESDAY)
    m1, m2 = status.milestones
    # B is 40 % done: three of its five days remain, from Thursday 14: it ends Monday 18
    assert (m1.baseline, m1.forecast, m1.variance_days) == (date(2027, 1, 15), date(2027, 1, 18), 1)
    assert m1.rag is Rag.amber
    assert (m1.reason, m1.waits_on) == ("1 working day late: waits on B", "B")
    assert (m2.forecast, m2.variance_days, m2.rag) == (date(2027, 2, 1), 1, Rag.amber)
    assert status.forecast_finish == date(2027, 2, 1)
    assert status.rag is Rag.amber
    assert status.reason == (
        "milestone 'Design done': forecast 2027-01-18, 1 working day after the baseline 2027-01-15; "
        "waits on B"
    )


def test_past_due_milestone_is_red_and_reached_ones_keep_their_actual_date(make_plan):
    plan = make_plan(PLAN)
    late = plan_status(plan, PROGRESS, [], date(2027, 2, 3))
    assert late.milestones[0].rag is Rag.red
    assert late.milestones[0].reason == "past due: waits on B"
    assert late.reason.startswith(
        "milestone 'Design done': past due since 2027-01-15 and not reached; forecast"
    )
    assert late.rag is Rag.red
    reached = [
        *PROGRESS[:1],
        TaskProgress(task_id="B", percent_complete=D(100)),
        TaskProgress(task_id="M1", actual_finish=date(2027, 1, 15)),
    ]
    on_time = plan_status(plan, reached, [], date(2027, 1, 15))
    assert on_time.milestones[0].reached and on_time.milestones[0].rag is Rag.green
    assert on_time.milestones[0].reason == "reached on time"


def test_a_milestone_reached_late_is_rated_by_how_late(make_plan):
    plan = make_plan(PLAN)

    def reached(day: date) -> list[TaskProgress]:
        return [
            *PROGRESS[:1],
            TaskProgress(task_id="B", percent_complete=D(100)),
            TaskProgress(task_id="M1", actual_finish=day),
        ]

    three = plan_status(plan, reached(date(2027, 1, 20)), [], date(2027, 2, 1)).milestones[0]
    assert (three.variance_days, three.rag) == (3, Rag.amber)
    assert three.reason == "reached 3 working days late"
    six = plan_status(plan, reached(date(2027, 1, 25)), [], date(2027, 2, 1)).milestones[0]
    assert (six.variance_days, six.rag) == (6, Rag.red)  # more than amber_days (5) late


def test_a_milestone_just_past_due_is_rated_by_its_forecast_not_red_at_once(make_plan):
    plan = make_plan(PLAN)
    progress = [
        *PROGRESS[:1],
        TaskProgress(task_id="B", percent_complete=D(80), actual_start=date(2027, 1, 11)),
    ]
    # Monday 18, one working day after the baseline Friday 15: B's last day runs Tuesday 19
    status = plan_status(plan, progress, [], date(2027, 1, 18))
    m1 = status.milestones[0]
    assert (m1.variance_days, m1.rag) == (2, Rag.amber)
    assert m1.reason == "past due: waits on B"
    assert status.reason == (
        "milestone 'Design done': past due since 2027-01-15 and not reached; forecast 2027-01-19, 2 working "
        "days after the baseline 2027-01-15; waits on B"
    )
    assert status.rag is Rag.amber
    later = plan_status(plan, progress, [], date(2027, 1, 22)).milestones[0]
    assert (later.variance_days, later.rag) == (6, Rag.red)


def test_green_days_tolerate_a_small_slip(make_plan):
    tolerant = AnalyticsSettings(rag=RagThresholds(green_days=1))
    status = plan_status(make_plan(PLAN), PROGRESS, [], WEDNESDAY, tolerant)
    assert [(m.variance_days, m.rag) for m in status.milestones] == [(1, Rag.green), (1, Rag.green)]


def test_spi_t_is_not_rated_before_a_share_of_the_plan_has_elapsed(make_plan):
    plan = make_plan(PLAN)
    # Monday, the first of 20 working days: nothing done yet, SPI(t) 0
    first_day = plan_status(plan, [], [], MONDAY)
    assert first_day.earned_schedule.spi_t == 0 and first_day.earned_schedule.actual_time == 1
    assert first_day.rag is Rag.amber  # from the milestone forecast, not red from SPI(t)
    assert first_day.reason.endswith("; SPI(t) 0.0000 not rated yet: 1 of 20 working days elapsed, under 10%")
    on_plan = plan_status(plan, [TaskProgress(task_id="A", percent_complete=D(20))], [], MONDAY)
    assert (on_plan.rag, on_plan.reason) == (
        Rag.green,
        "all open milestones forecast on time; cost performance within thresholds; "
        "SPI(t) 1.0000 not rated yet: 1 of 20 working days elapsed, under 10%",
    )
    third_day = plan_status(plan, [], [], date(2027, 1, 6))
    assert (third_day.rag, third_day.reason) == (Rag.red, "schedule performance SPI(t) 0.0000 is below 0.8")


def test_everything_on_plan_is_green(make_plan):
    plan = make_plan(PLAN)
    done = [TaskProgress(task_id="A", percent_complete=D(100), actual_cost=D(4000))]
    status = plan_status(plan, done, [], date(2027, 1, 8))
    assert status.rag is Rag.green
    assert status.earned_value.spi == D("1.0000") and status.earned_value.cpi == D("1.0000")
    assert [m.variance_days for m in status.milestones] == [0, 0]


def test_zero_hundred_and_fifty_fifty_rules(make_plan):
    zero_hundred = make_plan(PLAN.replace("currency: EUR\n", "currency: EUR\nev_rule: 0/100\n"))
    assert plan_status(zero_hundred, PROGRESS, [], WEDNESDAY).earned_value.ev == D("4000.00")
    fifty = make_plan(PLAN.replace("currency: EUR\n", "currency: EUR\nev_rule: 50/50\n"))
    assert plan_status(fifty, PROGRESS, [], WEDNESDAY).earned_value.ev == D("7000.00")
    per_task = make_plan(PLAN.replace("depends_on: [A], effort:", "ev_rule: 0/100, depends_on: [A], effort:"))
    assert plan_status(per_task, PROGRESS, [], WEDNESDAY).earned_value.ev == D("4000.00")


def test_tracker_cost_is_spread_over_the_tasks_categories(make_plan):
    plan = make_plan(
        HEADER + "phases:\n  - id: p\n    name: P\n    tasks:\n"
        "      - {id: W, name: Workshop, duration: 2, effort: {pm: 1, consultant: 1}}\n"
    )
    status = plan_status(
        plan, [TaskProgress(task_id="W", percent_complete=D(50), actual_cost=D(1000))], [], MONDAY
    )
    assert status.by_category[CostCategory.internal].ac == D("400.00")
    assert status.by_category[CostCategory.consulting].ac == D("600.00")


def test_bottom_up_forecast_from_remaining_estimates(make_plan):
    progress = [*PROGRESS[:1], PROGRESS[1].model_copy(update={"remaining_days": D(4)})]
    status = plan_status(make_plan(PLAN), progress, [], WEDNESDAY)
    # AC 7,200 + B's own estimate 4 x 1,200 + the untouched C and M2 at budget (12,000)
    assert status.earned_value.eac_variants["bottom_up"] == D("24000.00")


def test_unusable_facts_are_reported_not_silently_used(make_plan):
    status = plan_status(
        make_plan(PLAN),
        [*PROGRESS, TaskProgress(task_id="ghost", percent_complete=D(10))],
        [
            STANDARD,
            STANDARD.model_copy(update={"currency": "USD", "reference": "invoice 7"}),
            STANDARD.model_copy(update={"date": date(2027, 3, 1), "reference": "later"}),
        ],
        WEDNESDAY,
    )
    assert status.problems == [
        "progress for task 'ghost' ignored: it is not in the plan",
        "expense invoice 7 ignored: it is in USD, the plan in EUR",
    ]
    assert status.earned_value.ac == D("7350.00")  # the March expense is after the status date


def test_history_keeps_one_point_per_date_in_order(make_plan):
    plan = make_plan(PLAN)
    first = plan_status(plan, [], [], date(2027, 1, 6))
    second = plan_status(plan, PROGRESS, [], WEDNESDAY, history=first.history)
    again = plan_status(plan, PROGRESS, [STANDARD], WEDNESDAY, history=second.history)
    assert [p.status_date for p in again.history] == [date(2027, 1, 6), WEDNESDAY]
    assert again.history[-1].ac == D("7350.00")
    assert isinstance(again.history[0], StatusPoint)


def test_status_serialises_to_json_with_documented_keys(make_plan):
    data = json.loads(plan_status(make_plan(PLAN), PROGRESS, [STANDARD], WEDNESDAY).model_dump_json())
    assert {
        "status_date",
        "rag",
        "reason",
        "earned_value",
        "earned_schedule",
        "by_category",
        "by_phase",
        "milestones",
        "forecast_finish",
        "history",
        "problems",
    } <= data.keys()
    assert data["earned_value"]["cpi"] == "0.8707"
    assert (
        data["by_category"]["materials"]["unavailable"]["cpi"]
        == "no work earned yet, so cost efficiency cannot be measured"
    )


# --- properties -------------------------------------------------------------------------------


@st.composite
def plans_with_progress(draw: st.DrawFn):
    count = draw(st.integers(min_value=1, max_value=14))
    tasks = []
    for n in range(count):
        duration = draw(st.integers(min_value=0, max_value=8))
        task = {"id": f"t{n}", "name": f"Task {n}", "duration": duration, "milestone": duration == 0}
        if n:
            preds = draw(st.lists(st.integers(min_value=0, max_value=n - 1), max_size=3, unique=True))
            task["depends_on"] = [
                {"task": f"t{p}", "lag": draw(st.integers(min_value=-2, max_value=3))} for p in preds
            ]
        if duration:
            task["effort"] = {"pm": draw(st.integers(min_value=0, max_value=6))}
        task["costs"] = [{"category": "tools", "amount": draw(st.integers(min_value=0, max_value=5000))}]
        tasks.append(task)
    template = PlanTemplate.model_validate(
        {
            "id": "p",
            "name": "P",
            "version": "1",
            "currency": "EUR",
            "roles": [{"id": "pm", "name": "PM", "day_rate": 700}],
            "phases": [{"id": "a", "name": "A", "tasks": tasks}],
        }
    )
    plan = instantiate(template, MONDAY)
    status_date = MONDAY + timedelta(days=draw(st.integers(min_value=-5, max_value=60)))
    progress = []
    for task in plan.tasks:
        state = draw(st.sampled_from(["none", "started", "done"]))
        if state == "done":
            progress.append(TaskProgress(task_id=task.id, percent_complete=D(100)))
        elif state == "started" and not task.milestone:
            percent = draw(st.integers(min_value=0, max_value=99))
            progress.append(
                TaskProgress(task_id=task.id, percent_complete=D(percent), actual_start=task.start)
            )
    return plan, progress, status_date


@settings(max_examples=150, deadline=None)
@given(plans_with_progress())
def test_earned_value_stays_within_the_budget(case):
    plan, progress, status_date = case
    ev = plan_status(plan, progress, [], status_date).earned_value
    assert 0 <= ev.ev <= ev.bac
    assert ev.pv <= ev.bac


@settings(max_examples=60, deadline=None)
@given(plans_with_progress())
def test_all_done_earns_the_budget_and_no_progress_earns_nothing(case):
    plan, _, status_date = case
    done = [TaskProgress(task_id=t.id, percent_complete=D(100)) for t in plan.tasks]
    assert plan_status(plan, done, [], status_date).earned_value.ev == plan.budget.total
    assert plan_status(plan, [], [], status_date).earned_value.ev == 0


@settings(max_examples=150, deadline=None)
@given(plans_with_progress())
def test_unfinished_work_is_never_forecast_before_the_status_date(case):
    plan, progress, status_date = case
    status = plan_status(plan, progress, [], status_date)
    facts = {p.task_id: p for p in progress}
    days = ProgressCalendar(WorkCalendar(plan.calendar, plan.start), status_date)
    forecasts = forecast_tasks(plan, facts, days)
    for task in plan.tasks:
        fact = facts.get(task.id)
        if fact is not None and fact.effective_state.value == "done":
            continue
        assert days.calendar.date_of(forecasts[task.id].last) > status_date, task.id
    for milestone in status.milestones:
        if not milestone.reached:
            assert milestone.forecast > status_date


@settings(max_examples=150, deadline=None)
@given(plans_with_progress())
def test_a_milestone_slips_at_least_as_much_as_its_predecessors_less_its_float(case):
    """Per link: the milestone slips at least as much as the predecessor, less the link's baseline slack;
    so when all its predecessors slip by s, it slips by at least s - its total float."""
    plan, progress, status_date = case
    days = ProgressCalendar(WorkCalendar(plan.calendar, plan.start), status_date)
    forecasts = forecast_tasks(plan, {p.task_id: p for p in progress}, days)
    tasks = {t.id: t for t in plan.tasks}
    reached = {p.task_id for p in progress if p.effective_state.value == "done"}
    for milestone in plan.milestones:
        if milestone.id in reached:
            continue
        own = tasks[milestone.id]
        slip = forecasts[own.id].first - baseline_days(own).first
        predecessor_slips = []
        for link in own.depends_on:
            predecessor = tasks[link.task]
            finish = predecessor.early_start_offset + predecessor.duration
            slack = own.early_start_offset - (finish + link.lag)
            predecessor_slip = forecasts[predecessor.id].last - baseline_days(predecessor).last
            assert slip >= predecessor_slip - slack
            predecessor_slips.append(predecessor_slip)
        if predecessor_slips and own.early_start_offset > 0:
            assert slip >= min(predecessor_slips) - own.total_float


def test_started_work_waits_for_an_unfinished_predecessor(make_plan):
    """Retained logic: B started early, but its remaining days follow A, which is still running."""
    progress = [
        TaskProgress(task_id="A", percent_complete=D(60), actual_start=MONDAY),
        TaskProgress(task_id="B", percent_complete=D(40), actual_start=date(2027, 1, 11)),
    ]
    status = plan_status(make_plan(PLAN), progress, [], WEDNESDAY)
    # A's last two days run Thursday 14 and Friday 15; B's three remaining days Monday 18 - Wednesday 20
    m1 = status.milestones[0]
    assert (m1.forecast, m1.variance_days, m1.rag) == (date(2027, 1, 20), 3, Rag.amber)


# --- what a project manager reads: milestone order and reasons, tasks needing attention -----------

OUT_OF_ORDER = (
    HEADER
    + """\
phases:
  - id: audit
    name: Audit
    tasks:
      - {id: X, name: Audit preparation, duration: 10, effort: {pm: 10}}
      - {id: MX, name: Audit ready, milestone: true, depends_on: [X]}
      - {id: P, name: Records, duration: 5, effort: {pm: 5}}
      - {id: MP, name: Records kept, milestone: true, depends_on: [P]}
  - id: start
    name: Start
    tasks:
      - {id: Q, name: Kick-off preparation, duration: 5, effort: {pm: 5}}
      - {id: MQ, name: Kicked off, milestone: true, depends_on: [Q]}
"""
)


def test_milestones_are_listed_by_baseline_then_forecast_not_in_template_order(make_plan):
    plan = make_plan(OUT_OF_ORDER)
    assert [t.id for t in plan.tasks if t.milestone] == ["MX", "MP", "MQ"]
    # MP and MQ share the baseline Friday 8; P has not started, so MP is forecast after MQ
    progress = [TaskProgress(task_id="Q", percent_complete=D(100), actual_finish=date(2027, 1, 8))]
    status = plan_status(plan, progress, [], date(2027, 1, 8))
    assert [(m.id, m.baseline) for m in status.milestones] == [
        ("MQ", date(2027, 1, 8)),
        ("MP", date(2027, 1, 8)),
        ("MX", date(2027, 1, 15)),
    ]
    assert status.milestones[0].forecast < status.milestones[1].forecast


def test_a_milestone_reason_says_why_without_repeating_its_dates(make_plan):
    plan = make_plan(PLAN)
    first = [*PROGRESS[:1], TaskProgress(task_id="B", percent_complete=D(100))]
    cases = {
        WEDNESDAY: PROGRESS,  # B behind: both milestones late because of it
        date(2027, 2, 3): PROGRESS,  # M1 past due, B still open
        date(2027, 1, 20): first,  # B done, M1 not marked reached, C not started
    }
    reasons = {}
    for day, progress in cases.items():
        for m in plan_status(plan, progress, [], day).milestones:
            assert str(m.baseline) not in m.reason and str(m.forecast) not in m.reason
            reasons[day, m.id] = m.reason
    assert reasons[WEDNESDAY, "M2"] == "1 working day late: waits on B"
    assert reasons[date(2027, 2, 3), "M1"] == reasons[date(2027, 2, 3), "M2"] == "past due: waits on B"
    assert reasons[date(2027, 1, 20), "M1"] == "past due, not reached"
    assert reasons[date(2027, 1, 20), "M2"] == "4 working days late: waits on M1 (not reached)"
    reached = [*first, TaskProgress(task_id="M1", actual_finish=date(2027, 1, 15))]
    status = plan_status(plan, reached, [], date(2027, 1, 20))
    m1, m2 = status.milestones
    assert (m1.reason, m1.waits_on) == ("reached on time", None)
    early = [*first, TaskProgress(task_id="M1", actual_finish=date(2027, 1, 13))]
    assert plan_status(plan, early, [], date(2027, 1, 20)).milestones[0].reason == (
        "reached on time, 2 working days early"
    )
    assert (m2.reason, m2.waits_on) == ("3 working days late: waits on C (not started)", "C")
    # read alone (the plan's reason, when the milestone is the worst), the dates stay in it
    assert milestone_summary(m2, date(2027, 1, 20)) == (
        "forecast 2027-02-03, 3 working days after the baseline 2027-01-29; waits on C"
    )


ATTENTION = (
    HEADER
    + """\
phases:
  - id: p
    name: P
    tasks:
      - {id: A, name: Policy, duration: 5, effort: {pm: 5}}
      - {id: B, name: Processes, duration: 5, depends_on: [A], effort: {pm: 5}}
      - {id: C, name: Training, duration: 10, depends_on: [A], effort: {pm: 10}}
      - {id: D, name: Records, duration: 30, effort: {pm: 30}}
      - {id: E, name: Audit preparation, duration: 5, depends_on: [B], effort: {pm: 5}}
      - {id: F, name: Audit, duration: 5, depends_on: [D], effort: {pm: 5}}
      - {id: M, name: Ready, milestone: true, depends_on: [C, E, F]}
"""
)


def test_tasks_needing_attention_late_due_in_ten_working_days_and_in_progress(make_plan):
    # A Jan 4-8 done; B Jan 11-15 and 40 %: late; C Jan 11-22 and E Jan 18-22: due; D Jan 4 - Feb 12
    # running: in progress; F Feb 15-19 and the milestone are not listed
    progress = [
        TaskProgress(task_id="A", actual_start=MONDAY, actual_finish=date(2027, 1, 8)),
        TaskProgress(task_id="B", percent_complete=D(40), actual_start=date(2027, 1, 11)),
        TaskProgress(task_id="C", percent_complete=D(50), actual_start=date(2027, 1, 11)),
        TaskProgress(task_id="D", percent_complete=D(20), actual_start=MONDAY),
    ]
    attention = plan_status(make_plan(ATTENTION), progress, [], date(2027, 1, 18)).attention
    assert attention.due_by == date(2027, 2, 1)  # ten working days after Monday 18
    (late,) = attention.late
    assert (late.id, late.state.value, late.percent_complete) == ("B", "in_progress", D(40))
    assert (late.actual_start, late.finish) == (date(2027, 1, 11), date(2027, 1, 15))
    # three of B's five days remain, from Tuesday 19: it ends Thursday 21, 4 working days late
    assert (late.forecast_finish, late.variance_days) == (date(2027, 1, 21), 4)
    assert [(t.id, t.percent_complete, t.finish) for t in attention.due] == [
        ("C", D(50), date(2027, 1, 22)),
        ("E", D(0), date(2027, 1, 22)),
    ]
    assert attention.due[1].forecast_finish == date(2027, 1, 28)  # after B
    assert [(t.id, t.start, t.finish) for t in attention.in_progress] == [("D", MONDAY, date(2027, 2, 12))]
    data = json.loads(plan_status(make_plan(ATTENTION), progress, [], date(2027, 1, 18)).model_dump_json())
    assert [t["id"] for t in data["attention"]["late"]] == ["B"]
    assert data["attention"]["due_by"] == "2027-02-01"


def test_a_status_stored_before_the_attention_lists_still_loads(make_plan):
    data = json.loads(plan_status(make_plan(PLAN), PROGRESS, [], WEDNESDAY).model_dump_json())
    del data["attention"]
    for milestone in data["milestones"]:
        del milestone["waits_on"]
    old = PlanStatus.model_validate(data)
    assert old.attention.late == [] and old.attention.due_by is None


def test_work_started_is_never_called_not_started(make_plan):
    plan = make_plan(PLAN)
    new_year = date(2026, 12, 31)  # before the baseline's first day, Monday 4 January
    nothing = plan_status(plan, [], [], new_year).earned_schedule
    assert nothing.unavailable["spi_t"] == "the project has not started by the status date"
    early = [TaskProgress(task_id="A", actual_start=date(2026, 12, 30), percent_complete=D(0))]
    status = plan_status(plan, early, [], new_year)
    reasons = [
        *status.earned_schedule.unavailable.values(),
        *status.stages[0].earned_schedule.unavailable.values(),
    ]
    assert reasons and not any("not started" in r for r in reasons)
    assert status.earned_schedule.unavailable["spi_t"] == (
        "work has started ahead of the baseline, nothing earned yet: no baseline time has elapsed by the "
        "status date to measure it against"
    )
    # after the start, started but nothing earned: SPI(t) is 0 and the duration cannot be forecast
    started = plan_status(plan, early, [], date(2027, 1, 6)).earned_schedule
    assert started.spi_t == 0
    assert started.unavailable["ieac_t"] == (
        "work has started but nothing is earned yet, so no duration can be forecast from performance"
    )


@settings(max_examples=100, deadline=None)
@given(plans_with_progress())
def test_a_milestone_reason_never_carries_a_date_and_names_a_late_task(case):
    plan, progress, status_date = case
    status = plan_status(plan, progress, [], status_date)
    tasks = {t.id: t for t in plan.tasks}
    done = {p.task_id for p in progress if p.effective_state.value == "done"}
    days = ProgressCalendar(WorkCalendar(plan.calendar, plan.start), status_date)
    forecasts = forecast_tasks(plan, {p.task_id: p for p in progress}, days)
    for m in status.milestones:
        assert not any(str(year) in m.reason for year in range(2026, 2030)), m.reason
        if m.waits_on is not None:
            assert m.waits_on not in done and m.reason.endswith(
                (f"waits on {m.waits_on}", f"waits on {m.waits_on} (not started)", "(not reached)")
            )
            late = forecasts[m.waits_on].last > baseline_days(tasks[m.waits_on]).last
            assert late and m.variance_days > 0  # the task named is late itself
    dates = [(m.baseline, m.forecast) for m in status.milestones]
    assert dates == sorted(dates)

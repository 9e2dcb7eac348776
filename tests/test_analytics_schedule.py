"""Earned schedule with waits in the plan: exactly on plan reads on plan, per stage too; behind and ahead
read as such; the certificate is forecast from the network."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from iso20k_sync.analytics import AnalyticsSettings, PlanStatus, TaskProgress, plan_status
from iso20k_sync.analytics.forecast import ProgressCalendar, baseline_days
from iso20k_sync.calendar import WorkCalendar
from iso20k_sync.cli.status_view import render_status
from iso20k_sync.engine.notes import plan_note
from iso20k_sync.instantiate import instantiate
from iso20k_sync.plan import Plan
from iso20k_sync.template import resolve_template
from iso20k_sync.template.model import PlanTemplate

from .conftest import MONDAY
from .test_plan_status import PLAN, PROGRESS, WEDNESDAY

D = Decimal
START = date(2027, 1, 4)


def on_plan(plan: Plan, day: date) -> list[TaskProgress]:
    """Every task exactly as far as its baseline says at the end of ``day``."""
    days = ProgressCalendar(WorkCalendar(plan.calendar, plan.start), day)
    facts = []
    for task in plan.tasks:
        span = max(task.duration, 1)
        elapsed = min(max(days.cutoff - baseline_days(task).first, 0), span)
        if elapsed:
            facts.append(TaskProgress(task_id=task.id, percent_complete=D(100 * elapsed) / span))
    return facts


@pytest.fixture(scope="module")
def bundled() -> Plan:
    return instantiate(resolve_template("iso20000-1-2018"), START)


# --- the bundled plan --------------------------------------------------------------------------


def test_exactly_on_plan_inside_a_wait_is_on_plan(bundled: Plan) -> None:
    # 2028-03-15: the certificate is issued, the surveillance year 1 work is months away (the audit found
    # SPI(t) 1.51 and SV(t) +160 days here, from counting the wait)
    day = date(2028, 3, 15)
    es = plan_status(bundled, on_plan(bundled, day), [], day).earned_schedule
    assert (es.spi_t, es.sv_t) == (D("1.0000"), D("0.00"))
    assert es.es == es.actual_time
    assert es.planned_duration + es.down_time == bundled.duration and es.down_time > 0


def test_the_bundled_plan_has_four_stages_named_after_their_gates(bundled: Plan) -> None:
    status = plan_status(bundled, [], [], date(2027, 3, 1))
    assert [s.milestone for s in status.stages] == [
        "certificate-issued",
        "surveillance-1-complete",
        "surveillance-2-complete",
        "recertification-complete",
    ]
    implementation = status.stages[0]
    assert implementation.name == "Gate: Certificate issued (ISO/IEC 20000-1:2018)"
    certificate = next(m for m in bundled.milestones if m.id == "certificate-issued")
    assert (implementation.start, implementation.baseline) == (START, certificate.date)
    later = status.stages[1].earned_schedule
    assert later.spi_t is None and later.actual_time == 0
    assert later.unavailable["spi_t"] == "the stage's baseline has not started by the status date"


@pytest.fixture(scope="module")
def late(bundled: Plan) -> PlanStatus:
    """On 2028-03-15, the work only where the plan was on 2028-02-01: the certificate is late."""
    return plan_status(bundled, on_plan(bundled, date(2028, 2, 1)), [], date(2028, 3, 15))


def test_a_late_certificate_is_forecast_from_the_network_and_waits_are_not_stretched(
    bundled: Plan, late: PlanStatus
) -> None:
    certificate = next(m for m in late.milestones if m.id == "certificate-issued")
    stages = late.stages
    assert certificate.variance_days > 0 and certificate.forecast > late.status_date
    assert (stages[0].forecast, stages[0].variance_days) == (certificate.forecast, certificate.variance_days)
    # the surveillance stages hang off the certificate: the network moves them by as much
    assert [s.variance_days for s in stages[1:]] == [certificate.variance_days] * 3
    assert late.forecast_finish == stages[-1].forecast
    implementation = stages[0].earned_schedule
    assert implementation.sv_t < 0 and implementation.spi_t is not None and implementation.spi_t < 1
    # IEAC(t) adds the waits back instead of dividing them by SPI(t)
    es = late.earned_schedule
    assert es.spi_t is not None and es.ieac_t is not None and es.down_time > 0
    unstretched = es.planned_duration * es.actual_time / es.es + es.down_time
    assert abs(es.ieac_t - unstretched) < D("0.02")
    assert es.ieac_t < bundled.duration / es.spi_t  # what stretching the waits would have given


def test_stages_are_shown_in_the_plan_note_and_the_terminal(late: PlanStatus) -> None:
    first = late.stages[0]
    es = first.earned_schedule
    note = plan_note(late)
    table = next(t for t in note.tables if t.title.startswith("Schedule by stage"))
    assert [c.header for c in table.columns] == [
        "Stage (closing milestone)",
        "Baseline",
        "Forecast (network)",
        "Variance (working days)",
        "PD",
        "AT",
        "ES",
        "SV(t)",
        "SPI(t)",
    ]
    assert len(table.rows) == 4
    assert table.rows[0] == [
        "Gate: Certificate issued (ISO/IEC 20000-1:2018)",
        first.baseline,
        first.forecast,
        first.variance_days,
        es.planned_duration,
        es.actual_time,
        es.es,
        es.sv_t,
        es.spi_t,
    ]
    down = note.figure("down_time")
    assert down is not None and down.value == late.earned_schedule.down_time
    ieac = note.figure("ieac_t")
    assert ieac is not None and "PD / SPI(t) + DT" in ieac.note

    console = Console(width=200, record=True)
    render_status(late, console)
    text = console.export_text()
    assert "Schedule by stage" in text
    row = next(line for line in text.splitlines() if "Certificate issued" in line and f"{es.es} /" in line)
    assert str(first.forecast) in row and f"{first.variance_days:+d}" in row and str(es.sv_t) in row


def test_a_plan_without_long_waits_is_one_stage(make_plan) -> None:
    status = plan_status(make_plan(PLAN), PROGRESS, [], WEDNESDAY)
    (stage,) = status.stages
    assert (stage.milestone, stage.name, stage.baseline) == ("M2", "Certified", date(2027, 1, 29))
    assert stage.earned_schedule == status.earned_schedule
    assert status.earned_schedule.down_time == 0  # every working day has planned value


# --- properties --------------------------------------------------------------------------------


@st.composite
def plans_with_waits(draw: st.DrawFn) -> tuple[Plan, date]:
    """Small plans with long lags and tasks without cost, so planned value has flat stretches."""
    count = draw(st.integers(min_value=1, max_value=10))
    tasks = []
    for n in range(count):
        duration = draw(st.integers(min_value=0, max_value=6))
        task: dict[str, object] = {"id": f"t{n}", "name": f"Task {n}", "duration": duration}
        task["milestone"] = duration == 0
        if n:
            preds = draw(
                st.lists(st.integers(min_value=0, max_value=n - 1), min_size=1, max_size=2, unique=True)
            )
            task["depends_on"] = [
                {"task": f"t{p}", "lag": draw(st.sampled_from([0, 0, 1, 5, 12, 25]))} for p in preds
            ]
        amount = draw(st.sampled_from([0, 0, 1, 7, 250, 4000]))
        task["costs"] = [{"category": "tools", "amount": amount}]
        tasks.append(task)
    template = PlanTemplate.model_validate(
        {
            "id": "w",
            "name": "W",
            "version": "1",
            "currency": "EUR",
            "roles": [{"id": "pm", "name": "PM", "day_rate": 700}],
            "phases": [{"id": "a", "name": "A", "tasks": tasks}],
        }
    )
    plan = instantiate(template, MONDAY)
    span = (plan.finish - plan.start).days
    day = plan.start + timedelta(days=draw(st.integers(min_value=-3, max_value=span + 20)))
    return plan, day


STAGED = AnalyticsSettings(stage_gap_days=3)


@settings(max_examples=200, deadline=None)
@given(plans_with_waits())
def test_exactly_on_plan_is_on_plan_on_every_date_in_every_stage(case: tuple[Plan, date]) -> None:
    plan, day = case
    status = plan_status(plan, on_plan(plan, day), [], day, STAGED)
    figures = [status.earned_schedule]
    figures += [stage.earned_schedule for stage in status.stages]
    for es in figures:
        assert es.sv_t == 0, es
        assert es.spi_t in (None, D(1)), es
        assert es.es == es.actual_time


@settings(max_examples=200, deadline=None)
@given(plans_with_waits(), st.integers(min_value=1, max_value=40))
def test_where_the_plan_was_earlier_is_behind_and_where_it_will_be_is_ahead(
    case: tuple[Plan, date], shift: int
) -> None:
    plan, day = case
    now = plan_status(plan, on_plan(plan, day), [], day).earned_value.pv
    for other, sign in ((day - timedelta(days=shift), -1), (day + timedelta(days=shift), 1)):
        then = plan_status(plan, on_plan(plan, other), [], other)
        es = plan_status(plan, on_plan(plan, other), [], day).earned_schedule
        assert es.es == then.earned_schedule.es  # the same value earned, the same point of the plan
        assert es.sv_t * sign >= 0, (other, es)
        if then.earned_value.pv != now:  # the plan moved between the two dates
            assert es.sv_t * sign > 0, (other, es)

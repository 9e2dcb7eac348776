"""The status as a project manager reads it in a terminal: milestones by date, a reason that does not repeat
the dates beside it, the tasks needing attention, and no table wrapped to pieces at 80 columns."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from rich.console import Console

from iso20k_sync.analytics import PlanStatus, TaskProgress, plan_status
from iso20k_sync.cli.status_view import render_status
from iso20k_sync.instantiate import instantiate
from iso20k_sync.template import resolve_template

D = Decimal
STATUS_DATE = date(2027, 3, 15)
DONE = (
    "management-basis-assessment",
    "benefit-analysis",
    "resource-cost-estimate",
    "feasibility-report",
    "go-no-go",
    "appoint-sponsor",
    "project-team",
    "purchase-standards",
    "core-team-training",
)


@pytest.fixture(scope="module")
def status() -> PlanStatus:
    """The bundled plan in March 2027: the feasibility study done, the scope and the plan behind."""
    plan = instantiate(resolve_template("iso20000-1-2018"), date(2026, 12, 14))
    tasks = {t.id: t for t in plan.tasks}
    progress = [
        TaskProgress(task_id=key, actual_start=tasks[key].start, actual_finish=tasks[key].finish)
        for key in DONE
    ]
    for key, percent in (("define-scope", 60), ("project-plan", 50)):
        progress.append(TaskProgress(task_id=key, percent_complete=D(percent), actual_start=tasks[key].start))
    return plan_status(plan, progress, [], STATUS_DATE)


def render(status: PlanStatus, width: int, **options: object) -> Console:
    console = Console(width=width, record=True, **options)  # type: ignore[arg-type]
    render_status(status, console)
    return console


def lines(status: PlanStatus, width: int) -> list[str]:
    return [line.rstrip() for line in render(status, width).export_text().splitlines()]


def section(text: list[str], title: str, then: str = "Baseline, Forecast: finish dates.") -> list[str]:
    """The rows of the table titled ``title``: from below its header rule to the line starting ``then``."""
    start = next(n for n, line in enumerate(text) if line.startswith(title))
    rule = next(n for n in range(start, len(text)) if text[n].startswith("───"))
    end = next(n for n in range(rule + 1, len(text)) if text[n].startswith(then))
    return text[rule + 1 : end]


def test_at_80_columns_nothing_is_wider_and_each_milestone_takes_two_lines(status: PlanStatus) -> None:
    text = lines(status, 80)
    assert max(len(line) for line in text) <= 80
    rows = section(text, "Milestones", "Late:")
    assert len(rows) == 2 * len(status.milestones)  # name, dates and RAG; then the reason: never a third line
    for m, (first, second) in zip(status.milestones, zip(rows[::2], rows[1::2], strict=True), strict=True):
        name = first.split("  ")[0].rstrip("…")
        assert m.name.startswith(name) and len(name) >= min(len(m.name), 30)
        assert f"{m.baseline}  {m.forecast}" in first and first.endswith(m.rag.value)
        assert second == f"  {m.reason}"  # whole, under the name


def test_milestones_are_shown_by_date(status: PlanStatus) -> None:
    rows = section(lines(status, 80), "Milestones", "Late:")[::2]
    shown = [(row.split()[-3 if "✓" not in row else -4], row) for row in rows]
    baselines = [date.fromisoformat(day) for day, _ in shown]
    assert baselines == sorted(baselines)
    assert [m.baseline for m in status.milestones] == baselines


def test_the_reason_does_not_repeat_the_dates_beside_it(status: PlanStatus) -> None:
    late = [m for m in status.milestones if not m.reached and m.variance_days > 0]
    assert late
    for m in status.milestones:
        assert str(m.baseline) not in m.reason and str(m.forecast) not in m.reason
    certificate = next(m for m in status.milestones if m.id == "certificate-issued")
    assert certificate.reason == f"{certificate.variance_days} working days late: waits on define-scope"
    wide = lines(status, 200)
    row = next(line for line in wide if certificate.name in line)
    assert row.count(str(certificate.baseline)) == row.count(str(certificate.forecast)) == 1
    assert "Variance" in " ".join(wide) and certificate.reason in row


def test_the_tasks_needing_attention_are_listed_with_their_dates_and_progress(status: PlanStatus) -> None:
    text = lines(status, 80)
    assert "Late: baseline finish on or before 2027-03-15, not done" in text
    late = {row.split()[0]: row.split()[1:] for row in section(text, "Late:")}
    assert [t.id for t in status.attention.late] == list(late)
    scope = next(t for t in status.attention.late if t.id == "define-scope")
    assert late["define-scope"] == [
        str(scope.actual_start),
        str(scope.finish),
        str(scope.forecast_finish),
        "60%",
    ]
    assert late["sm-policy"][0] == "-" and late["sm-policy"][-1] == "0%"  # not started: no actual start
    due = [line for line in text if line.startswith("Due by ")]
    assert due == [f"Due by {status.attention.due_by}: baseline finish in the next 10 working days"]
    assert {row.split()[0] for row in section(text, "Due by")} == {t.id for t in status.attention.due}
    assert "In progress, neither late nor due: none" in text  # both started tasks are late


def test_the_rag_stays_coloured_in_the_compact_layout(status: PlanStatus) -> None:
    coloured = render(status, 80, force_terminal=True, color_system="standard").export_text(styles=True)
    colours = {"green": "1;32", "amber": "1;33", "red": "1;31"}
    shown = {m.rag.value for m in status.milestones}
    assert shown == {"green", "red"}
    for rag in shown:
        assert re.search(rf"\x1b\[{colours[rag]}m{rag} *\x1b\[0m", coloured), rag


def test_the_budget_fits_80_columns_in_whole_units(status: PlanStatus) -> None:
    text = lines(status, 80)
    assert "Budget by category (USD, whole units)" in text
    total = next(line for line in text if line.startswith("Total"))
    assert f"{status.earned_value.bac:,.0f}" in total and f"{status.earned_value.eac:,.0f}" in total

"""The plan status as terminal tables: headline, milestones, schedule by stage, budget by category."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Console
from rich.table import Table

from ..analytics import PlanStatus
from ..analytics.rag import Rag

RAG_STYLE = {Rag.green: "bold green", Rag.amber: "bold yellow", Rag.red: "bold red"}


def _money(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value:,.2f}"


def _index(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def render_status(status: PlanStatus, console: Console) -> None:
    ev, es = status.earned_value, status.earned_schedule
    console.print(
        f"[{RAG_STYLE[status.rag]}]{status.rag.value.upper()}[/] {status.reason}\n"
        f"status date {status.status_date}; forecast finish {status.forecast_finish} "
        f"(baseline {status.baseline_finish}); tasks done {status.tasks.done}, in progress "
        f"{status.tasks.in_progress}, not started {status.tasks.not_started}\n"
        f"SPI {_index(ev.spi)}  CPI {_index(ev.cpi)}  SPI(t) {_index(es.spi_t)}  "
        f"SV(t) {es.sv_t} working days  "
        f"EAC {_money(ev.eac)} {status.currency} ({ev.eac_method.value})",
        highlight=False,
    )
    milestones = Table(title="Milestones", title_justify="left", header_style="bold")
    for name, justify in [
        ("Milestone", "left"),
        ("Baseline", "left"),
        ("Forecast", "left"),
        ("Variance", "right"),
        ("RAG", "left"),
        ("Reason", "left"),
    ]:
        milestones.add_column(name, justify=justify)  # type: ignore[arg-type]
    for m in status.milestones:
        milestones.add_row(
            m.name,
            str(m.baseline),
            str(m.forecast) + (" ✓" if m.reached else ""),
            f"{m.variance_days:+d}",
            f"[{RAG_STYLE[m.rag]}]{m.rag.value}[/]",
            m.reason,
        )
    console.print(milestones)
    _stages(status, console)
    budget = Table(title=f"Budget by category ({status.currency})", title_justify="left", header_style="bold")
    for name in ("Category", "Baseline", "Planned to date", "Earned", "Actual", "Variance", "Forecast"):
        budget.add_column(name, justify="left" if name == "Category" else "right")
    rows = [(c.value.capitalize(), f) for c, f in status.by_category.items()] + [("Total", ev)]
    for name, f in rows:
        budget.add_row(
            name,
            _money(f.bac),
            _money(f.pv),
            _money(f.ev),
            _money(f.ac),
            _money(f.cv),
            _money(f.eac),
            style="bold" if name == "Total" else None,
        )
    budget.caption = "Variance = earned - actual (negative: over budget). Forecast = estimate at completion."
    console.print(budget)
    for problem in status.problems:
        console.print(f"problem: {problem}", highlight=False, markup=False)


def _stages(status: PlanStatus, console: Console) -> None:
    stages = Table(title="Schedule by stage", title_justify="left", header_style="bold")
    for name in ("Stage", "Baseline", "Forecast", "Variance", "ES / AT", "SV(t)", "SPI(t)"):
        stages.add_column(name, justify="left" if name in ("Stage", "Baseline", "Forecast") else "right")
    for stage in status.stages:
        es = stage.earned_schedule
        stages.add_row(
            stage.name,
            str(stage.baseline),
            str(stage.forecast) + (" ✓" if stage.reached else ""),
            f"{stage.variance_days:+d}",
            f"{es.es} / {es.actual_time}",
            str(es.sv_t),
            _index(es.spi_t),
        )
    stages.caption = (
        "Forecast: the stage's closing milestone re-scheduled over the plan's links. ES, AT, SV(t): working "
        "days with planned value; waits between stages are not counted."
    )
    console.print(stages)

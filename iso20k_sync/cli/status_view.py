"""The plan status as terminal tables: headline, milestones, budget by category."""

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

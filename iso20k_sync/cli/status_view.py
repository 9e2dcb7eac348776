"""The plan status as terminal tables: headline, milestones, tasks needing attention, schedule by stage,
budget by category.

Below ``WIDE`` columns the tables take a compact layout that fits an 80-column terminal: no vertical rules,
long names cut with an ellipsis instead of wrapped, the milestone's reason on a line under its name (it says
how late, so the variance column goes), the stage's baseline left to the milestone table, money in whole
units. Dates, figures and the coloured RAG are never cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..analytics import PlanStatus
from ..analytics.attention import DUE_WINDOW_DAYS, TaskAttention
from ..analytics.rag import Rag

RAG_STYLE = {Rag.green: "bold green", Rag.amber: "bold yellow", Rag.red: "bold red"}
WIDE = 140
"""Terminal columns from which the full layout is used."""

Justify = Literal["left", "right"]


def _money(value: Decimal | None, cents: bool = True) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.2f}" if cents else f"{value:,.0f}"


def _index(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _percent(value: Decimal | None) -> str:
    return "?" if value is None else f"{value:.0f}%"


def _cut(text: str, style: str = "") -> Text:
    """One line, cut with an ellipsis when the column is narrower."""
    return Text(text, style=style, no_wrap=True, overflow="ellipsis")


def _table(
    title: str | None, wide: bool, columns: Sequence[tuple[str, Justify]], flexible: Sequence[int] = (0,)
) -> Table:
    """A table whose ``flexible`` columns give way when the terminal is narrow; the others never wrap."""
    table = Table(
        title=title,
        title_justify="left",
        header_style="bold",
        box=box.HEAVY_HEAD if wide else box.SIMPLE_HEAD,
        caption_justify="left",
        show_edge=wide,
        padding=(0, 1) if wide else (0, 1, 0, 0),
    )
    for n, (name, justify) in enumerate(columns):
        table.add_column(name, justify=justify, no_wrap=n not in flexible, overflow="ellipsis")
    return table


def render_status(status: PlanStatus, console: Console) -> None:
    wide = console.width >= WIDE
    ev, es = status.earned_value, status.earned_schedule
    tasks = status.tasks
    console.print(
        f"[{RAG_STYLE[status.rag]}]{status.rag.value.upper()}[/] {status.reason}\n"
        f"status date {status.status_date}; forecast finish {status.forecast_finish} "
        f"(baseline {status.baseline_finish})\n"
        f"tasks done {tasks.done}, in progress {tasks.in_progress}, not started {tasks.not_started}\n"
        f"SPI {_index(ev.spi)}  CPI {_index(ev.cpi)}  SPI(t) {_index(es.spi_t)}  "
        f"SV(t) {es.sv_t} working days\n"
        f"EAC {_money(ev.eac)} {status.currency} ({ev.eac_method.value})",
        highlight=False,
        soft_wrap=False,
    )
    _milestones(status, console, wide)
    _attention(status, console, wide)
    _stages(status, console, wide)
    _budget(status, console, wide)
    for problem in status.problems:
        console.print(f"problem: {problem}", highlight=False, markup=False)


def _milestones(status: PlanStatus, console: Console, wide: bool) -> None:
    columns: list[tuple[str, Justify]] = [("Milestone", "left"), ("Baseline", "left"), ("Forecast", "left")]
    columns += [("Variance", "right"), ("RAG", "left"), ("Reason", "left")] if wide else [("RAG", "left")]
    table = _table("Milestones (by date)", wide, columns)
    for m in status.milestones:
        rag = Text(m.rag.value, style=RAG_STYLE[m.rag])
        forecast = str(m.forecast) + (" ✓" if m.reached else "")
        if wide:
            table.add_row(_cut(m.name), str(m.baseline), forecast, f"{m.variance_days:+d}", rag, m.reason)
        else:
            name = _cut(m.name)
            name.append(f"\n  {m.reason}", style="dim")
            table.add_row(name, str(m.baseline), forecast, rag)
    console.print(table, soft_wrap=False)


def _attention(status: PlanStatus, console: Console, wide: bool) -> None:
    attention = status.attention
    due_by = f"by {attention.due_by}" if attention.due_by else "soon"
    for title, items in (
        (f"Late: baseline finish on or before {status.status_date}, not done", attention.late),
        (f"Due {due_by}: baseline finish in the next {DUE_WINDOW_DAYS} working days", attention.due),
        ("In progress, neither late nor due", attention.in_progress),
    ):
        console.print(f"{title}{'' if items else ': none'}", style="italic", highlight=False, soft_wrap=False)
        if items:
            console.print(_tasks(items, wide), soft_wrap=False)


def _tasks(items: list[TaskAttention], wide: bool) -> Table:
    columns: list[tuple[str, Justify]] = [("Task", "left")]
    if wide:
        columns += [("Name", "left"), ("Baseline start", "left")]
    columns += [("Started", "left"), ("Baseline", "left"), ("Forecast", "left")]
    columns += [("Variance", "right"), ("Done", "right")] if wide else [("Done", "right")]
    table = _table(None, wide, columns, flexible=(1,) if wide else (0,))
    for t in items:
        started = str(t.actual_start) if t.actual_start else "-"
        dates = [started, str(t.finish), str(t.forecast_finish)]
        if wide:
            variance = f"{t.variance_days:+d}"
            table.add_row(t.id, _cut(t.name), str(t.start), *dates, variance, _percent(t.percent_complete))
        else:
            table.add_row(_cut(t.id), *dates, _percent(t.percent_complete))
    table.caption = "Baseline, Forecast: finish dates."
    return table


def _stages(status: PlanStatus, console: Console, wide: bool) -> None:
    columns: list[tuple[str, Justify]] = [("Stage", "left")]
    columns += [("Baseline", "left")] if wide else []
    columns += [("Forecast", "left"), ("Variance" if wide else "Var", "right")]
    columns += [("ES / AT", "right"), ("SV(t)", "right"), ("SPI(t)", "right")]
    table = _table("Schedule by stage", wide, columns)
    for stage in status.stages:
        es = stage.earned_schedule
        dates = [str(stage.baseline)] if wide else []
        table.add_row(
            _cut(stage.name),
            *dates,
            str(stage.forecast) + (" ✓" if stage.reached else ""),
            f"{stage.variance_days:+d}",
            f"{es.es} / {es.actual_time}",
            str(es.sv_t),
            _index(es.spi_t),
        )
    table.caption = (
        "Forecast: the stage's closing milestone re-scheduled over the plan's links. ES, AT, SV(t): working "
        "days with planned value; waits between stages are not counted."
    )
    console.print(table, soft_wrap=False)


def _budget(status: PlanStatus, console: Console, wide: bool) -> None:
    names = ("Category", "Baseline", "Planned to date" if wide else "Planned", "Earned", "Actual")
    columns: list[tuple[str, Justify]] = [(n, "left" if n == "Category" else "right") for n in names]
    columns += [("Variance", "right"), ("Forecast", "right")]
    units = "" if wide else ", whole units"
    table = _table(f"Budget by category ({status.currency}{units})", wide, columns)
    rows = [(c.value.capitalize(), f) for c, f in status.by_category.items()]
    for name, f in [*rows, ("Total", status.earned_value)]:
        figures = (f.bac, f.pv, f.ev, f.ac, f.cv, f.eac)
        table.add_row(name, *(_money(v, wide) for v in figures), style="bold" if name == "Total" else None)
    table.caption = "Variance = earned - actual (negative: over budget). Forecast = estimate at completion."
    console.print(table, soft_wrap=False)

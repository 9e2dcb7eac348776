"""The plan as terminal tables (rich): summary, tasks by phase, milestones, budget."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Console, Group
from rich.table import Table

from ..plan import Plan, PlannedTask
from ..template.model import CostCategory


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _predecessors(task: PlannedTask) -> str:
    return ", ".join(dep.label() for dep in task.depends_on)


def summary_table(plan: Plan) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("Template", f"{plan.template.name} ({plan.template.id} v{plan.template.version})")
    table.add_row("Schedule", f"{plan.start} to {plan.finish}, {plan.duration} working days")
    table.add_row("Budget", f"{_money(plan.budget.total)} {plan.currency}")
    if len(plan.critical_path) <= 12:
        table.add_row("Critical path", " → ".join(plan.critical_path))
    else:
        gates = [m.name for m in plan.milestones if m.critical]
        table.add_row(
            "Critical path", f"{len(plan.critical_path)} tasks (red below), through: " + " → ".join(gates)
        )
    return table


def tasks_table(plan: Plan) -> Table:
    table = Table(title="Plan", title_justify="left", header_style="bold")
    table.add_column("WBS", no_wrap=True)
    table.add_column("Key", overflow="fold", max_width=24)
    table.add_column("Task", ratio=1, min_width=16)
    table.add_column("Start", no_wrap=True, min_width=10)
    table.add_column("Finish", no_wrap=True, min_width=10)
    table.add_column("Days", justify="right", no_wrap=True)
    table.add_column("Float", justify="right", no_wrap=True)
    table.add_column("After", ratio=1, overflow="fold")
    table.add_column(f"Cost {plan.currency}", justify="right", no_wrap=True)
    by_phase: dict[str, list[PlannedTask]] = {}
    for task in plan.tasks:
        by_phase.setdefault(task.phase, []).append(task)
    for phase in plan.phases:
        table.add_row(
            phase.wbs,
            "",
            phase.name,
            str(phase.start),
            str(phase.finish),
            str(phase.duration),
            "",
            "",
            _money(phase.cost),
            style="bold",
        )
        for task in by_phase.get(phase.id, []):
            name = f"◆ {task.name}" if task.milestone else task.name
            table.add_row(
                task.wbs,
                task.id,
                name,
                str(task.start),
                str(task.finish),
                str(task.duration),
                str(task.total_float),
                _predecessors(task),
                _money(task.cost),
                style="red" if task.critical else None,
            )
    table.caption = "Red: critical (no float). ◆ milestone. Days and float in working days."
    return table


def milestones_table(plan: Plan) -> Table:
    table = Table(title="Milestones", title_justify="left", header_style="bold")
    for name in ("Key", "Milestone", "Date", "Float"):
        table.add_column(name, justify="right" if name == "Float" else "left")
    for m in plan.milestones:
        table.add_row(m.id, m.name, str(m.date), str(m.total_float), style="red" if m.critical else None)
    return table


def budget_table(plan: Plan) -> Table:
    table = Table(title=f"Budget by category ({plan.currency})", title_justify="left", header_style="bold")
    table.add_column("Category")
    table.add_column("Amount", justify="right", no_wrap=True)
    table.add_column("Share", justify="right", no_wrap=True)
    total = plan.budget.total
    for category in CostCategory:
        amount = plan.budget.by_category[category]
        share = f"{amount / total:.1%}" if total else "-"
        table.add_row(category.value.capitalize(), _money(amount), share)
    table.add_row("Total", _money(total), "", style="bold", end_section=True)
    return table


def phase_budget_table(plan: Plan) -> Table:
    table = Table(title=f"Budget by phase ({plan.currency})", title_justify="left", header_style="bold")
    table.add_column("WBS", no_wrap=True)
    table.add_column("Phase")
    table.add_column("Largest part")
    table.add_column("Amount", justify="right", no_wrap=True)
    for phase in plan.phases:
        amounts = plan.budget.by_phase[phase.id]
        largest = max(amounts.by_category, key=lambda c: amounts.by_category[c])
        table.add_row(phase.wbs, phase.name, largest.value if amounts.total else "-", _money(amounts.total))
    return table


def render_plan(plan: Plan, console: Console) -> None:
    console.print(
        Group(
            summary_table(plan),
            tasks_table(plan),
            milestones_table(plan),
            budget_table(plan),
            phase_budget_table(plan),
        )
    )

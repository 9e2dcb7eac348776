"""Commands on a seeded plan's figures: ``status`` and ``expense add|list``."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from connectors.values import amount_problem

from ..analytics import Expense, PlanStatus
from ..engine.plans import seeded_plan
from ..engine.status import status_at
from ..errors import InputError, InputProblem
from ..files import write_atomically
from ..template.model import CostCategory
from .common import ReportFormat, err, out, parse_date, reports_errors
from .configured import (
    ConfigOption,
    FormatOption,
    PlanOption,
    load,
    load_plans,
    open_plan,
    open_store,
    today,
    warn_drift,
)
from .status_view import render_status


class StatusFormat(StrEnum):
    table = "table"
    json = "json"
    mspdi = "mspdi"


expense_app = typer.Typer(
    help="Record fixed fees and invoices (e.g. the certification body's).", no_args_is_help=True
)


@reports_errors
def status_command(
    config_option: ConfigOption = None,
    plan: PlanOption = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", metavar="YYYY-MM-DD", help="Status date (default: the last sync's status date)."
        ),
    ] = None,
    fmt: Annotated[StatusFormat, typer.Option("--format")] = StatusFormat.table,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Where --format mspdi writes (default: PLAN-status.xml).", metavar="FILE"
        ),
    ] = None,
) -> None:
    """Milestones (baseline, forecast, variance, RAG) and budget by category, from the store alone."""
    if output is not None and fmt is not StatusFormat.mspdi:
        raise InputError("--output", [InputProblem((), "only --format mspdi writes a file")])
    config, configured = load_plans(config_option)
    plan_config = config.plan(plan)
    store = open_store(config)
    with store.transaction() as repo:
        row, baseline = seeded_plan(repo, plan_config)
        warn_drift(plan_config, configured[plan_config.name], baseline)
        if as_of is not None:
            status_date = parse_date("--as-of", as_of)
        else:
            latest = repo.latest_status(row.id)
            if latest is None:
                raise InputError(
                    "status",
                    [InputProblem((), f"no status yet for {plan_config.name!r}: run `iso20k-sync sync`")],
                )
            status_date = latest.status_date
        status = status_at(repo, row, baseline, plan_config.analytics, status_date)
        if fmt is StatusFormat.mspdi:  # what the status counted, task by task
            facts = list(repo.latest_progress(row.id, status_date).values())
            expenses = [expense for _, expense in repo.expenses(row.id)]
    if fmt is not StatusFormat.mspdi:
        show_status(status, ReportFormat(fmt.value))
        return
    from ..export.mspdi import plan_progress, to_mspdi

    progress = plan_progress(baseline, facts, expenses, status_date)
    target = output or Path(f"{plan_config.name}-status.xml")
    write_atomically(target, to_mspdi(baseline, progress))
    err.print(
        f"wrote {target} (status {status_date}: {status.tasks.done} done, {status.tasks.in_progress} in "
        f"progress; actual cost {status.earned_value.ac:,.2f} {status.currency})",
        highlight=False,
    )


def show_status(status: PlanStatus, fmt: ReportFormat) -> None:
    if fmt is ReportFormat.json:
        print(status.model_dump_json(indent=2))
    else:
        render_status(status, out)


@expense_app.command("add")
@reports_errors
def expense_add(
    category: Annotated[CostCategory, typer.Option(help="Cost category.")],
    amount: Annotated[str, typer.Option(help="Amount in the plan's currency, e.g. 12250.00")],
    config_option: ConfigOption = None,
    plan: PlanOption = None,
    on: Annotated[
        str | None, typer.Option("--date", metavar="YYYY-MM-DD", help="When it was spent (default: today).")
    ] = None,
    task: Annotated[str | None, typer.Option(help="The plan task it belongs to, e.g. stage2-audit.")] = None,
    reference: Annotated[str, typer.Option(help="Invoice number or note.")] = "",
) -> None:
    """Record an expense such as the audit invoice; it counts as actual cost from its date."""
    config = load(config_option)
    plan_config = config.plan(plan)
    value = _amount(amount)
    spent_on = parse_date("--date", on) if on else today(plan_config)
    store = open_store(config)
    with store.transaction() as repo:
        row, baseline = seeded_plan(repo, plan_config)
        if task is not None and task not in {t.id for t in baseline.tasks}:
            raise InputError(
                "--task", [InputProblem((), f"{task!r} is not a task of plan {plan_config.name!r}")]
            )
        expense = Expense(
            category=category,
            amount=value,
            currency=baseline.currency,
            date=spent_on,
            task_id=task,
            reference=reference,
        )
        expense_id = repo.add_expense(row.id, expense)
    out.print(
        f"expense #{expense_id}: {value} {baseline.currency} {category.value} on {spent_on}", highlight=False
    )
    if spent_on > today(plan_config):
        ends = max(t.finish for t in baseline.tasks)
        after = f", after the plan's last task ({ends})" if spent_on > ends else ""
        err.print(
            f"warning: the expense is dated {spent_on}, in the future{after}; it counts as actual cost "
            "only from that date (expense list shows it; check the --date)",
            highlight=False,
        )


@expense_app.command("list")
@reports_errors
def expense_list(
    config_option: ConfigOption = None, plan: PlanOption = None, fmt: FormatOption = ReportFormat.table
) -> None:
    """The expenses recorded for a plan."""
    from rich.table import Table

    _, plan_config, store = open_plan(config_option, plan)
    with store.transaction() as repo:
        row, _ = seeded_plan(repo, plan_config)
        expenses = repo.expenses(row.id)
    if fmt is ReportFormat.json:
        print(json.dumps([{"id": i, **e.model_dump(mode="json")} for i, e in expenses], indent=2))
        return
    table = Table("#", "Date", "Category", "Amount", "Task", "Reference", header_style="bold")
    for expense_id, e in expenses:
        table.add_row(
            str(expense_id),
            str(e.date),
            e.category.value,
            f"{e.amount:,.2f} {e.currency}",
            e.task_id or "",
            e.reference,
        )
    out.print(table)


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise InputError(
            "--amount", [InputProblem((), f"{text!r} is not an amount; expected e.g. 12250.00")]
        ) from None
    if value.is_finite() and value > 0 and (problem := amount_problem(value)):
        raise InputError("--amount", [InputProblem((), f"{text!r} {problem}")])
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise InputError(
            "--amount", [InputProblem((), f"{text!r}: expected a positive amount with at most 2 decimals")]
        )
    return value

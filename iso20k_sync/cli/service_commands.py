"""Commands on configured plans and the store: config, db, seed, sync, status, expense, quickstart."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..analytics import Expense, PlanStatus, plan_status
from ..config import JiraTracker, PlanConfig, ServiceConfig, config_path, load_config
from ..engine.plans import plan_from_config, seeded_plan
from ..engine.seed import seed
from ..engine.sync import sync
from ..engine.trackers import tracker_location, tracker_secret
from ..errors import InputError, InputProblem
from ..quickstart import write_quickstart_config
from ..store import Store
from ..template.model import CostCategory
from .common import EXIT_FAILED, ReportFormat, app, err, out, parse_date, reports_errors
from .status_view import render_status

config_app = typer.Typer(help="Check the service configuration.", no_args_is_help=True)
db_app = typer.Typer(help="Manage the store's schema.", no_args_is_help=True)
expense_app = typer.Typer(
    help="Record fixed fees and invoices (e.g. the certification body's).", no_args_is_help=True
)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(expense_app, name="expense")

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", envvar="ISO20K_CONFIG", help="Configuration file [default: ./iso20k-sync.yaml]"
    ),
]
PlanOption = Annotated[str | None, typer.Option("--plan", help="Plan name (required with several plans).")]
FormatOption = Annotated[ReportFormat, typer.Option("--format")]


def _load(config_option: Path | None) -> ServiceConfig:
    return load_config(config_path(config_option))


def _store(config: ServiceConfig) -> Store:
    store = Store(config.database_url())
    store.upgrade()
    return store


def _open_plan(config_option: Path | None, plan: str | None) -> tuple[ServiceConfig, PlanConfig, Store]:
    """The configuration, the plan a command is about, and the store (migrated)."""
    config = _load(config_option)
    plan_config = config.plan(plan)
    return config, plan_config, _store(config)


def _today(plan: PlanConfig) -> date:
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(plan.schedule.timezone)).date()


# --- config and db -------------------------------------------------------------------------------


@config_app.command("check")
@reports_errors
def config_check(config_option: ConfigOption = None, fmt: FormatOption = ReportFormat.table) -> None:
    """Validate the configuration and every plan in it; print the effective settings, secrets masked."""
    path = config_path(config_option)
    config = load_config(path)
    for plan in config.plans:
        plan_from_config(config, plan)
        if isinstance(plan.tracker, JiraTracker):
            tracker_secret(config, plan, plan.tracker.token_env)
    effective = config.model_dump(mode="json")
    effective["store"] = Store.describe(config.database_url())
    for plan, shown in zip(config.plans, effective["plans"], strict=True):
        shown["tracker"]["location"] = tracker_location(config, plan)
    if fmt is ReportFormat.json:
        print(json.dumps(effective, indent=2))
        return
    out.print(f"[green]valid[/] {path} ({len(config.plans)} plan{'s' if len(config.plans) != 1 else ''})")
    out.print(yaml.safe_dump(effective, sort_keys=False, allow_unicode=True), markup=False, highlight=False)


@db_app.command("upgrade")
@reports_errors
def db_upgrade(config_option: ConfigOption = None) -> None:
    """Create the store or apply its pending migrations."""
    config = _load(config_option)
    _store(config)
    out.print(f"store at head: {Store.describe(config.database_url())}")


# --- seed and sync -------------------------------------------------------------------------------


@app.command("seed")
@reports_errors
def seed_command(
    config_option: ConfigOption = None,
    plan: PlanOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be created; change nothing.")
    ] = False,
) -> None:
    """Create the plan's items in its tracker: what is missing and nothing else (safe to re-run)."""
    config = _load(config_option)
    plan_config = config.plan(plan)
    plan_from_config(config, plan_config)  # bad input is found before anything is written
    store = _store(config)
    with Progress(
        TextColumn("seeding {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(plan_config.name, total=None)
        report = seed(
            config,
            plan_config,
            store,
            dry_run,
            lambda done, total: bar.update(task, completed=done, total=total),
        )
    if dry_run:
        out.print(
            f"dry run: {len(report.to_create)} to create in {report.container}, "
            f"{report.already} already there"
        )
        for spec in report.to_create:
            out.print(f"  {spec.kind.value:<9} {spec.key:<32} {spec.title}", markup=False, highlight=False)
        return
    out.print(
        f"seeded {plan_config.name!r} into {report.container}: {report.created} created, "
        f"{report.adopted} found in the tracker and recorded, {report.already} already there",
        highlight=False,
    )
    for key in report.missing_in_tracker:
        err.print(f"warning: {key} was created earlier but is no longer in the tracker", highlight=False)
    for failure in report.failed:
        err.print(f"failed: {failure.key}: {failure.message}", highlight=False, markup=False)
    if report.failed:
        raise typer.Exit(EXIT_FAILED)


@app.command("sync")
@reports_errors
def sync_command(
    config_option: ConfigOption = None,
    plan: Annotated[str | None, typer.Option("--plan", help="Sync only this plan [default: all].")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", metavar="YYYY-MM-DD", help="Status date [default: today].")
    ] = None,
) -> None:
    """Pull progress from the tracker, recompute the status, write it back."""
    config = _load(config_option)
    plans = [config.plan(plan)] if plan else config.plans
    store = _store(config)
    failed = False
    for plan_config in plans:
        status_date = parse_date("--as-of", as_of) if as_of else _today(plan_config)
        try:
            report = sync(config, plan_config, store, status_date)
        except InputError:
            raise
        except Exception as exc:  # one plan's failure does not stop the others; it is recorded
            err.print(f"[red]failed[/] {plan_config.name}: {exc}", highlight=False)
            failed = True
            continue
        status = report.status
        out.print(
            f"synced {plan_config.name!r}: {report.records} items read; "
            f"{status.rag.value.upper()}: {status.reason}",
            highlight=False,
        )
        for problem in report.problems:
            err.print(f"  problem: {problem}", highlight=False, markup=False)
        if report.write_back_error:
            err.print(f"  warning: status not written back: {report.write_back_error}", highlight=False)
    if failed:
        raise typer.Exit(EXIT_FAILED)


# --- status --------------------------------------------------------------------------------------


@app.command("status")
@reports_errors
def status_command(
    config_option: ConfigOption = None,
    plan: PlanOption = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", metavar="YYYY-MM-DD", help="Recompute as of this date from stored progress."),
    ] = None,
    fmt: FormatOption = ReportFormat.table,
) -> None:
    """Milestones (baseline, forecast, variance, RAG) and budget by category (earned value)."""
    _, plan_config, store = _open_plan(config_option, plan)
    with store.transaction() as repo:
        row, baseline = seeded_plan(repo, plan_config)
        if as_of is None:
            status = repo.latest_status(row.id)
            if status is None:
                raise InputError(
                    "status",
                    [InputProblem((), f"no status yet for {plan_config.name!r}: run `iso20k-sync sync`")],
                )
        else:
            status_date = parse_date("--as-of", as_of)
            end_of_day = datetime.combine(status_date + timedelta(days=1), time(0), tzinfo=UTC)
            facts = repo.latest_progress(row.id, as_of=end_of_day)
            expenses = [e for _, e in repo.expenses(row.id)]
            status = plan_status(
                baseline,
                facts.values(),
                expenses,
                status_date,
                plan_config.analytics,
                repo.status_history(row.id, before=status_date),
            )
    _show_status(status, fmt)


def _show_status(status: PlanStatus, fmt: ReportFormat) -> None:
    if fmt is ReportFormat.json:
        print(status.model_dump_json(indent=2))
    else:
        render_status(status, out)


# --- expenses ------------------------------------------------------------------------------------


@expense_app.command("add")
@reports_errors
def expense_add(
    category: Annotated[CostCategory, typer.Option(help="Cost category.")],
    amount: Annotated[str, typer.Option(help="Amount in the plan's currency, e.g. 12250.00")],
    config_option: ConfigOption = None,
    plan: PlanOption = None,
    on: Annotated[
        str | None, typer.Option("--date", metavar="YYYY-MM-DD", help="When it was spent [default: today].")
    ] = None,
    task: Annotated[str | None, typer.Option(help="The plan task it belongs to, e.g. stage2-audit.")] = None,
    reference: Annotated[str, typer.Option(help="Invoice number or note.")] = "",
) -> None:
    """Record an expense such as the audit invoice; it counts as actual cost from its date."""
    config = _load(config_option)
    plan_config = config.plan(plan)
    value = _amount(amount)
    spent_on = parse_date("--date", on) if on else _today(plan_config)
    store = _store(config)
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


@expense_app.command("list")
@reports_errors
def expense_list(
    config_option: ConfigOption = None, plan: PlanOption = None, fmt: FormatOption = ReportFormat.table
) -> None:
    """The expenses recorded for a plan."""
    from rich.table import Table

    _, plan_config, store = _open_plan(config_option, plan)
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
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise InputError(
            "--amount", [InputProblem((), f"{text!r}: expected a positive amount with at most 2 decimals")]
        )
    return value


# --- quickstart ----------------------------------------------------------------------------------


@app.command("quickstart")
@reports_errors
def quickstart(
    directory: Annotated[Path, typer.Argument(help="Where to create the demo.")] = Path("iso20k-demo"),
) -> None:
    """Create a working demo: configuration, a plan seeded into an Excel workbook, a first sync and status."""
    path, created = write_quickstart_config(directory)
    out.print(f"{'created' if created else 'using existing'} configuration {path}", highlight=False)
    config = load_config(path)
    plan_config = config.plans[0]
    store = _store(config)
    report = seed(config, plan_config, store)
    out.print(
        f"seeded plan {plan_config.name!r} into {report.container} ({report.created} rows created)",
        highlight=False,
    )
    result = sync(config, plan_config, store, _today(plan_config))
    render_status(result.status, out)
    out.print(
        "\n[bold]Next[/]\n"
        f"  1. Open {report.container} and fill in Status, % Complete, Actual start/finish and Actual cost.\n"
        f"  2. iso20k-sync sync -c {path}\n"
        f"  3. iso20k-sync status -c {path}\n"
        f"  4. iso20k-sync expense add -c {path} --category certification --amount 5250 --task stage1-audit\n"
        f"  5. Edit {path}: your organisation's parameters, start date, holidays and sponsors "
        "(every option is explained in config/example.yaml).",
        highlight=False,
    )

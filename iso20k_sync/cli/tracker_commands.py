"""Commands that work on a plan's tracker: ``login``, ``seed`` and ``sync``."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..engine.seed import SeedReport, seed
from ..engine.sync import SyncReport, sync
from ..errors import InputError
from .common import EXIT_FAILED, EXIT_PROBLEMS, ReportFormat, err, out, parse_date, reports_errors
from .configured import (
    ConfigOption,
    FormatOption,
    PlanOption,
    load,
    load_plans,
    open_store,
    today,
    warn_drift,
)

WaitOption = Annotated[
    float,
    typer.Option(
        "--wait",
        metavar="SECONDS",
        min=0,
        help="If another run is changing the plan, wait this long for it (default: do not wait).",
    ),
]


@reports_errors
def seed_command(
    config_option: ConfigOption = None,
    plan: PlanOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", metavar="", help="List what would be created; change nothing.")
    ] = False,
    wait: WaitOption = 0.0,
    fmt: FormatOption = ReportFormat.table,
) -> None:
    """Create the plan's items in its tracker: what is missing and nothing else (safe to re-run)."""
    config, configured = load_plans(config_option)  # bad input is found before anything is written
    plan_config = config.plan(plan)
    store = open_store(config)
    with store.transaction() as repo:
        row = repo.plan(plan_config.name)
        if row is not None:
            warn_drift(plan_config, configured[plan_config.name], repo.baseline(row))
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
            wait=wait,
        )
    if fmt is ReportFormat.json:
        print(json.dumps(_seed_json(report), indent=2))
    elif dry_run:
        out.print(
            f"dry run: {len(report.to_create)} to create in {report.container}, "
            f"{report.already} already there"
        )
        for spec in report.to_create:
            out.print(f"  {spec.kind.value:<9} {spec.key:<32} {spec.title}", markup=False, highlight=False)
    else:
        out.print(
            f"seeded {plan_config.name!r} into {report.container}: {report.created} created, "
            f"{report.adopted} found in the tracker and recorded, {report.already} already there",
            highlight=False,
        )
    for key in report.recreated:
        err.print(f"re-created: {key} had been deleted in the tracker", highlight=False, markup=False)
    for key in report.missing_in_tracker:
        err.print(
            f"warning: {key} was created moments ago and does not show in the tracker's search yet",
            highlight=False,
            markup=False,
        )
    for failure in report.failed:
        err.print(f"failed: {failure.key}: {failure.message}", highlight=False, markup=False)
    if report.failed:
        raise typer.Exit(EXIT_FAILED)


@reports_errors
def sync_command(
    config_option: ConfigOption = None,
    plan: Annotated[str | None, typer.Option("--plan", help="Sync only this plan (default: all).")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", metavar="YYYY-MM-DD", help="Status date (default: today).")
    ] = None,
    wait: WaitOption = 0.0,
    fmt: FormatOption = ReportFormat.table,
) -> None:
    """Pull progress from the tracker, recompute the status, write it back.

    Exit code 0: synced; 3: synced, but some values were rejected (listed, and kept in the status);
    1: a plan could not be synced; 2: bad input."""
    config, configured = load_plans(config_option)
    plans = [config.plan(plan)] if plan else config.plans
    store = open_store(config)
    failed = with_problems = False
    results: list[dict[str, Any]] = []
    for plan_config in plans:
        status_date = parse_date("--as-of", as_of) if as_of else today(plan_config)
        with store.transaction() as repo:
            row = repo.plan(plan_config.name)
            if row is not None:
                warn_drift(plan_config, configured[plan_config.name], repo.baseline(row))
        try:
            report = sync(config, plan_config, store, status_date, wait=wait)
        except InputError:
            raise
        except Exception as exc:  # one plan's failure does not stop the others; it is recorded
            err.print(f"[red]failed[/] {escape(plan_config.name)}: {escape(str(exc))}", highlight=False)
            results.append({"plan": plan_config.name, "outcome": "failed", "error": str(exc)})
            failed = True
            continue
        with_problems |= bool(report.problems)
        results.append(_sync_json(report))
        if fmt is ReportFormat.json:
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
    if fmt is ReportFormat.json:
        print(json.dumps(results, indent=2))
    if failed:
        raise typer.Exit(EXIT_FAILED)
    if with_problems:
        raise typer.Exit(EXIT_PROBLEMS)


@reports_errors
def login_command(config_option: ConfigOption = None, plan: PlanOption = None) -> None:
    """Sign in to the plan's tracker once as yourself (Planner premium: Microsoft device-code sign-in).

    The sign-in is kept in a token cache under the data directory (readable by its owner only) and
    refreshed silently by every later seed, sync and the service; run this again when it expires or is
    revoked. Trackers signed in with a token or password from the configuration need no login."""
    from ..engine.trackers import sign_in_for

    config = load(config_option)
    plan_config = config.plan(plan)
    user = sign_in_for(config, plan_config, lambda text: err.print(text, highlight=False, markup=False))
    out.print(f"signed in to {plan_config.name!r}'s tracker as {user}", highlight=False, markup=False)


def _seed_json(report: SeedReport) -> dict[str, Any]:
    return {
        "plan": report.plan,
        "tracker": report.container,
        "dry_run": report.dry_run,
        "created": report.created,
        "found_in_tracker": report.adopted,
        "already_there": report.already,
        "recreated": report.recreated,
        "to_create": [{"key": s.key, "kind": s.kind.value, "title": s.title} for s in report.to_create]
        if report.dry_run
        else [],
        "failed": [{"key": f.key, "message": f.message} for f in report.failed],
    }


def _sync_json(report: SyncReport) -> dict[str, Any]:
    return {
        "plan": report.plan,
        "outcome": "synced with problems" if report.problems else "synced",
        "items_read": report.records,
        "notes_written": report.notes_written,
        "write_back_error": report.write_back_error,
        "problems": report.problems,
        "status": report.status.model_dump(mode="json"),
    }

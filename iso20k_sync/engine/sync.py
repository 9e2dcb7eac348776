"""The daily sync: pull progress, append snapshots, recompute the status, write it back.

Each run is one transaction: the snapshots, the status and the run's success are committed together,
or not at all. A failed pull leaves the previous state untouched and is recorded with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from connectors.base import ItemKind, TrackerError
from iso20k_sync.analytics import PlanStatus, plan_status
from iso20k_sync.config import PlanConfig, ServiceConfig
from iso20k_sync.errors import Iso20kError
from iso20k_sync.store import Store
from iso20k_sync.store.repository import now

from .plans import seeded_plan
from .trackers import connector_for

OVERLAP = timedelta(minutes=10)
"""Incremental pulls reach back this far before the last successful sync, for clock skew and lag."""
FULL_PULL_EVERY = timedelta(days=7)
"""A full pull (every item, so deleted ones are noticed) at least this often; incremental in between."""


class SyncFailed(Iso20kError):
    """The run failed and was recorded as failed; the previous state is untouched."""


@dataclass
class SyncReport:
    plan: str
    run_id: int
    records: int
    status: PlanStatus
    problems: list[str] = field(default_factory=list)
    write_back_error: str | None = None


def sync(config: ServiceConfig, plan_config: PlanConfig, store: Store, status_date: date) -> SyncReport:
    with store.transaction() as repo:
        row, baseline = seeded_plan(repo, plan_config)
        run_id = repo.start_run(row.id, "sync")
        items = {k: i for k, i in repo.items(row.id).items() if i.kind is not ItemKind.phase}
        last = repo.last_successful_sync(row.id)
        last_full = repo.last_successful_sync(row.id, full=True)
    connector = connector_for(config, plan_config)
    recent_full = last_full is not None and now() - last_full.started_at < FULL_PULL_EVERY
    since = (
        last.started_at - OVERLAP
        if connector.capabilities.incremental_pull and last and recent_full
        else None
    )
    try:
        pulled = connector.pull_progress(items, since)
        with store.transaction() as repo:
            repo.append_snapshots(run_id, row.id, pulled.records)
            facts = repo.latest_progress(row.id)
            expenses = [expense for _, expense in repo.expenses(row.id)]
            history = repo.status_history(row.id)
            status = plan_status(
                baseline, facts.values(), expenses, status_date, plan_config.analytics, history
            )
            repo.save_status(row.id, run_id, status)
            problems = [
                *pulled.problems,
                *(f"{key}: seeded item no longer in the tracker" for key in pulled.missing),
                *status.problems,
            ]
            counts = {"records": len(pulled.records), "full": since is None}
            repo.finish_run(run_id, "succeeded", counts, problems)
    except (TrackerError, Iso20kError, OSError) as exc:
        _record_failure(store, run_id, str(exc))
        raise SyncFailed(f"sync of plan {plan_config.name!r} failed: {exc}") from None
    except Exception as exc:
        _record_failure(store, run_id, f"{type(exc).__name__}: {exc}")
        raise

    report = SyncReport(plan_config.name, run_id, len(pulled.records), status, problems)
    if plan_config.write_back and connector.capabilities.write_back:
        try:
            connector.write_status(status, items)
        except (TrackerError, OSError) as exc:
            report.write_back_error = str(exc)
            with store.transaction() as repo:
                repo.add_run_problem(run_id, f"write back failed: {exc}")
    return report


def _record_failure(store: Store, run_id: int, reason: str) -> None:
    with store.transaction() as repo:
        repo.finish_run(run_id, "failed", error=reason)

"""The daily sync: pull progress, append snapshots, recompute the status, write changed notes back.

Each run is one transaction: the snapshots, the status and the run's success are committed together,
or not at all. A failed pull leaves the previous state untouched and is recorded with its reason. The
write-back sends only the notes whose content changed since they were last shown (every note, for a
tracker that rewrites them all anyway), so an unchanged plan costs the pull alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from connectors.errors import TrackerError
from connectors.protocol import Connector
from connectors.values import ExternalItem, ItemKind, NoteWrite, ProgressRecord, StatusNote

from ..analytics import PlanStatus
from ..config import PlanConfig, ServiceConfig
from ..errors import Iso20kError
from ..store import Repository, Store, plan_lock
from ..store.repository import now
from .mapping import task_progress
from .notes import render_notes
from .plans import seeded_plan
from .status import status_at
from .trackers import connector_for

OVERLAP = timedelta(minutes=10)
"""Incremental pulls reach back this far before the last successful sync, for clock skew and lag."""
FULL_PULL_EVERY = timedelta(days=7)
"""A full pull (every item, so deleted ones are noticed) at least this often; incremental in between."""


class SyncFailed(Iso20kError):
    """The run failed and was recorded as failed; the previous state is untouched. ``usage``: what the
    connector sent before it failed (requests, throttled answers), for the service's metrics."""

    def __init__(self, message: str, usage: dict[str, int] | None = None) -> None:
        super().__init__(message)
        self.usage = usage or {}


@dataclass
class SyncReport:
    plan: str
    run_id: int
    records: int
    status: PlanStatus
    problems: list[str] = field(default_factory=list)
    notes_written: int = 0
    write_back_error: str | None = None
    usage: dict[str, int] = field(default_factory=dict)  # tracker requests and throttled answers


def sync(
    config: ServiceConfig,
    plan_config: PlanConfig,
    store: Store,
    status_date: date,
    connector: Connector | None = None,
    wait: float = 0.0,
    committed: Callable[[Repository], None] | None = None,
) -> SyncReport:
    """Pull progress, recompute the status as of ``status_date`` and write the changed notes back. Only
    one run changes a plan at a time (see :func:`seed`). ``committed`` runs inside the transaction that
    records the sync's success (the service marks its scheduled run done there: all or nothing)."""
    with plan_lock(store, plan_config.name, "sync", wait):
        return _sync(config, plan_config, store, status_date, connector, committed)


def _sync(
    config: ServiceConfig,
    plan_config: PlanConfig,
    store: Store,
    status_date: date,
    connector: Connector | None,
    committed: Callable[[Repository], None] | None,
) -> SyncReport:
    with store.transaction() as repo:
        row, baseline = seeded_plan(repo, plan_config)
        repo.abandon_running(row.id)
        run_id = repo.start_run(row.id, "sync")
        items = {k: i for k, i in repo.items(row.id).items() if i.kind is not ItemKind.phase}
        last = repo.last_successful_sync(row.id)
        last_full = repo.last_successful_sync(row.id, full=True)
        memo = row.connector_memo or {}
    try:
        connector = connector or connector_for(config, plan_config, memo)
        recent_full = last_full is not None and now() - last_full.started_at < FULL_PULL_EVERY
        incremental = connector.capabilities.incremental_pull and last is not None and recent_full
        since = last.started_at - OVERLAP if incremental and last is not None else None
        pulled = connector.pull_progress(items, since)
        with store.transaction() as repo:
            facts = [(task_progress(r), r.updated_at) for r in pulled.records]
            repo.append_snapshots(run_id, row.id, status_date, facts)
            tracker_problems = [
                *pulled.problems,
                *_dates_after(pulled.records, status_date),
                *(f"{key}: seeded item no longer in the tracker" for key in pulled.missing),
            ]
            status = status_at(repo, row, baseline, plan_config.analytics, status_date, tracker_problems)
            repo.save_status(row.id, run_id, status)
            problems = status.problems
            counts = {"records": len(pulled.records), "full": since is None}
            repo.finish_run(run_id, "succeeded", counts, problems)
            repo.set_memo(row.id, connector.memo())
            if committed is not None:
                committed(repo)
    except (TrackerError, Iso20kError, OSError) as exc:
        _record_failure(store, run_id, row.id, str(exc))
        usage = connector.usage() if connector is not None else {}
        raise SyncFailed(f"sync of plan {plan_config.name!r} failed: {exc}", usage) from None
    except BaseException as exc:
        _record_failure(store, run_id, row.id, f"{type(exc).__name__}: {exc}")
        raise

    report = SyncReport(plan_config.name, run_id, len(pulled.records), status, problems)
    if plan_config.write_back and connector.capabilities.write_back:
        try:
            report.notes_written = write_back(
                store, row.id, connector, render_notes(status, baseline.planned_value), items
            )
        except (TrackerError, OSError) as exc:
            report.write_back_error = str(exc)
            with store.transaction() as repo:
                repo.add_run_problem(run_id, f"write back failed: {exc}")
    report.usage = connector.usage()
    return report


def write_back(
    store: Store,
    plan_id: int,
    connector: Connector,
    notes: Sequence[StatusNote],
    items: dict[str, ExternalItem],
) -> int:
    """Write the notes whose content changed (all, for a tracker that rewrites them anyway) and remember
    what the tracker now shows; returns how many notes it took. The plan's own note goes only to a
    tracker with a place for it."""
    if not connector.capabilities.plan_note:
        notes = [note for note in notes if note.key is not None]
    digests = {note.key or "": _digest(note) for note in notes}
    with store.transaction() as repo:
        shown = repo.notes_shown(plan_id)
    rewrite = connector.capabilities.rewrite_notes
    writes = [
        NoteWrite(note=note, ref=shown.get(note.key or "", ("", None))[1])
        for note in notes
        if rewrite or shown.get(note.key or "", ("", None))[0] != digests[note.key or ""]
    ]
    if not writes:
        return 0
    with connector.changes():
        receipts = connector.write_notes(writes, items)
    with store.transaction() as repo:
        repo.record_notes(plan_id, [(r.key or "", digests[r.key or ""], r.ref) for r in receipts])
    return len(receipts)


def _dates_after(records: Sequence[ProgressRecord], status_date: date) -> list[str]:
    """Actual dates later than the status date: a typing slip (2072 for 2027) or a wrong status date."""
    found = []
    for record in records:
        for label, day in (
            ("actual start", record.progress.actual_start),
            ("actual finish", record.progress.actual_finish),
        ):
            if day is not None and day > status_date:
                found.append(f"{record.key}: {label} {day} is after the status date {status_date}")
    return found


def _digest(note: StatusNote) -> str:
    return hashlib.sha256(note.model_dump_json().encode()).hexdigest()


def _record_failure(store: Store, run_id: int, plan_id: int, reason: str) -> None:
    with store.transaction() as repo:
        repo.finish_run(run_id, "failed", error=reason)
        repo.set_memo(plan_id, None)

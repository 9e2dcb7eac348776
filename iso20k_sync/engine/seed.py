"""Seeding: create in the tracker what is missing for a plan, and nothing else.

Idempotent and resumable: every item carries its key in the tracker itself, so a re-run finds what an
earlier (perhaps killed) run created, records it, and creates only the rest. The store's mapping is
committed after each batch. Before each batch the run notes the time in the store: a re-run soon after a
crash first waits out the tracker's search lag, so items created just before the crash are found.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from connectors.base import Connector, CreateFailure, ItemSpec
from iso20k_sync.config import PlanConfig, ServiceConfig
from iso20k_sync.store import Store
from iso20k_sync.store.repository import now

from .plans import plan_from_config
from .trackers import connector_for, container_spec, item_specs, link_specs, tracker_location

Progress = Callable[[int, int], None]
"""Called with (items done, items to do) after each batch."""


@dataclass
class SeedReport:
    plan: str
    container: str
    to_create: list[ItemSpec] = field(default_factory=list)
    created: int = 0
    adopted: int = 0
    already: int = 0
    links: int = 0
    failed: list[CreateFailure] = field(default_factory=list)
    missing_in_tracker: list[str] = field(default_factory=list)
    dry_run: bool = False


def seed(
    config: ServiceConfig,
    plan_config: PlanConfig,
    store: Store,
    dry_run: bool = False,
    progress: Progress | None = None,
    connector: Connector | None = None,
) -> SeedReport:
    with store.transaction() as repo:
        row = repo.plan(plan_config.name)
        plan = repo.baseline(row) if row else plan_from_config(config, plan_config)
        known = repo.items(row.id) if row else {}
    connector = connector or connector_for(config, plan_config)
    spec = container_spec(plan_config, plan)
    specs = item_specs(plan, with_phases=connector.capabilities.phases)
    report = SeedReport(
        plan=plan_config.name, container=tracker_location(config, plan_config), dry_run=dry_run
    )

    if dry_run:
        found = connector.find_items(known)
        report.to_create = [s for s in specs if s.key not in found and s.key not in known]
        report.already = len(specs) - len(report.to_create)
        return report

    with store.transaction() as repo:
        if row is None:
            row = repo.add_plan(plan_config.name, plan_config.plan_key, plan, plan_config.tracker.kind)
        plan_id = row.id
        interrupted = repo.interrupted_seed(plan_id)
        run_id = repo.start_run(plan_id, "seed")
    _wait_out_search_lag(interrupted, connector.capabilities.search_lag)
    report.container = connector.ensure_container(spec)
    found = connector.find_items(known)
    with store.transaction() as repo:
        report.adopted = repo.record_items(plan_id, (found[k] for k in found if k not in known))
        known = repo.items(plan_id)
    report.missing_in_tracker = sorted(k for k in known if k not in found)
    report.to_create = [s for s in specs if s.key not in known]
    report.already = len(specs) - len(report.to_create)

    size = connector.capabilities.bulk_size
    done = 0
    for start in range(0, len(report.to_create), size):
        batch = report.to_create[start : start + size]
        with store.transaction() as repo:
            repo.note_run(run_id, {"creating_since": now().isoformat()})
        result = connector.create_items(batch)
        with store.transaction() as repo:
            report.created += repo.record_items(plan_id, result.created)
        report.failed += result.failed
        done += len(batch)
        if progress:
            progress(done, len(report.to_create))

    if connector.capabilities.links:
        with store.transaction() as repo:
            items = repo.items(plan_id)
        links = [link for link in link_specs(plan) if link.predecessor in items and link.successor in items]
        failures = connector.link_items(links, items)
        report.links = len(links) - len(failures)
        report.failed += failures

    with store.transaction() as repo:
        counts = {
            "created": report.created,
            "adopted": report.adopted,
            "already": report.already,
            "links": report.links,
        }
        problems = [f"{f.key}: {f.message}" for f in report.failed]
        problems += [
            f"{k}: recorded as created but not found in the tracker" for k in report.missing_in_tracker
        ]
        repo.finish_run(run_id, "failed" if report.failed else "succeeded", counts, problems)
        repo.set_container(plan_id, report.container, seeded=not report.failed)
    return report


def _wait_out_search_lag(interrupted_at: datetime | None, lag: float) -> None:
    """After a crash mid-create, wait until what that run created is visible to a search."""
    if interrupted_at is None or lag <= 0:
        return
    remaining = lag - (now() - interrupted_at).total_seconds()
    if remaining > 0:
        time.sleep(remaining)

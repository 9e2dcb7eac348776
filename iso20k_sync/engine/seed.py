"""Seeding: create in the tracker what is missing for a plan, and nothing else, in named steps.

1. **plan**: the baseline frozen in the store, or instantiated from the configuration the first time;
2. **container**: the project, workbook and gates, created if missing, everything checked first;
3. **adopt**: items the tracker holds (found by the keys they carry) that the store does not know yet
   are recorded, so an earlier run killed after creating them creates nothing twice;
4. **create**: the rest, parents before children, in the tracker's change sessions; each session's items
   are recorded in the store as soon as the tracker has committed them;
5. **link**: the dependencies the tracker does not hold yet;
6. **finish**: the run recorded with its counts and problems.

Idempotent and resumable: a re-run finds what an earlier (perhaps killed) run created, records it, and
creates only the rest. Before each session the run notes the time in the store: a re-run soon after a
crash first waits out the tracker's search lag, so items created just before the crash are found.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from connectors.errors import SetupError, TrackerError
from connectors.protocol import Connector
from connectors.values import CreateFailure, ExternalItem, Inventory, ItemSpec

from ..config import PlanConfig, ServiceConfig
from ..errors import Iso20kError
from ..plan import Plan
from ..store import Store, plan_lock
from ..store.repository import now
from .mapping import container_spec, item_specs, link_specs
from .plans import plan_from_config
from .trackers import connector_for

Progress = Callable[[int, int], None]
"""Called with (items done, items to do) after each change session."""
T = TypeVar("T")


class SeedFailed(Iso20kError):
    """The seed stopped; what it created so far is recorded, and the run is marked failed. ``setup``:
    the tracker refused the settings before anything was written (the configuration is to be fixed)."""

    def __init__(self, message: str, setup: bool = False) -> None:
        super().__init__(message)
        self.setup = setup


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
    recreated: list[str] = field(default_factory=list)
    dry_run: bool = False


def seed(
    config: ServiceConfig,
    plan_config: PlanConfig,
    store: Store,
    dry_run: bool = False,
    progress: Progress | None = None,
    connector: Connector | None = None,
    wait: float = 0.0,
) -> SeedReport:
    """Seed the plan into its tracker. Only one run changes a plan at a time: another one holding it is
    waited for up to ``wait`` seconds, then :class:`PlanBusy`."""
    if dry_run:
        return _SeedRun(config, plan_config, store, connector, progress).dry_run()
    with plan_lock(store, plan_config.name, "seed", wait):
        return _SeedRun(config, plan_config, store, connector, progress).run()


class _SeedRun:
    """One seed of one plan; each method is one named step."""

    def __init__(
        self,
        config: ServiceConfig,
        plan_config: PlanConfig,
        store: Store,
        connector: Connector | None,
        progress: Progress | None,
    ) -> None:
        self.plan_config = plan_config
        self.store = store
        self.progress = progress
        with store.transaction() as repo:
            row = repo.plan(plan_config.name)
            self.plan: Plan = repo.baseline(row) if row else plan_from_config(config, plan_config)
            self.known: dict[str, ExternalItem] = repo.items(row.id) if row else {}
            memo = (row.connector_memo if row else None) or {}
        self.connector = connector or connector_for(config, plan_config, memo)
        caps = self.connector.capabilities
        self.specs = item_specs(self.plan, plan_config.plan_key, with_phases=caps.phases)
        self.report = SeedReport(plan=plan_config.name, container=config.tracker_location(plan_config))
        self.plan_id = 0
        self.run_id = 0

    def dry_run(self) -> SeedReport:
        found = self.connector.find_items(self.known).items
        self.report.dry_run = True
        self.report.to_create = [s for s in self.specs if s.key not in found and s.key not in self.known]
        self.report.already = len(self.specs) - len(self.report.to_create)
        return self.report

    def run(self) -> SeedReport:
        interrupted = self.start()
        try:
            _wait_out_search_lag(interrupted, self.connector.capabilities.search_lag)
            self.connector.check_plan(self.specs, link_specs(self.plan))
            self.set_up_container()
            inventory = self.adopt()
            self.create()
            self.link(inventory)
        except (TrackerError, Iso20kError, OSError) as exc:
            self._fail(str(exc))
            message = f"seed of plan {self.plan_config.name!r} stopped: {exc}"
            raise SeedFailed(message, setup=isinstance(exc, SetupError)) from None
        except BaseException as exc:
            self._fail(f"{type(exc).__name__}: {exc}")
            raise
        self.finish()
        return self.report

    # --- the steps ---------------------------------------------------------------------------------------

    def start(self) -> datetime | None:
        """Record the plan (its baseline frozen now, the first time) and the run."""
        with self.store.transaction() as repo:
            row = repo.plan(self.plan_config.name)
            if row is None:
                row = repo.add_plan(
                    self.plan_config.name, self.plan_config.plan_key, self.plan, self.plan_config.tracker.kind
                )
            self.plan_id = row.id
            repo.abandon_running(row.id)
            interrupted = repo.interrupted_seed(row.id)
            self.run_id = repo.start_run(row.id, "seed")
        return interrupted

    def set_up_container(self) -> None:
        spec = container_spec(self.plan_config.plan_key, self.plan_config.name, self.plan)
        self.report.container = self.connector.ensure_container(spec)

    def adopt(self) -> Inventory:
        """Record what the tracker holds and the store does not know (from a run killed mid-way), and
        forget what the store knows but the tracker lost, so that it is created again."""
        inventory = self.connector.find_items(self.known)
        found = inventory.items
        planned = {spec.key for spec in self.specs}
        settled = now() - timedelta(seconds=self.connector.capabilities.search_lag)
        with self.store.transaction() as repo:
            self.report.adopted = repo.record_items(
                self.plan_id, (found[k] for k in found if k not in self.known)
            )
            lost = [k for k in repo.items(self.plan_id) if k not in found and k in planned]
            self.report.recreated = repo.forget_items(self.plan_id, lost, settled)
            self.known = repo.items(self.plan_id)
        self.report.missing_in_tracker = sorted(k for k in self.known if k not in found)
        self.report.to_create = [s for s in self.specs if s.key not in self.known]
        self.report.already = len(self.specs) - len(self.report.to_create)
        return inventory

    def create(self) -> None:
        """Parents before children: each round creates the specs whose parent exists by then."""
        caps = self.connector.capabilities
        pending = list(self.report.to_create)
        done = 0
        while pending:
            ready = [s for s in pending if s.parent is None or s.parent in self.known]
            if not ready:
                self.report.failed += [
                    CreateFailure(key=s.key, message=f"its parent {s.parent} could not be created")
                    for s in pending
                ]
                return
            started = {s.key for s in ready}
            pending = [s for s in pending if s.key not in started]
            for session in _chunks(ready, caps.session_size or len(ready)):
                with self.store.transaction() as repo:
                    repo.note_run(self.run_id, {"creating_since": now().isoformat()})
                created: list[ExternalItem] = []
                known = dict(self.known)  # with what this session created so far, for later batches
                with self.connector.changes():
                    for batch in _chunks(session, caps.bulk_size):
                        result = self.connector.create_items(batch, known)
                        created += result.created
                        known.update((item.key, item) for item in result.created)
                        self.report.failed += result.failed
                with self.store.transaction() as repo:
                    self.report.created += repo.record_items(self.plan_id, created)
                    self.known = repo.items(self.plan_id)
                done += len(session)
                if self.progress:
                    self.progress(done, len(self.report.to_create))

    def link(self, inventory: Inventory) -> None:
        """The plan's dependencies between recorded items that the tracker does not hold yet."""
        if not self.connector.capabilities.links:
            return
        missing = [
            link
            for link in link_specs(self.plan)
            if link.predecessor in self.known
            and link.successor in self.known
            and (link.predecessor, link.successor) not in inventory.links
        ]
        with self.connector.changes():
            failures = self.connector.link_items(missing, self.known)
        self.report.links = len({(ln.predecessor, ln.successor) for ln in missing}) - len(failures)
        self.report.failed += failures

    def finish(self) -> None:
        report = self.report
        with self.store.transaction() as repo:
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
            repo.finish_run(self.run_id, "failed" if report.failed else "succeeded", counts, problems)
            repo.set_container(self.plan_id, report.container, seeded=not report.failed)
            repo.set_memo(self.plan_id, self.connector.memo())

    def _fail(self, reason: str) -> None:
        with self.store.transaction() as repo:
            repo.finish_run(self.run_id, "failed", error=reason)
            repo.set_memo(self.plan_id, None)


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _wait_out_search_lag(interrupted_at: datetime | None, lag: float) -> None:
    """After a crash mid-create, wait until what that run created is visible to a search."""
    if interrupted_at is None or lag <= 0:
        return
    remaining = lag - (now() - interrupted_at).total_seconds()
    if remaining > 0:
        time.sleep(remaining)

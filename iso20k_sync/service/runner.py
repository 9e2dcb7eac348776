"""Running what is due: each tick claims the due runs this instance can take (store/runs.py) and runs
them on a bounded pool; APScheduler drives the tick. Several instances share one store safely: a run is
claimed by exactly one of them, and a dead instance's claims are taken over when their lease expires.

A sync that fails (a tracker outage) is recorded, retried with backoff and named in the next digest. A
plan's digest waits until that day's sync has run (or failed), so it reports the freshest status.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, text

from ..config import PlanConfig, ServiceConfig
from ..engine import digest as digests
from ..engine.sync import SyncFailed, sync
from ..mail import Mailer
from ..store import Repository, Store
from ..store.holders import new_holder
from ..store.repository import now
from ..store.runs import Claim, claim, finish, mark_done, renew
from ..store.schema import JobRunRow
from . import metrics
from .schedule import Due, due_runs

log = logging.getLogger("iso20k_sync.service")
TICK_SECONDS = 30


class Service:
    """One instance of ``iso20k-sync serve``. ``clock`` and ``mailer`` are replaceable for tests."""

    def __init__(
        self,
        config: ServiceConfig,
        store: Store,
        mailer: Callable[[], Mailer] | None = None,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.holder = new_holder()
        self.lease = timedelta(seconds=config.service.lease_seconds)
        self._mailer = mailer
        self._pool = ThreadPoolExecutor(config.service.concurrency, thread_name_prefix="run")
        self._running: set[Due] = set()
        self._done: set[Due] = set()  # finished here: not even asked of the store again
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.scheduler_running = False

    # --- one tick ---------------------------------------------------------------------------------------

    def tick(self) -> list[Future[None]]:
        """Start every due run not already running here; returns their futures (tests wait on them)."""
        started = []
        due_now = due_runs(self.config, self.clock())
        with self._lock:
            self._done &= set(due_now)  # yesterday's and last week's runs are no longer due
        for due in due_now:
            if self._stopping.is_set():
                break
            with self._lock:
                if due in self._running or due in self._done:
                    continue
                self._running.add(due)
            started.append(self._pool.submit(self._run, due))
        return started

    def _run(self, due: Due) -> None:
        try:
            if due.job == "digest" and not self._day_synced(due):
                return
            held = claim(self.store, due.plan, due.job, due.period, self.holder, self.lease)
            if held is None:
                return
            if self._execute(held):
                with self._lock:
                    self._done.add(due)
        finally:
            with self._lock:
                self._running.discard(due)

    def _day_synced(self, due: Due) -> bool:
        """Whether today's sync of the plan has run (done or failed), so its digest reports it."""
        today = self._local_date(self.config.plan(due.plan))
        with self.store.transaction() as repo:
            state = repo.session.scalar(
                select(JobRunRow.state).where(
                    JobRunRow.plan_name == due.plan,
                    JobRunRow.job == "sync",
                    JobRunRow.period == today.isoformat(),
                )
            )
        return state in ("done", "failed")

    def _execute(self, held: Claim) -> bool:
        """Run a claimed run and record its outcome; True when it succeeded."""
        plan = self.config.plan(held.plan_name)
        stop_renewing = threading.Event()
        renewer = threading.Thread(target=self._renew, args=(held, stop_renewing), daemon=True)
        renewer.start()
        began = time.monotonic()
        error: str | None = None
        try:
            if held.job == "sync":
                self._sync(plan, date.fromisoformat(held.period), lambda repo: mark_done(repo, held))
            else:
                error = self._digest(plan, held.period)
        except Exception as exc:  # a run's failure is recorded and retried; the service goes on
            error = f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc)
        finally:
            stop_renewing.set()
            renewer.join()
        finish(self.store, held, error)
        outcome = "failed" if error else "succeeded"
        metrics.RUNS.labels(held.job, outcome).inc()
        metrics.DURATION.labels(held.job).observe(time.monotonic() - began)
        if error is None:
            metrics.LAST_SUCCESS.labels(held.plan_name, held.job).set(time.time())
        log.info(
            "%s %s of %s (%s, attempt %d)%s",
            held.job,
            outcome,
            held.plan_name,
            held.period,
            held.attempt,
            f": {error}" if error else "",
        )
        return error is None

    def _sync(self, plan: PlanConfig, day: date, done: Callable[[Repository], None]) -> None:
        """Sync the plan; ``done`` marks the scheduled run done in the sync's own last transaction."""
        usage: dict[str, int] = {}
        try:
            usage = sync(
                self.config, plan, self.store, day, wait=self.lease.total_seconds(), committed=done
            ).usage
        except SyncFailed as failed:  # a failing tracker is where throttling matters most: count it
            usage = failed.usage
            raise
        finally:
            metrics.TRACKER_REQUESTS.labels(plan.name).inc(usage.get("requests", 0))
            metrics.TRACKER_THROTTLED.labels(plan.name).inc(usage.get("throttled", 0))

    def _digest(self, plan: PlanConfig, week: str) -> str | None:
        """Send the week's digest; an error text when a recipient could not be reached (retried if the
        mail server may come back)."""
        mailer = self._make_mailer()
        try:
            report = digests.send(self.config, plan, self.store, week, mailer)
        finally:
            mailer.close()
        for outcome in report.recipients.values():
            metrics.DIGESTS.labels(outcome).inc()
        if report.retry:
            return "mail not sent to " + "; ".join(f"{r}: {e}" for r, e in report.errors.items())
        for recipient, problem in report.errors.items():
            log.warning("digest of %s (%s) not sent to %s: %s", plan.name, week, recipient, problem)
        return None

    def _make_mailer(self) -> Mailer:
        if self._mailer is not None:
            return self._mailer()
        from ..engine.mailers import mailer_for

        return mailer_for(self.config)

    def _renew(self, held: Claim, stop: threading.Event) -> None:
        while not stop.wait(self.lease.total_seconds() / 4):
            try:
                if not renew(self.store, held, self.lease):
                    log.warning("%s of %s (%s) was taken over by another instance", *held_names(held))
                    return
            except Exception:  # a busy store now and then: the next renewal tries again
                continue

    def _local_date(self, plan: PlanConfig) -> date:
        from zoneinfo import ZoneInfo

        return self.clock().astimezone(ZoneInfo(plan.timezone)).date()

    # --- running until stopped ----------------------------------------------------------------------------

    def ready(self) -> str | None:
        """None when ready; else why not (for /readyz)."""
        if not self.scheduler_running:
            return "the scheduler is not running"
        try:
            with self.store.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:
            return f"the store is not reachable: {type(exc).__name__}"
        return None

    def serve(self, stop: threading.Event) -> None:
        """Tick every TICK_SECONDS (and at once) until ``stop``; then finish the runs in progress."""
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        scheduler = BackgroundScheduler(timezone="UTC")
        scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=TICK_SECONDS),
            id="tick",
            next_run_time=datetime.now().astimezone(),
            coalesce=True,  # after a pause, one tick, not one per missed interval
            max_instances=1,
            misfire_grace_time=None,
        )
        scheduler.start()
        self.scheduler_running = True
        try:
            stop.wait()
        finally:
            self.scheduler_running = False
            self._stopping.set()
            scheduler.shutdown(wait=False)
            self._pool.shutdown(wait=True, cancel_futures=True)  # runs in progress finish; none start


def held_names(held: Claim) -> tuple[Any, ...]:
    return held.job, held.plan_name, held.period

"""One writer per plan at a time, across processes and hosts, as a lease in the store.

A run takes the plan's row in ``plan_locks`` and renews it from a background thread while it lives. A
process that is killed stops renewing: a run on the same host sees at once that the holder's process is
gone, and any other sees its lease expire after :data:`LEASE`; either takes over without anyone deleting
anything by hand. A second run finds the lease held and waits for it (up to
its ``wait``) or stops with a message naming the holder.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from .holders import holder_gone, host_and_pid, new_holder
from .repository import Store, StoreError, now
from .schema import PlanLockRow

LEASE = timedelta(seconds=60)
"""How long a lease outlives its last renewal: a killed run blocks the plan at most this long."""
RENEW_EVERY = LEASE.total_seconds() / 4
POLL = 0.5


class PlanBusy(StoreError):
    """Another run is changing the plan."""


@contextmanager
def plan_lock(store: Store, plan_name: str, purpose: str, wait: float = 0.0) -> Iterator[None]:
    """Hold the plan's lease for the block; wait up to ``wait`` seconds for another run to finish."""
    holder = new_holder()
    deadline = time.monotonic() + wait
    while not _take(store, plan_name, holder, purpose):
        if time.monotonic() >= deadline:
            raise PlanBusy(_busy_message(store, plan_name, wait))
        time.sleep(POLL)
    stop = threading.Event()
    renewer = threading.Thread(
        target=_renew, args=(store, plan_name, holder, stop), name=f"lease {plan_name}", daemon=True
    )
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()
        with store.transaction() as repo:
            repo.session.execute(
                delete(PlanLockRow).where(PlanLockRow.plan_name == plan_name, PlanLockRow.holder == holder)
            )


def _take(store: Store, plan_name: str, holder: str, purpose: str) -> bool:
    moment = now()
    try:
        with store.transaction() as repo:
            row = repo.session.get(PlanLockRow, plan_name)
            if row is None:
                repo.session.add(
                    PlanLockRow(
                        plan_name=plan_name,
                        holder=holder,
                        purpose=purpose,
                        acquired_at=moment,
                        expires_at=moment + LEASE,
                    )
                )
                return True
            if row.expires_at > moment and not holder_gone(row.holder):
                return False
            taken = repo.session.execute(  # the holder was killed: take over its expired lease
                update(PlanLockRow)
                .where(PlanLockRow.plan_name == plan_name, PlanLockRow.holder == row.holder)
                .values(holder=holder, purpose=purpose, acquired_at=moment, expires_at=moment + LEASE)
            )
            return bool(getattr(taken, "rowcount", 0))
    except IntegrityError:  # another run inserted the row first
        return False


def _renew(store: Store, plan_name: str, holder: str, stop: threading.Event) -> None:
    while not stop.wait(RENEW_EVERY):
        try:
            with store.transaction() as repo:
                repo.session.execute(
                    update(PlanLockRow)
                    .where(PlanLockRow.plan_name == plan_name, PlanLockRow.holder == holder)
                    .values(expires_at=now() + LEASE)
                )
        except Exception:
            continue


def _busy_message(store: Store, plan_name: str, wait: float) -> str:
    with store.transaction() as repo:
        row = repo.session.get(PlanLockRow, plan_name)
    if row is None:
        who = "another run"
    else:
        host, pid = host_and_pid(row.holder)
        who = f"a {row.purpose} (process {pid} on {host}, since {row.acquired_at:%Y-%m-%d %H:%M} UTC)"
    waited = f" after waiting {wait:g} s" if wait else ""
    return (
        f"plan {plan_name!r} is being changed by {who}{waited}; run again when it has finished, "
        "or pass --wait SECONDS to wait for it"
    )

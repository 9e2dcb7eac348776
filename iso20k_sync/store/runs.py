"""Scheduled runs claimed across instances: a plan's sync of a local date, its digest of an ISO week.

Every instance of ``iso20k-sync serve`` keeps its own in-memory scheduler; they agree through this table.
A run is claimed by inserting its row (unique on plan, job and period): one instance wins. The winner
renews the claim's lease while it works; a claim whose lease expired belongs to a dead instance and is
taken over. A failed run may be claimed again from its ``retry_at`` (backoff), and a done run never.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .repository import Repository, Store, now
from .schema import JobRunRow

RETRY_BACKOFF = (timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1), timedelta(hours=3))
"""Waits before a failed run is tried again: the n-th failure waits the n-th (then the last) of these."""


@dataclass(frozen=True)
class Claim:
    id: int
    plan_name: str
    job: str
    period: str
    holder: str
    attempt: int


def claim(store: Store, plan_name: str, job: str, period: str, holder: str, lease: timedelta) -> Claim | None:
    """This run for ``holder``, or None when another instance has it, it is done, or its retry is not due."""
    moment = now()
    try:
        with store.transaction() as repo:
            row = repo.session.scalar(
                select(JobRunRow).where(
                    JobRunRow.plan_name == plan_name, JobRunRow.job == job, JobRunRow.period == period
                )
            )
            if row is None:
                row = JobRunRow(
                    plan_name=plan_name,
                    job=job,
                    period=period,
                    state="running",
                    holder=holder,
                    attempts=1,
                    claimed_at=moment,
                    expires_at=moment + lease,
                )
                repo.session.add(row)
                repo.session.flush()
                return Claim(row.id, plan_name, job, period, holder, 1)
            free = (row.state == "running" and row.expires_at <= moment) or (
                row.state == "failed" and (row.retry_at is None or row.retry_at <= moment)
            )
            if not free:
                return None
            taken = repo.session.execute(
                update(JobRunRow)
                .where(JobRunRow.id == row.id, JobRunRow.holder == row.holder, JobRunRow.state == row.state)
                .values(
                    state="running",
                    holder=holder,
                    attempts=row.attempts + 1,
                    claimed_at=moment,
                    expires_at=moment + lease,
                    retry_at=None,
                )
            )
            if not getattr(taken, "rowcount", 0):
                return None
            return Claim(row.id, plan_name, job, period, holder, row.attempts + 1)
    except IntegrityError:  # another instance inserted it first
        return None


def renew(store: Store, held: Claim, lease: timedelta) -> bool:
    """Extend the lease; False when the claim was lost (taken over after it expired)."""
    with store.transaction() as repo:
        renewed = repo.session.execute(
            update(JobRunRow)
            .where(JobRunRow.id == held.id, JobRunRow.holder == held.holder, JobRunRow.state == "running")
            .values(expires_at=now() + lease)
        )
        return bool(getattr(renewed, "rowcount", 0))


def mark_done(repo: Repository, held: Claim) -> None:
    """Mark the run done inside the caller's transaction, with the work it records (all or nothing: an
    instance killed after the work committed leaves the run done, not to be run again)."""
    repo.session.execute(
        update(JobRunRow)
        .where(JobRunRow.id == held.id, JobRunRow.holder == held.holder)
        .values(state="done", finished_at=now(), error=None)
    )


def finish(store: Store, held: Claim, error: str | None = None) -> None:
    """Mark the run done, or failed with ``error`` and a retry time from the backoff."""
    moment = now()
    values: dict[str, object] = {"finished_at": moment, "error": error}
    if error is None:
        values["state"] = "done"
    else:
        wait = RETRY_BACKOFF[min(held.attempt, len(RETRY_BACKOFF)) - 1]
        values.update(state="failed", retry_at=moment + wait)
    with store.transaction() as repo:
        repo.session.execute(
            update(JobRunRow).where(JobRunRow.id == held.id, JobRunRow.holder == held.holder).values(**values)
        )


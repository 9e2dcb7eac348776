"""Waiting for Project Server's queue: a save, publish or check-in is a queue job whose JobState moves on
(PS.JobState). Polled with a growing interval up to a time-out; each way it can end is said in words."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..errors import TrackerError

SUCCESS, FAILED, FAILED_NOT_BLOCKING, CORRELATION_BLOCKED, CANCELED = 4, 5, 6, 8, 9
STATES = {
    0: "Unknown", 1: "ReadyForProcessing", 2: "SendIncomplete", 3: "Processing", 4: "Success", 5: "Failed",
    6: "FailedNotBlocking", 7: "ProcessingDeferred", 8: "CorrelationBlocked", 9: "Canceled", 10: "OnHold",
    11: "Sleeping", 12: "ReadyForLaunch",
}  # fmt: skip
MANAGE = "PWA > Server Settings > Manage Queue Jobs"
KEPT = "the project stays checked out to this account and the next run carries on from its draft"


def outcome(state: int, what: str, where: str, jid: str) -> str | None:
    """None when the job succeeded, else what happened, in words."""
    job = f"queue job {jid}"
    if state == SUCCESS:
        return None
    if state == FAILED:
        return (
            f"Project Server's queue failed to {what} {where} ({job}, Failed): nothing of this step was "
            f"saved, and later jobs of this project wait behind it until an administrator retries or cancels "
            f"it in {MANAGE}; {KEPT}"
        )
    if state == FAILED_NOT_BLOCKING:
        return (
            f"Project Server's queue failed to {what} {where} ({job}, FailedNotBlocking): nothing of this "
            f"step was saved, later jobs are not held up; {KEPT}"
        )
    if state == CORRELATION_BLOCKED:
        return (
            f"Project Server's queue did not {what} {where}: {job} is blocked behind an earlier failed "
            f"job of this project (CorrelationBlocked); an administrator must retry or cancel that job in "
            f"{MANAGE}, then run again"
        )
    if state == CANCELED:
        return f"{job} to {what} {where} was cancelled on Project Server (Canceled); {KEPT}"
    return f"{job} to {what} {where} ended in state {STATES.get(state, state)}; {KEPT}"


def wait(
    read: Callable[[], dict[str, Any]],
    job: dict[str, Any],
    what: str,
    where: str,
    poll: float,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Poll the job (``read``) until it ends: return on Success, raise TrackerError saying what happened
    on a failure or when ``timeout`` seconds pass."""
    jid = str(job.get("Id") or "")
    state = _state(job)
    began, interval = clock(), poll
    while state not in (SUCCESS, FAILED, FAILED_NOT_BLOCKING, CORRELATION_BLOCKED, CANCELED):
        if clock() - began >= timeout:
            raise TrackerError(
                f"Project Server's queue did not {what} {where} within {timeout:g} s (queue job {jid} still "
                f"{STATES.get(state, state)}); it may finish later: see {MANAGE} and run again, or raise "
                "queue_timeout if the queue is often this slow"
            )
        sleep(min(interval, max(0.0, timeout - (clock() - began))))
        interval = min(interval * 2, max(poll, 10.0))
        state = _state(read())
    message = outcome(state, what, where, jid)
    if message is not None:
        raise TrackerError(message)


def _state(job: dict[str, Any]) -> int:
    try:
        return int(job.get("JobState") or 0)
    except (TypeError, ValueError):
        return 0

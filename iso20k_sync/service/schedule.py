"""What is due at a moment: pure, so it is tested under any clock without sleeping.

A plan's sync is due once its local time of day has passed ``service.sync_time``; its period is the local
date. Its digest is due from ``digest.weekday`` at ``digest.time`` until the end of that ISO week; its
period is the ISO week. A run that is due but already done (in the store) is skipped by the claim, so an
instance that was down catches up once, not once per missed day, and local wall-clock times hold across
daylight-saving changes (a time skipped by the change fires when the clock has passed it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ..config import ServiceConfig
from ..config_operations import WEEKDAYS


@dataclass(frozen=True, order=True)
class Due:
    plan: str
    job: str  # "sync" or "digest"
    period: str  # local date (sync) or ISO week (digest)


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def due_runs(config: ServiceConfig, moment: datetime) -> list[Due]:
    """Every run due at ``moment`` (aware), syncs first."""
    syncs, digests = [], []
    for plan in config.plans:
        local = moment.astimezone(ZoneInfo(plan.timezone))
        if local.time() >= config.service.sync_time:
            syncs.append(Due(plan.name, "sync", local.date().isoformat()))
        if plan.digest.recipients and config.mail is not None:
            weekday = WEEKDAYS.index(plan.digest.weekday)
            if local.weekday() > weekday or (local.weekday() == weekday and local.time() >= plan.digest.time):
                digests.append(Due(plan.name, "digest", iso_week(local.date())))
    return syncs + digests

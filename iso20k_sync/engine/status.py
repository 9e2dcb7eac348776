"""The one status recompute, used by sync, ``status`` and the digest: from the store alone (no tracker
call), so an expense recorded a moment ago counts at once."""

from __future__ import annotations

from datetime import date

from ..analytics import AnalyticsSettings, PlanStatus, plan_status
from ..plan import Plan
from ..store import Repository
from ..store.schema import PlanRow


def status_at(
    repo: Repository, row: PlanRow, baseline: Plan, settings: AnalyticsSettings, status_date: date
) -> PlanStatus:
    """The plan's status at ``status_date``: each task's latest progress pulled for that date or before,
    the expenses up to it, and the trend of the statuses before it."""
    return plan_status(
        baseline,
        repo.latest_progress(row.id, status_date).values(),
        [expense for _, expense in repo.expenses(row.id)],
        status_date,
        settings,
        repo.status_history(row.id, before=status_date),
    )

"""The one status recompute, used by sync, ``status`` and the digest: from the store alone (no tracker
call), so an expense recorded a moment ago counts at once."""

from __future__ import annotations

from datetime import date

from ..analytics import AnalyticsSettings, PlanStatus, plan_status
from ..plan import Plan
from ..store import Repository
from ..store.schema import PlanRow


def status_at(
    repo: Repository,
    row: PlanRow,
    baseline: Plan,
    settings: AnalyticsSettings,
    status_date: date,
    tracker_problems: list[str] | None = None,
) -> PlanStatus:
    """The plan's status at ``status_date``: each task's latest progress pulled for that date or before,
    the expenses up to it, and the trend of the statuses before it. Its problems start with what the
    tracker's values had wrong (``tracker_problems``, by default those the last sync recorded), so every
    view of a status (terminal, JSON, the workbook, the digest) shows the rejected cells."""
    status = plan_status(
        baseline,
        repo.latest_progress(row.id, status_date).values(),
        [expense for _, expense in repo.expenses(row.id)],
        status_date,
        settings,
        repo.status_history(row.id, before=status_date),
    )
    if tracker_problems is None:
        last = repo.last_successful_sync(row.id)
        tracker_problems = list(last.problems) if last is not None else []
    own = set(status.problems)
    problems = [p for p in dict.fromkeys(tracker_problems) if p not in own] + status.problems
    return status.model_copy(update={"problems": problems})

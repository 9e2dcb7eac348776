"""Progress analytics: earned value, earned schedule, milestone forecasts and RAG. Pure functions."""

from .progress import Expense, TaskProgress, TaskState
from .settings import AnalyticsSettings, RagThresholds
from .status import MilestoneStatus, PlanStatus, StatusPoint, plan_status

__all__ = [
    "AnalyticsSettings",
    "Expense",
    "MilestoneStatus",
    "PlanStatus",
    "RagThresholds",
    "StatusPoint",
    "TaskProgress",
    "TaskState",
    "plan_status",
]

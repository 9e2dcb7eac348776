"""Progress analytics: earned value, earned schedule, milestone forecasts and RAG. Pure functions."""

from .attention import Attention, TaskAttention
from .progress import Expense, TaskProgress, TaskState
from .settings import AnalyticsSettings, RagThresholds
from .status import MilestoneStatus, PlanStatus, StatusPoint, milestone_summary, plan_status

__all__ = [
    "AnalyticsSettings",
    "Attention",
    "Expense",
    "MilestoneStatus",
    "PlanStatus",
    "RagThresholds",
    "StatusPoint",
    "TaskAttention",
    "TaskProgress",
    "TaskState",
    "milestone_summary",
    "plan_status",
]

"""The store: plan instances with their frozen baselines, tracker mappings, sync runs, append-only
progress snapshots, expenses, computed statuses and digests sent. SQLite by default, PostgreSQL too."""

from .locks import PlanBusy, plan_lock
from .repository import Repository, Store, StoreError

__all__ = ["PlanBusy", "Repository", "Store", "StoreError", "plan_lock"]

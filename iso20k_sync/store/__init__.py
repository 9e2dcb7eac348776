"""The store: plan instances with their frozen baselines, tracker mappings, sync runs, append-only
progress snapshots, expenses, computed statuses and digests sent. SQLite by default, PostgreSQL too."""

from .repository import Repository, Store, StoreError

__all__ = ["Repository", "Store", "StoreError"]

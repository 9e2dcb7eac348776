"""``iso20k-sync serve``: each plan synced daily and its digest sent weekly, by one instance or several
sharing one store (schedule: what is due; runner: claiming and running it; http: health and metrics)."""

"""Prometheus metrics of the service (one registry per process, as prometheus-client expects)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RUNS = Counter("iso20k_runs_total", "Scheduled runs finished, by job and outcome", ["job", "outcome"])
DURATION = Histogram(
    "iso20k_run_duration_seconds",
    "Duration of scheduled runs",
    ["job"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600),
)
LAST_SUCCESS = Gauge("iso20k_last_success_timestamp_seconds", "Last successful run per plan", ["plan", "job"])
DIGESTS = Counter("iso20k_digests_total", "Digest mails by outcome", ["outcome"])
TRACKER_REQUESTS = Counter("iso20k_tracker_requests_total", "Requests sent to trackers by syncs", ["plan"])
TRACKER_THROTTLED = Counter("iso20k_tracker_throttled_total", "429/503 answers from trackers", ["plan"])

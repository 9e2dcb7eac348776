"""Benchmark: seed and sync against the fake GitLab with injected latency; requests counted.

Run: python benchmarks/bench_gitlab.py [--latency 0.05] [--rate 10] [--tier free|premium] [--tasks N]
     [--gitlab-com]
Prints, for the seed, the re-seed, the first sync (a status note per milestone), an unchanged sync and an
unchanged incremental pull: requests sent; the minimum the API allows (N issues + L links + M milestones
for a seed, plus on Free one "Depends on" update for each issue created before one of its predecessors,
since the line is written at creation for the predecessors that exist; ceil(N/100) pages for a pull);
wall time; and the floor: the largest of requests x latency, (requests - 1) / rate, and what the
per-minute budgets allow (a rolling minute: ceil(requests / budget) - 1 minutes). --rate is the
connector's requests_per_second: 10 is the default users run, 1000 shows the latency alone. --gitlab-com
sets gitlab.com's budgets (100 requests a minute on Free, 1,250 on Premium; 200 issues created a minute)
and turns on the fake's gitlab.com rate limits, which answer 429 if the pacing lets too much through.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_schedule import generated_template

from iso20k_sync.config import load_config
from iso20k_sync.engine.mapping import gates, item_specs, link_specs
from iso20k_sync.engine.seed import seed
from iso20k_sync.engine.sync import sync
from iso20k_sync.engine.trackers import connector_for
from iso20k_sync.store import Store
from tests.fakes.gitlab import MAINTAINER, FakeGitLab

BUDGETS = {"free": 100, "premium": 1250}  # gitlab.com's requests a minute
CREATES = 200  # gitlab.com's issues created a minute


def budget_floor(count: int, per_minute: int | None) -> float:
    """Seconds a rolling per-minute budget makes ``count`` requests take at least."""
    return 0.0 if not per_minute or count <= per_minute else (math.ceil(count / per_minute) - 1) * 60.0


def loopback_overhead(fake: FakeGitLab) -> float:
    """Seconds one request to the fake takes with no injected latency (the kit's own answer time)."""
    session, headers = requests.Session(), {"PRIVATE-TOKEN": fake.token}
    began = time.perf_counter()
    for _ in range(10):
        session.get(f"{fake.url}/api/v4/version", headers=headers)
    return (time.perf_counter() - began) / 10


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rate", type=float, default=10, help="requests_per_second (default: 10)")
    parser.add_argument("--tier", choices=["free", "premium"], default="free")
    parser.add_argument(
        "--tasks", type=int, default=0, help="a generated plan of N tasks instead of the bundled one"
    )
    parser.add_argument(
        "--gitlab-com", action="store_true", help="gitlab.com's per-minute budgets and limits"
    )
    args = parser.parse_args()
    per_minute = BUDGETS[args.tier] if args.gitlab_com else None
    creates = CREATES if args.gitlab_com else None
    with (
        FakeGitLab(tier=args.tier, rate_limits=args.gitlab_com) as fake,
        tempfile.TemporaryDirectory() as tmp,
    ):
        fake.add_group("acme", access=MAINTAINER)
        fake.add_project("acme/iso20k")
        overhead = loopback_overhead(fake)
        fake.clear_requests()
        if args.gitlab_com:
            fake.limit("api", BUDGETS[args.tier])  # count afresh, without the calibration's requests
        root = Path(tmp)
        template = "iso20000-1-2018"
        if args.tasks:
            (root / "bench.yaml").write_text(generated_template(args.tasks))
            template = str(root / "bench.yaml")
        budgets = f"      requests_per_minute: {per_minute}\n      creates_per_minute: {creates}\n"
        (root / "iso20k-sync.yaml").write_text(
            f"plans:\n  - name: bench\n    template: {template}\n    start: 2027-01-04\n"
            f"    tracker:\n      kind: gitlab\n      url: {fake.url}\n      project: acme/iso20k\n"
            f"      requests_per_second: {args.rate:g}\n" + (budgets if args.gitlab_com else "")
        )
        os.environ["ISO20K_GITLAB_TOKEN"] = fake.token
        config = load_config(root / "iso20k-sync.yaml")
        plan_config = config.plans[0]
        store = Store(config.database_url())
        store.upgrade()
        fake.latency = args.latency

        def run(label: str, minimum: int, action: Callable[[], object], issue_creates: int = 0) -> None:
            before = len(fake.requests)
            began = time.perf_counter()
            action()
            wall = time.perf_counter() - began
            sent = len(fake.requests) - before
            floor = max(
                sent * args.latency,
                max(sent - 1, 0) / args.rate,
                budget_floor(sent, per_minute),
                budget_floor(issue_creates, creates),
            )
            throttled = sum(r.status == 429 for r in fake.requests[before:])
            note = f"  ({throttled} answered 429)" if throttled else ""
            print(f"{label:<58} {sent:>6} {minimum:>8} {wall:>9.2f} s {floor:>9.2f} s{note}")

        budget = f", budgets {per_minute}/min, {creates} creates/min" if args.gitlab_com else ""
        print(
            f"{args.tier}, latency {args.latency * 1000:.0f} ms (+{overhead * 1000:.0f} ms loopback), "
            f"{args.rate:g} requests/s{budget}"
        )
        print(f"{'':<58} {'sent':>6} {'minimum':>8} {'wall':>11} {'floor':>11}")
        # the plan is known once seeded: instantiate it the same way first, for the minimum
        from iso20k_sync.engine.plans import plan_from_config

        plan = plan_from_config(config, plan_config)
        n = len(item_specs(plan, plan_config.plan_key, with_phases=False))
        pairs = {(link.predecessor, link.successor) for link in link_specs(plan)}
        milestones = len(gates(plan))
        order = {task.id: n for n, task in enumerate(plan.tasks)}
        later = {successor for predecessor, successor in pairs if order[predecessor] > order[successor]}
        dependent = len(later) if args.tier == "free" else 0
        minimum = n + len(pairs) + milestones + dependent
        label = f"seed: {n} issues, {len(pairs)} links, {milestones} milestones"
        if dependent:
            label += f", {dependent} lines"
        run(label, minimum, lambda: seed(config, plan_config, store), issue_creates=n)
        pages = math.ceil(n / 100)
        run("re-seed: checks + one list, no write", 4 + pages, lambda: seed(config, plan_config, store))
        notes = len(plan.milestones)
        run(
            f"first sync: pull, {notes} milestone notes",
            pages + 2 * notes,
            lambda: sync(config, plan_config, store, date(2027, 3, 1)),
        )
        with fake.lock:  # nothing touched since the last sync (its overlap would list what the seed made)
            for issue in fake.issues("acme/iso20k"):
                issue.updated_at = datetime.now(UTC) - timedelta(days=1)
        run(
            "unchanged sync: one list, no write",
            1,
            lambda: sync(config, plan_config, store, date(2027, 3, 1)),
        )
        connector = connector_for(config, plan_config)
        with store.transaction() as repo:
            items = repo.items(repo.plan("bench").id)
        since = datetime.now(UTC)
        run("unchanged project, incremental pull", 1, lambda: connector.pull_progress(items, since))
        store.dispose()


if __name__ == "__main__":
    main()

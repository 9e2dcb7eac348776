"""Benchmark: seed and sync against the fake Jira with injected latency; requests counted.

Run: python benchmarks/bench_jira.py [--latency 0.05] [--rate 10] [--flavour cloud|datacenter] [--tasks N]
Prints, for the seed, the re-seed, the first sync (which writes a status comment per milestone), an
unchanged sync and an unchanged incremental pull: requests sent, the minimum the API allows (ceil(N/50)
bulk creates + L links + V versions for a seed, ceil(N/100) pages for a pull), wall time, and the floor
for that latency and pacing: the larger of requests x latency (links 4 at a time) and requests / rate.
--rate is the connector's requests_per_second: 10 is what users run (the default), 1000 shows the latency
alone.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_schedule import generated_template

from iso20k_sync.config import load_config
from iso20k_sync.engine.mapping import gates, item_specs, link_specs
from iso20k_sync.engine.seed import seed
from iso20k_sync.engine.sync import sync
from iso20k_sync.engine.trackers import connector_for
from iso20k_sync.store import Store
from tests.fakes.jira import FakeJira

LINK_CONCURRENCY = 4  # the connector's default link_concurrency


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rate", type=float, default=10, help="requests_per_second (default: 10)")
    parser.add_argument("--flavour", choices=["cloud", "datacenter"], default="cloud")
    parser.add_argument(
        "--tasks", type=int, default=0, help="a generated plan of N tasks instead of the bundled one"
    )
    args = parser.parse_args()
    with FakeJira(flavour=args.flavour) as jira, tempfile.TemporaryDirectory() as directory:
        jira.add_project("ISO")
        jira.add_issue_type("ISO", "Milestone")
        root = Path(directory)
        template = "iso20000-1-2018"
        if args.tasks:
            (root / "bench.yaml").write_text(generated_template(args.tasks))
            template = str(root / "bench.yaml")
        email = "email: pm@example.com" if args.flavour == "cloud" else ""
        (root / "iso20k-sync.yaml").write_text(
            f"plans:\n  - name: bench\n    template: {template}\n    start: 2027-01-04\n"
            f"    tracker:\n      kind: jira\n      url: {jira.url}\n      project: ISO\n      {email}\n"
            f"      requests_per_second: {args.rate:g}\n"
        )
        os.environ["ISO20K_JIRA_TOKEN"] = jira.token
        config = load_config(root / "iso20k-sync.yaml")
        plan_config = config.plans[0]
        store = Store(config.database_url())
        store.upgrade()
        jira.latency = args.latency

        def run(label: str, minimum: int, action) -> None:  # type: ignore[no-untyped-def]
            before = len(jira.requests)
            began = time.perf_counter()
            action()
            wall = time.perf_counter() - began
            sent = len(jira.requests) - before
            floor = max(sent * args.latency, sent / args.rate)
            print(f"{label:<40} {sent:>6} {minimum:>8} {wall:>9.2f} s {floor:>9.2f} s")

        print(
            f"{args.flavour}, latency {args.latency * 1000:.0f} ms, {args.rate:g} requests/s, "
            f"links {LINK_CONCURRENCY} at a time"
        )
        print(f"{'':<40} {'sent':>6} {'minimum':>8} {'wall':>11} {'floor':>11}")
        plan_holder = {}

        def first_seed() -> None:
            seed(config, plan_config, store)
            with store.transaction() as repo:
                plan_holder["plan"] = repo.baseline(repo.plan("bench"))

        # the minimum is known once the plan exists: print after computing it
        before = len(jira.requests)
        began = time.perf_counter()
        first_seed()
        wall = time.perf_counter() - began
        plan = plan_holder["plan"]
        n = len(item_specs(plan, plan_config.plan_key, with_phases=True))
        links = len({(link.predecessor, link.successor) for link in link_specs(plan)})
        versions = len(gates(plan))
        minimum = math.ceil(n / 50) + links + versions
        sent = len(jira.requests) - before
        floor = max(
            (sent - links + math.ceil(links / LINK_CONCURRENCY)) * args.latency, sent / args.rate
        )
        print(
            f"{f'seed: {n} issues, {links} links, {versions} versions':<40} {sent:>6} {minimum:>8} "
            f"{wall:>9.2f} s {floor:>9.2f} s"
        )
        jira.settle()
        run(
            "re-seed: checks + search, no write",
            6 + math.ceil(n / 100),
            lambda: seed(config, plan_config, store),
        )
        jira.settle()
        milestones = len(plan.milestones)
        run(
            f"first sync: pull, {milestones} gate comments",
            math.ceil((n - len(plan.phases)) / 100) + 2 * milestones,
            lambda: sync(config, plan_config, store, date(2027, 3, 1)),
        )
        yesterday = datetime.now(UTC) - timedelta(days=1)
        for issue in list(jira.issues.values()):  # nothing touched since the last sync
            jira.set_field(issue.key, "updated", yesterday)
        jira.settle()
        run(
            "unchanged sync: one search, no write",
            1,
            lambda: sync(config, plan_config, store, date(2027, 3, 1)),
        )
        connector = connector_for(config, plan_config)
        connector.check(seeding=False)
        with store.transaction() as repo:
            items = repo.items(repo.plan("bench").id)
        run(
            "unchanged project, incremental pull",
            1,
            lambda: connector.pull_progress(items, datetime.now(UTC) - timedelta(minutes=10)),
        )
        store.dispose()


if __name__ == "__main__":
    main()

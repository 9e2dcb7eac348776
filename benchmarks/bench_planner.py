"""Benchmark: seed and sync against the fake Dataverse (Planner premium plans) with injected latency;
requests counted.

Run: python benchmarks/bench_planner.py [--latency 0.05] [--rate 5] [--tasks N] [--polls 2]
Prints, for the seed, the re-seed, the first sync (a status note per milestone), an unchanged sync and an
unchanged incremental pull: Dataverse requests sent (sign-in requests are not counted; one sign-in before);
the minimum the schedule API allows; wall time; and the floor: the larger of requests x latency and
(requests - 1) / rate. The minimum of a seed counts, per operation set, one request to open it, one per 100
entities (msdyn_PssCreateV2), one to execute it and ``--polls`` looks at its status until Dataverse has
carried it out (the fake takes 2; real sets take seconds); phases, tasks and links go in separate sets
(parents must exist first), at most 200 operations each; a task's assignment goes with it, and a
generic team member per role is made first (outside any set). --tasks N seeds a generated plan of N tasks in
phases of 100, each task after the previous one of its phase (the project limits: 1,000 tasks, 600 links).
A run's first set costs one more request than the minimum: the look for sets an earlier run left open.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.values import ItemKind
from iso20k_sync.config import load_config
from iso20k_sync.engine.mapping import item_specs, link_specs
from iso20k_sync.engine.plans import plan_from_config
from iso20k_sync.engine.seed import seed
from iso20k_sync.engine.sync import sync
from iso20k_sync.engine.trackers import connector_for, sign_in_for
from iso20k_sync.store import Store
from tests.fakes.dataverse import API, FakeDataverse, loopback_tls
from tests.test_planner import chained_template

CLIENT = "0f7c2c4e-8d1a-4c55-9a3e-2b6f1d0e9c11"
USER = "pm@contoso.example"


def set_requests(operations: int, polls: int, sends: int | None = None) -> int:
    """Requests for ``operations`` in sets of 200: open, execute and polls per set, and ``sends`` requests
    adding them (default: one per 100 entities)."""
    sets = math.ceil(operations / 200)
    sends = math.ceil(operations / 100) if sends is None else sends
    return sets * (2 + polls) + sends if operations else 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rate", type=float, default=5, help="requests_per_second (default: 5)")
    parser.add_argument(
        "--tasks", type=int, default=0, help="a generated plan of N tasks, not the bundled one"
    )
    parser.add_argument("--polls", type=int, default=2, help="status looks until a set is carried out")
    args = parser.parse_args()
    tls, ca_file = loopback_tls()
    os.environ["REQUESTS_CA_BUNDLE"] = ca_file
    with FakeDataverse(tls=tls) as fake, tempfile.TemporaryDirectory() as tmp:
        fake.polls_to_finish = args.polls
        fake.add_app(CLIENT)
        fake.add_user(USER)
        fake.approver = USER
        root = Path(tmp)
        template = "iso20000-1-2018"
        if args.tasks:
            (root / "bench.yaml").write_text(chained_template(args.tasks, math.ceil(args.tasks / 100)))
            template = str(root / "bench.yaml")
        (root / "iso20k-sync.yaml").write_text(
            f"data_dir: data\nplans:\n  - name: bench\n    template: {template}\n    start: 2027-01-04\n"
            f"    tracker: {{kind: planner, environment_url: '{fake.url}', client_id: {CLIENT}, "
            f"tenant_id: contoso, authority: '{fake.url}', poll_interval: 0.01, "
            f"requests_per_second: {args.rate:g}}}\n"
        )
        config = load_config(root / "iso20k-sync.yaml")
        plan_config = config.plans[0]
        sign_in_for(config, plan_config, lambda message: None)
        store = Store(config.database_url())
        store.upgrade()
        fake.latency = args.latency

        def run(label: str, minimum: int, action: Callable[[], object]) -> None:
            before = len(fake.requests_to(API))
            began = time.perf_counter()
            action()
            wall = time.perf_counter() - began
            sent = len(fake.requests_to(API)) - before
            floor = max(sent * args.latency, max(sent - 1, 0) / args.rate)
            print(f"{label:<58} {sent:>6} {minimum:>8} {wall:>9.2f} s {floor:>9.2f} s")

        print(f"latency {args.latency * 1000:.0f} ms, {args.rate:g} requests/s, {args.polls} polls a set")
        print(f"{'':<58} {'sent':>6} {'minimum':>8} {'wall':>11} {'floor':>11}")
        plan = plan_from_config(config, plan_config)
        specs = item_specs(plan, plan_config.plan_key, with_phases=True)
        phases = sum(spec.parent is None for spec in specs)
        tasks, links = len(specs) - phases, len({(ln.predecessor, ln.successor) for ln in link_specs(plan)})
        pages = math.ceil(len(specs) / 500)
        owned = [s for s in specs if s.owner_role and s.kind is ItemKind.task]
        roles = len({s.owner_role for s in owned})
        # project: look-up, create, bucket; the look for stale sets; one (empty) read of tasks and links;
        # the team read and a member per role; tasks go with their assignments, 100 tasks a request
        minimum = 3 + 1 + 2 + 1 + roles + set_requests(phases, args.polls) + set_requests(links, args.polls)
        minimum += set_requests(tasks + len(owned), args.polls, sends=math.ceil(tasks / 100))
        label = f"seed: {phases} phases, {tasks} tasks, {len(owned)} assignments, {links} links"
        run(label, minimum, lambda: seed(config, plan_config, store))
        print(f"{'':<58} largest operation set: {fake.largest_set} operations")
        run(
            "re-seed: checks + one read, no write",
            3 + 2 * pages,
            lambda: seed(config, plan_config, store),
        )
        notes = len(plan.milestones)
        run(
            f"first sync: pull, {notes} milestone notes",
            pages + (pages + set_requests(notes, args.polls) if notes else 0),
            lambda: sync(config, plan_config, store, date(2027, 3, 1)),
        )
        run(
            "unchanged sync: one read, no write",
            pages,
            lambda: sync(config, plan_config, store, date(2027, 3, 1)),
        )
        connector = connector_for(config, plan_config, {"project_id": next(iter(fake.projects))})
        with store.transaction() as repo:
            items = repo.items(repo.plan("bench").id)
        since = datetime.now(UTC)
        run("unchanged project, incremental pull", 1, lambda: connector.pull_progress(items, since))
        store.dispose()


if __name__ == "__main__":
    main()

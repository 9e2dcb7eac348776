"""Benchmark: seed and sync against the fake Project Server SE (NTLM on loopback) with injected latency;
requests counted.

Run: python benchmarks/bench_projectserver.py [--latency 0.05] [--rate 10] [--tasks N] [--words W]
Prints, for the seed, the re-seed, the first sync (a status note per milestone) and an unchanged sync:
requests sent; the minimum the API allows (one Add per task, assignment and link, a PATCH per task's work,
an Add and a PATCH per role's resource, and once per seed the pre-flight (sign-in, project, name, digest,
create: 5), one check-out, one publish and one poll of its queue job; ceil(N/100) pages for a pull); wall
time; and the floor: the larger of requests x latency and (requests - 1) / rate. The fake's queue jobs end
at their first poll: a real queue takes seconds per job, which no request count shows. --words gives each
task a description of W words, so a seed passes update_bytes (1.5 MB) and the draft is saved in parts. The
sync's minimum: the pull's pages, one PATCH per note, a digest, a check-out, a publish and its poll.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_schedule import generated_template

from iso20k_sync.config import load_config
from iso20k_sync.engine.mapping import item_specs, link_specs
from iso20k_sync.engine.plans import plan_from_config
from iso20k_sync.engine.seed import seed
from iso20k_sync.engine.sync import sync
from iso20k_sync.store import Store
from tests.fakes.projectserver import FakeProjectServer


def template(tasks: int, words: int) -> str:
    """The generated benchmark plan, each task with a description of ``words`` words."""
    data = yaml.safe_load(generated_template(tasks))
    for phase in data["phases"]:
        for task in phase["tasks"]:
            task["description"] = " ".join(["record"] * words)
    return yaml.safe_dump(data)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rate", type=float, default=10, help="requests_per_second (default: 10)")
    parser.add_argument(
        "--tasks", type=int, default=0, help="a generated plan of N tasks, not the bundled one"
    )
    parser.add_argument("--words", type=int, default=0, help="words of description per generated task")
    args = parser.parse_args()
    with FakeProjectServer() as fake, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        plan_template = "iso20000-1-2018"
        if args.tasks:
            (root / "bench.yaml").write_text(template(args.tasks, args.words))
            plan_template = str(root / "bench.yaml")
        (root / "iso20k-sync.yaml").write_text(
            f"plans:\n  - name: bench\n    template: {plan_template}\n    start: 2027-01-04\n"
            f"    tracker:\n      kind: projectserver\n      url: {fake.site}\n      project_name: Bench\n"
            f"      username: 'ACME\\svc'\n      requests_per_second: {args.rate:g}\n"
            "      queue_poll: 0.001\n"
        )
        os.environ["ISO20K_PROJECTSERVER_PASSWORD"] = fake.password
        config = load_config(root / "iso20k-sync.yaml")
        plan_config = config.plans[0]
        store = Store(config.database_url())
        store.upgrade()
        fake.latency = args.latency

        def run(label: str, minimum: int, action: Callable[[], object]) -> None:
            before, saves = len(fake.requests), len(fake.saved_bytes)
            began = time.perf_counter()
            action()
            wall = time.perf_counter() - began
            sent = len(fake.requests) - before
            floor = max(sent * args.latency, max(sent - 1, 0) / args.rate)
            largest = max(fake.body_sizes[-sent:], default=0) if sent else 0
            saved = fake.saved_bytes[saves:]
            note = f"  largest body {largest:,} B; {len(saved)} saves, largest {max(saved, default=0):,} B"
            print(f"{label:<52} {sent:>6} {minimum:>8} {wall:>9.2f} s {floor:>9.2f} s{note}")

        plan = plan_from_config(config, plan_config)
        specs = item_specs(plan, plan_config.plan_key, with_phases=True)
        n = len(specs)
        owned = [s for s in specs if s.owner_role and s.kind.value == "task"]
        work = sum(1 for s in owned if s.estimate_days > 0)
        roles = len({s.owner_role for s in owned})
        links = len({(ln.predecessor, ln.successor) for ln in link_specs(plan)})
        minimum = n + len(owned) + work + 2 * roles + links + 5 + 3
        print(f"latency {args.latency * 1000:.0f} ms, {args.rate:g} requests/s, {n} tasks (with phases)")
        print(f"{'':<52} {'sent':>6} {'minimum':>8} {'wall':>11} {'floor':>11}")
        label = f"seed: {n} tasks, {len(owned)} assignments, {links} links, {roles} roles"
        run(label, minimum, lambda: seed(config, plan_config, store))
        pages = math.ceil(n / 100)
        link_pages = math.ceil(links / 100)
        run(
            "re-seed: checks + draft read, no write",
            2 + pages + link_pages,
            lambda: seed(config, plan_config, store),
        )
        notes = len(plan.milestones)
        run(
            f"first sync: pull, {notes} milestone notes",
            pages + notes + 4,
            lambda: sync(config, plan_config, store, date(2027, 3, 1)),
        )
        run(
            "unchanged sync: the pull alone, no write",
            pages,
            lambda: sync(config, plan_config, store, date(2027, 3, 1)),
        )
        print(f"NTLM handshakes: {fake.handshakes} (one per connection); saves: update() or publish(true)")
        store.dispose()


if __name__ == "__main__":
    main()

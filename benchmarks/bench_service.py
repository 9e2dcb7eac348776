"""Benchmark: the service's daily sync of many plans against one fake Jira site, and their digests.

Run: python benchmarks/bench_service.py [--plans 10] [--tasks 300] [--latency 0.1] [--rate 10]
Seeds ``--plans`` plans of ``--tasks`` tasks into one fake Jira (quickly, at 1,000 requests/s), then
times one service tick that syncs them all at the default pacing (``--rate`` requests per second, shared
by every plan on the site, ``service.concurrency`` 4) with ``--latency`` per request, and then the
rendering and sending of each plan's digest to two recipients through a real SMTP server (aiosmtpd) on
loopback. All plans share one site's pacing, so the sync time grows linearly with the number of plans:
the figure for 500 plans is the measured one times 500 / plans, printed beside the goals (30 minutes
for the syncs, 5 minutes for the digests).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiosmtpd.controller import Controller
from bench_schedule import generated_template

from iso20k_sync.config import load_config
from iso20k_sync.engine.seed import seed
from iso20k_sync.service.runner import Service
from iso20k_sync.store import Store
from tests.fakes.jira import FakeJira
from tests.test_mail import Inbox, free_port

MONDAY = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)


def configuration(root: Path, url: str, plans: int, rate: float, smtp_port: int, mail: bool = True) -> Path:
    lines = [
        "data_dir: data",
        "mail: {sender: iso20k@bench.example, "
        f"smtp: {{host: 127.0.0.1, port: {smtp_port}, security: none}}}}"
        if mail
        else "",
        'service: {sync_time: "06:00", concurrency: 4}',
        "plans:",
    ]
    for n in range(plans):
        lines += [
            f"  - name: p{n:03d}",
            f"    template: {root / 'bench.yaml'}",
            "    start: 2027-01-04",
            f"    tracker: {{kind: jira, url: '{url}', project: ISO, email: pm@bench.example, "
            f"requests_per_second: {rate:g}, search_lag: 0}}",
            "    digest: {recipients: [cio@bench.example, cfo@bench.example]}",
        ]
    path = root / "iso20k-sync.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plans", type=int, default=10)
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--rate", type=float, default=10)
    args = parser.parse_args()
    inbox, smtp_port = Inbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    with FakeJira() as jira, tempfile.TemporaryDirectory() as directory:
        jira.add_project("ISO")
        jira.add_issue_type("ISO", "Milestone")
        os.environ["ISO20K_JIRA_TOKEN"] = jira.token
        root = Path(directory)
        (root / "bench.yaml").write_text(generated_template(args.tasks))
        fast = load_config(configuration(root, jira.url, args.plans, 1000, smtp_port, mail=False))
        store = Store(fast.database_url())
        store.upgrade()
        began = time.perf_counter()
        for plan in fast.plans:
            seed(fast, plan, store)
        print(
            f"set-up: {args.plans} plans of {args.tasks} tasks seeded in {time.perf_counter() - began:.0f} s"
        )

        jira.latency = args.latency
        jira.settle()
        quiet = load_config(configuration(root, jira.url, args.plans, args.rate, smtp_port, mail=False))
        for label, day in (("first sync (writes a comment per milestone)", 1), ("next day's sync", 2)):
            service = Service(quiet, store, clock=lambda day=day: MONDAY.replace(day=day))
            before, began = len(jira.requests), time.perf_counter()
            futures = service.tick()
            concurrent.futures.wait(futures)
            failed = [f.exception() for f in futures if f.exception() is not None]
            seconds, sent = time.perf_counter() - began, len(jira.requests) - before
            per_500 = seconds * 500 / args.plans
            print(
                f"{label}: {args.plans} plans, {sent} requests at {args.rate:g}/s, "
                f"{args.latency * 1000:.0f} ms: {seconds:.1f} s (floor {sent / args.rate:.1f} s); "
                f"500 plans: {per_500 / 60:.1f} min (goal 30 min)" + (f"; failed: {failed}" if failed else "")
            )
            jira.settle()

        mailing = load_config(configuration(root, jira.url, args.plans, args.rate, smtp_port, mail=True))
        service = Service(mailing, store, clock=lambda: MONDAY.replace(day=2, hour=10))
        began = time.perf_counter()
        futures = [f for f in service.tick()]
        concurrent.futures.wait(futures)
        mailed = time.perf_counter() - began
        per_500 = mailed * 500 / args.plans
        print(
            f"digests: {len(inbox.envelopes)} mails, {args.plans} plans, rendered and sent: {mailed:.1f} s; "
            f"500 plans: {per_500 / 60:.1f} min (goal 5 min)"
        )
        store.dispose()
    smtp.stop()


if __name__ == "__main__":
    main()

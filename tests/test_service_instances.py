"""Several instances of the service against one store: 200 plans, three instances, one killed mid-run.
Every plan's daily sync runs to completion exactly once; the killed instance's plans are finished by the
others once its lease expires. The sync itself is replaced by a short recorded task (the real sync is
tested on its own): what is under test is the claiming, leasing and taking over."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import create_engine, text

from iso20k_sync.store import Store

from .store_urls import BACKENDS, store_url

PLANS = 200
WORKER = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    from sqlalchemy import text
    from iso20k_sync.config import ServiceConfig
    from iso20k_sync.service.runner import Service
    from iso20k_sync.store import Store

    url, plans, pause = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    config = ServiceConfig.model_validate({
        "store_url": url,
        "service": {"sync_time": "06:00", "concurrency": 4, "lease_seconds": 5},
        "plans": [
            {"name": f"p{n:03d}", "start": "2027-01-04", "tracker": {"kind": "workbook", "path": "p.xlsx"}}
            for n in range(plans)
        ],
    })
    store = Store(url)

    class Recorded(Service):
        def _sync(self, plan, day, done):  # the work and its "done" in one transaction, as sync does
            time.sleep(pause)
            with store.transaction() as repo:
                repo.session.execute(
                    text("INSERT INTO work_log (plan, period, holder) VALUES (:p, :d, :h)"),
                    {"p": plan.name, "d": day.isoformat(), "h": self.holder},
                )
                done(repo)

    service = Recorded(config, store, clock=lambda: datetime(2027, 2, 1, 7, 0, tzinfo=UTC))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for future in service.tick():
            future.result()
        with store.engine.connect() as connection:
            done = connection.execute(text("SELECT count(*) FROM job_runs WHERE state = 'done'")).scalar()
        if done == plans:
            break
        time.sleep(0.2)
    """
)


@pytest.mark.parametrize("backend", BACKENDS)
def test_three_instances_sync_every_plan_once_and_finish_a_killed_ones_plans(backend, tmp_path):
    with store_url(backend, tmp_path) as url:
        store = Store(url)
        store.upgrade()
        store.dispose()
        engine = create_engine(url)
        with engine.begin() as connection:
            columns = "plan VARCHAR(20), period VARCHAR(10), holder TEXT"
            connection.execute(text(f"CREATE TABLE work_log ({columns})"))
        workers = [  # the first works slowly, so that it surely holds claims when it is killed
            subprocess.Popen(
                [sys.executable, "-c", WORKER, url, str(PLANS), "60" if n == 0 else "0.05"],
                stderr=subprocess.PIPE,
            )
            for n in range(3)
        ]
        held = text("SELECT count(*) FROM job_runs WHERE state = 'running' AND holder LIKE :pid")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until the first instance holds runs
            with engine.connect() as connection:
                if connection.execute(held, {"pid": f"%:{workers[0].pid}:%"}).scalar() >= 1:
                    break
            time.sleep(0.01)
        workers[0].send_signal(signal.SIGKILL)  # mid-run: it holds claims it will never finish
        codes = [w.wait(timeout=180) for w in workers]
        assert codes[0] == -signal.SIGKILL and codes[1:] == [0, 0], [w.stderr.read() for w in workers[1:]]
        with engine.connect() as connection:
            finished = connection.execute(text("SELECT plan, count(*) FROM work_log GROUP BY plan")).all()
            runs = connection.execute(text("SELECT state, count(*) FROM job_runs GROUP BY state")).all()
            taken_over = connection.execute(text("SELECT count(*) FROM job_runs WHERE attempts > 1")).scalar()
        engine.dispose()
        assert len(finished) == PLANS and {count for _, count in finished} == {1}  # each once, none twice
        assert runs == [("done", PLANS)]
        assert taken_over >= 1  # the killed instance's claims were finished by the others

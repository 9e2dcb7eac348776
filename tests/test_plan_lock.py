"""One writer per plan: the lease in the store, seen from several processes (SQLite and PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pytest

from iso20k_sync.store import PlanBusy, Store, plan_lock
from iso20k_sync.store.repository import now
from iso20k_sync.store.schema import PlanLockRow

from .store_urls import BACKENDS, store_url

HOLD = textwrap.dedent(
    """
    import sys, time
    from iso20k_sync.store import Store, plan_lock
    store = Store(sys.argv[1])
    with plan_lock(store, "acme", "sync"):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    with store_url(request.param, tmp_path) as url:
        store = Store(url)
        store.upgrade()
        store.dispose()
        yield url


@pytest.fixture
def store(url):
    store = Store(url)
    yield store
    store.dispose()


def holder(url: str, seconds: float) -> subprocess.Popen[str]:
    """Another process holding plan 'acme' for ``seconds``."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, url, str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


def test_a_second_run_is_told_who_holds_the_plan(url, store):
    process = holder(url, 30)
    try:
        with pytest.raises(PlanBusy) as caught, plan_lock(store, "acme", "seed"):
            pass
        message = str(caught.value)
        assert f"plan 'acme' is being changed by a sync (process {process.pid} on " in message
        assert "run again when it has finished, or pass --wait SECONDS" in message
        with plan_lock(store, "other-plan", "seed"):  # other plans are not held up
            pass
    finally:
        process.kill()
        process.wait()


def test_a_second_run_that_waits_gets_the_plan_when_the_first_finishes(url, store):
    process = holder(url, 1.5)
    began = time.monotonic()
    with plan_lock(store, "acme", "seed", wait=30):
        assert time.monotonic() - began >= 1.0  # only once the first had let go
    assert process.wait(timeout=30) == 0


def test_a_killed_holder_on_this_host_is_taken_over_at_once(url, store):
    process = holder(url, 30)
    process.kill()
    process.wait()
    with plan_lock(store, "acme", "seed"):
        pass


@pytest.mark.parametrize(
    ("expires_in", "taken"), [(timedelta(seconds=-1), True), (timedelta(minutes=1), False)]
)
def test_a_lease_from_another_host_is_respected_until_it_expires(store, expires_in, taken):
    with store.transaction() as repo:
        repo.session.add(
            PlanLockRow(
                plan_name="acme",
                holder="elsewhere:4242:abcd",
                purpose="sync",
                acquired_at=now() - timedelta(minutes=5),
                expires_at=now() + expires_in,
            )
        )
    if taken:
        with plan_lock(store, "acme", "seed"):
            pass
    else:
        refused = pytest.raises(PlanBusy, match=r"a sync \(process 4242 on elsewhere, since ")
        with refused, plan_lock(store, "acme", "seed"):
            pass


def test_the_lease_is_released_and_renewed(store, monkeypatch):
    monkeypatch.setattr("iso20k_sync.store.locks.RENEW_EVERY", 0.05)
    with plan_lock(store, "acme", "seed"):
        with store.transaction() as repo:
            first = repo.session.get_one(PlanLockRow, "acme").expires_at
        time.sleep(0.3)
        with store.transaction() as repo:
            assert repo.session.get_one(PlanLockRow, "acme").expires_at > first
    with store.transaction() as repo:
        assert repo.session.get(PlanLockRow, "acme") is None


def test_two_processes_never_hold_a_plan_at_once(url, tmp_path: Path):
    """Four processes append to one file under the lock; their entries never interleave."""
    script = textwrap.dedent(
        """
        import sys, time
        from iso20k_sync.store import Store, plan_lock
        store = Store(sys.argv[1])
        for _ in range(3):
            with plan_lock(store, "acme", "sync", wait=60):
                with open(sys.argv[2], "a") as log:
                    log.write(f"in {sys.argv[3]}\\n")
                time.sleep(0.05)
                with open(sys.argv[2], "a") as log:
                    log.write(f"out {sys.argv[3]}\\n")
        """
    )
    log = tmp_path / "log"
    processes = [
        subprocess.Popen([sys.executable, "-c", script, url, str(log), str(n)]) for n in range(4)
    ]
    assert [p.wait(timeout=120) for p in processes] == [0, 0, 0, 0]
    lines = log.read_text().split("\n")[:-1]
    assert len(lines) == 24
    for entered, left in zip(lines[::2], lines[1::2], strict=True):
        assert entered.startswith("in ") and left == "out " + entered.removeprefix("in ")

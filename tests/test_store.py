"""The store on SQLite and, when ISO20K_TEST_DATABASE_URL is set, on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from connectors.values import ExternalItem, ItemKind
from iso20k_sync.analytics import Expense, TaskProgress, plan_status
from iso20k_sync.store import Store, StoreError
from iso20k_sync.store.schema import TrackerItemRow

from .conftest import TEXTBOOK
from .store_urls import BACKENDS, store_url

D = Decimal


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    with store_url(request.param, tmp_path) as url:
        store = Store(url)
        store.upgrade()
        yield store
        store.dispose()


@pytest.fixture
def plan(make_plan):
    return make_plan(TEXTBOOK)


@pytest.fixture
def plan_id(store, plan):
    with store.transaction() as repo:
        return repo.add_plan("acme", "acme-2027", plan, "workbook").id


def test_migrations_create_every_table_and_run_twice(store):
    store.upgrade()
    tables = set(inspect(store.engine).get_table_names())
    assert {
        "plans",
        "tracker_items",
        "sync_runs",
        "progress_snapshots",
        "expenses",
        "statuses",
        "job_runs",
        "outbox",
        "tracker_notes",
        "plan_locks",
        "alembic_version",
    } <= tables


def test_the_baseline_is_frozen_exactly(store, plan, plan_id):
    with store.transaction() as repo:
        row = repo.plan("acme")
        assert repo.baseline(row) == plan
        assert row.plan_key == "acme-2027" and row.seeded_at is None


def test_one_mapping_row_per_task(store, plan_id):
    items = [ExternalItem(key=k, kind=ItemKind.task, external_id=f"row-{k}") for k in ("A", "B")]
    with store.transaction() as repo:
        assert repo.record_items(plan_id, items) == 2
    with store.transaction() as repo:
        assert repo.record_items(plan_id, [*items, ExternalItem(key="C", kind="task", external_id="x")]) == 1
        assert sorted(repo.items(plan_id)) == ["A", "B", "C"]
    with pytest.raises(IntegrityError), store.transaction() as repo:
        repo.session.add(
            TrackerItemRow(
                plan_id=plan_id, key="A", kind="task", external_id="dup", created_at=datetime.now(UTC)
            )
        )
        repo.session.flush()


def progress(key: str, percent: int | None = None) -> tuple[TaskProgress, None]:
    return TaskProgress(task_id=key, percent_complete=None if percent is None else D(percent)), None


def test_snapshots_are_appended_and_the_newest_wins(store, plan_id):
    with store.transaction() as repo:
        first = repo.start_run(plan_id, "sync")
        repo.append_snapshots(first, plan_id, date(2027, 1, 12), [progress("A", 20)])
    with store.transaction() as repo:
        second = repo.start_run(plan_id, "sync")
        repo.append_snapshots(second, plan_id, date(2027, 1, 20), [progress("A", 60)])
        repo.append_snapshots(second, plan_id, date(2027, 1, 20), [progress("B", 100)])
    with store.transaction() as repo:
        latest = repo.latest_progress(plan_id)
        assert latest["A"].percent_complete == D(60)
        assert latest["B"].effective_state.value == "done"
        assert repo.snapshot_count(plan_id) == 3  # history kept
        assert repo.latest_progress(plan_id, date(2027, 1, 11)) == {}


def test_progress_is_taken_as_of_its_status_date_not_when_it_was_pulled(store, plan_id):
    with store.transaction() as repo:
        run = repo.start_run(plan_id, "sync")
        repo.append_snapshots(run, plan_id, date(2027, 1, 20), [progress("A", 60)])
    with store.transaction() as repo:  # pulled later, for an earlier status date (a back-fill)
        run = repo.start_run(plan_id, "sync")
        repo.append_snapshots(run, plan_id, date(2027, 1, 12), [progress("A", 20)])
    with store.transaction() as repo:
        assert repo.latest_progress(plan_id, date(2027, 1, 12))["A"].percent_complete == D(20)
        assert repo.latest_progress(plan_id, date(2027, 1, 19))["A"].percent_complete == D(20)
        assert repo.latest_progress(plan_id, date(2027, 1, 20))["A"].percent_complete == D(60)
        assert repo.latest_progress(plan_id)["A"].percent_complete == D(60)


def test_a_failed_transaction_leaves_nothing(store, plan_id):
    with pytest.raises(RuntimeError), store.transaction() as repo:
        run = repo.start_run(plan_id, "sync")
        repo.append_snapshots(run, plan_id, date(2027, 1, 12), [progress("A")])
        raise RuntimeError("pull failed half way")
    with store.transaction() as repo:
        assert repo.snapshot_count(plan_id) == 0
        assert repo.runs(plan_id) == []


def test_money_is_exact(store, plan_id):
    with store.transaction() as repo:
        for amount in ("0.10", "0.20", "12250.01"):
            repo.add_expense(
                plan_id,
                Expense(
                    category="certification",
                    amount=D(amount),
                    currency="EUR",
                    date=date(2027, 3, 1),
                    reference=f"inv {amount}",
                ),
            )
    with store.transaction() as repo:
        amounts = [e.amount for _, e in repo.expenses(plan_id)]
    assert amounts == [D("0.10"), D("0.20"), D("12250.01")]
    assert sum(amounts) == D("12250.31")


def test_statuses_keep_their_history(store, plan, plan_id):
    with store.transaction() as repo:
        first = plan_status(plan, [], [], date(2027, 1, 6))
        repo.save_status(plan_id, None, first)
        second = plan_status(
            plan,
            [TaskProgress(task_id="A", percent_complete=D(100))],
            [],
            date(2027, 1, 8),
            history=repo.status_history(plan_id),
        )
        repo.save_status(plan_id, None, second)
    with store.transaction() as repo:
        assert repo.latest_status(plan_id) == second
        assert [p.status_date for p in repo.status_history(plan_id)] == [date(2027, 1, 6), date(2027, 1, 8)]


def test_only_one_outbox_row_per_plan_week_and_recipient(store, plan_id):
    other = Store(store.url)
    try:
        with store.transaction() as mine:
            assert mine.add_to_outbox(plan_id, "2027-W02", "cio@acme.example", "<a@x>") is not None
        with other.transaction() as theirs:
            assert theirs.add_to_outbox(plan_id, "2027-W02", "cio@acme.example", "<b@x>") is None
            assert theirs.add_to_outbox(plan_id, "2027-W02", "cfo@acme.example", "<c@x>") is not None
            assert theirs.add_to_outbox(plan_id, "2027-W03", "cio@acme.example", "<d@x>") is not None
        with store.transaction() as repo:
            assert sorted(repo.outbox(plan_id, "2027-W02")) == ["cfo@acme.example", "cio@acme.example"]
    finally:
        other.dispose()


def test_a_password_never_shows_in_the_description():
    assert (
        Store.describe("postgresql+psycopg://iso:s3cret@db:5432/iso")
        == "postgresql+psycopg://iso:***@db:5432/iso"
    )


def test_an_unreachable_store_is_a_clear_error(tmp_path):
    from iso20k_sync.store import StoreError

    store = Store("postgresql+psycopg://nobody:hunter2@127.0.0.1:1/none")
    with pytest.raises(StoreError) as caught:
        store.upgrade()
    assert "127.0.0.1:1" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_a_store_migrated_by_a_newer_version_is_refused_with_a_sentence(store):
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    with pytest.raises(StoreError, match=r"migrated by a newer version of iso20k-sync \(schema 0099; this"):
        store.upgrade()


@pytest.mark.parametrize("backend", BACKENDS)
def test_first_runs_at_once_migrate_one_after_another(backend, tmp_path):
    script = "import sys; from iso20k_sync.store import Store; Store(sys.argv[1]).upgrade()"
    with store_url(backend, tmp_path) as url:
        processes = [
            subprocess.Popen([sys.executable, "-c", script, url], stderr=subprocess.PIPE, text=True)
            for _ in range(4)
        ]
        outcomes = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in processes]
        assert outcomes == [(0, "")] * 4


def test_the_quick_head_check_agrees_with_alembic():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from iso20k_sync.store.repository import HEAD_REVISION

    config = Config()
    config.set_main_option("script_location", "iso20k_sync.store:migrations")
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION

"""What the audit found unsafe: concurrent writers, runs killed or failing, items lost in the tracker.
Real processes, a real SQLite store and real .xlsx files."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from iso20k_sync.config import load_config
from iso20k_sync.store import Store

from .test_engine import (
    CONFIG,
    TASKS,
    _recorded,
    _seed_process,
    cli,
    stored_keys,
    workbook_keys,
)


def seed_args(path: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "iso20k_sync", "seed", "-c", str(path), *extra]


def kill_a_seed(path: Path, after: int) -> None:
    database = path.parent / "data" / "iso20k-sync.db"
    process = _seed_process(path)
    deadline = time.monotonic() + 120
    while _recorded(database) < after and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the seed finished before it could be killed"


def runs(path: Path) -> list[tuple[str, str]]:
    config = load_config(path)
    store = Store(config.database_url())
    try:
        with store.transaction() as repo:
            return [(r.kind, r.outcome) for r in reversed(repo.runs(repo.plan("acme").id))]
    finally:
        store.dispose()


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "iso20k-sync.yaml"
    path.write_text(CONFIG.format(batch=100))
    return path


@pytest.fixture
def small_batches(tmp_path: Path) -> Path:
    path = tmp_path / "iso20k-sync.yaml"
    path.write_text(CONFIG.format(batch=1))
    return path


@pytest.mark.parametrize("killed_first", [True, False])
def test_two_seeds_at_once_leave_the_store_and_the_workbook_equal(small_batches, killed_first):
    """After a killed seed (the audit's case) and on a plan never seeded (no IntegrityError for the loser)."""
    if killed_first:
        kill_a_seed(small_batches, after=20)
    both = [subprocess.Popen(seed_args(small_batches, "--wait", "120"), stderr=subprocess.PIPE) for _ in "ab"]
    assert [p.wait(timeout=180) for p in both] == [0, 0], [p.stderr.read() for p in both if p.stderr]
    keys = workbook_keys(small_batches.parent / "data" / "acme.xlsx")
    assert len(keys) == len(set(keys)) == TASKS
    assert stored_keys(small_batches) == sorted(keys)


def test_a_seed_that_does_not_wait_is_told_another_run_has_the_plan(small_batches):
    first = _seed_process(small_batches)
    database = small_batches.parent / "data" / "iso20k-sync.db"
    while _recorded(database) < 5 and first.poll() is None:
        time.sleep(0.005)
    second = subprocess.run(seed_args(small_batches), capture_output=True, text=True)
    first.wait(timeout=120)
    assert second.returncode == 1
    assert "is being changed by a seed (process" in second.stderr and "--wait SECONDS" in second.stderr
    assert "Traceback" not in second.stderr


def test_a_run_left_running_by_a_killed_process_is_marked_abandoned(small_batches):
    kill_a_seed(small_batches, after=5)
    assert runs(small_batches) == [("seed", "running")]
    assert cli("seed", "-c", str(small_batches)).exit_code == 0
    assert runs(small_batches) == [("seed", "abandoned"), ("seed", "succeeded")]


def test_a_row_deleted_in_the_workbook_is_created_again_by_the_next_seed(config_file, tmp_path):
    assert cli("seed", "-c", str(config_file)).exit_code == 0
    workbook = tmp_path / "data" / "acme.xlsx"
    book = openpyxl.load_workbook(workbook)
    ws = book["Tasks"]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == "benefit-analysis")
    ws.delete_rows(row)
    book.save(workbook)

    again = cli("seed", "-c", str(config_file))
    assert again.exit_code == 0, again.output
    assert "re-created: benefit-analysis had been deleted in the tracker" in again.stderr
    assert sorted(workbook_keys(workbook)) == stored_keys(config_file)
    assert len(workbook_keys(workbook)) == TASKS


def _corrupt(workbook: Path) -> None:
    workbook.write_bytes(b"PK\x03\x04 half a zip file")


def _without_tasks_sheet(workbook: Path) -> None:
    book = openpyxl.load_workbook(workbook)
    del book["Tasks"]
    book.save(workbook)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (_corrupt, "is not a readable Excel workbook"),
        (_without_tasks_sheet, "Tasks"),
    ],
)
def test_a_tracker_error_in_seed_is_one_line_and_the_run_is_marked_failed(
    config_file, tmp_path, damage, expected
):
    assert cli("seed", "-c", str(config_file)).exit_code == 0
    damage(tmp_path / "data" / "acme.xlsx")
    result = subprocess.run(seed_args(config_file), capture_output=True, text=True)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) <= 2 and expected in result.stderr, result.stderr
    assert runs(config_file)[-1] == ("seed", "failed")


def test_an_unreachable_tracker_is_one_line(tmp_path, monkeypatch):
    path = tmp_path / "iso20k-sync.yaml"
    path.write_text(
        "data_dir: data\nplans:\n  - name: acme\n    key: acme-2027\n    start: 2027-01-04\n"
        "    tracker: {kind: jira, url: 'http://127.0.0.1:9', project: ISO, deployment: datacenter, "
        "timeout: 2}\n"
    )
    env = {"ISO20K_JIRA_TOKEN": "tok-123", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(seed_args(path), capture_output=True, text=True, env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "tok-123" not in result.stderr
    assert "127.0.0.1:9" in result.stderr and len(result.stderr.strip().splitlines()) <= 2, result.stderr


def _type_into_tasks(workbook: Path, values: dict[str, dict[str, object]]) -> None:
    book = openpyxl.load_workbook(workbook)
    ws = book["Tasks"]
    columns = {cell.value: cell.column for cell in ws[1]}
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    for key, cells in values.items():
        for header, value in cells.items():
            ws.cell(rows[key], columns[header]).value = value
    book.save(workbook)


def test_an_absurd_cost_is_named_by_its_cell_and_the_other_rows_sync(config_file, tmp_path):
    assert cli("seed", "-c", str(config_file)).exit_code == 0
    workbook = tmp_path / "data" / "acme.xlsx"
    _type_into_tasks(
        workbook,
        {
            "management-basis-assessment": {"Status": "Done", "Actual cost": 1e25},
            "benefit-analysis": {"Status": "Done", "Actual cost": 3000},
            "resource-cost-estimate": {"Status": "In progress", "Actual start": datetime(2072, 1, 11)},
        },
    )
    result = cli("sync", "-c", str(config_file), "--as-of", "2027-01-20")
    assert result.exit_code == 3, result.output
    problems = " ".join(result.stderr.split())
    assert "Tasks!" in problems and "is more than 999,999,999,999.99, the largest amount accepted" in problems
    assert "resource-cost-estimate: actual start 2072-01-11 is after the status date 2027-01-20" in problems
    status = json.loads(cli("status", "-c", str(config_file), "--format", "json").stdout)
    assert Decimal(status["earned_value"]["ac"]) == Decimal("3000")
    assert status["tasks"]["done"] == 1


@pytest.mark.parametrize("amount", ["1e30", "1000000000000", "-5", "NaN"])
def test_an_absurd_expense_is_refused(config_file, amount):
    assert cli("seed", "-c", str(config_file)).exit_code == 0
    result = cli("expense", "add", "-c", str(config_file), "--category", "training", "--amount", amount)
    assert result.exit_code == 2
    assert f"--amount: {amount!r}" in " ".join(result.stderr.split())
    listed = cli("expense", "list", "-c", str(config_file), "--format", "json")
    assert json.loads(listed.stdout) == []


def test_an_expense_dated_far_ahead_is_recorded_with_a_warning(config_file):
    assert cli("seed", "-c", str(config_file)).exit_code == 0
    result = cli(
        "expense", "add", "-c", str(config_file), "--category", "training", "--amount", "900",
        "--date", "2099-03-01",
    )  # fmt: skip
    assert result.exit_code == 0
    warning = " ".join(result.stderr.split())
    assert "dated 2099-03-01, in the future, after the plan's last task" in warning


def test_a_tracker_url_with_credentials_is_refused_without_showing_them(tmp_path):
    path = tmp_path / "iso20k-sync.yaml"
    path.write_text(
        "plans:\n  - name: acme\n    key: acme-2027\n    start: 2027-01-04\n"
        "    tracker: {kind: jira, url: 'https://pm:TOKEN123@acme.atlassian.net', project: ISO}\n"
    )
    result = cli("config", "check", "-c", str(path))
    assert result.exit_code == 2
    assert "contains credentials" in result.stderr and "TOKEN123" not in result.output + result.stderr

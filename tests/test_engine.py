"""The whole loop on a laptop: seed the bundled plan into a workbook, edit it as a PM would, sync, status.

Real parts throughout: the CLI, a SQLite file (and PostgreSQL when ISO20K_TEST_DATABASE_URL is set),
real .xlsx files, and real processes killed with SIGKILL.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from iso20k_sync.cli import app
from iso20k_sync.config import load_config
from iso20k_sync.store import Store

from .store_urls import BACKENDS, store_url

runner = CliRunner()
TASKS = 94  # items of the bundled template

CONFIG = """\
data_dir: data
plans:
  - name: acme
    key: acme-2027
    start: 2027-01-04
    parameters: {{staff_in_scope: 120}}
    calendar: {{country: GB}}
    tracker: {{kind: workbook, path: acme.xlsx, batch_size: {batch}}}
"""


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "iso20k-sync.yaml"
    path.write_text(CONFIG.format(batch=100))
    return path


def cli(*args: str):
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def workbook_keys(path: Path) -> list[str]:
    ws = openpyxl.load_workbook(path)["Tasks"]
    return [row[0] for row in ws.iter_rows(min_row=2, max_col=1, values_only=True) if row[0]]


def stored_keys(config_file: Path) -> list[str]:
    config = load_config(config_file)
    store = Store(config.database_url())
    try:
        with store.transaction() as repo:
            return sorted(repo.items(repo.plan("acme").id))
    finally:
        store.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_seeding_twice_creates_nothing_the_second_time(config_file, tmp_path, backend, monkeypatch):
    with store_url(backend, tmp_path) as url:
        monkeypatch.setenv("ISO20K_STORE_URL", url)
        first = cli("seed", "-c", str(config_file))
        assert first.exit_code == 0, first.output
        assert f"{TASKS} created" in first.stdout
        workbook = tmp_path / "data" / "acme.xlsx"
        before = workbook.read_bytes()
        second = cli("seed", "-c", str(config_file))
        assert second.exit_code == 0, second.output
        assert f"0 created, 0 found in the tracker and recorded, {TASKS} already there" in second.stdout
        assert workbook.read_bytes() == before  # not even rewritten
        keys = workbook_keys(workbook)
        assert len(keys) == len(set(keys)) == TASKS
        assert stored_keys(config_file) == sorted(keys)


def test_dry_run_lists_what_would_be_created_and_writes_nothing(config_file, tmp_path):
    result = cli("seed", "-c", str(config_file), "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"dry run: {TASKS} to create" in result.stdout
    assert "milestone certificate-issued" in " ".join(result.stdout.split())
    assert not (tmp_path / "data" / "acme.xlsx").exists()


def _seed_process(config_file: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "iso20k_sync", "seed", "-c", str(config_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _recorded(database: Path) -> int:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
            return connection.execute("select count(*) from tracker_items").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


@pytest.mark.parametrize(("kill_after", "lose_store"), [(1, False), (30, False), (70, False), (40, True)])
def test_a_seed_killed_part_way_and_run_again_leaves_exactly_one_row_per_task(
    tmp_path, kill_after, lose_store
):
    config_file = tmp_path / "iso20k-sync.yaml"
    config_file.write_text(CONFIG.format(batch=1))
    database = tmp_path / "data" / "iso20k-sync.db"
    process = _seed_process(config_file)
    deadline = time.monotonic() + 120
    while _recorded(database) < kill_after and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the seed finished before it could be killed"
    killed_at = len(workbook_keys(tmp_path / "data" / "acme.xlsx"))
    assert kill_after <= killed_at < TASKS
    if lose_store:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)

    again = subprocess.run(
        [sys.executable, "-m", "iso20k_sync", "seed", "-c", str(config_file)], capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
    keys = workbook_keys(tmp_path / "data" / "acme.xlsx")
    assert len(keys) == len(set(keys)) == TASKS
    assert stored_keys(config_file) == sorted(keys)
    assert not list((tmp_path / "data").glob(".*.tmp"))


def _edit_like_a_pm(workbook: Path) -> None:
    book = openpyxl.load_workbook(workbook)
    ws = book["Tasks"]
    columns = {cell.value: cell.column for cell in ws[1]}
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}

    def put(key: str, header: str, value: object) -> None:
        ws.cell(rows[key], columns[header]).value = value

    for key, cost in (("management-basis-assessment", 5600), ("benefit-analysis", 3000.5)):
        put(key, "Status", "Done")
        put(key, "Actual cost", cost)
    put("resource-cost-estimate", "Status", "In progress")
    put("resource-cost-estimate", "% Complete", 50)
    put("resource-cost-estimate", "Notes", "waiting for the CFO's rates")
    put("feasibility-report", "% Complete", 140)
    put("appoint-sponsor", "Actual cost", "about 2k")
    book.save(workbook)


def _tasks_cells(workbook: Path) -> list[tuple[object, ...]]:
    return list(openpyxl.load_workbook(workbook)["Tasks"].iter_rows(values_only=True))


def test_sync_reads_the_edits_reports_bad_cells_and_never_touches_the_pms_cells(config_file, tmp_path):
    assert cli("seed", "-c", str(config_file)).exit_code == 0
    workbook = tmp_path / "data" / "acme.xlsx"
    _edit_like_a_pm(workbook)
    typed = _tasks_cells(workbook)

    result = cli("sync", "-c", str(config_file), "--as-of", "2027-01-20")
    assert result.exit_code == 3, result.output  # synced, with rejected cells
    problems = " ".join(result.stderr.split())
    assert "% Complete 140 is not between 0 and 100" in problems
    assert "Actual cost 'about 2k' is not a number" in problems
    assert _tasks_cells(workbook) == typed  # nothing the PM typed is overwritten

    status = json.loads(cli("status", "-c", str(config_file), "--format", "json").stdout)
    shown = " ".join(status["problems"])
    assert "% Complete 140 is not between 0 and 100" in shown and "'about 2k' is not a number" in shown
    assert status["status_date"] == "2027-01-20"
    assert status["tasks"] == {"not_started": TASKS - 3, "in_progress": 1, "done": 2}
    assert Decimal(status["earned_value"]["ac"]) == Decimal("8600.50")
    assert Decimal(status["earned_value"]["ev"]) > 0
    book = openpyxl.load_workbook(workbook)
    shown = [str(c.value) for row in book["Status"].iter_rows() for c in row if c.value is not None]
    assert any(status["rag"].upper() in text.upper() for text in shown)
    assert any(book["Milestones"].cell(r, 7).value for r in range(2, book["Milestones"].max_row + 1))


def test_a_failed_pull_is_recorded_and_leaves_the_last_status(config_file, tmp_path):
    assert cli("seed", "-c", str(config_file)).exit_code == 0
    assert cli("sync", "-c", str(config_file), "--as-of", "2027-01-20").exit_code == 0
    before = cli("status", "-c", str(config_file), "--format", "json").stdout
    (tmp_path / "data" / "acme.xlsx").write_bytes(b"not a workbook any more")

    failed = cli("sync", "-c", str(config_file), "--as-of", "2027-01-21")
    assert failed.exit_code == 1
    assert "not a readable Excel workbook" in failed.stderr
    assert cli("status", "-c", str(config_file), "--format", "json").stdout == before
    config = load_config(config_file)
    store = Store(config.database_url())
    with store.transaction() as repo:
        runs = repo.runs(repo.plan("acme").id)
    store.dispose()
    assert runs[0].outcome == "failed" and "not a readable Excel workbook" in runs[0].error
    assert runs[1].outcome == "succeeded"


def test_expenses_count_as_actual_cost_from_their_date(config_file):
    assert cli("seed", "-c", str(config_file)).exit_code == 0
    added = cli(
        "expense",
        "add",
        "-c",
        str(config_file),
        "--category",
        "certification",
        "--amount",
        "4,200.00",
        "--date",
        "2027-01-15",
        "--task",
        "stage1-audit",
        "--reference",
        "CB invoice 1",
    )
    assert added.exit_code == 0, added.output
    listed = json.loads(cli("expense", "list", "-c", str(config_file), "--format", "json").stdout)
    assert listed[0]["amount"] == "4200.00" and listed[0]["currency"] == "USD"
    assert cli("sync", "-c", str(config_file), "--as-of", "2027-01-20").exit_code == 0
    status = json.loads(cli("status", "-c", str(config_file), "--format", "json").stdout)
    assert Decimal(status["by_category"]["certification"]["ac"]) == Decimal("4200.00")
    earlier = json.loads(
        cli("status", "-c", str(config_file), "--as-of", "2027-01-14", "--format", "json").stdout
    )
    assert Decimal(earlier["earned_value"]["ac"]) == 0

    wrong = cli("expense", "add", "-c", str(config_file), "--category", "certification", "--amount", "-5")
    assert wrong.exit_code == 2 and "expected a positive amount" in wrong.stderr
    unknown = cli(
        "expense", "add", "-c", str(config_file), "--category", "tools", "--amount", "5", "--task", "nope"
    )
    assert unknown.exit_code == 2 and "'nope' is not a task of plan 'acme'" in unknown.stderr


def test_sync_before_seed_says_what_to_do(config_file):
    result = cli("sync", "-c", str(config_file))
    assert result.exit_code == 1 or result.exit_code == 2
    assert "not seeded yet; run `iso20k-sync seed --plan acme`" in result.output


def test_quickstart_makes_a_working_demo_and_is_safe_to_repeat(tmp_path):
    first = subprocess.run(
        [sys.executable, "-m", "iso20k_sync", "quickstart", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
    )
    assert first.returncode == 0, first.stderr
    assert "seeded plan 'demo'" in first.stdout and "Next" in first.stdout
    assert (tmp_path / "demo" / "data" / "demo-plan.xlsx").exists()
    again = subprocess.run(
        [sys.executable, "-m", "iso20k_sync", "quickstart", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr
    assert "using existing configuration" in again.stdout and "(0 rows created)" in again.stdout
    assert len(workbook_keys(tmp_path / "demo" / "data" / "demo-plan.xlsx")) == TASKS
    assert datetime.now().year  # the demo's status date is today: nothing to compare beyond success

"""The command line as a user meets it: exit codes, files written or not, JSON for scripts."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from iso20k_sync.cli import COMMANDS, app, build

from .conftest import TEXTBOOK

runner = CliRunner()
BUNDLED = "iso20000-1-2018"


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_plan_json_has_the_documented_keys(write_template):
    path = write_template(TEXTBOOK)
    result = invoke("plan", "--template", str(path), "--start", "2027-01-04", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {
        "start",
        "finish",
        "tasks",
        "milestones",
        "budget",
        "planned_value",
        "critical_path",
    } <= data.keys()
    task = data["tasks"][2]
    for key in (
        "id",
        "name",
        "phase",
        "start",
        "finish",
        "duration",
        "depends_on",
        "clauses",
        "milestone",
        "critical",
        "total_float",
        "costs",
    ):
        assert key in task
    assert task["id"] == "C"
    assert task["depends_on"] == [{"task": "A", "type": "FS", "lag": 0}]
    assert date.fromisoformat(task["start"]) == date(2027, 1, 8)
    assert data["finish"] == "2027-02-12"
    assert set(data["budget"]) >= {"total", "by_category", "by_phase"}
    assert Decimal(data["budget"]["total"]) == Decimal(0)


def test_parameters_from_the_command_line_change_the_plan(write_template):
    path = write_template(TEXTBOOK.replace("duration: 12,", 'duration: "12 * factor",'))
    base = json.loads(invoke("plan", "-t", str(path), "--start", "2027-01-04", "-f", "json").stdout)
    low = json.loads(
        invoke("plan", "-t", str(path), "--start", "2027-01-04", "-f", "json", "-p", "maturity=low").stdout
    )
    assert base["parameters"]["maturity"] == "medium"
    assert low["parameters"]["maturity"] == "low"
    assert low["finish"] > base["finish"]


def test_bad_parameter_exits_2_and_writes_nothing(write_template, tmp_path):
    path = write_template(TEXTBOOK)
    target = tmp_path / "plan.json"
    result = invoke(
        "plan", "-t", str(path), "--start", "2027-01-04", "-p", "staff=many", "-f", "json", "-o", str(target)
    )
    assert result.exit_code == 2
    assert "--param: staff: expected a number, got 'many'" in result.stderr
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [path]


def test_unknown_template_and_bad_date(tmp_path):
    result = invoke("plan", "-t", str(tmp_path / "missing.yaml"), "--start", "2027-01-04")
    assert result.exit_code == 2
    assert "missing.yaml: no such file, and not a bundled template id" in result.stderr
    result = invoke("plan", "--start", "4 Jan 2027")
    assert result.exit_code == 2
    assert "--start: '4 Jan 2027' is not a date; expected YYYY-MM-DD" in result.stderr


def test_output_to_a_missing_directory_fails_cleanly(write_template, tmp_path):
    result = invoke(
        "plan",
        "-t",
        str(write_template(TEXTBOOK)),
        "--start",
        "2027-01-04",
        "-f",
        "json",
        "-o",
        str(tmp_path / "nope" / "plan.json"),
    )
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
    assert not (tmp_path / "nope").exists()


def test_template_validate_reports_each_problem_and_exits_2(write_template):
    good = write_template(TEXTBOOK, "good.yaml")
    bad = write_template(TEXTBOOK.replace("depends_on: [F, G]", "depends_on: [F, Q]"), "bad.yaml")
    result = invoke("template", "validate", str(good), str(bad))
    assert result.exit_code == 2
    assert f"valid   {good}" in result.stdout
    assert f"{bad}:28: phases[1].tasks[3].depends_on[1]: unknown task 'Q'" in result.stderr
    as_json = json.loads(invoke("template", "validate", str(good), str(bad), "--format", "json").stdout)
    assert [r["valid"] for r in as_json] == [True, False]


def test_template_schema_is_json_schema_of_the_format():
    schema = json.loads(invoke("template", "schema").stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"id", "name", "version", "currency", "roles", "phases"} <= set(schema["required"])
    assert "TaskTemplate" in schema["$defs"]
    assert set(schema["$defs"]["CostCategory"]["enum"]) == {
        "consulting",
        "certification",
        "training",
        "materials",
        "tools",
        "internal",
    }


def test_bundled_template_is_listed_shown_and_valid():
    listed = json.loads(invoke("template", "list", "--format", "json").stdout)
    assert BUNDLED in [t["id"] for t in listed]
    shown = invoke("template", "show", BUNDLED)
    assert shown.exit_code == 0 and "staff_in_scope" in shown.stdout
    assert invoke("template", "validate", BUNDLED).exit_code == 0


@pytest.mark.parametrize(("fmt", "suffix", "magic"), [("xlsx", "xlsx", b"PK"), ("mspdi", "xml", b"<?xml")])
def test_binary_formats_are_written_to_a_file(tmp_path, fmt, suffix, magic):
    target = tmp_path / f"plan.{suffix}"
    result = invoke("plan", "--start", "2027-01-04", "-f", fmt, "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(magic)
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_installed_command_runs_as_a_program(tmp_path):
    """The console script, in a real process: table output and the exit code for bad input."""
    ok = subprocess.run(
        [sys.executable, "-m", "iso20k_sync", "plan", "--start", "2027-01-04", "--country", "GB"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "Critical path" in ok.stdout and "Certificate" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "iso20k_sync", "plan", "--start", "2027-01-04", "-p", "nonsense=1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert "unknown parameter" in bad.stderr


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_command_list_says_what_each_command_says_of_itself(name):
    """``--help`` lists commands without importing them; the line it shows is the command's own."""
    command = build(name)
    own = " ".join((command.help or "").split("\n\n")[0].split())
    assert COMMANDS[name].summary == own


def test_help_imports_no_command_module():
    script = (
        "import sys; from iso20k_sync.cli import app\n"
        "try:\n    app(['--help'], prog_name='iso20k-sync')\nexcept SystemExit:\n    pass\n"
        "heavy = ('sqlalchemy', 'pydantic', 'openpyxl', 'iso20k_sync.config')\n"
        "print([m for m in heavy if m in sys.modules], file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.stderr.strip() == "[]"
    assert "quickstart" in result.stdout and "Pull progress from the tracker" in result.stdout


def _configured(tmp_path):
    """The quickstart demo: configured, seeded, synced once."""
    result = runner.invoke(app, ["quickstart", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    return tmp_path / "demo" / "iso20k-sync.yaml"


def test_sync_reports_as_json_and_a_clean_sync_exits_0(tmp_path):
    path = _configured(tmp_path)
    result = runner.invoke(app, ["sync", "-c", str(path), "--as-of", "2027-01-20", "--format", "json"])
    assert result.exit_code == 0, result.output
    [report] = json.loads(result.stdout)
    assert report["outcome"] == "synced" and report["problems"] == [] and report["items_read"] == 94
    seeded = runner.invoke(app, ["seed", "-c", str(path), "--format", "json"])
    assert json.loads(seeded.stdout)["already_there"] == 94


@pytest.mark.parametrize(
    ("typo", "expected"),
    [
        ("staff_in_scope:", "staf_in_scope: unknown parameter"),
        ("template: iso20000-1-2018", "no-such-template"),
    ],
)
def test_every_command_refuses_what_config_check_refuses(tmp_path, typo, expected):
    path = _configured(tmp_path)
    text = path.read_text()
    if typo == "staff_in_scope:":
        assert typo in text
        path.write_text(text.replace("staff_in_scope:", "staf_in_scope:"))
    else:
        path.write_text(text.replace("template: iso20000-1-2018", "template: no-such-template"))
    for command in (["config", "check"], ["sync"], ["status"], ["seed", "--dry-run"]):
        result = runner.invoke(app, [*command, "-c", str(path)])
        assert result.exit_code == 2, (command, result.output)
        assert expected in " ".join(result.stderr.split()), (command, result.stderr)


def test_a_changed_parameter_after_seeding_is_reported_and_the_baseline_kept(tmp_path):
    path = _configured(tmp_path)
    text = path.read_text()
    assert "staff_in_scope: 120" in text
    path.write_text(text.replace("staff_in_scope: 120", "staff_in_scope: 400"))
    result = runner.invoke(app, ["status", "-c", str(path), "--format", "json"])
    assert result.exit_code == 0
    warning = " ".join(result.stderr.split())
    assert "differs from its seeded baseline (parameters.staff_in_scope 120 -> 400" in warning
    assert "the baseline is kept" in warning


def test_the_shipped_examples_are_written_out_and_are_valid(tmp_path, monkeypatch):
    service, organisation = tmp_path / "iso20k-sync.yaml", tmp_path / "organisation.yaml"
    assert runner.invoke(app, ["config", "example", "-o", str(service)]).exit_code == 0
    assert runner.invoke(app, ["config", "organisation-example", "-o", str(organisation)]).exit_code == 0
    again = runner.invoke(app, ["config", "example", "-o", str(service)])
    assert again.exit_code == 2 and "exists already" in again.stderr
    monkeypatch.setenv("ISO20K_JIRA_TOKEN", "t")
    checked = runner.invoke(app, ["config", "check", "-c", str(service)])
    assert checked.exit_code == 0, checked.output
    scheme = runner.invoke(app, ["feasibility", "--org", str(organisation)])
    assert scheme.exit_code == 0, scheme.output


@pytest.mark.parametrize("where", ["missing-dir/plan.xlsx", "a-directory", "/proc/plan.xlsx"])
def test_an_output_path_that_cannot_be_written_is_one_message_and_exit_2(tmp_path, where):
    """A missing directory, a directory, and a place nobody may write (not even root: /proc)."""
    (tmp_path / "a-directory").mkdir()
    target = tmp_path / where
    result = runner.invoke(app, ["plan", "--start", "2027-01-04", "--format", "xlsx", "-o", str(target)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {target}") and len(result.stderr.strip().splitlines()) == 1
    assert not target.is_file() and not list(target.parent.glob(".*.tmp"))


def test_an_expense_counts_in_status_at_once_without_a_sync(tmp_path):
    path = _configured(tmp_path)
    before = json.loads(runner.invoke(app, ["status", "-c", str(path), "--format", "json"]).stdout)
    added = runner.invoke(
        app, ["expense", "add", "-c", str(path), "--category", "training", "--amount", "900"]
    )
    assert added.exit_code == 0, added.output
    after = json.loads(runner.invoke(app, ["status", "-c", str(path), "--format", "json"]).stdout)
    assert Decimal(after["earned_value"]["ac"]) == Decimal(before["earned_value"]["ac"]) + 900


def test_status_json_lists_milestones_by_date_and_the_tasks_needing_attention(tmp_path):
    import openpyxl

    path = _configured(tmp_path)
    workbook = path.parent / "data" / "demo-plan.xlsx"
    book = openpyxl.load_workbook(workbook)
    ws = book["Tasks"]
    columns = {cell.value: cell.column for cell in ws[1]}
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    for key in ("management-basis-assessment", "benefit-analysis", "resource-cost-estimate"):
        ws.cell(rows[key], columns["Status"]).value = "Done"
    for header, value in (("Status", "In progress"), ("% Complete", 60), ("Actual start", date(2027, 1, 4))):
        ws.cell(rows["feasibility-report"], columns[header]).value = value
    book.save(workbook)
    assert runner.invoke(app, ["sync", "-c", str(path), "--as-of", "2027-03-15"]).exit_code == 0

    result = runner.invoke(app, ["status", "-c", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    dates = [(m["baseline"], m["forecast"]) for m in data["milestones"]]
    assert dates == sorted(dates)
    for m in data["milestones"]:
        assert m["baseline"] not in m["reason"] and m["forecast"] not in m["reason"]
    attention = data["attention"]
    late = {t["id"]: t for t in attention["late"]}
    assert late["feasibility-report"]["state"] == "in_progress"
    assert (late["feasibility-report"]["percent_complete"], late["feasibility-report"]["actual_start"]) == (
        "60",
        "2027-01-04",
    )
    assert "define-scope" in late and "benefit-analysis" not in late  # done work needs no attention
    assert all(t["finish"] <= "2027-03-15" for t in attention["late"])
    assert all("2027-03-15" < t["finish"] <= attention["due_by"] for t in attention["due"])


def test_login_on_a_tracker_that_needs_no_sign_in_says_so_and_exits_2(tmp_path):
    path = _configured(tmp_path)
    result = runner.invoke(app, ["login", "-c", str(path)])
    assert result.exit_code == 2, result.output
    assert "needs no sign-in" in " ".join(result.stderr.split())


def test_a_command_s_help_offers_no_shell_completion_options():
    """Completion is installed from the program's own help, not from each command's."""
    result = invoke("seed", "--help")
    assert result.exit_code == 0 and "--install-completion" not in result.stdout

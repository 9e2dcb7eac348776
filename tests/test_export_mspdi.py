"""The Microsoft Project XML export, read back with MPXJ as Microsoft Project would open it."""

from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
from datetime import date, datetime, time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from iso20k_sync.calendar import CalendarSpec
from iso20k_sync.export.mspdi import to_mspdi
from iso20k_sync.instantiate import instantiate
from iso20k_sync.plan import Plan, PlannedTask
from iso20k_sync.template import load_template, resolve_template


def _unavailable(reason: str) -> None:
    """Skip where MPXJ cannot run; CI sets ISO20K_REQUIRE_JAVA=1 so a missing runtime fails there."""
    if os.environ.get("ISO20K_REQUIRE_JAVA"):
        pytest.fail(f"ISO20K_REQUIRE_JAVA is set but {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


if shutil.which("java") is None:
    _unavailable("reading the MSPDI file back needs MPXJ, which needs a Java runtime: no `java` on PATH")
try:
    import jpype
    import mpxj  # noqa: F401  (puts the MPXJ jars on the JVM class path)
except ImportError as exc:
    _unavailable(f"the mpxj and JPype1 packages read the MSPDI file back: {exc}")

START = date(2027, 1, 4)
GOOD_FRIDAY = date(2027, 3, 26)  # Easter Sunday 2027 is 28 March
COMPANY_DAY_OFF = date(2027, 1, 15)  # a Friday inside the plan, moving the tasks after it
SPECIAL = 'Audit & review <stage "1">'
CENT = 0.005

DEMO = f"""\
id: demo
name: Demo & Co <ISMS>
version: "1"
currency: EUR
roles:
  - {{id: pm, name: Project manager, day_rate: 800}}
  - {{id: consultant, name: Consultant, day_rate: 1200, category: consulting}}
  - {{id: auditor, name: Internal auditor, day_rate: 999.99}}
phases:
  - id: p1
    name: Phase 1
    tasks:
      - {{id: K, name: Kick-off, milestone: true}}
      - {{id: A, name: A, duration: 4, effort: {{pm: 2}}}}
      - id: B
        name: '{SPECIAL}'
        description: 'Check <scope> & "policy"'
        duration: 3
        clauses: ["9.2"]
      - {{id: C, name: C, duration: 8, depends_on: [A], effort: {{consultant: 2, pm: 0.5}}}}
      - {{id: D, name: D, duration: 7, depends_on: [{{task: A, type: SS, lag: 2}}]}}
  - id: p2
    name: Phase 2
    tasks:
      - {{id: E, name: E, duration: 9, depends_on: [B, C], effort: {{auditor: 0.33}},
         costs: [{{category: tools, amount: 99.95}}]}}
      - {{id: S, name: S, duration: 2, depends_on: [{{task: E, type: SF, lag: 3}}]}}
      - id: M
        name: Done
        milestone: true
        depends_on: [E, {{task: D, type: FF, lag: -1}}]
        costs: [{{category: certification, amount: 5000}}]
"""


@pytest.fixture(scope="module")
def java() -> SimpleNamespace:
    """Start the JVM once (JPype cannot restart it) and hand out the MPXJ classes the tests use."""
    if not jpype.isJVMStarted():
        try:
            jpype.startJVM()
        except jpype.JVMNotFoundException as exc:  # pragma: no cover - depends on the machine
            _unavailable(f"MPXJ needs a Java runtime and JPype found none: {exc}")
    from java.time import LocalDate, LocalDateTime
    from org.mpxj import TaskField, TimeUnit
    from org.mpxj.cpm import MicrosoftScheduler
    from org.mpxj.reader import UniversalProjectReader

    return SimpleNamespace(
        LocalDate=LocalDate,
        LocalDateTime=LocalDateTime,
        TaskField=TaskField,
        TimeUnit=TimeUnit,
        MicrosoftScheduler=MicrosoftScheduler,
        UniversalProjectReader=UniversalProjectReader,
    )


@pytest.fixture
def plan(tmp_path: Path) -> Plan:
    source = tmp_path / "demo.yaml"
    source.write_text(DEMO, encoding="utf-8")
    calendar = CalendarSpec(country="DE", extra_holidays=(COMPANY_DAY_OFF,))
    return instantiate(load_template(source), START, calendar=calendar)


def read(java: SimpleNamespace, plan: Plan, tmp_path: Path) -> Any:
    """Write the plan's MSPDI file and open it with MPXJ's format-sniffing reader."""
    path = tmp_path / "plan.xml"
    path.write_bytes(to_mspdi(plan))
    project = java.UniversalProjectReader().read(str(path))
    assert project is not None, "MPXJ did not recognise the file"
    assert str(project.getProjectProperties().getFileType()) == "MSPDI"
    return project


def by_key(project: Any) -> dict[str, Any]:
    """MPXJ tasks by the plan key in Text1: the plan's task ids and phase ids."""
    return {str(t.getText(1)): t for t in project.getTasks() if t.getText(1) is not None}


def project_summary(project: Any) -> Any:
    return next(t for t in project.getTasks() if t.getUniqueID() == 0)


def when(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


def in_days(java: SimpleNamespace, project: Any, duration: Any) -> float:
    return float(duration.convertUnits(java.TimeUnit.DAYS, project.getProjectProperties()).getDuration())


def starts(task: PlannedTask) -> datetime:
    """08:00 on the first day; a milestone at 17:00 of the day before, or at 08:00 at the project start."""
    return datetime.combine(task.start, milestone_time(task) if task.duration == 0 else time(8))


def finishes(task: PlannedTask) -> datetime:
    return datetime.combine(task.finish, milestone_time(task) if task.duration == 0 else time(17))


def milestone_time(task: PlannedTask) -> time:
    return time(8) if task.early_start_offset == 0 else time(17)


def reschedule(java: SimpleNamespace, project: Any, start: date) -> None:
    """Forget the dates and schedule the file the way Microsoft Project does when it opens it."""
    for row in project.getTasks():
        row.setStart(None)
        row.setFinish(None)
    java.MicrosoftScheduler().schedule(
        project, java.LocalDateTime.of(start.year, start.month, start.day, 8, 0)
    )


def test_every_phase_and_task_is_in_the_outline_with_the_plans_dates(
    java: SimpleNamespace, plan: Plan, tmp_path: Path
) -> None:
    project = read(java, plan, tmp_path)
    rows = by_key(project)
    summary = project_summary(project)
    assert summary.getOutlineLevel() == 0 and summary.getSummary()
    assert str(summary.getName()) == "Demo & Co <ISMS>"
    assert when(summary.getStart()) == datetime.combine(plan.start, time(8))
    assert when(summary.getFinish()) == datetime.combine(plan.finish, time(17))
    assert len(project.getTasks()) == 1 + len(plan.phases) + len(plan.tasks)
    assert [str(t.getText(1)) for t in summary.getChildTasks()] == [p.id for p in plan.phases]
    assert [t.getID() for t in project.getTasks()] == list(range(len(project.getTasks())))

    for phase in plan.phases:
        row = rows[phase.id]
        assert (str(row.getName()), str(row.getWBS()), row.getOutlineLevel()) == (phase.name, phase.wbs, 1)
        assert row.getSummary() and row.getParentTask().getUniqueID() == 0
        assert when(row.getStart()) == min(starts(t) for t in plan.tasks if t.phase == phase.id)
        assert when(row.getFinish()) == datetime.combine(phase.finish, time(17))
    for task in plan.tasks:
        row = rows[task.id]
        assert (str(row.getName()), str(row.getWBS()), row.getOutlineLevel()) == (task.name, task.wbs, 2)
        assert str(row.getParentTask().getText(1)) == task.phase
        assert not row.getSummary()
        assert when(row.getStart()) == starts(task)
        assert when(row.getFinish()) == finishes(task)
        assert row.getDuration().getUnits() == java.TimeUnit.DAYS
        assert row.getDuration().getDuration() == task.duration
        assert bool(row.getMilestone()) is task.milestone
        assert bool(row.getCritical()) is task.critical
        assert in_days(java, project, row.getTotalSlack()) == task.total_float
        assert when(row.getBaselineStart()) == starts(task)
        assert when(row.getBaselineFinish()) == finishes(task)
    assert [t.id for t in plan.tasks if bool(rows[t.id].getMilestone())] == ["K", "M"]
    assert str(project.getCustomFields().get(java.TaskField.TEXT1).getAlias()) == "Plan key"


def test_dependencies_keep_their_type_and_lag_in_days(
    java: SimpleNamespace, plan: Plan, tmp_path: Path
) -> None:
    rows = by_key(read(java, plan, tmp_path))
    links = {
        (task.id, str(r.getPredecessorTask().getText(1)), str(r.getType()), r.getLag())
        for task in plan.tasks
        for r in rows[task.id].getPredecessors()
    }
    assert all(lag.getUnits() == java.TimeUnit.DAYS for *_, lag in links)
    read_back = {(t, p, kind, float(lag.getDuration())) for t, p, kind, lag in links}
    expected = {(t.id, d.task, d.type.value, float(d.lag)) for t in plan.tasks for d in t.depends_on}
    assert read_back == expected
    assert {
        ("D", "A", "SS", 2.0),
        ("M", "D", "FF", -1.0),
        ("S", "E", "SF", 3.0),
        ("C", "A", "FS", 0.0),
    } <= read_back


def test_microsoft_project_scheduling_reproduces_the_plan(
    java: SimpleNamespace, plan: Plan, tmp_path: Path
) -> None:
    """Project reschedules on open: MPXJ's Microsoft Project scheduler gives the plan's dates back."""
    project = read(java, plan, tmp_path)
    reschedule(java, project, START)
    rows = by_key(project)
    assert any(t.start < COMPANY_DAY_OFF < t.finish for t in plan.tasks)  # the day off is inside a task
    for task in plan.tasks:
        row = rows[task.id]
        assert (when(row.getStart()), when(row.getFinish())) == (starts(task), finishes(task)), task.id
        assert bool(row.getCritical()) is task.critical, task.id
        assert in_days(java, project, row.getTotalSlack()) == task.total_float, task.id


def test_one_generic_resource_per_role_with_its_rate_and_assignments(
    java: SimpleNamespace, plan: Plan, tmp_path: Path
) -> None:
    project = read(java, plan, tmp_path)
    resources = {str(r.getName()): r for r in project.getResources()}
    assert sorted(resources) == sorted(role.name for role in plan.roles)
    for role in plan.roles:
        rate = resources[role.name].getStandardRate()
        assert rate.getUnits() == java.TimeUnit.DAYS  # shown per day in Project
        assert float(rate.getAmount()) == pytest.approx(float(role.day_rate), abs=CENT)
        assert bool(resources[role.name].getGeneric())
        assert in_days(java, project, resources[role.name].getWork()) == pytest.approx(float(role.effort))

    rows = by_key(project)
    names = {role.id: role.name for role in plan.roles}
    for task in plan.tasks:
        assignments = {str(a.getResource().getName()): a for a in rows[task.id].getResourceAssignments()}
        assert sorted(assignments) == sorted(names[role] for role in task.effort)
        for role, person_days in task.effort.items():
            assignment = assignments[names[role]]
            assert assignment.getWork().getUnits() == java.TimeUnit.HOURS
            assert float(assignment.getWork().getDuration()) == pytest.approx(float(person_days * 8))
            assert float(assignment.getUnits()) == pytest.approx(
                float(person_days / task.duration * 100), abs=0.01
            )
            role_rate = next(r.day_rate for r in plan.roles if r.id == role)
            assert float(assignment.getCost()) == pytest.approx(float(person_days * role_rate), abs=CENT)


def test_costs_and_baseline_costs_equal_the_plans(java: SimpleNamespace, plan: Plan, tmp_path: Path) -> None:
    project = read(java, plan, tmp_path)
    assert str(project.getProjectProperties().getCurrencyCode()) == "EUR"
    rows = by_key(project)
    for task in plan.tasks:
        row = rows[task.id]
        assert float(row.getCost()) == pytest.approx(float(task.cost), abs=CENT), task.id
        assert float(row.getBaselineCost()) == pytest.approx(float(task.cost), abs=CENT), task.id
    for phase in plan.phases:
        assert float(rows[phase.id].getBaselineCost()) == pytest.approx(float(phase.cost), abs=CENT)
    total = project_summary(project)
    assert float(total.getCost()) == pytest.approx(float(plan.budget.total), abs=CENT)
    assert float(total.getBaselineCost()) == pytest.approx(float(plan.budget.total), abs=CENT)
    # Costs without a role are the task's fixed cost, so Project adds them to the labour cost.
    assert float(rows["M"].getFixedCost()) == 5000
    assert float(rows["E"].getFixedCost()) == pytest.approx(99.95, abs=CENT)
    assert float(rows["E"].getCost()) == pytest.approx(99.95 + 330.00, abs=CENT)  # 0.33 d x 999.99


def test_weekends_and_holidays_are_non_working_in_the_project_calendar(
    java: SimpleNamespace, plan: Plan, tmp_path: Path
) -> None:
    project = read(java, plan, tmp_path)
    calendar = project.getDefaultCalendar()
    assert str(calendar.getName()) == "Standard"

    def working(day: date) -> bool:
        return bool(calendar.isWorkingDate(java.LocalDate.of(day.year, day.month, day.day)))

    assert not working(COMPANY_DAY_OFF) and working(date(2027, 1, 14))
    assert not working(date(2027, 1, 16)) and not working(date(2027, 1, 17))  # Saturday, Sunday
    assert not working(GOOD_FRIDAY) and working(date(2027, 3, 25))
    names = {str(e.getName()) for e in calendar.getCalendarExceptions()}
    assert {"Good Friday", "Easter Monday", "Company holiday"} <= names
    assert float(calendar.getWork(java.LocalDate.of(2027, 1, 14), java.TimeUnit.HOURS).getDuration()) == 8
    assert project.getProjectProperties().getMinutesPerDay() == 480
    assert project.getProjectProperties().getMinutesPerWeek() == 2400


def test_a_friday_saturday_weekend(java: SimpleNamespace, tmp_path: Path) -> None:
    source = tmp_path / "demo.yaml"
    source.write_text(DEMO, encoding="utf-8")
    plan = instantiate(load_template(source), START, calendar=CalendarSpec(weekend=(4, 5)))
    project = read(java, plan, tmp_path)
    calendar = project.getDefaultCalendar()

    def working(day: date) -> bool:
        return bool(calendar.isWorkingDate(java.LocalDate.of(day.year, day.month, day.day)))

    assert [working(date(2027, 1, d)) for d in range(4, 11)] == [True, True, True, True, False, False, True]
    assert project.getProjectProperties().getMinutesPerWeek() == 5 * 480
    rows = by_key(project)
    for task in plan.tasks:
        assert when(rows[task.id].getFinish()) == finishes(task)


def test_text_with_markup_characters_survives(java: SimpleNamespace, plan: Plan, tmp_path: Path) -> None:
    rows = by_key(read(java, plan, tmp_path))
    assert str(rows["B"].getName()) == SPECIAL
    notes = str(rows["B"].getNotes())
    assert 'Check <scope> & "policy"' in notes and "9.2" in notes


def test_output_is_well_formed_namespaced_and_deterministic(plan: Plan) -> None:
    data = to_mspdi(plan)
    assert data == to_mspdi(plan)
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"')
    root = ET.fromstring(data)
    ns = "{http://schemas.microsoft.com/project}"
    assert root.tag == f"{ns}Project"
    assert root.findtext(f"{ns}CurrencyCode") == "EUR"
    assert root.findtext(f"{ns}SaveVersion") == "14"
    links = {
        (link.findtext(f"{ns}Type"), link.findtext(f"{ns}LinkLag"), link.findtext(f"{ns}LagFormat"))
        for link in root.iter(f"{ns}PredecessorLink")
    }
    assert ("0", "-4800", "7") in links  # FF, -1 day in tenths of a minute, shown in days
    costs = [task.findtext(f"{ns}Cost") for task in root.iter(f"{ns}Task")]
    assert str(int(plan.budget.total * 100)) == costs[0]  # currency in hundredths


def test_bundled_template_reads_back_completely(java: SimpleNamespace, tmp_path: Path) -> None:
    plan = instantiate(resolve_template("iso20000-1-2018"), START, calendar=CalendarSpec(country="DE"))
    project = read(java, plan, tmp_path)
    rows = by_key(project)
    assert len(project.getTasks()) == 1 + len(plan.phases) + len(plan.tasks)
    for task in plan.tasks:
        row = rows[task.id]
        assert str(row.getName()) == task.name
        assert when(row.getStart()) == starts(task)
        assert when(row.getFinish()) == finishes(task)
        assert len(row.getPredecessors()) == len(task.depends_on)
        assert float(row.getBaselineCost()) == pytest.approx(float(task.cost), abs=CENT)
    assert float(project_summary(project).getCost()) == pytest.approx(float(plan.budget.total), abs=CENT)

    reschedule(java, project, START)
    for task in plan.tasks:
        assert (when(rows[task.id].getStart()), when(rows[task.id].getFinish())) == (
            starts(task),
            finishes(task),
        )


def test_an_mpp_file_is_read_through_mpxj(java: SimpleNamespace, plan: Plan, tmp_path: Path) -> None:
    """MPXJ's reader recognises a file by its content, so an MSPDI file named .mpp takes the MPXJ path."""
    from iso20k_sync.export.mspdi_import import read_project_file, template_from_mspdi

    (tmp_path / "plan.mpp").write_bytes(to_mspdi(plan))
    through_mpxj = read_project_file(tmp_path / "plan.mpp").template
    direct = template_from_mspdi(to_mspdi(plan)).template
    assert through_mpxj["phases"] == direct["phases"]
    assert through_mpxj["roles"] == direct["roles"]


def test_status_exports_progress_and_actual_costs_over_the_baseline(
    java: SimpleNamespace, tmp_path: Path
) -> None:
    import json

    import openpyxl
    from typer.testing import CliRunner

    from iso20k_sync.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["quickstart", str(tmp_path / "demo")]).exit_code == 0
    config = str(tmp_path / "demo" / "iso20k-sync.yaml")
    book = openpyxl.load_workbook(tmp_path / "demo" / "data" / "demo-plan.xlsx")
    sheet = book["Tasks"]
    columns = {cell.value: cell.column for cell in sheet[1]}
    rows = {sheet.cell(r, 1).value: r for r in range(2, sheet.max_row + 1)}
    progress = {
        "management-basis-assessment": ("Done", None, date(2026, 12, 14), date(2026, 12, 29), 4321.5),
        "benefit-analysis": ("Done", None, None, None, None),
        "feasibility-report": ("In progress", 60, date(2027, 1, 4), None, 1000),
    }
    for key, values in progress.items():
        headers = ("Status", "% Complete", "Actual start", "Actual finish", "Actual cost")
        for header, value in zip(headers, values, strict=True):
            sheet.cell(rows[key], columns[header]).value = value
    book.save(tmp_path / "demo" / "data" / "demo-plan.xlsx")
    for task in ("resource-cost-estimate", None):
        expense = [
            "expense",
            "add",
            "-c",
            config,
            "--category",
            "training",
            "--amount",
            "450",
            "--date",
            "2027-01-08",
        ]
        assert runner.invoke(app, [*expense, *(["--task", task] if task else [])]).exit_code == 0
    assert runner.invoke(app, ["sync", "-c", config, "--as-of", "2027-01-20"]).exit_code == 0
    status = json.loads(runner.invoke(app, ["status", "-c", config, "--format", "json"]).stdout)
    target = tmp_path / "status.xml"
    result = runner.invoke(app, ["status", "-c", config, "--format", "mspdi", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(f"wrote {target} (status 2027-01-20: 2 done, 1 in progress")

    project = java.UniversalProjectReader().read(str(target))
    assert when(project.getProjectProperties().getStatusDate()) == datetime(2027, 1, 20, 17)
    rows = {str(t.getText(1)): t for t in project.getTasks() if t.getText(1) and not t.getSummary()}
    phases = {str(t.getText(1)): t for t in project.getTasks() if t.getText(1) and t.getSummary()}
    percent = {key: 100 if state == "Done" else p for key, (state, p, *_) in progress.items()}
    costs = {"management-basis-assessment": 4321.5, "feasibility-report": 1000, "resource-cost-estimate": 450}
    assert len(rows) == 94  # a task may have a phase's id: phases are looked up apart
    for key in rows:
        row = rows[key]
        assert float(row.getPercentageComplete()) == percent.get(key, 0), key
        assert float(row.getActualCost()) == pytest.approx(costs.get(key, 0), abs=CENT), key
    counts = [float(row.getPercentageComplete()) for row in rows.values()]
    assert (counts.count(100), sum(0 < c < 100 for c in counts)) == (
        status["tasks"]["done"],
        status["tasks"]["in_progress"],
    )
    started = rows["feasibility-report"]
    assert when(started.getActualStart()) == datetime(2027, 1, 4, 8) and started.getActualFinish() is None
    assert when(started.getStart()) == datetime(2027, 1, 4, 8)  # the current schedule; baseline 0 apart
    assert when(started.getBaselineStart()) != when(started.getStart())
    done = rows["management-basis-assessment"]
    assert (when(done.getActualStart()), when(done.getActualFinish())) == (
        datetime(2026, 12, 14, 8),
        datetime(2026, 12, 29, 17),
    )
    for phase, figures in status["by_phase"].items():
        assert float(phases[phase].getActualCost()) == pytest.approx(float(figures["ac"]), abs=CENT), phase
        assert float(phases[phase].getBaselineCost()) == pytest.approx(float(figures["bac"]), abs=CENT)
    total = project_summary(project)
    assert float(total.getActualCost()) == pytest.approx(float(status["earned_value"]["ac"]), abs=CENT)
    assert float(status["earned_value"]["ac"]) == pytest.approx(4321.5 + 1000 + 450 + 450)
    assert float(total.getBaselineCost()) == pytest.approx(float(status["earned_value"]["bac"]), abs=CENT)

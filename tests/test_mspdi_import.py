"""`template import`: Microsoft Project XML read into a template, and the export-import round trip."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from iso20k_sync.cli import app
from iso20k_sync.export.mspdi import to_mspdi
from iso20k_sync.export.mspdi_import import template_from_mspdi, template_yaml
from iso20k_sync.instantiate import instantiate
from iso20k_sync.template import load_template, load_template_text

from .conftest import MONDAY

runner = CliRunner()

LINKS = """\
id: links
name: Every link type
version: "1"
currency: EUR
parameters:
  size: {type: number, default: 2}
roles:
  - {id: pm, name: Project manager, day_rate: "400 * size"}
  - {id: auditor, name: Internal auditor, day_rate: 999.99, category: consulting}
phases:
  - id: p1
    name: Phase 1
    tasks:
      - {id: K, name: Kick-off, milestone: true}
      - {id: A, name: A, duration: "2 * size", effort: {pm: 2}}
      - {id: B, name: B, duration: 3, clauses: ["9.2"], deliverables: [Audit plan]}
      - {id: C, name: C, duration: 8, depends_on: [A], effort: {auditor: 0.33, pm: 0.5}}
      - {id: D, name: D, duration: 7, depends_on: [{task: A, type: SS, lag: 2}]}
  - id: p2
    name: Phase 2
    tasks:
      - {id: E, name: E, duration: 9, depends_on: [B, {task: C, lag: -2}],
         costs: [{category: tools, amount: 99.95}]}
      - {id: S, name: S, duration: 2, depends_on: [{task: E, type: SF, lag: 3}]}
      - {id: M, name: Done, milestone: true, depends_on: [E, {task: D, type: FF, lag: -1}],
         costs: [{category: tools, amount: 5000}]}
"""


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def planned(*args: str) -> dict[str, Any]:
    result = invoke("plan", "--start", "2027-01-04", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def round_trip(
    tmp_path: Path, template: str = "iso20000-1-2018", *calendar: str
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Plan, export as MSPDI, import as a template, plan that again: both plans and the import's stderr."""
    exported, imported = tmp_path / "plan.xml", tmp_path / "imported.yaml"
    result = invoke(
        "plan", "--start", "2027-01-04", "-t", template, *calendar, "-f", "mspdi", "-o", str(exported)
    )
    assert result.exit_code == 0, result.output
    result = invoke("template", "import", str(exported), "-o", str(imported))
    assert result.exit_code == 0, result.output
    assert invoke("template", "validate", str(imported)).exit_code == 0
    return planned("-t", template, *calendar), planned("-t", str(imported), *calendar), result.stderr


def assert_same_schedule(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Task by task, mapped by name (the ids are slugs of the names now)."""
    names = [{t["id"]: t["name"] for t in plan["tasks"]} for plan in (before, after)]
    roles = [{r["id"]: r["name"] for r in plan["roles"]} for plan in (before, after)]
    tasks = [{t["name"]: t for t in plan["tasks"]} for plan in (before, after)]
    assert list(tasks[0]) == list(tasks[1])
    for name, task in tasks[0].items():
        again = tasks[1][name]
        for key in ("start", "finish", "duration", "milestone", "critical", "total_float", "late_start"):
            assert again[key] == task[key], (name, key)
        for key in ("late_finish", "cost", "clauses", "deliverables", "description"):
            assert again[key] == task[key], (name, key)
        links = [
            sorted((n[d["task"]], d["type"], d["lag"]) for d in t["depends_on"])
            for n, t in zip(names, (task, again), strict=True)
        ]
        assert links[0] == links[1], name
        efforts = [
            {r[role]: days for role, days in t["effort"].items()}
            for r, t in zip(roles, (task, again), strict=True)
        ]
        assert efforts[0] == efforts[1], name

    def critical(plan: dict[str, Any], n: dict[str, str]) -> list[tuple[str, str, str]]:
        """In running order; equal dates in name order (the ids that broke ties have changed)."""
        rows = {t["id"]: t for t in plan["tasks"]}
        return sorted((rows[i]["start"], rows[i]["finish"], n[i]) for i in plan["critical_path"])

    assert critical(before, names[0]) == critical(after, names[1])
    assert [after[k] for k in ("start", "finish", "duration")] == [
        before[k] for k in ("start", "finish", "duration")
    ]
    assert after["budget"]["total"] == before["budget"]["total"]


def test_the_bundled_plan_comes_back_the_same_through_microsoft_project_xml(tmp_path: Path) -> None:
    before, after, stderr = round_trip(tmp_path)
    assert len(after["tasks"]) == len(before["tasks"]) == 94
    assert_same_schedule(before, after)
    assert stderr.splitlines()[0] == "warning: custom fields not carried: Plan key"
    # The fixed costs come back in one category; the budget is the same.
    assert after["budget"]["by_category"]["tools"] != before["budget"]["by_category"]["tools"]


def test_every_link_type_lags_leads_and_holidays_come_back(write_template, tmp_path: Path) -> None:
    source = write_template(LINKS, "links.yaml")
    before, after, stderr = round_trip(tmp_path, str(source), "--country", "DE")
    assert_same_schedule(before, after)
    kinds = {(d["type"], d["lag"]) for t in after["tasks"] for d in t["depends_on"]}
    assert {("SS", 2), ("SF", 3), ("FF", -1), ("FS", -2), ("FS", 0)} <= kinds
    assert "exception(s) of calendar 'Standard' (holidays, changed working days) not carried" in stderr
    text = (tmp_path / "imported.yaml").read_text()
    assert text.startswith("# Imported from plan.xml") and "#   - custom fields not carried: Plan key" in text
    imported = yaml.safe_load(text)
    assert imported["roles"][0] == {"id": "project-manager", "name": "Project manager", "day_rate": 800}
    assert imported["roles"][1]["category"] == "consulting"
    assert imported["phases"][1]["tasks"][2] == {
        "id": "done",
        "name": "Done",
        "milestone": True,
        "depends_on": ["e", {"task": "d", "type": "FF", "lag": -1}],
        "costs": [{"category": "tools", "amount": 5000}],
    }


def project(tasks: str, head: str = "", tail: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Project xmlns="http://schemas.microsoft.com/project">
  <Name>Rollout.xml</Name><Title>Tool rollout</Title><CurrencyCode>GBP</CurrencyCode>
  <CalendarUID>1</CalendarUID><MinutesPerDay>420</MinutesPerDay>{head}
  <Tasks>
    <Task><UID>0</UID><Name>Tool rollout</Name><OutlineLevel>0</OutlineLevel><Summary>1</Summary></Task>
    {tasks}
  </Tasks>{tail}
</Project>""".encode()


def task(uid: int, name: str, level: int, extra: str = "") -> str:
    return f"<Task><UID>{uid}</UID><Name>{name}</Name><OutlineLevel>{level}</OutlineLevel>{extra}</Task>"


def link(uid: int, kind: int = 1, lag: int = 0, fmt: int = 7) -> str:
    return (
        f"<PredecessorLink><PredecessorUID>{uid}</PredecessorUID><Type>{kind}</Type>"
        f"<LinkLag>{lag}</LinkLag><LagFormat>{fmt}</LagFormat></PredecessorLink>"
    )


ROLLOUT = project(
    task(1, "Prepare", 1, "<Summary>1</Summary><FixedCost>10000</FixedCost>")
    + task(2, "Kick-off", 2, "<Duration>PT0H0M0S</Duration><Milestone>1</Milestone>")
    + task(3, "Workshops", 2, "<Summary>1</Summary>")
    + task(4, "Workshop", 3, "<Duration>PT14H0M0S</Duration>" + link(2))
    + task(5, "Workshop", 3, "<Duration>PT10H30M0S</Duration>" + link(4, 3, 4200 * 3))
    + task(
        6,
        "Licences",
        2,
        "<Duration>PT48H0M0S</Duration><DurationFormat>8</DurationFormat>" + link(2, 1, 2100),
    )
    + task(7, "Go live", 1, "<Summary>1</Summary>" + link(3))
    + task(
        8,
        "Configure",
        2,
        "<Duration>PT21H0M0S</Duration><ConstraintType>4</ConstraintType>" + link(6, 1, 50, 19),
    )
    + task(9, "Train", 2, "<Duration>PT7H0M0S</Duration><Manual>1</Manual>" + link(8, 1, 14400, 8))
    + task(10, "Cut-over", 2, "<Duration>PT0H0M0S</Duration><Milestone>1</Milestone>" + link(9) + link(7, 3))
    + task(11, "Lessons learnt", 1, "<Duration>PT7H0M0S</Duration>" + link(3, 3))
    + task(12, "Retired", 1, "<Active>0</Active>"),
    head="<ExtendedAttributes><ExtendedAttribute><FieldID>188743731</FieldID><FieldName>Text1</FieldName>"
    "</ExtendedAttribute></ExtendedAttributes><Calendars>"
    "<Calendar><UID>1</UID><Name>Standard</Name><IsBaseCalendar>1</IsBaseCalendar><WeekDays>"
    "<WeekDay><DayType>1</DayType><DayWorking>0</DayWorking></WeekDay>"
    "<WeekDay><DayType>7</DayType><DayWorking>0</DayWorking></WeekDay></WeekDays>"
    "<Exceptions><Exception><Name>Christmas</Name></Exception></Exceptions></Calendar>"
    "<Calendar><UID>2</UID><Name>Night shift</Name><IsBaseCalendar>1</IsBaseCalendar></Calendar></Calendars>",
    tail="<Resources><Resource><UID>0</UID></Resource>"
    "<Resource><UID>1</UID><Name>Consultant</Name><Type>1</Type><StandardRate>150</StandardRate>"
    "<Group>Consulting</Group></Resource>"
    "<Resource><UID>2</UID><Name>Licence fee</Name><Type>2</Type></Resource></Resources><Assignments>"
    "<Assignment><TaskUID>4</TaskUID><ResourceUID>1</ResourceUID><Work>PT21H0M0S</Work></Assignment>"
    "<Assignment><TaskUID>4</TaskUID><ResourceUID>1</ResourceUID><Work>PT3H30M0S</Work></Assignment>"
    "<Assignment><TaskUID>6</TaskUID><ResourceUID>2</ResourceUID><Cost>120000</Cost></Assignment>"
    "<Assignment><TaskUID>7</TaskUID><ResourceUID>1</ResourceUID><Work>PT7H0M0S</Work></Assignment>"
    "<Assignment><TaskUID>10</TaskUID><ResourceUID>1</ResourceUID><Work>PT7H0M0S</Work></Assignment>"
    "<Assignment><TaskUID>8</TaskUID><ResourceUID>-65535</ResourceUID><Work>PT7H0M0S</Work></Assignment>"
    "</Assignments>",
)


def test_outline_durations_links_resources_and_costs_are_carried() -> None:
    imported = template_from_mspdi(ROLLOUT, "rollout")
    template = load_template_text(template_yaml(imported, "rollout.xml"), "rollout.yaml")
    assert (template.id, template.name, template.currency) == ("tool-rollout", "Tool rollout", "GBP")
    assert [(p.id, [t.id for t in p.tasks]) for p in template.phases] == [
        ("prepare", ["kick-off", "workshop", "workshop-2", "licences"]),
        ("go-live", ["configure", "train", "cut-over"]),
        ("tool-rollout", ["lessons-learnt"]),  # outside any summary: a phase named after the project
    ]
    tasks = {t.id: t for t in template.tasks()}
    [consultant] = template.roles
    assert (consultant.id, consultant.day_rate, consultant.category) == ("consultant", 1050, "consulting")
    assert tasks["kick-off"].milestone
    assert tasks["workshop"].duration == 2 and tasks["workshop"].effort == {"consultant": 3.5}
    assert tasks["workshop-2"].duration == 2  # 1.5 days (7 hours a day) rounded up
    assert [(d.task, d.type, d.lag) for d in tasks["workshop-2"].depends_on] == [("workshop", "SS", 3)]
    assert tasks["licences"].duration == 2  # 48 elapsed hours
    assert [(c.category, c.amount, c.description) for c in tasks["licences"].costs] == [
        ("tools", 1200, "Licence fee")
    ]
    assert [(d.task, d.lag) for d in tasks["licences"].depends_on] == [("kick-off", 1)]  # 3.5 hours
    # "Workshops" finishes with its last task: the link from it to "Go live" links each of its tasks to
    # each task of "Go live".
    assert [(d.task, d.lag) for d in tasks["configure"].depends_on] == [
        ("workshop", 0),
        ("workshop-2", 0),
        ("licences", 0),  # its lag was in percent
    ]
    assert [(d.task, d.lag) for d in tasks["train"].depends_on][2] == ("configure", 0)  # elapsed lag
    assert [d.task for d in tasks["cut-over"].depends_on] == ["workshop", "workshop-2", "train"]
    assert tasks["cut-over"].effort == {}
    assert [(d.task, d.type) for d in tasks["lessons-learnt"].depends_on] == []
    instantiate(template, MONDAY)

    warnings = "\n".join(imported.warnings)
    for expected in (
        "task 'Retired' is inactive: left out",
        "summary task 'Workshops' (outline level 2) flattened into phase 'Prepare'",
        "fixed cost of summary task 'Prepare' not carried",
        "task 'Workshop': duration 1.5 working days rounded up to 2",
        "task 'Licences': elapsed duration carried as 2 working days",
        "link 'Kick-off' -> 'Licences': lag of 0.5 working days rounded to 1",
        "link 'Licences' -> 'Configure': a lag in percent of the predecessor's duration not carried",
        "link 'Configure' -> 'Train': an elapsed-time lag not carried",
        "link 'Go live' -> 'Cut-over': a SS link from a summary task not carried",
        "link 'Workshops' -> 'Lessons learnt': a SS link from a summary task not carried",
        "assignment of 'Consultant' to a summary task not carried",
        "milestone 'Cut-over': its work is not carried (a milestone takes none)",
        "task 'Configure': constraint 'start no earlier than' not carried",
        "task 'Train' is manually scheduled: it is scheduled automatically",
        "custom fields not carried: Text1",
        "1 exception(s) of calendar 'Standard'",
        "calendars other than the project's not carried: 'Night shift'",
    ):
        assert expected in warnings
    assert "non-working days" not in warnings  # Saturday and Sunday off: the default weekend


def test_the_command_writes_the_template_and_lists_what_it_did_not_carry(tmp_path: Path) -> None:
    source, target = tmp_path / "rollout.xml", tmp_path / "rollout.yaml"
    source.write_bytes(ROLLOUT)
    result = invoke("template", "import", str(source), "-o", str(target), "--cost-category", "materials")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings == [f"warning: {w}" for w in template_from_mspdi(ROLLOUT).warnings]
    assert result.stderr.splitlines()[-1] == f"wrote {target} (3 phases, 8 tasks, {len(warnings)} warning(s))"
    text = target.read_text()
    comments = [line.removeprefix("#   - ") for line in text.splitlines() if line.startswith("#   - ")]
    assert comments == [w.removeprefix("warning: ") for w in warnings]
    assert "category: materials" in text and "category: tools" not in text
    assert invoke("template", "validate", str(target)).exit_code == 0
    printed = invoke("template", "import", str(source), "--cost-category", "materials").stdout
    assert printed == text


def test_a_friday_saturday_weekend_is_named_with_the_option_to_plan_it() -> None:
    week = "".join(
        f"<WeekDay><DayType>{d}</DayType><DayWorking>{int(d not in (6, 7))}</DayWorking></WeekDay>"
        for d in range(1, 8)
    )
    data = project(
        task(1, "Only", 1, "<Duration>PT8H0M0S</Duration>"),
        head=f"<Calendars><Calendar><UID>1</UID><WeekDays>{week}</WeekDays></Calendar></Calendars>",
    )
    assert "non-working days fri,sat: plan with --weekend fri,sat" in template_from_mspdi(data).warnings
    template = template_from_mspdi(data).template
    assert template["roles"] == [{"id": "team", "name": "Team", "day_rate": 0}]
    assert template["phases"][0]["tasks"] == [{"id": "only", "name": "Only", "duration": 2}]  # 7 h days


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<Project><Tasks><Task></Project>", "not well-formed XML (mismatched tag)"),
        (b"<Workbook/>", "the root element is Workbook; a project file's is Project"),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><Project/>', "a DOCTYPE declaration is not allowed"),
        (project(""), "Tasks: no task to import"),
        (
            project(task(1, "A", 1, "<Duration>3 days</Duration>")),
            "Tasks/Task[UID 1]/Duration: '3 days' is not",
        ),
        (project("<Task><UID>x</UID></Task>"), "Tasks/Task[2]/UID: 'x' is not a whole number"),
        (project(task(1, "A", 1) + task(1, "B", 1)), "Tasks/Task[UID 1]/UID: UID 1 is used by another task"),
        (project(task(1, "A", 1, "<Milestone>yes</Milestone>")), "Tasks/Task[UID 1]/Milestone: 'yes' is not"),
        (project(task(1, "A", 1, link(1, 9))), "Tasks/Task[UID 1]/PredecessorLink[1]/Type: 9 is not a link"),
        (
            project(
                task(1, "A", 1),
                tail="<Resources><Resource><UID>1</UID><Name>R</Name><StandardRate>cheap"
                "</StandardRate></Resource></Resources>",
            ),
            "Resources/Resource[UID 1]/StandardRate: 'cheap' is not a number",
        ),
    ],
)
def test_a_malformed_file_is_one_message_naming_the_element(
    tmp_path: Path, data: bytes, message: str
) -> None:
    source = tmp_path / "broken.xml"
    source.write_bytes(data)
    result = invoke("template", "import", str(source), "-o", str(tmp_path / "out.yaml"))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: Microsoft Project XML: ") and message in result.stderr
    assert (
        "Traceback" not in result.output
        and "line" not in result.stderr
        and str(tmp_path) not in result.stderr
    )
    assert not (tmp_path / "out.yaml").exists()


@pytest.mark.parametrize("missing", ["packages", "java"])
def test_an_mpp_file_without_mpxj_or_java_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    if missing == "packages":
        monkeypatch.setitem(sys.modules, "jpype", None)  # import jpype fails
    else:
        jpype = pytest.importorskip("jpype")
        pytest.importorskip("mpxj")

        def no_java(*args: object, **kwargs: object) -> None:
            raise jpype.JVMNotFoundException("No JVM shared library file (libjvm.so) found")

        monkeypatch.setattr(jpype, "isJVMStarted", lambda: False)
        monkeypatch.setattr(jpype, "startJVM", no_java)
    source = tmp_path / "plan.mpp"
    source.write_bytes(b"\xd0\xcf\x11\xe0 not really")
    result = invoke("template", "import", str(source))
    assert result.exit_code == 2, result.output
    message = " ".join(result.stderr.split())
    assert message.startswith(f"error: {source}: reading .mpp files needs MPXJ and a Java runtime")
    assert ("not installed" if missing == "packages" else "no Java runtime was found") in message
    assert "pip install mpxj JPype1" in message and "File > Save As > XML Format" in message


def test_a_missing_file_is_exit_2(tmp_path: Path) -> None:
    result = invoke("template", "import", str(tmp_path / "nope.xml"))
    assert result.exit_code == 2 and "cannot read" in result.stderr


def test_importing_the_export_keeps_descriptions_clauses_and_deliverables(write_template) -> None:
    plan = instantiate(load_template(write_template(LINKS)), MONDAY)
    tasks = {t["name"]: t for p in template_from_mspdi(to_mspdi(plan)).template["phases"] for t in p["tasks"]}
    assert (tasks["B"]["clauses"], tasks["B"]["deliverables"]) == (["9.2"], ["Audit plan"])
    assert tasks["C"]["effort"] == {"project-manager": 0.5, "internal-auditor": 0.33}
    assert tasks["C"]["owner"] == "project-manager"

"""The workbook tracker as a project manager uses it: seeded, edited by hand, read back, status written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from openpyxl.cell.cell import Cell
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.worksheet.worksheet import Worksheet

from connectors.errors import TrackerError
from connectors.files import atomic_path, remove_stale_temporaries
from connectors.protocol import Connector
from connectors.values import (
    ContainerSpec,
    ItemKind,
    ItemProgress,
    ItemSpec,
    ItemState,
    NoteWrite,
    ProgressRecord,
    stable_id,
)
from connectors.workbook import layout as L
from connectors.workbook import storage
from connectors.workbook.connector import WorkbookConnector
from connectors.workbook.read import CellValue, read_row
from iso20k_sync.analytics import PlanStatus, plan_status
from iso20k_sync.analytics.rag import Rag
from iso20k_sync.engine.mapping import task_progress
from iso20k_sync.engine.notes import render_notes
from iso20k_sync.plan import Plan

from .conftest import HEADER

D = Decimal
PLAN_KEY = "acme-2027"
SPEC = ContainerSpec(
    plan_key=PLAN_KEY,
    plan_name="ACME certification",
    template="iso20000-1-2018",
    currency="EUR",
    start=date(2027, 1, 4),
    finish=date(2027, 12, 17),
)
GAP = [
    ItemSpec(
        key="gap-report",
        uid=stable_id(PLAN_KEY, "gap-report"),
        kind=ItemKind.task,
        title="Gap report",
        parent="gap",
        phase_name="Gap assessment",
        start=date(2027, 2, 1),
        due=date(2027, 2, 12),
        duration_days=10,
        baseline_cost=D("4800.00"),
        clauses=["4.1", "8.1"],
        owner_role="Project manager",
    ),
    ItemSpec(
        key="gate",
        uid=stable_id(PLAN_KEY, "gate"),
        kind=ItemKind.milestone,
        title="Gap report accepted",
        parent="gap",
        phase_name="Gap assessment",
        start=date(2027, 2, 12),
        due=date(2027, 2, 12),
        duration_days=0,
    ),
]
PLAN = (
    HEADER
    + """\
phases:
  - id: design
    name: Design
    tasks:
      - {id: A, name: Policy, duration: 5, effort: {pm: 5}, clauses: ["5.2"]}
      - {id: B, name: Processes, duration: 5, depends_on: [A], effort: {consultant: 5}}
      - {id: M1, name: Design done, milestone: true, depends_on: [B]}
  - id: audit
    name: Audit
    tasks:
      - {id: C, name: Training, duration: 10, depends_on: [M1], costs: [{category: training, amount: 2000}]}
      - {id: D, name: Internal audit, duration: 5, depends_on: [C], effort: {consultant: 3}}
      - {id: E, name: Management review, duration: 2, depends_on: [D], effort: {pm: 1}}
      - {id: F, name: Corrective actions, duration: 3, depends_on: [E], effort: {pm: 2}}
      - id: M2
        name: Certified
        milestone: true
        depends_on: [F]
        costs: [{category: certification, amount: 10000}]
"""
)
STATUS_DATE = date(2027, 1, 13)  # A ran Mon 4 - Fri 8, B runs Mon 11 - Fri 15
TASK_COLUMNS = [
    "Key",
    "Phase",
    "Task",
    "Clauses",
    "Owner role",
    "Planned start",
    "Planned finish",
    "Baseline cost",
    "Status",
    "% Complete",
    "Actual start",
    "Actual finish",
    "Actual cost",
    "Notes",
    "Kind",
]


# --- helpers -------------------------------------------------------------------------------------


def plan_items(plan: Plan) -> list[ItemSpec]:
    phases = {phase.id: phase.name for phase in plan.phases}
    roles = {role.id: role.name for role in plan.roles}
    return [
        ItemSpec(
            key=task.id,
            uid=stable_id(PLAN_KEY, task.id),
            kind=ItemKind.milestone if task.milestone else ItemKind.task,
            title=task.name,
            parent=task.phase,
            phase_name=phases[task.phase],
            start=task.start,
            due=task.finish,
            duration_days=task.duration,
            baseline_cost=task.cost,
            clauses=task.clauses,
            owner_role=roles.get(task.owner or ""),
        )
        for task in plan.tasks
    ]


def headers(ws: Worksheet) -> dict[str, int]:
    return {cell.value: cell.column for cell in ws[1] if cell.value is not None}


def row_of(ws: Worksheet, key: str) -> int:
    column = headers(ws)["Key"]
    return next(row for row in range(2, ws.max_row + 1) if ws.cell(row, column).value == key)


def edit(ws: Worksheet, key: str, **values: object) -> None:
    """Type values into the row of ``key``, columns named by keyword (``percent`` for % Complete)."""
    names = {"status": "Status", "percent": "% Complete", "start": "Actual start"}
    names |= {"finish": "Actual finish", "cost": "Actual cost", "notes": "Notes"}
    cols, row = headers(ws), row_of(ws, key)
    for name, value in values.items():
        ws.cell(row, cols[names[name]]).value = value


def shown_fill(ws: Worksheet, cell: Cell) -> str | None:
    """The fill colour a cell shows: its conditional formatting rule for the text it holds ("cell value
    equal to", case ignored as Excel does), else its own solid fill."""
    for formatting in ws.conditional_formatting:
        if cell.coordinate not in formatting.sqref:
            continue
        for rule in formatting.rules:
            typed = str(cell.value).casefold()
            if (
                rule.type == "cellIs"
                and rule.operator == "equal"
                and rule.formula[0].strip('"').casefold() == typed
            ):
                return rule.dxf.fill.bgColor.rgb
    return cell.fill.fgColor.rgb if cell.fill.fill_type == "solid" else None


def grid(ws: Worksheet) -> list[list[tuple[object, str]]]:
    return [[(cell.value, cell.number_format) for cell in row] for row in ws.iter_rows()]


def rewrite(ws: Worksheet, rows: list[list[tuple[object, str]]]) -> None:
    """Replace the sheet's cells by ``rows`` (values and number formats), as a cut-and-paste would."""
    ws.delete_rows(1, ws.max_row)
    for r, row in enumerate(rows, start=1):
        for c, (value, number_format) in enumerate(row, start=1):
            cell = ws.cell(r, c)
            cell.value = value
            cell.number_format = number_format


def snapshot(path: Path) -> dict[str, tuple[str, str, str, str]]:
    """Every Tasks cell: its value exactly as stored (type and text), type code and number format."""
    ws = openpyxl.load_workbook(path, rich_text=True)[L.TASKS]
    return {
        cell.coordinate: (type(cell.value).__name__, repr(cell.value), cell.data_type, cell.number_format)
        for row in ws.iter_rows()
        for cell in row
        if cell.value is not None
    }


def validations(path: Path) -> list[tuple[str, str | None, str | None, str | None, str]]:
    ws = openpyxl.load_workbook(path)[L.TASKS]
    return sorted(
        (dv.type, dv.operator, dv.formula1, dv.formula2, str(dv.sqref))
        for dv in ws.data_validations.dataValidation
    )


@pytest.fixture
def plan(make_plan: Callable[..., Plan]) -> Plan:
    return make_plan(PLAN)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """The workbook, alone in its directory (so stray temporary files would show)."""
    (tmp_path / "tracker").mkdir()
    return tmp_path / "tracker" / "plan.xlsx"


@pytest.fixture
def seeded(path: Path, plan: Plan) -> WorkbookConnector:
    """The plan's tasks seeded into a new workbook."""
    connector = WorkbookConnector(path, PLAN_KEY)
    connector.ensure_container(SPEC)
    connector.create_items(plan_items(plan), {})
    return connector


@pytest.fixture
def edited(seeded: WorkbookConnector, path: Path) -> Iterator[WorkbookConnector]:
    """The project manager's week: progress typed in, two mistakes, a row deleted, rows sorted, an own
    row with a note, and the Actual cost column moved to the far right."""
    book = openpyxl.load_workbook(path, rich_text=True)
    ws = book[L.TASKS]
    edit(ws, "A", status="Done", start=datetime(2027, 1, 4), finish=datetime(2027, 1, 8), cost=4200)
    edit(ws, "B", status="In progress", start=datetime(2027, 1, 11), cost=1500.5, notes="waiting for HR")
    ws.cell(row_of(ws, "B"), headers(ws)["% Complete"]).number_format = "0%"
    edit(ws, "B", percent=0.5)  # typed as 50 % in a percentage cell
    edit(ws, "M1", status="done")
    edit(ws, "C", status="In progress", percent=140)  # a slip of the finger
    edit(ws, "D", cost="about 2k")  # a guess typed as text
    edit(ws, "F", status="in  PROGRESS", percent="40%", start="2027-01-12")
    ws.cell(row_of(ws, "F"), headers(ws)["Notes"]).value = CellRichText(
        "Auditor ", TextBlock(InlineFont(b=True), "booked"), " for March"
    )
    ws.delete_rows(row_of(ws, "E"))

    rows = grid(ws)
    header, body = rows[0], rows[1:]
    by_key = {row[0][0]: row for row in body}
    blank = [(None, "General")] * len(header)
    note = [*blank[:13], ("Remember: book the certification body", "General"), blank[14]]
    own = [("my-own", "General"), *blank[1:8], ("Done", "General"), *blank[9:]]
    order = [by_key["M2"], by_key["F"], by_key["D"], by_key["C"], note, by_key["M1"], by_key["B"]]
    order += [by_key["A"], own]
    moved = L.TASK_HEADERS.index("Actual cost")
    rewrite(ws, [[*row[:moved], *row[moved + 1 :], row[moved]] for row in [header, *order]])
    book.save(path)
    yield seeded


# --- seeding -------------------------------------------------------------------------------------


def test_it_is_a_connector_with_the_workbook_capabilities(path: Path) -> None:
    connector = WorkbookConnector(path, PLAN_KEY)
    assert isinstance(connector, Connector)
    caps = connector.capabilities
    assert (caps.phases, caps.links, caps.cost_fields, caps.write_back) == (False, False, True, True)
    assert caps.session_size is None and caps.bulk_size >= 10_000  # a seed reads and saves the file once
    assert not caps.incremental_pull
    assert WorkbookConnector(path, PLAN_KEY, batch_size=5).capabilities.bulk_size == 5


def test_seeding_creates_the_four_sheets_and_one_row_per_item(path: Path) -> None:
    connector = WorkbookConnector(path, PLAN_KEY)
    assert connector.find_items().items == {}
    assert connector.ensure_container(SPEC) == str(path)
    result = connector.create_items(GAP, {})
    assert [item.key for item in result.created] == ["gap-report", "gate"]
    assert result.failed == []

    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Tasks", "Milestones", "Status", "About"]
    ws = book["Tasks"]
    assert [cell.value for cell in ws[1]] == TASK_COLUMNS
    assert [cell.value for cell in ws[2]][:9] == [
        "gap-report",
        "Gap assessment",
        "Gap report",
        "4.1, 8.1",
        "Project manager",
        datetime(2027, 2, 1),
        datetime(2027, 2, 12),
        4800,
        None,
    ]
    assert ws["F2"].number_format == "yyyy-mm-dd"
    assert ws["H2"].number_format == ws["M2"].number_format == '#,##0.00 "EUR"'
    assert ws.max_row == 3
    gate = [cell.value for cell in ws[3]]
    assert gate[2] == "Gap report accepted" and gate[5] == gate[6] == datetime(2027, 2, 12)
    assert ws["C3"].font.italic and not ws["C2"].font.italic

    assert all(cell.font.bold for cell in ws[1])
    assert ws.freeze_panes == "D2"
    assert ws.auto_filter.ref == "A1:O3"
    yellow = {ws.cell(row, column).fill.fgColor.rgb for row in (1, 2) for column in range(9, 15)}
    assert yellow == {"00FFF2CC"}
    assert ws["A1"].fill.fgColor.rgb != "00FFF2CC" and ws["H2"].fill.fgColor.rgb != "00FFF2CC"
    assert ws.column_dimensions["O"].hidden and not ws.column_dimensions["N"].hidden
    assert ws.column_dimensions["C"].width > ws.column_dimensions["A"].width

    milestones = book["Milestones"]
    assert [c.value for c in milestones[1]] == [
        "Key",
        "Milestone",
        "Phase",
        "Baseline date",
        "Forecast",
        "Variance (working days)",
        "RAG",
        "Reason",
    ]
    assert [c.value for c in milestones[2]][:5] == [
        "gate",
        "Gap report accepted",
        "Gap assessment",
        datetime(2027, 2, 12),
        None,
    ]
    assert milestones.max_row == 2
    about = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True) if row[0]}
    assert about["Plan key"] == PLAN_KEY and about["Currency"] == "EUR"
    assert about["Template"] == "iso20000-1-2018" and about["Start"] == datetime(2027, 1, 4)
    assert "Status to Notes" in about["Note"] and "rewritten by iso20k-sync" in about["Note"]

    items = connector.find_items().items
    assert {k: (i.kind, i.external_id) for k, i in items.items()} == {
        "gap-report": (ItemKind.task, "gap-report"),
        "gate": (ItemKind.milestone, "gate"),
    }
    assert items["gate"].url == f"{path}#Tasks!A3"


def test_seeding_again_adds_nothing_and_leaves_the_file_alone(path: Path) -> None:
    connector = WorkbookConnector(path, PLAN_KEY)
    connector.ensure_container(SPEC)
    first = connector.create_items(GAP, {})
    before = path.read_bytes()
    assert connector.ensure_container(SPEC) == str(path)
    again = connector.create_items(GAP, {})
    assert again.created == first.created
    assert path.read_bytes() == before
    book = openpyxl.load_workbook(path)
    assert (book["Tasks"].max_row, book["Milestones"].max_row) == (3, 2)


def test_items_seeded_later_go_below_the_users_rows_under_the_right_headers(edited, path, plan) -> None:
    later = ItemSpec(
        key="G",
        uid=stable_id(PLAN_KEY, "G"),
        kind=ItemKind.milestone,
        title='=HYPERLINK("x")',  # text, never a formula
        start=date(2027, 3, 1),
        due=date(2027, 3, 1),
        duration_days=0,
        baseline_cost=D("99.90"),
    )
    result = edited.create_items([*plan_items(plan), later], {})
    assert [item.key for item in result.created] == [*(t.id for t in plan.tasks), "G"]
    ws = openpyxl.load_workbook(path)[L.TASKS]
    cols = headers(ws)
    row = row_of(ws, "G")
    assert row == 12  # below the user's own row
    assert ws.cell(row, cols["Task"]).value == '=HYPERLINK("x")'
    assert ws.cell(row, cols["Task"]).data_type == "s"
    assert ws.cell(row, cols["Actual cost"]).number_format == '#,##0.00 "EUR"'  # the moved column
    assert ws.cell(row, cols["Baseline cost"]).value == 99.9
    assert ws.cell(row, cols["Kind"]).value == "milestone"
    # E was deleted by the project manager: seeding again restores it, at the bottom
    assert row_of(ws, "E") == 11
    assert ws.max_row == 12


# --- pulling progress ----------------------------------------------------------------------------


def test_pull_reads_what_the_project_manager_typed(edited: WorkbookConnector, plan: Plan) -> None:
    items = edited.find_items().items
    assert set(items) == {"A", "B", "M1", "C", "D", "F", "M2", "my-own"}
    assert items["M1"].kind is ItemKind.milestone and items["B"].kind is ItemKind.task
    assert items["A"].url.endswith("#Tasks!A9")
    seeded = {task.id: items.get(task.id) for task in plan.tasks}
    seeded["E"] = items["A"].model_copy(update={"key": "E", "external_id": "E"})

    result = edited.pull_progress(seeded, since=None)

    assert result.problems == [
        "plan.xlsx Tasks!O4: Actual cost 'about 2k' is not a number",
        "plan.xlsx Tasks!J5: % Complete 140 is not between 0 and 100",
    ]
    assert result.missing == ["E"]
    got = {record.key: record.progress for record in result.records}
    assert list(got) == ["M2", "F", "M1", "B", "A"]  # sheet order; C and D skipped, my-own not seeded
    assert got["A"] == ItemProgress(
        state=ItemState.done,
        percent_complete=D(100),
        actual_start=date(2027, 1, 4),
        actual_finish=date(2027, 1, 8),
        actual_cost=D(4200),
    )
    assert got["B"] == ItemProgress(
        state=ItemState.in_progress,
        percent_complete=D(50),
        actual_start=date(2027, 1, 11),
        actual_cost=D("1500.5"),
    )
    assert got["F"] == ItemProgress(
        state=ItemState.in_progress, percent_complete=D(40), actual_start=date(2027, 1, 12)
    )
    assert (got["M1"].state, got["M1"].percent_complete) == (ItemState.done, D(100))
    assert got["M2"] == ItemProgress()  # nothing typed: the analytics count it as not started


def test_a_key_typed_twice_is_reported_and_the_first_row_counts(seeded, path) -> None:
    book = openpyxl.load_workbook(path)
    ws = book[L.TASKS]
    edit(ws, "B", percent=30)
    copy = ws.max_row + 2
    for column in range(1, ws.max_column + 1):
        ws.cell(copy, column).value = ws.cell(row_of(ws, "B"), column).value
    ws.cell(copy, headers(ws)["% Complete"]).value = 90
    book.save(path)

    result = seeded.pull_progress(seeded.find_items().items, None)
    assert result.problems == [
        f"plan.xlsx Tasks!A{copy}: key 'B' appears again (first at row 3); this row is ignored"
    ]
    assert next(r.progress for r in result.records if r.key == "B").percent_complete == D(30)


def test_a_finish_before_the_start_and_other_bad_cells_skip_the_row(seeded, path) -> None:
    book = openpyxl.load_workbook(path)
    ws = book[L.TASKS]
    edit(ws, "A", status="Finished", start=date(2027, 1, 8), finish="2027-01-04", cost=-5)
    edit(ws, "B", percent="lots", start="next week")
    edit(ws, "C", percent="=20*2")  # a formula openpyxl saves without its result
    edit(ws, "D", cost="2000")
    book.save(path)

    result = seeded.pull_progress(seeded.find_items().items, None)
    assert result.problems == [
        "plan.xlsx Tasks!I2: Status 'Finished' is not one of Not started, In progress, Done (or blank)",
        "plan.xlsx Tasks!M2: Actual cost -5 is negative; expected an amount of 0 or more",
        "plan.xlsx Tasks!L2: Actual finish 2027-01-04 is before Actual start 2027-01-08",
        "plan.xlsx Tasks!J3: % Complete 'lots' is not a number from 0 to 100",
        "plan.xlsx Tasks!K3: Actual start 'next week' is not a date (expected yyyy-mm-dd)",
        "plan.xlsx Tasks!J5: % Complete is a formula saved without its result; "
        "open the workbook in Excel or LibreOffice and save it",
        "plan.xlsx Tasks!M6: Actual cost '2000' is text, not a number; type it as a number",
    ]
    assert {r.key for r in result.records} == {"M1", "E", "F", "M2"}


def ref(value: object, number_format: str = "General") -> CellValue:
    return CellValue(ref="Tasks!J2", value=value, number_format=number_format)


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ({}, ItemProgress()),
        ({"Status": "  "}, ItemProgress()),
        ({"Status": "DONE"}, ItemProgress(state=ItemState.done, percent_complete=D(100))),
        ({"Status": "Done", "% Complete": 80}, ItemProgress(state="done", percent_complete=D(80))),
        ({"Status": "In progress"}, ItemProgress(state=ItemState.in_progress)),
        ({"% Complete": 100}, ItemProgress(percent_complete=D(100))),
        ({"% Complete": 0.25}, ItemProgress(percent_complete=D("0.25"))),
        ({"% Complete": " 12.5 % "}, ItemProgress(percent_complete=D("12.5"))),
        ({"Actual finish": datetime(2027, 1, 8, 17, 30)}, ItemProgress(actual_finish=date(2027, 1, 8))),
        (
            {"Actual start": "2027-01-04T09:00", "Actual cost": D("0")},
            ItemProgress(actual_start=date(2027, 1, 4), actual_cost=D(0)),
        ),
        ({"Notes": 42}, ItemProgress()),
    ],
)
def test_what_a_row_accepts(cells: dict[str, object], expected: ItemProgress) -> None:
    progress, problems = read_row({header: ref(value) for header, value in cells.items()})
    assert problems == []
    assert progress == expected


@pytest.mark.parametrize(
    ("cells", "state", "fraction"),
    [
        ({"% Complete": 100}, "done", D(1)),
        ({"% Complete": 25}, "in_progress", D("0.25")),
        ({"Actual finish": datetime(2027, 1, 8)}, "done", D(1)),
        ({"Actual start": date(2027, 1, 4)}, "in_progress", D(0)),
        ({}, "not_started", D(0)),
    ],
)
def test_a_blank_status_is_worked_out_from_the_other_cells(cells, state, fraction) -> None:
    progress, _ = read_row({header: ref(value) for header, value in cells.items()})
    assert progress is not None
    fact = task_progress(ProgressRecord(key="k", progress=progress))
    assert (fact.effective_state.value, fact.fraction_complete) == (state, fraction)


@pytest.mark.parametrize(
    ("value", "number_format", "expected"),
    [
        (0.4, "0%", D(40)),
        (0.125, "0.0%", D("12.5")),
        (1, "0%", D(100)),
        (40, '0"%"', D(40)),  # a literal % sign in the format does not scale the value
        ("40%", "@", D(40)),
    ],
)
def test_percentages(value: object, number_format: str, expected: Decimal) -> None:
    progress, problems = read_row({"% Complete": ref(value, number_format)})
    assert problems == [] and progress is not None
    assert progress.percent_complete == expected


@pytest.mark.parametrize(
    ("header", "value", "number_format", "message"),
    [
        ("% Complete", 1.4, "0%", "% Complete 140% is not between 0 and 100"),
        ("% Complete", -1, "General", "% Complete -1 is not between 0 and 100"),
        ("% Complete", True, "General", "% Complete True is not a number from 0 to 100"),
        ("% Complete", "NaN", "General", "% Complete 'NaN' is not a number from 0 to 100"),
        ("Actual start", 46000, "General", "Actual start 46000 is not a date (expected yyyy-mm-dd)"),
        ("Actual cost", "about 2k", "General", "Actual cost 'about 2k' is not a number"),
        ("Status", 1, "General", "Status 1 is not one of Not started, In progress, Done (or blank)"),
    ],
)
def test_what_a_row_refuses(header: str, value: object, number_format: str, message: str) -> None:
    progress, problems = read_row({header: ref(value, number_format)})
    assert progress is None
    assert problems == [f"Tasks!J2: {message}"]


def test_a_missing_header_names_the_sheet_and_the_header(seeded, path) -> None:
    book = openpyxl.load_workbook(path)
    book[L.TASKS]["J1"] = "Percent"
    book.save(path)
    with pytest.raises(TrackerError, match=r"plan\.xlsx: the Tasks sheet has no '% Complete' column header"):
        seeded.pull_progress(seeded.find_items().items, None)


def test_the_kind_falls_back_to_the_milestones_sheet(seeded, path) -> None:
    book = openpyxl.load_workbook(path)
    ws = book[L.TASKS]
    for row in range(2, ws.max_row + 1):
        ws.cell(row, TASK_COLUMNS.index("Kind") + 1).value = None
    book.save(path)
    kinds = {key: item.kind for key, item in seeded.find_items().items.items()}
    assert kinds["M1"] is kinds["M2"] is ItemKind.milestone
    assert kinds["A"] is ItemKind.task


def test_a_missing_workbook_is_an_error_on_pull(path: Path) -> None:
    connector = WorkbookConnector(path, PLAN_KEY)
    with pytest.raises(TrackerError, match=r"workbook .*plan\.xlsx is gone: restore it or re-seed"):
        connector.pull_progress({}, None)


# --- writing the status --------------------------------------------------------------------------


@pytest.fixture
def status(edited: WorkbookConnector, plan: Plan) -> PlanStatus:
    records = edited.pull_progress(edited.find_items().items, None).records
    return plan_status(plan, [task_progress(r) for r in records], [], STATUS_DATE)


def write_status(connector: WorkbookConnector, status: PlanStatus) -> None:
    """Write the status as the engine does: rendered once as notes, every note sent (the workbook
    rewrites them all)."""
    notes = [NoteWrite(note=note) for note in render_notes(status)]
    connector.write_notes(notes, connector.find_items().items)


def test_writing_the_status_changes_no_cell_of_the_tasks_sheet(edited, path, status) -> None:
    before = snapshot(path)
    assert before["M6"][1].startswith("'Remember: book")  # the user's own note row
    assert before["M3"][0] == "CellRichText"  # F's note with a bold word
    checks = validations(path)
    assert len(checks) == 5

    write_status(edited, status)
    assert snapshot(path) == before
    assert validations(path) == checks
    write_status(edited, status)  # and again
    assert snapshot(path) == before
    assert validations(path) == checks
    assert openpyxl.load_workbook(path).sheetnames == ["Tasks", "Milestones", "Status", "About"]


def test_the_status_sheet_shows_the_rag_and_the_figures(edited, path, status) -> None:
    write_status(edited, status)
    ws = openpyxl.load_workbook(path)[L.STATUS]
    cells = {row[0]: row[1:] for row in ws.iter_rows(values_only=True) if row[0] is not None}
    rag = next(cell for row in ws.iter_rows() for cell in row if cell.value == status.rag.value.upper())
    assert ws.cell(rag.row, 1).value == "RAG"
    assert shown_fill(ws, rag) == {"green": "00C6EFCE", "amber": "00FFEB9C", "red": "00FFC7CE"}[status.rag]
    assert cells["Reason"][0] == status.reason
    assert cells["Status date"][0] == datetime(2027, 1, 13)
    assert cells["Baseline finish"][0] == datetime.combine(status.baseline_finish, datetime.min.time())
    assert cells["Forecast finish"][0] == datetime.combine(status.forecast_finish, datetime.min.time())
    ev = status.earned_value
    for label in ("BAC", "PV", "EV", "AC", "CV", "SV", "EAC", "VAC"):
        assert cells[label][0] == float(getattr(ev, label.lower())), label
    assert cells["CPI"][0] == float(ev.cpi) and cells["SPI"][0] == float(ev.spi)
    assert cells["TCPI (BAC)"][0] == float(ev.tcpi_bac)
    assert cells["SPI(t)"][0] == float(status.earned_schedule.spi_t)
    assert cells["ES"][0] == float(status.earned_schedule.es)
    assert cells["SV(t)"][0] == float(status.earned_schedule.sv_t)
    assert (cells["Not started"][0], cells["In progress"][0], cells["Done"][0]) == (
        status.tasks.not_started,
        status.tasks.in_progress,
        status.tasks.done,
    )
    training = status.by_category["training"]
    assert cells["Training"][:6] == tuple(
        float(v) for v in (training.bac, training.pv, training.ev, training.ac, training.cv, training.eac)
    )
    money = next(c for row in ws.iter_rows() for c in row if c.value == cells["BAC"][0])
    assert money.number_format == '#,##0.00 "EUR"'
    assert "Problems" in cells

    late = status.model_copy(update={"rag": Rag.red, "reason": "milestone 'Certified': past due"})
    write_status(edited, late)
    ws = openpyxl.load_workbook(path)[L.STATUS]
    rag = next(row[1] for row in ws.iter_rows() if row[0].value == "RAG")
    assert (rag.value, shown_fill(ws, rag)) == ("RED", "00FFC7CE")


def test_the_milestones_sheet_gets_forecast_variance_rag_and_reason(edited, path, status) -> None:
    write_status(edited, status)
    ws = openpyxl.load_workbook(path)[L.MILESTONES]
    rows = {row[0]: row for row in ws.iter_rows(min_row=2, values_only=True)}
    for milestone in status.milestones:
        _, name, _, baseline, forecast, variance, rag, reason = rows[milestone.id]
        m = milestone
        assert (name, baseline.date(), forecast.date()) == (m.name, m.baseline, m.forecast)
        assert (variance, rag, reason) == (m.variance_days, m.rag.value.upper(), m.reason)
    assert rows["M1"][7].startswith("reached on")
    cell = ws.cell(row_of(ws, "M2"), 7)
    assert shown_fill(ws, cell) in {"00C6EFCE", "00FFEB9C", "00FFC7CE"}


# --- the file itself -----------------------------------------------------------------------------


def test_a_crash_before_the_rename_leaves_the_old_workbook_and_no_temporary(
    edited, path, status, monkeypatch
) -> None:
    before = path.read_bytes()

    def crash(source: object, target: object) -> None:
        raise KeyboardInterrupt  # the process dies between writing the temporary and replacing

    monkeypatch.setattr(storage.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        write_status(edited, status)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["plan.xlsx"]
    assert openpyxl.load_workbook(path).sheetnames == ["Tasks", "Milestones", "Status", "About"]


KILLED = """\
import sys
from pathlib import Path
from connectors.values import NoteWrite
from connectors.workbook.connector import WorkbookConnector
from iso20k_sync.analytics import PlanStatus
from iso20k_sync.engine.notes import render_notes
status = PlanStatus.model_validate_json(Path(sys.argv[2]).read_text())
connector = WorkbookConnector(Path(sys.argv[1]), "acme-2027")
notes = [NoteWrite(note=note) for note in render_notes(status)]
while True:
    connector.write_notes(notes, {})
    print("saved", flush=True)
"""


def test_a_workbook_killed_while_saving_always_opens(edited, path, status, tmp_path) -> None:
    frozen = tmp_path / "status.json"
    frozen.write_text(status.model_dump_json())
    before = snapshot(path)
    for delay in (0.0, 0.05, 0.13):
        process = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(KILLED), str(path), str(frozen)],
            stdout=subprocess.PIPE,
            cwd=Path(__file__).parents[1],
        )
        assert process.stdout is not None
        process.stdout.readline()  # at least one save done
        time.sleep(delay)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()
        assert snapshot(path) == before  # opens, and the Tasks sheet is intact
        assert WorkbookConnector(path, PLAN_KEY).find_items().items["A"].kind is ItemKind.task
    leftovers = [p.name for p in path.parent.iterdir() if p.name != "plan.xlsx"]
    assert all(name.startswith(".plan.xlsx.") and name.endswith(".tmp") for name in leftovers)


def test_a_workbook_of_another_plan_is_refused(seeded, path) -> None:
    other = WorkbookConnector(path, "globex-2028")
    spec = SPEC.model_copy(update={"plan_key": "globex-2028"})
    with pytest.raises(TrackerError, match=r"plan\.xlsx belongs to plan 'acme-2027', not 'globex-2028'"):
        other.ensure_container(spec)
    with pytest.raises(TrackerError, match="belongs to plan"):
        other.find_items()
    with pytest.raises(TrackerError, match="belongs to plan"):
        other.pull_progress({}, None)


def test_a_file_that_is_not_a_workbook_is_refused(path: Path) -> None:
    path.write_text("Key;Status\nA;Done\n")
    with pytest.raises(TrackerError, match=r"plan\.xlsx is not a readable Excel workbook"):
        WorkbookConnector(path, PLAN_KEY).ensure_container(SPEC)
    openpyxl.Workbook().save(path)
    with pytest.raises(TrackerError, match=r"plan\.xlsx is not an iso20k-sync tracker workbook"):
        WorkbookConnector(path, PLAN_KEY).ensure_container(SPEC)
    with pytest.raises(TrackerError, match=r"must be an \.xlsx file"):
        WorkbookConnector(path.with_suffix(".xls"), PLAN_KEY)


def test_a_workbook_open_in_libreoffice_is_not_overwritten(edited, path, status) -> None:
    before = path.read_bytes()
    lock = path.parent / ".~lock.plan.xlsx#"
    lock.write_text(",pm,host,2027-01-13T09:00,")
    with pytest.raises(
        TrackerError, match=r"open in Excel or LibreOffice \(lock file \.~lock\.plan\.xlsx#\)"
    ):
        write_status(edited, status)
    assert path.read_bytes() == before
    assert edited.pull_progress(edited.find_items().items, None).records  # reading is still fine


def test_a_read_only_or_locked_workbook_is_a_clear_error(edited, path, status, monkeypatch) -> None:
    before = path.read_bytes()
    path.chmod(0o444)
    try:
        with pytest.raises(TrackerError, match="the file is read-only"):
            write_status(edited, status)
    finally:
        path.chmod(0o644)

    def locked(source: object, target: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(storage.os, "replace", locked)
    with pytest.raises(TrackerError, match="it is locked or not writable"):
        write_status(edited, status)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["plan.xlsx"]


def test_a_symbolic_link_to_the_workbook_stays_a_link(edited, path, status) -> None:
    link = path.parent / "current.xlsx"
    link.symlink_to(path)
    write_status(WorkbookConnector(link, PLAN_KEY), status)
    assert link.is_symlink()
    assert openpyxl.load_workbook(path)[L.STATUS]["A1"].value == "Plan status at 2027-01-13"


def test_a_killed_writers_temporary_file_is_removed_and_a_live_ones_is_not(tmp_path):
    target = tmp_path / "acme.xlsx"
    stale = tmp_path / ".acme.xlsx.k1ll3d.tmp"
    stale.write_bytes(b"half a workbook")
    with atomic_path(target) as live:
        live.write_bytes(b"being written")
        assert remove_stale_temporaries(target) == [stale]
        assert live.exists()
    assert target.read_bytes() == b"being written" and not stale.exists()


def test_a_save_by_the_project_manager_during_a_change_is_never_overwritten(seeded, path, plan) -> None:
    notes = render_notes(plan_status(plan, [], [], STATUS_DATE))
    refused = pytest.raises(TrackerError, match=r"plan.xlsx was saved by someone else .* run the command")
    with refused, seeded.changes():
        seeded.write_notes([NoteWrite(note=n) for n in notes], {})  # the session reads the workbook
        book = openpyxl.load_workbook(path)
        edit(book[L.TASKS], "B", percent=75, notes="HR signed off")
        book.save(path)  # she saves before the session is written
    ws = openpyxl.load_workbook(path)[L.TASKS]
    assert ws.cell(row_of(ws, "B"), headers(ws)["% Complete"]).value == 75
    with seeded.changes():  # the next run reads her edit and writes its own beside it
        seeded.write_notes([NoteWrite(note=n) for n in notes], {})
    book = openpyxl.load_workbook(path)
    ws = book[L.TASKS]
    assert ws.cell(row_of(ws, "B"), headers(ws)["Notes"]).value == "HR signed off"
    assert L.STATUS in book.sheetnames

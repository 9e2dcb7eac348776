"""The Excel workbook export, read back with openpyxl as a project manager would open it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from math import ceil
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from iso20k_sync.errors import Iso20kError
from iso20k_sync.export import xlsx
from iso20k_sync.export.xlsx import plan_workbook, write_plan_workbook
from iso20k_sync.instantiate import instantiate
from iso20k_sync.plan import Plan
from iso20k_sync.template import load_template, resolve_template
from iso20k_sync.template.model import CostCategory

START = date(2027, 1, 4)
CATEGORY_HEADERS = ["Consulting", "Certification", "Training", "Materials", "Tools", "Internal"]

DEMO = """\
id: demo
name: Demo
version: "1"
currency: EUR
parameters:
  staff: {type: integer, default: 50, description: Employees in scope}
  remote: {type: boolean, default: true}
roles:
  - {id: pm, name: Project manager, day_rate: 800}
  - {id: consultant, name: Consultant, day_rate: 1200, category: consulting}
phases:
  - id: p1
    name: Phase 1
    tasks:
      - {id: A, name: A, duration: 4, effort: {pm: "staff / 25"}, clauses: ["4.1", "4.3"]}
      - {id: B, name: B, duration: 3, costs: [{category: tools, amount: 999.99}]}
      - {id: C, name: C, duration: 8, depends_on: [A], effort: {consultant: 2, pm: 0.5}}
      - {id: D, name: "=SUM(1,2)", duration: 7, depends_on: [{task: A, type: SS, lag: 2}],
         costs: [{category: training, amount: 0.1}, {category: materials, amount: 0.2}]}
  - id: p2
    name: Phase 2
    tasks:
      - {id: E, name: E, duration: 9, depends_on: [B, C], costs: [{category: materials, amount: 333.33}]}
      - id: M
        name: Done
        milestone: true
        depends_on: [E, {task: D, type: FF, lag: -1}]
        costs: [{category: certification, amount: 5000}]
"""


@pytest.fixture
def plan(tmp_path: Path) -> Plan:
    source = tmp_path / "demo.yaml"
    source.write_text(DEMO, encoding="utf-8")
    return instantiate(load_template(source), START)


@pytest.fixture
def workbook(plan: Plan, tmp_path: Path) -> openpyxl.Workbook:
    """The workbook as written to disk and opened again, not the in-memory object."""
    out = tmp_path / "out" / "plan.xlsx"
    out.parent.mkdir()
    write_plan_workbook(plan, out)
    return openpyxl.load_workbook(out)


def headers(ws: Worksheet, row: int = 1) -> list[str]:
    return [cell.value for cell in ws[row] if cell.value is not None]


def column(ws: Worksheet, header: str, header_row: int = 1) -> int:
    return headers(ws, header_row).index(header) + 1


def task_rows(ws: Worksheet) -> list[int]:
    """Rows of tasks (outline level 1); phase rows are the summary rows above them."""
    return [r for r in range(2, ws.max_row + 1) if ws.row_dimensions[r].outline_level == 1]


def row_of(ws: Worksheet, key: str) -> int:
    return next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 2).value == key)


def cents(value: float | int | None) -> Decimal:
    return Decimal(0) if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def find_row(ws: Worksheet, label: str, after: int = 0) -> int:
    return next(r for r in range(after + 1, ws.max_row + 1) if ws.cell(r, 1).value == label)


# --- Plan sheet ----------------------------------------------------------------------------------


def test_all_sheets_present(workbook: openpyxl.Workbook) -> None:
    assert workbook.sheetnames == ["Plan", "Budget", "Milestones", "Roles", "About"]


def test_plan_has_a_row_per_task_and_phase_with_keys_in_plan_order(
    workbook: openpyxl.Workbook, plan: Plan
) -> None:
    ws = workbook["Plan"]
    assert headers(ws) == [
        "WBS",
        "Key",
        "Task",
        "Phase",
        "Start",
        "Finish",
        "Duration (working days)",
        "Predecessors",
        "Milestone",
        "Critical",
        "Total float (working days)",
        "Clauses",
        "Owner role",
        "Effort (person-days)",
        *CATEGORY_HEADERS,
        "Total cost",
    ]
    assert ws.max_row == 1 + len(plan.tasks) + len(plan.phases)
    assert [ws.cell(r, 2).value for r in task_rows(ws)] == [t.id for t in plan.tasks]
    assert [ws.cell(r, 1).value for r in task_rows(ws)] == [t.wbs for t in plan.tasks]


def test_phase_summary_rows_are_bold_and_group_their_tasks(workbook: openpyxl.Workbook, plan: Plan) -> None:
    ws = workbook["Plan"]
    phase_rows = [r for r in range(2, ws.max_row + 1) if r not in task_rows(ws)]
    assert [ws.cell(r, 1).value for r in phase_rows] == ["1", "2"]
    assert phase_rows == [2, 7]  # Phase 1, its four tasks, Phase 2, its two
    assert not ws.sheet_properties.outlinePr.summaryBelow
    for r, phase in zip(phase_rows, plan.phases, strict=True):
        assert ws.cell(r, 3).value == phase.name
        assert ws.cell(r, 3).font.bold
        assert ws.cell(r, 5).value.date() == phase.start
        assert ws.cell(r, 6).value.date() == phase.finish
        assert ws.cell(r, column(ws, "Duration (working days)")).value == phase.duration
        assert cents(ws.cell(r, column(ws, "Total cost")).value) == phase.cost
        assert not ws.row_dimensions[r].outline_level


def test_dates_are_real_excel_dates(workbook: openpyxl.Workbook, plan: Plan) -> None:
    ws = workbook["Plan"]
    for r, task in zip(task_rows(ws), plan.tasks, strict=True):
        for col, expected in ((5, task.start), (6, task.finish)):
            cell = ws.cell(r, col)
            assert cell.is_date
            assert isinstance(cell.value, datetime)
            assert cell.value.date() == expected
            assert cell.number_format == "yyyy-mm-dd"
        assert ws.cell(r, 7).value == task.duration


def test_task_columns(workbook: openpyxl.Workbook) -> None:
    ws = workbook["Plan"]

    def value(key: str, header: str) -> object:
        return ws.cell(row_of(ws, key), column(ws, header)).value

    assert value("A", "Predecessors") is None
    assert value("C", "Predecessors") == "A"
    assert value("D", "Predecessors") == "A SS+2"
    assert value("E", "Predecessors") == "B; C"
    assert value("M", "Predecessors") == "E; D FF-1"
    assert value("A", "Clauses") == "4.1, 4.3"
    assert value("A", "Owner role") == "Project manager"
    assert value("A", "Effort (person-days)") == "Project manager 2"
    assert value("C", "Owner role") == "Consultant"
    assert value("C", "Effort (person-days)") == "Consultant 2; Project manager 0.5"
    assert value("B", "Owner role") is None
    assert value("M", "Milestone") == "✓"
    assert value("A", "Milestone") is None
    assert value("A", "Critical") == "✓"
    assert value("B", "Critical") is None
    assert value("B", "Total float (working days)") == 9
    assert value("D", "Phase") == "Phase 1"


def test_text_that_looks_like_a_formula_stays_text(workbook: openpyxl.Workbook) -> None:
    cell = workbook["Plan"].cell(row_of(workbook["Plan"], "D"), 3)
    assert cell.value == "=SUM(1,2)"
    assert cell.data_type == "s"


def test_category_columns_add_up_to_the_budget_to_the_cent(workbook: openpyxl.Workbook, plan: Plan) -> None:
    ws = workbook["Plan"]
    rows = task_rows(ws)
    for category, header in zip(CostCategory, CATEGORY_HEADERS, strict=True):
        col = column(ws, header)
        assert sum(cents(ws.cell(r, col).value) for r in rows) == plan.budget.by_category[category], header
        assert ws.cell(rows[0], col).number_format == '#,##0.00 "EUR"'
    total = column(ws, "Total cost")
    assert sum(cents(ws.cell(r, total).value) for r in rows) == plan.budget.total
    for r, task in zip(rows, plan.tasks, strict=True):
        assert cents(ws.cell(r, total).value) == task.cost
        for category, header in zip(CostCategory, CATEGORY_HEADERS, strict=True):
            assert cents(ws.cell(r, column(ws, header)).value) == task.costs.get(category, Decimal(0))


def test_money_round_trips_exactly(workbook: openpyxl.Workbook) -> None:
    ws = workbook["Plan"]
    d = row_of(ws, "D")
    assert ws.cell(d, column(ws, "Training")).value == 0.1
    assert ws.cell(d, column(ws, "Materials")).value == 0.2
    assert ws.cell(d, column(ws, "Total cost")).value == 0.3
    assert ws.cell(row_of(ws, "B"), column(ws, "Tools")).value == 999.99


def test_header_frozen_filtered_and_bold(workbook: openpyxl.Workbook, plan: Plan) -> None:
    ws = workbook["Plan"]
    assert ws.freeze_panes == "D2"  # below the header, right of the task name
    assert ws.auto_filter.ref == f"A1:U{1 + len(plan.tasks) + len(plan.phases)}"
    for cell in ws[1]:
        assert cell.font.bold
        assert cell.fill.fill_type == "solid"
    assert ws.column_dimensions["C"].width >= 8
    assert ws.print_title_rows == "$1:$1"


def test_critical_tasks_and_milestones_are_styled(workbook: openpyxl.Workbook) -> None:
    ws = workbook["Plan"]
    critical = ws.cell(row_of(ws, "A"), 3).font
    normal = ws.cell(row_of(ws, "B"), 3).font
    milestone = ws.cell(row_of(ws, "M"), 3).font
    assert critical.color is not None and critical.color.rgb.endswith("C00000")
    assert normal.color is None or normal.color.rgb != critical.color.rgb
    assert milestone.italic
    assert not critical.italic


# --- Budget sheet --------------------------------------------------------------------------------


def test_budget_by_category_matches_the_plan(workbook: openpyxl.Workbook, plan: Plan) -> None:
    ws = workbook["Budget"]
    header = find_row(ws, "Category")
    assert headers(ws, header) == ["Category", "Amount", "Share"]
    for category, label in zip(CostCategory, CATEGORY_HEADERS, strict=True):
        r = find_row(ws, label, header)
        assert cents(ws.cell(r, 2).value) == plan.budget.by_category[category]
        share = plan.budget.by_category[category] / plan.budget.total
        assert ws.cell(r, 3).value == pytest.approx(float(share))
        assert ws.cell(r, 3).number_format == "0.0%"
    total = find_row(ws, "Total", header)
    assert cents(ws.cell(total, 2).value) == plan.budget.total == Decimal("10733.62")
    assert ws.cell(total, 2).data_type == "n"  # a number, readable without recalculation
    assert ws.cell(total, 1).font.bold


def test_budget_by_phase_and_category(workbook: openpyxl.Workbook, plan: Plan) -> None:
    ws = workbook["Budget"]
    header = find_row(ws, "Phase")
    assert headers(ws, header) == ["Phase", *CATEGORY_HEADERS, "Total"]
    for phase in plan.phases:
        r = find_row(ws, phase.name, header)
        phase_budget = plan.budget.by_phase[phase.id]
        assert [cents(ws.cell(r, c).value) for c in range(2, 8)] == [
            phase_budget.by_category[c] for c in CostCategory
        ]
        assert cents(ws.cell(r, 8).value) == phase_budget.total
    total = find_row(ws, "Total", header)
    assert [cents(ws.cell(total, c).value) for c in range(2, 8)] == [
        plan.budget.by_category[c] for c in CostCategory
    ]
    assert cents(ws.cell(total, 8).value) == plan.budget.total


def test_planned_value_table(workbook: openpyxl.Workbook, plan: Plan) -> None:
    ws = workbook["Budget"]
    header = find_row(ws, "Date")
    assert headers(ws, header) == ["Date", "Cumulative planned value", *CATEGORY_HEADERS]
    rows = range(header + 1, header + 1 + len(plan.planned_value))
    for r, point in zip(rows, plan.planned_value, strict=True):
        assert ws.cell(r, 1).value.date() == point.date
        assert cents(ws.cell(r, 2).value) == point.cumulative
        assert [cents(ws.cell(r, c).value) for c in range(3, 9)] == [
            point.by_category[c] for c in CostCategory
        ]
    assert ws.max_row == header + len(plan.planned_value)
    assert cents(ws.cell(ws.max_row, 2).value) == plan.budget.total


def test_planned_value_chart(workbook: openpyxl.Workbook) -> None:
    ws = workbook["Budget"]
    (chart,) = ws._charts
    assert chart.x_axis.delete is False and chart.y_axis.delete is False
    assert chart.y_axis.number_format.formatCode == "#,##0"  # no ".00 EUR" on every tick
    y_title = "".join(run.t for p in chart.y_axis.title.tx.rich.p for run in p.r or ())
    assert y_title == "Planned value (EUR)"
    assert chart.series[0].val.numRef.f == f"'Budget'!$B${find_row(ws, 'Date') + 1}:$B${ws.max_row}"


def test_the_planned_value_chart_sits_between_the_tables_and_covers_no_cell(
    workbook: openpyxl.Workbook,
) -> None:
    ws = workbook["Budget"]
    (chart,) = ws._charts
    top = chart.anchor._from.row + 1
    rows = ceil(chart.anchor.ext.height / 190500)  # rows of 15 pt
    assert (chart.anchor._from.col, top - 2) == (0, find_row(ws, "Total", find_row(ws, "Phase")))
    covered = [cell.value for row in ws.iter_rows(min_row=top, max_row=top + rows) for cell in row]
    assert covered == [None] * len(covered)
    title = find_row(ws, "Planned value (cumulative, at the end of each working day with planned cost)")
    assert top + rows < title
    assert [b.id for b in ws.row_breaks.brk] == [title - 1]  # the long table starts on a new page


def test_every_sheet_prints_landscape_one_page_wide_under_a_header(workbook: openpyxl.Workbook) -> None:
    for ws in workbook:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0), ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert (ws.oddHeader.left.text, ws.oddHeader.right.text) == ("Demo", "Plan 2027-01-04 to 2027-02-01")
        assert ws.oddFooter.left.text == "&A" and "&P" in ws.oddFooter.center.text
    titled = [ws.title for ws in workbook if ws.print_title_rows == "$1:$1"]
    assert titled == ["Plan", "Milestones", "Roles"]


def test_long_text_wraps_in_a_row_tall_enough(plan: Plan) -> None:
    tasks = [
        t.model_copy(update={"name": "Gap assessment of every clause " * 4}) if t.id == "A" else t
        for t in plan.tasks
    ]
    ws = plan_workbook(plan.model_copy(update={"tasks": tasks}))["Plan"]
    row = row_of(ws, "A")
    assert ws.column_dimensions["C"].width == 45  # wider text wraps rather than widening the page
    assert ws.cell(row, 3).alignment.wrap_text and ws.row_dimensions[row].height >= 3 * 15
    assert ws.cell(row, 5).alignment.vertical == "top"  # its dates sit on its first line


# --- Milestones, Roles, About --------------------------------------------------------------------


def test_milestones_sheet(workbook: openpyxl.Workbook, plan: Plan) -> None:
    ws = workbook["Milestones"]
    assert headers(ws) == ["Key", "Milestone", "Phase", "Date", "Critical", "Total float (working days)"]
    assert ws.max_row == 1 + len(plan.milestones) == 2
    assert [c.value for c in ws[2]][:3] == ["M", "Done", "Phase 2"]
    assert ws["D2"].value.date() == plan.milestones[0].date
    assert ws["E2"].value == "✓"
    assert ws["F2"].value == 0
    assert ws.freeze_panes == "C2"
    assert ws.auto_filter.ref == "A1:F2"


def test_roles_sheet(workbook: openpyxl.Workbook, plan: Plan) -> None:
    ws = workbook["Roles"]
    assert headers(ws) == ["Role", "Category", "Day rate", "Effort (person-days)", "Cost"]
    assert [c.value for c in ws[2]] == ["Project manager", "Internal", 800, 2.5, 2000]
    assert [c.value for c in ws[3]] == ["Consultant", "Consulting", 1200, 2, 2400]
    assert [c.value for c in ws[4]] == ["Total", None, None, 4.5, 4400]
    internal = plan.budget.by_category[CostCategory.internal]
    consulting = plan.budget.by_category[CostCategory.consulting]
    assert (cents(ws["E2"].value), cents(ws["E3"].value)) == (internal, consulting)


def test_about_sheet(workbook: openpyxl.Workbook, plan: Plan) -> None:
    ws = workbook["About"]
    about = {row[0]: row[1] for row in ws.iter_rows(values_only=True) if row[0] is not None}
    assert about["Template"] == "Demo"
    assert about["Template id"] == "demo"
    assert about["Template version"] == "1"
    assert about["Currency"] == "EUR"
    assert about["Start"].date() == plan.start == START
    assert about["Finish"].date() == plan.finish
    assert about["Working days"] == plan.duration
    assert about["Critical path"] == " → ".join(plan.critical_path)
    assert about["staff"] == 50
    assert about["remote"] is True
    assert any(str(label).startswith("Generated by iso20k-sync") for label in about)


# --- writing the file ----------------------------------------------------------------------------


def test_write_leaves_only_the_workbook(plan: Plan, tmp_path: Path) -> None:
    target = tmp_path / "plan.xlsx"
    target.write_bytes(b"old contents")
    write_plan_workbook(plan, target)
    assert [p.name for p in tmp_path.iterdir() if p.name != "demo.yaml"] == ["plan.xlsx"]
    assert openpyxl.load_workbook(target).sheetnames[0] == "Plan"


def test_missing_directory_is_a_clear_error_and_creates_nothing(plan: Plan, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "plan.xlsx"
    with pytest.raises(Iso20kError, match="does not exist"):
        write_plan_workbook(plan, target)
    assert not target.parent.exists()


def test_failure_while_building_keeps_the_old_file(
    plan: Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "plan.xlsx"
    target.write_bytes(b"old contents")

    def broken(_: Plan) -> openpyxl.Workbook:
        raise RuntimeError("boom")

    monkeypatch.setattr(xlsx, "plan_workbook", broken)
    with pytest.raises(RuntimeError, match="boom"):
        write_plan_workbook(plan, target)
    assert target.read_bytes() == b"old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.yaml", "plan.xlsx"]


def test_bundled_template_exports(tmp_path: Path) -> None:
    plan = instantiate(resolve_template("iso20000-1-2018"), START)
    target = tmp_path / "bundled.xlsx"
    write_plan_workbook(plan, target)
    ws = openpyxl.load_workbook(target)["Plan"]
    assert ws.max_row - 1 == len(plan.tasks) + len(plan.phases)
    assert [ws.cell(r, 2).value for r in task_rows(ws)] == [t.id for t in plan.tasks]
    rows = task_rows(ws)
    total = sum(cents(ws.cell(r, column(ws, "Total cost")).value) for r in rows)
    assert total == plan.budget.total

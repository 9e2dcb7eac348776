"""The tracker workbook as a sponsor reads and prints it: the S-curve on the Status sheet, RAG colours that
follow the text, the category totals, the problems, and every sheet's page layout; read back with openpyxl
from the saved file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from math import ceil
from pathlib import Path

import openpyxl
import pytest
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.chart import ScatterChart
from openpyxl.worksheet.worksheet import Worksheet

from connectors.values import Column, ItemProgress, ItemState, NoteWrite, ProgressRecord, Table
from connectors.workbook import layout as L
from connectors.workbook.connector import WorkbookConnector
from iso20k_sync.analytics import PlanStatus, plan_status
from iso20k_sync.engine.mapping import task_progress
from iso20k_sync.engine.notes import plan_note, render_notes
from iso20k_sync.plan import Plan, PlannedValuePoint

from .test_workbook_connector import PLAN, PLAN_KEY, SPEC, STATUS_DATE, plan_items, shown_fill

D = Decimal
FILLS = {"GREEN": "00C6EFCE", "AMBER": "00FFEB9C", "RED": "00FFC7CE"}
ROW_EMU = 190500  # a default row: 15 pt


@pytest.fixture
def plan(make_plan: Callable[..., Plan]) -> Plan:
    return make_plan(PLAN)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "plan.xlsx"


@pytest.fixture
def tracker(path: Path, plan: Plan) -> WorkbookConnector:
    connector = WorkbookConnector(path, PLAN_KEY)
    connector.ensure_container(SPEC)
    connector.create_items(plan_items(plan), {})
    return connector


@pytest.fixture
def status(plan: Plan) -> PlanStatus:
    """Two status dates: A under way on the 6th, A done and B half done (over budget) on the 13th."""
    start = date(2027, 1, 4)
    first = plan_status(plan, [fact("A", ItemState.in_progress, 40, start, cost=1000)], [], date(2027, 1, 6))
    facts = [
        fact("A", ItemState.done, 100, start, finish=date(2027, 1, 8), cost=4200),
        fact("B", ItemState.in_progress, 50, date(2027, 1, 11), cost=1500),
    ]
    return plan_status(plan, facts, [], STATUS_DATE, history=first.history)


def fact(key: str, state: ItemState, percent: int, start: date, finish: date | None = None, cost: int = 0):
    progress = ItemProgress(
        state=state,
        percent_complete=D(percent),
        actual_start=start,
        actual_finish=finish,
        actual_cost=D(cost),
    )
    return task_progress(ProgressRecord(key=key, progress=progress))


def write(connector: WorkbookConnector, status: PlanStatus, plan: Plan | None = None) -> Workbook:
    """Write the status as the engine does (with the baseline's curve when ``plan`` is given); the saved
    workbook."""
    notes = render_notes(status, plan.planned_value if plan else ())
    connector.write_notes([NoteWrite(note=note) for note in notes], {})
    return openpyxl.load_workbook(connector.path)


def cells(book: Workbook, ref: str) -> list[object]:
    """The values of a chart reference such as ``'Status'!$B$40:$B$45``."""
    sheet, area = ref.rsplit("!", 1)
    found = book[sheet.strip("'")][area.replace("$", "")]
    if isinstance(found, Cell):
        return [found.value]
    return [cell.value for row in found for cell in row]


def title(element: object) -> str:
    return "".join(run.t for paragraph in element.tx.rich.p for run in paragraph.r or ())


def row_titled(ws: Worksheet, text: str) -> int:
    return next(row for row in range(1, ws.max_row + 1) if ws.cell(row, 1).value == text)


def midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


# --- the S-curve ---------------------------------------------------------------------------------


def test_the_status_sheet_charts_pv_ev_and_ac_to_date_against_the_baseline_curve(tracker, status, plan):
    book = write(tracker, status, plan)
    (chart,) = book[L.STATUS]._charts
    assert isinstance(chart, ScatterChart)
    names = [cells(book, series.tx.strRef.f)[0] for series in chart.series]
    assert names == ["Planned value (PV)", "Earned value (EV)", "Actual cost (AC)", "Baseline planned value"]
    pv, ev, ac, baseline = chart.series
    dates = [midnight(point.status_date) for point in status.history]
    assert len(dates) == 2
    for series, figure in ((pv, "pv"), (ev, "ev"), (ac, "ac")):
        assert cells(book, series.xVal.numRef.f) == dates
        assert cells(book, series.yVal.numRef.f) == [float(getattr(p, figure)) for p in status.history]
    assert cells(book, ac.yVal.numRef.f)[-1] == 5700.0  # what was spent, not what was planned

    curve = cells(book, baseline.yVal.numRef.f)
    days = cells(book, baseline.xVal.numRef.f)
    assert curve == sorted(curve) and curve[-1] == float(plan.budget.total)
    assert (days[0], days[-1]) == (
        midnight(plan.planned_value[0].date),
        midnight(plan.planned_value[-1].date),
    )

    assert chart.y_axis.number_format.formatCode == "#,##0"  # no ".00 EUR" on every tick
    assert title(chart.y_axis.title) == "EUR"
    assert chart.x_axis.number_format.formatCode == "yyyy-mm"
    assert chart.x_axis.scaling.min <= 46391  # 2027-01-04 or earlier: every point is on the chart
    assert not chart.x_axis.delete and not chart.y_axis.delete


def test_without_the_baseline_the_chart_draws_the_trend_alone(tracker, status):
    book = write(tracker, status)
    (chart,) = book[L.STATUS]._charts
    assert [cells(book, s.tx.strRef.f)[0] for s in chart.series] == [
        "Planned value (PV)",
        "Earned value (EV)",
        "Actual cost (AC)",
    ]


def test_the_chart_sits_below_the_headline_and_covers_no_figure(tracker, status, plan):
    ws = write(tracker, status, plan)[L.STATUS]
    (chart,) = ws._charts
    top = chart.anchor._from.row + 1
    rows = ceil(chart.anchor.ext.height / ROW_EMU)
    assert ws.cell(top - 2, 1).value == "Template"  # the headline's last figure
    covered = [ws.cell(r, c).value for r in range(top, top + rows + 1) for c in range(1, 11)]
    assert covered == [None] * len(covered)
    assert top + rows < row_titled(ws, "Tasks")


def test_the_baseline_curve_keeps_month_ends_and_the_ends_of_flat_stretches(status):
    points = [
        (date(2027, 1, 4), 100),
        (date(2027, 1, 20), 200),
        (date(2027, 2, 10), 300),
        (date(2027, 6, 15), 400),
    ]
    curve = [PlannedValuePoint(date=day, cumulative=D(value), by_category={}) for day, value in points]
    (table,) = [t for t in plan_note(status, curve).tables if t.chart == ["Baseline planned value"]]
    assert table.rows == [
        [date(2027, 1, 4), D(100)],
        [date(2027, 1, 31), D(200)],
        [date(2027, 2, 28), D(300)],  # nothing planned from 11 February to 14 June: drawn flat
        [date(2027, 5, 31), D(300)],
        [date(2027, 6, 15), D(400)],
    ]
    assert not [t for t in plan_note(status).tables if t.chart == ["Baseline planned value"]]


def test_a_table_charts_only_columns_it_has():
    with pytest.raises(ValueError, match="no column 'AC' to chart"):
        Table(title="Trend", columns=[Column(header="Date"), Column(header="PV")], chart=["AC"])


# --- colours, totals, problems -------------------------------------------------------------------


def test_rag_cells_are_coloured_by_their_text(tracker, status, path):
    book = write(tracker, status)
    ws = book[L.STATUS]
    rags = [cell for row in ws.iter_rows() for cell in row if cell.value in FILLS]
    assert len(rags) == 1 + len(status.history)  # the headline and each trend row
    assert all(shown_fill(ws, cell) == FILLS[cell.value] for cell in rags)

    write(tracker, status)  # written again: the Milestones sheet keeps one set of rules
    book = openpyxl.load_workbook(path)
    ws = book[L.MILESTONES]
    assert [len(f.rules) for f in ws.conditional_formatting] == [3]
    cell = ws["G2"]
    assert cell.value in FILLS and shown_fill(ws, cell) == FILLS[cell.value]
    cell.value = "red"  # the project manager's own verdict turns red too
    assert shown_fill(ws, cell) == FILLS["RED"]
    cell.value = None
    assert shown_fill(ws, cell) is None  # no stale colour on a cleared cell


def test_the_cost_categories_end_in_a_total_row_that_adds_up(tracker, status):
    ws = write(tracker, status)[L.STATUS]
    header = row_titled(ws, "By cost category (EUR)") + 1
    total = next(row for row in range(header, ws.max_row + 1) if ws.cell(row, 1).value == "Total")
    categories = range(header + 1, total)
    assert [ws.cell(r, 1).value for r in categories] == [c.value.capitalize() for c in status.by_category]
    assert ws.cell(total, 2).font.b and ws.cell(total, 2).border.top.style == "thin"
    for column in range(2, 7):  # BAC, PV, EV, AC, CV
        parts = sum(D(str(ws.cell(r, column).value)) for r in categories)
        assert parts == D(str(ws.cell(total, column).value)), ws.cell(header, column).value
    assert ws.cell(total, 5).value == 5700.0


def test_problems_are_listed_and_none_says_so(tracker, status):
    ws = write(tracker, status.model_copy(update={"problems": []}))[L.STATUS]
    assert ws.cell(row_titled(ws, "Problems") + 1, 1).value == "(none)"

    long = "expense 7 ignored: " + "its task was removed from the plan and nobody moved it; " * 5
    ws = write(tracker, status.model_copy(update={"problems": ["progress for task 'X' ignored", long]}))[
        L.STATUS
    ]
    first = row_titled(ws, "Problems") + 1
    assert [ws.cell(first, 1).value, ws.cell(first + 1, 1).value] == ["progress for task 'X' ignored", long]
    assert f"A{first + 1}:J{first + 1}" in {str(r) for r in ws.merged_cells.ranges}  # printed whole
    assert ws.cell(first + 1, 1).alignment.wrap_text and ws.row_dimensions[first + 1].height >= 30


# --- printing ------------------------------------------------------------------------------------


def assert_prints_landscape_one_page_wide(ws: Worksheet) -> None:
    assert ws.page_setup.orientation == "landscape", ws.title
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0), ws.title
    assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title


def test_every_sheet_prints_landscape_one_page_wide_with_the_header_row_repeated(tracker, status, path):
    book = openpyxl.load_workbook(path)
    for ws in book:
        assert_prints_landscape_one_page_wide(ws)
        assert (ws.oddHeader.left.text, ws.oddHeader.right.text) == ("ACME certification", "No status yet")
        assert "&P" in ws.oddFooter.center.text
    assert (book[L.TASKS].print_title_rows, book[L.MILESTONES].print_title_rows) == ("$1:$1", "$1:$1")

    book = write(tracker, status)
    for ws in book:
        assert_prints_landscape_one_page_wide(ws)
        assert (ws.oddHeader.left.text, ws.oddHeader.right.text) == (
            "ACME certification",
            "Status date 2027-01-13",
        )


def test_the_project_managers_own_print_layout_and_sheets_are_kept(tracker, status, path):
    book = openpyxl.load_workbook(path)
    book[L.TASKS].page_setup.orientation = "portrait"
    book.create_sheet("My notes")
    book.save(path)
    book = write(tracker, status)
    assert book[L.TASKS].page_setup.orientation == "portrait"
    assert book[L.TASKS].oddHeader.right.text == "Status date 2027-01-13"
    assert not book["My notes"].oddHeader.left.text and not book["My notes"].page_setup.orientation


def test_a_long_task_name_wraps_instead_of_being_cut(tracker, plan, path):
    long = plan_items(plan)[0].model_copy(
        update={"key": "long", "title": "Establish the service management policy, objectives and plan " * 2}
    )
    tracker.create_items([long], {})
    ws = openpyxl.load_workbook(path)[L.TASKS]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == "long")
    task = ws.cell(row, TASK_COLUMN)
    assert task.alignment.wrap_text
    assert ws.row_dimensions[row].height >= 3 * 15  # 124 characters in a 44 wide column
    assert ws.column_dimensions["A"].width >= len("management-basis-assessment")  # the bundled keys fit


TASK_COLUMN = L.TASK_HEADERS.index(L.TASK) + 1

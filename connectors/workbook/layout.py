"""The tracker workbook's sheets, column headers, formats and styles: the one place they are defined.

Users and their scripts rely on these names, so change them only with a migration in mind. Columns are
always found by their header text in row 1 (compared ignoring case and extra spaces), never by
position: a project manager may move or add columns.
"""

from __future__ import annotations

from collections.abc import Iterable

from openpyxl.cell.cell import Cell
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

from ..errors import TrackerError
from ..spreadsheet import Value, fit_height, money_format, put  # noqa: F401  (shared with the plan export)
from ..values import ItemState, Level

TASKS = "Tasks"
MILESTONES = "Milestones"
STATUS = "Status"
ABOUT = "About"
SHEETS = (TASKS, MILESTONES, STATUS, ABOUT)
PRINT_TITLES = {TASKS: "1:1", MILESTONES: "1:1"}
"""Rows repeated on every printed page of a sheet: the header row of the table sheets."""
LAST_ROW = 1048576  # validations and colours cover whole columns, so rows added later are covered too

# --- Tasks: written by iso20k-sync --------------------------------------------------------------
KEY = "Key"
PHASE = "Phase"
TASK = "Task"
CLAUSES = "Clauses"
OWNER_ROLE = "Owner role"
PLANNED_START = "Planned start"
PLANNED_FINISH = "Planned finish"
BASELINE_COST = "Baseline cost"
# --- Tasks: edited by the project manager -------------------------------------------------------
STATE = "Status"
PERCENT = "% Complete"
ACTUAL_START = "Actual start"
ACTUAL_FINISH = "Actual finish"
ACTUAL_COST = "Actual cost"
NOTES = "Notes"
# --- Tasks: hidden, written by iso20k-sync ------------------------------------------------------
KIND = "Kind"
"""Hidden last column: ``task`` or ``milestone``. It lies inside the autofilter range, so sorting the
table moves it with its row. When it is blank or unreadable the kind falls back to whether the key is
listed on the Milestones sheet."""

SYNC_HEADERS = (KEY, PHASE, TASK, CLAUSES, OWNER_ROLE, PLANNED_START, PLANNED_FINISH, BASELINE_COST)
USER_HEADERS = (STATE, PERCENT, ACTUAL_START, ACTUAL_FINISH, ACTUAL_COST, NOTES)
TASK_HEADERS = (*SYNC_HEADERS, *USER_HEADERS, KIND)
PROGRESS_HEADERS = (KEY, STATE, PERCENT, ACTUAL_START, ACTUAL_FINISH, ACTUAL_COST)
"""The headers pull_progress cannot do without."""
TASKS_FROZEN = "D2"  # below the header, right of Task
TASK_WIDTHS = {
    KEY: 28,
    PHASE: 22,
    TASK: 44,
    CLAUSES: 14,
    OWNER_ROLE: 20,
    PLANNED_START: 13,
    PLANNED_FINISH: 13,
    BASELINE_COST: 16,
    STATE: 13,
    PERCENT: 11,
    ACTUAL_START: 13,
    ACTUAL_FINISH: 13,
    ACTUAL_COST: 16,
    NOTES: 40,
    KIND: 10,
}
TASK_WRAPPED = (PHASE, TASK, CLAUSES, OWNER_ROLE)
"""Columns whose text wraps rather than being cut at the column's edge."""

STATE_LABELS = {
    ItemState.not_started: "Not started",
    ItemState.in_progress: "In progress",
    ItemState.done: "Done",
}

# --- Milestones ---------------------------------------------------------------------------------
MILESTONE = "Milestone"
BASELINE_DATE = "Baseline date"
FORECAST = "Forecast"
VARIANCE = "Variance (working days)"
RAG = "RAG"
REASON = "Reason"
MILESTONE_HEADERS = (KEY, MILESTONE, PHASE, BASELINE_DATE, FORECAST, VARIANCE, RAG, REASON)
MILESTONE_WIDTHS = {KEY: 28, MILESTONE: 40, PHASE: 22, BASELINE_DATE: 13, FORECAST: 13, VARIANCE: 12}
MILESTONE_WIDTHS |= {RAG: 9, REASON: 60}
MILESTONE_WRAPPED = (MILESTONE, PHASE, REASON)

# --- About --------------------------------------------------------------------------------------
PLAN_KEY_LABEL = "Plan key"
PLAN_NAME_LABEL = "Plan name"

# --- formats and styles -------------------------------------------------------------------------
DATE_FORMAT = "yyyy-mm-dd"
PERCENT_FORMAT = "General"
RATIO_FORMAT = "0.0000"
PERIODS_FORMAT = "0.00"
HEADER_FONT = Font(bold=True)
SYNC_FILL = PatternFill("solid", fgColor="D9E1F2")  # light blue-grey: iso20k-sync rewrites it
EDIT_FILL = PatternFill("solid", fgColor="FFF2CC")  # light yellow: the project manager edits it
MILESTONE_FONT = Font(italic=True)
TITLE_FONT = Font(bold=True, size=13)
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
LEFT = Alignment(horizontal="left", vertical="top", wrap_text=True)
TOTAL_BORDER = Border(top=Side(style="thin", color="000000"))
RAG_COLOURS = {
    Level.green: ("C6EFCE", "006100"),
    Level.amber: ("FFEB9C", "9C5700"),
    Level.red: ("FFC7CE", "9C0006"),
}
"""Fill and text colour of a RAG cell by its text (conditional formatting, so they follow any edit)."""


def put_rag(cell: Cell, rag: Level) -> None:
    """Write ``GREEN``, ``AMBER`` or ``RED``; the colours come from :func:`colour_rag` on its range."""
    cell.value = rag.value.upper()
    cell.font = HEADER_FONT
    cell.alignment = Alignment(horizontal="center", vertical="top")


def colour_rag(ws: Worksheet, ranges: str) -> None:
    """Fill the cells of ``ranges`` (e.g. ``"G2:G1048576"``, or several separated by spaces) green, amber
    or red by their text, whoever typed it; nothing is added when ``ranges`` has its colours already."""
    if any(str(formatting.sqref) == ranges for formatting in ws.conditional_formatting):
        return
    for level, (fill, text) in RAG_COLOURS.items():
        rule = CellIsRule(
            operator="equal",
            formula=[f'"{level.value.upper()}"'],
            fill=PatternFill("solid", fgColor=fill, bgColor=fill),  # a rule's solid fill is its bgColor
            font=Font(bold=True, color=text),
        )
        ws.conditional_formatting.add(ranges, rule)


def normal(header: object) -> str:
    """How headers and status words are compared: case and runs of spaces do not matter."""
    return " ".join(str(header).split()).casefold()


def text(value: object) -> str:
    """A cell value as trimmed text (a number typed as a key reads back without ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def columns(ws: Worksheet, headers: Iterable[str], required: Iterable[str], where: str) -> dict[str, int]:
    """The 1-based column of each of ``headers`` found in row 1; every one of ``required`` must be there."""
    wanted = {normal(h): h for h in headers}
    found: dict[str, int] = {}
    for cell in next(ws.iter_rows(min_row=1, max_row=1), ()):
        header = wanted.get(normal(cell.value)) if cell.value is not None else None
        if header is None:
            continue
        if header in found:
            raise TrackerError(
                f"{where} {ws.title}!{cell.coordinate}: column header {header!r} appears again "
                f"(first in column {found[header]}); keep one"
            )
        found[header] = cell.column
    for header in required:
        if header not in found:
            raise TrackerError(
                f"{where}: the {ws.title} sheet has no {header!r} column header in row 1; "
                "restore it (columns may be moved, but not renamed or deleted)"
            )
    return found


def last_used_row(ws: Worksheet) -> int:
    """The last row holding any value (styled but empty rows at the bottom do not count)."""
    for row in range(ws.max_row, 1, -1):
        if any(cell.value is not None for cell in ws[row]):
            return row
    return 1

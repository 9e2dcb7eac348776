"""Writing status notes onto the workbook: the plan's note becomes the Status sheet (rewritten whole), each
milestone's note fills its row of the Milestones sheet. No cell of the Tasks sheet is touched; only the
header of its printed pages shows the new status date, as every sheet's does.

The notes arrive rendered (labels, values, tables with column kinds); this module only lays them out, and
draws the tables' charted columns as one chart under the headline. Every figure is a value, never a
formula, so any reader sees it without recalculating. A figure that could not be computed honestly is blank
with the reason beside it. RAG cells are coloured by conditional formatting on their text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from ..values import Figure, FigureKind, Level, Scalar, StatusNote, Table
from . import layout as L
from .charts import Placed, line_chart
from .printing import print_sheets
from .seed import milestones_sheet

NOTE_FONT = Font(italic=True, color="595959")
WIDTHS = (32, 18, 20, 16, 16, 20, 26, 16, 16, 9)
"""Widths of columns A to J: labels and values, then the widest table's columns."""
CHART_SIZE = (26, 10)  # cm: about columns A to F wide
CHART_ROWS = 21  # rows kept free for the chart (a row is about 0.5 cm)


def write_status_sheet(book: Workbook, note: StatusNote) -> None:
    """Replace the Status sheet (keeping its place among the sheets) with the plan's note, and head every
    sheet's printed pages with the status date."""
    index = book.sheetnames.index(L.STATUS) if L.STATUS in book.sheetnames else None
    was_active = index is not None and book.active is book[L.STATUS]
    if index is not None:
        book.remove(book[L.STATUS])
    elif L.MILESTONES in book.sheetnames:
        index = book.sheetnames.index(L.MILESTONES) + 1
    ws = book.create_sheet(L.STATUS, index)
    _StatusSheet(ws, note).write()
    if was_active:  # the workbook opens where the user left it
        book.active = ws
        ws.sheet_view.tabSelected = True
    status_date = note.figure("status_date")
    print_sheets(book, status_date.value if status_date and isinstance(status_date.value, date) else None)


def update_milestones(book: Workbook, notes: Mapping[str, StatusNote], where: str) -> set[str]:
    """Fill Forecast, Variance, RAG and Reason of each Milestones row that has a note (by Key); return the
    keys written."""
    if L.MILESTONES not in book.sheetnames:
        milestones_sheet(book.create_sheet(L.MILESTONES, book.sheetnames.index(L.TASKS) + 1))
    ws = book[L.MILESTONES]
    cols = L.columns(ws, L.MILESTONE_HEADERS, (L.KEY, L.FORECAST, L.VARIANCE, L.RAG, L.REASON), where)
    written: set[str] = set()
    for row in range(2, ws.max_row + 1):
        key = L.text(ws.cell(row, cols[L.KEY]).value)
        note = notes.get(key)
        if note is None:
            continue
        forecast, variance, reason = (note.figure(name) for name in ("forecast", "variance", "reason"))
        L.put(
            ws, row, cols[L.FORECAST], forecast.value if forecast else None, L.DATE_FORMAT
        ).alignment = L.TOP
        L.put(ws, row, cols[L.VARIANCE], variance.value if variance else None, "0").alignment = L.TOP
        L.put_rag(ws.cell(row, cols[L.RAG]), note.level)
        L.put(ws, row, cols[L.REASON], reason.value if reason else note.text).alignment = L.WRAP
        L.fit_height(ws, row)
        written.add(key)
    rag = get_column_letter(cols[L.RAG])
    L.colour_rag(ws, f"{rag}2:{rag}{L.LAST_ROW}")
    return written


class _StatusSheet:
    """Writes the Status sheet top to bottom: the headline, a chart of the charted tables, the figures by
    group, the tables; ``row`` is the next free row."""

    def __init__(self, ws: Worksheet, note: StatusNote) -> None:
        self.ws = ws
        self.note = note
        self.money = L.money_format(note.currency)
        self.row = 1
        self.rag: list[str] = []  # ranges of RAG cells
        self.placed: list[Placed] = []

    def write(self) -> None:
        for column, width in enumerate(WIDTHS, start=1):
            self.ws.column_dimensions[get_column_letter(column)].width = width
        L.put(self.ws, 1, 1, self.note.title).font = L.TITLE_FONT
        self.row = 3
        groups: dict[str, list[Figure]] = {}
        for figure in self.note.figures:
            groups.setdefault(figure.group, []).append(figure)
        chart_row = None
        charted = any(table.chart and table.rows for table in self.note.tables)
        for group, figures in groups.items():
            if group:
                self._title(group)
                self._header(("Figure", "Value", "Meaning"))
            for figure in figures:
                self._figure(figure)
            self.row += 1
            if charted and chart_row is None:  # below the headline
                chart_row, self.row = self.row, self.row + CHART_ROWS
        if charted and chart_row is None:
            chart_row, self.row = self.row, self.row + CHART_ROWS
        if self.note.tables:  # printed from a new page: no table title is left at the foot of a page
            self.ws.row_breaks.append(Break(id=self.row - 1))
        for table in self.note.tables:
            self._table(table)
        for row in range(1, self.row):
            L.fit_height(self.ws, row)
        self.ws.sheet_view.showGridLines = False
        if self.rag:
            L.colour_rag(self.ws, " ".join(self.rag))
        if chart_row is not None:
            self._chart(chart_row)

    def _chart(self, row: int) -> None:
        unit = self.note.currency or "Amount"
        chart = line_chart(self.ws, self.placed, "Planned value, earned value and actual cost", unit)
        if chart is not None:
            chart.width, chart.height = CHART_SIZE
            self.ws.add_chart(chart, f"A{row}")

    def _figure(self, figure: Figure) -> None:
        L.put(self.ws, self.row, 1, figure.label).font = L.HEADER_FONT
        if figure.kind is FigureKind.level and isinstance(figure.value, str):
            L.put_rag(self.ws.cell(self.row, 2), Level(figure.value))
            self.rag.append(f"B{self.row}")
        elif isinstance(figure.value, str):
            self._text(2, figure.value, last=2 if figure.note else len(WIDTHS))
        else:
            L.put(self.ws, self.row, 2, _cell(figure.value), self._format(figure.kind))
        if figure.note:
            self._text(3, figure.note).font = NOTE_FONT
        self.row += 1

    def _table(self, table: Table) -> None:
        self._title(table.title)
        if len(table.columns) > 1:
            self._header([column.header for column in table.columns])
        self.placed.append(Placed(table, self.row - 1))
        first = self.row
        for number, values in enumerate(table.rows, start=1):
            total = table.total_row and number == len(table.rows)
            for column, (spec, value) in enumerate(zip(table.columns, values, strict=True), start=1):
                cell = self.ws.cell(self.row, column)
                if spec.kind is FigureKind.level and isinstance(value, str):
                    L.put_rag(cell, Level(value))
                elif isinstance(value, str) and len(table.columns) == 1:
                    cell = self._text(1, value)
                else:
                    L.put(self.ws, self.row, column, _cell(value), self._format(spec.kind))
                    cell.alignment = L.WRAP if isinstance(value, str) else L.TOP
                if total:
                    cell.font = L.HEADER_FONT
                    cell.border = L.TOTAL_BORDER
            self.row += 1
        for column, spec in enumerate(table.columns, start=1):
            if spec.kind is FigureKind.level and table.rows:
                letter = get_column_letter(column)
                self.rag.append(f"{letter}{first}:{letter}{self.row - 1}")
        self.row += 1

    def _text(self, column: int, text: str, last: int = len(WIDTHS)) -> Cell:
        """Text in ``column`` of the current row, shown whole: text wider than columns ``column`` to
        ``last`` spans them, wrapped (shorter text may run on into empty cells to its right)."""
        cell = L.put(self.ws, self.row, column, text)
        if len(text) > sum(WIDTHS[column - 1 : last]):
            if last > column:
                self.ws.merge_cells(
                    start_row=self.row, start_column=column, end_row=self.row, end_column=last
                )
            cell.alignment = L.WRAP
        return cell

    def _format(self, kind: FigureKind) -> str | None:
        return {
            FigureKind.date: L.DATE_FORMAT,
            FigureKind.money: self.money,
            FigureKind.ratio: L.RATIO_FORMAT,
            FigureKind.count: "0",
            FigureKind.days: L.PERIODS_FORMAT,
        }.get(kind)

    def _title(self, text: str) -> None:
        L.put(self.ws, self.row, 1, text).font = Font(bold=True, size=12)
        self.row += 1

    def _header(self, headers: Sequence[str]) -> None:
        for column, header in enumerate(headers, start=1):
            cell = L.put(self.ws, self.row, column, header)
            cell.font = L.HEADER_FONT
            cell.fill = L.SYNC_FILL
            cell.alignment = L.WRAP
        self.row += 1


def _cell(value: Scalar) -> L.Value:
    """Money and ratios as numbers Excel can compute with (floats)."""
    return float(value) if isinstance(value, Decimal) else value

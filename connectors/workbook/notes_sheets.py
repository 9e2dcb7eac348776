"""Writing status notes onto the workbook: the plan's note becomes the Status sheet (rewritten whole), each
milestone's note fills its row of the Milestones sheet. The Tasks sheet is never touched.

The notes arrive rendered (labels, values, tables with column kinds); this module only lays them out.
Every figure is a value, never a formula, so any reader sees it without recalculating. A figure that could
not be computed honestly is blank with the reason beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from ..values import Figure, FigureKind, Level, Scalar, StatusNote, Table
from . import layout as L
from .seed import milestones_sheet

NOTE_FONT = Font(italic=True, color="595959")
WIDTHS = {"A": 32, "B": 18, "C": 20, "D": 16, "E": 16, "F": 20, "G": 26, "H": 16, "I": 16, "J": 9}


def write_status_sheet(book: Workbook, note: StatusNote) -> None:
    """Replace the Status sheet (keeping its place among the sheets) with the plan's note."""
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
        L.put(ws, row, cols[L.FORECAST], forecast.value if forecast else None, L.DATE_FORMAT)
        L.put(ws, row, cols[L.VARIANCE], variance.value if variance else None, "0")
        L.put_rag(ws.cell(row, cols[L.RAG]), note.level)
        L.put(ws, row, cols[L.REASON], reason.value if reason else note.text).alignment = L.WRAP
        written.add(key)
    return written


class _StatusSheet:
    """Writes the Status sheet top to bottom; ``row`` is the next free row."""

    def __init__(self, ws: Worksheet, note: StatusNote) -> None:
        self.ws = ws
        self.note = note
        self.money = L.money_format(note.currency)
        self.row = 1

    def write(self) -> None:
        L.put(self.ws, 1, 1, self.note.title).font = L.TITLE_FONT
        self.row = 3
        groups: dict[str, list[Figure]] = {}
        for figure in self.note.figures:
            groups.setdefault(figure.group, []).append(figure)
        for group, figures in groups.items():
            if group:
                self._title(group)
                self._header(("Figure", "Value", "Meaning"))
            for figure in figures:
                self._figure(figure)
            self.row += 1
        for table in self.note.tables:
            self._table(table)
        for letter, width in WIDTHS.items():
            self.ws.column_dimensions[letter].width = width
        self.ws.sheet_view.showGridLines = False

    def _figure(self, figure: Figure) -> None:
        L.put(self.ws, self.row, 1, figure.label).font = L.HEADER_FONT
        if figure.kind is FigureKind.level and isinstance(figure.value, str):
            L.put_rag(self.ws.cell(self.row, 2), Level(figure.value))
        else:
            L.put(self.ws, self.row, 2, _cell(figure.value), self._format(figure.kind))
        if figure.note:
            L.put(self.ws, self.row, 3, figure.note).font = NOTE_FONT
        self.row += 1

    def _table(self, table: Table) -> None:
        self._title(table.title)
        if len(table.columns) > 1:
            self._header([column.header for column in table.columns])
        for number, values in enumerate(table.rows, start=1):
            for column, (spec, value) in enumerate(zip(table.columns, values, strict=True), start=1):
                cell = self.ws.cell(self.row, column)
                if spec.kind is FigureKind.level and isinstance(value, str):
                    L.put_rag(cell, Level(value))
                else:
                    L.put(self.ws, self.row, column, _cell(value), self._format(spec.kind))
                if table.total_row and number == len(table.rows):
                    cell.font = L.HEADER_FONT
            self.row += 1
        self.row += 1

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


"""Writing spreadsheet cells safely and laying sheets out for print, shared by the workbook tracker and the
core's plan workbook export."""

from __future__ import annotations

import textwrap
from datetime import date

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet

Value = str | int | float | bool | date | None
LINE_HEIGHT = 15.0
"""Points per line of text in the default font (11 pt)."""


def money_format(currency: str) -> str:
    """Excel number format for amounts in ``currency``: ``#,##0.00 "EUR"``."""
    return f'#,##0.00 "{currency}"' if currency else "#,##0.00"


def put(ws: Worksheet, row: int, column: int, value: Value, number_format: str | None = None) -> Cell:
    """Write one cell. Text is always text: a name starting with ``=`` never becomes a formula, and
    characters Excel cannot store are dropped."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"
    else:
        cell.value = value
    if number_format:  # blank cells too, so a value typed in later is formatted alike
        cell.number_format = number_format
    return cell


def print_layout(ws: Worksheet, title_rows: str | None = None) -> None:
    """Print landscape on narrow margins, fitted to the page width and as many pages down as it takes;
    ``title_rows`` (e.g. ``"1:1"``, a table's header) are repeated on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.75, bottom=0.6, header=0.3, footer=0.3)
    if title_rows:
        ws.print_title_rows = title_rows


def print_header(ws: Worksheet, title: str, detail: str) -> None:
    """Head every printed page with ``title`` (bold) left and ``detail`` (e.g. the status date) right; the
    footer names the sheet, numbers the page and dates the print."""
    parts = (
        (ws.oddHeader.left, title[:90].replace("&", "&&")),
        (ws.oddHeader.right, detail.replace("&", "&&")),
        (ws.oddFooter.left, "&A"),
        (ws.oddFooter.center, "Page &P of &N"),
        (ws.oddFooter.right, "Printed &D"),
    )
    for part, text in parts:
        part.text, part.size = text, 9
    ws.oddHeader.left.font = "-,Bold"


def lines_needed(text: str, width: float) -> int:
    """How many lines ``text`` wraps into at a column ``width`` (in characters)."""
    return sum(len(textwrap.wrap(line, max(int(width), 1))) or 1 for line in text.splitlines() or [""])


def fit_height(ws: Worksheet, row: int) -> None:
    """Make ``row`` as tall as the most lines a wrapped cell of it takes at its column width (merged cells
    at their merged width). Set explicitly, as LibreOffice does not size rows when it opens a file."""
    lines = 1
    for cell in ws[row]:
        if cell.value is None or not cell.alignment.wrap_text:
            continue
        columns = next(
            (range(r.min_col, r.max_col + 1) for r in ws.merged_cells.ranges if cell.coordinate in r),
            range(cell.column, cell.column + 1),
        )
        width = sum(ws.column_dimensions[get_column_letter(c)].width or 13 for c in columns)
        text = str(cell.value).splitlines() or [""]
        lines = max(lines, sum(len(textwrap.wrap(line, max(int(width), 1))) or 1 for line in text))
    ws.row_dimensions[row].height = LINE_HEIGHT * lines if lines > 1 else None

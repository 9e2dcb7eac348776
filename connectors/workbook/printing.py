"""How the tracker's sheets print: landscape, fitted to the page width, table headers repeated on every
page, and each page headed with the plan's name, the sheet and the status date."""

from __future__ import annotations

from datetime import date

from openpyxl import Workbook

from ..spreadsheet import print_header, print_layout
from . import layout as L


def print_sheets(book: Workbook, status_date: date | None = None) -> None:
    """Head the printed pages of the tracker's own sheets with the plan's name and ``status_date``. A sheet
    not fitted to the page width (new, or from an older version) is laid out for print too; one already
    fitted keeps its orientation and margins, whoever chose them. Sheets of the user's own are left alone."""
    detail = f"Status date {status_date.isoformat()}" if status_date else "No status yet"
    title = plan_name(book)
    for ws in book.worksheets:
        if ws.title not in L.SHEETS:
            continue
        if not ws.sheet_properties.pageSetUpPr.fitToPage:
            print_layout(ws, L.PRINT_TITLES.get(ws.title))
        print_header(ws, title, detail)


def plan_name(book: Workbook) -> str:
    """The plan's name from the About sheet, else the workbook's title."""
    if L.ABOUT in book.sheetnames:
        for label, value, *_ in book[L.ABOUT].iter_rows(min_col=1, max_col=2, values_only=True):
            if label is not None and L.normal(label) == L.normal(L.PLAN_NAME_LABEL) and L.text(value):
                return L.text(value)
    return book.properties.title or ""

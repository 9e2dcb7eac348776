"""Writing spreadsheet cells safely, shared by the workbook tracker and the core's plan workbook export."""

from __future__ import annotations

from datetime import date

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.worksheet.worksheet import Worksheet

Value = str | int | float | bool | date | None


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

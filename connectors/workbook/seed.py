"""Building a new tracker workbook and appending seeded items to it (Tasks and Milestones rows)."""

from __future__ import annotations

from collections.abc import Mapping
from copy import copy
from datetime import datetime
from weakref import WeakKeyDictionary

from openpyxl import Workbook
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from .. import product
from ..spreadsheet import LINE_HEIGHT, lines_needed
from ..values import ContainerSpec, ItemKind, ItemSpec, ItemUpdate
from . import layout as L
from .printing import print_sheets


def new_workbook(spec: ContainerSpec) -> Workbook:
    """An empty tracker for ``spec``: the four sheets with their headers, formats and validations."""
    book = Workbook()
    tasks = book.active
    tasks.title = L.TASKS
    _tasks_sheet(tasks)
    milestones_sheet(book.create_sheet(L.MILESTONES))
    book.create_sheet(L.STATUS)["A1"] = "No status yet: it appears here after the first status run."
    _about_sheet(book.create_sheet(L.ABOUT), spec)
    book.properties.title = f"{spec.plan_name} - tracker"
    book.properties.creator = product()
    print_sheets(book)
    return book


def _tasks_sheet(ws: Worksheet) -> None:
    for column, header in enumerate(L.TASK_HEADERS, start=1):
        cell = L.put(ws, 1, column, header)
        cell.font = L.HEADER_FONT
        cell.fill = L.EDIT_FILL if header in L.USER_HEADERS else L.SYNC_FILL
        cell.alignment = L.WRAP
        letter = get_column_letter(column)
        ws.column_dimensions[letter].width = L.TASK_WIDTHS[header]
    ws.column_dimensions[get_column_letter(len(L.TASK_HEADERS))].hidden = True
    L.fit_height(ws, 1)
    ws.freeze_panes = L.TASKS_FROZEN
    ws.auto_filter.ref = f"A1:{get_column_letter(len(L.TASK_HEADERS))}1"
    position = {header: get_column_letter(i) for i, header in enumerate(L.TASK_HEADERS, start=1)}
    for header, rule in _validations().items():
        rule.add(f"{position[header]}2:{position[header]}{L.LAST_ROW}")
        ws.add_data_validation(rule)


def _validations() -> dict[str, DataValidation]:
    """Excel and LibreOffice refuse a bad entry in a project manager's column with these messages."""
    states = ",".join(L.STATE_LABELS.values())
    date = {"type": "date", "operator": "greaterThan", "formula1": "1"}  # any date after 1900-01-01
    rules = {
        L.STATE: ({"type": "list", "formula1": f'"{states}"'}, f"Choose {states.replace(',', ', ')}."),
        L.PERCENT: (
            {"type": "decimal", "operator": "between", "formula1": "0", "formula2": "100"},
            "Enter a number from 0 to 100.",
        ),
        L.ACTUAL_START: (date, "Enter a date (yyyy-mm-dd)."),
        L.ACTUAL_FINISH: (date, "Enter a date (yyyy-mm-dd), not before the actual start."),
        L.ACTUAL_COST: (
            {"type": "decimal", "operator": "greaterThanOrEqual", "formula1": "0"},
            "Enter an amount of 0 or more.",
        ),
    }
    return {
        header: DataValidation(
            **options,
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="stop",
            errorTitle=f"{header}: invalid value",
            error=message,
            showInputMessage=True,
            promptTitle=header,
            prompt=message,
        )
        for header, (options, message) in rules.items()
    }


def milestones_sheet(ws: Worksheet) -> None:
    for column, header in enumerate(L.MILESTONE_HEADERS, start=1):
        cell = L.put(ws, 1, column, header)
        cell.font = L.HEADER_FONT
        cell.fill = L.SYNC_FILL
        cell.alignment = L.WRAP
        ws.column_dimensions[get_column_letter(column)].width = L.MILESTONE_WIDTHS[header]
    L.fit_height(ws, 1)
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(L.MILESTONE_HEADERS))}1"


def _about_sheet(ws: Worksheet, spec: ContainerSpec) -> None:
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 90
    L.put(ws, 1, 1, "About this tracker").font = L.TITLE_FONT
    rows: list[tuple[str, L.Value, str | None]] = [
        (L.PLAN_KEY_LABEL, spec.plan_key, None),
        (L.PLAN_NAME_LABEL, spec.plan_name, None),
        ("Template", spec.template, None),
        ("Currency", spec.currency, None),
        ("Start", spec.start, L.DATE_FORMAT),
        ("Finish", spec.finish, L.DATE_FORMAT),
    ]
    for row, (label, value, number_format) in enumerate(rows, start=2):
        L.put(ws, row, 1, label).font = L.HEADER_FONT
        L.put(ws, row, 2, value, number_format).alignment = L.LEFT
    note = (
        f"On the {L.TASKS} sheet the columns {L.USER_HEADERS[0]} to {L.USER_HEADERS[-1]} "
        f"(yellow) are yours to edit: {', '.join(L.USER_HEADERS)}. Everything else in this workbook "
        f"is rewritten by iso20k-sync: the other {L.TASKS} columns, the {L.MILESTONES} and "
        f"{L.STATUS} sheets and this one. Rows are found by their {L.KEY}: sort, filter, move columns "
        "or add rows of your own freely, but do not change a Key or rename a column header."
    )
    note_row = len(rows) + 3
    label = L.put(ws, note_row, 1, "Note")
    label.font, label.alignment = L.HEADER_FONT, L.TOP
    L.put(ws, note_row, 2, note).alignment = L.WRAP
    L.fit_height(ws, note_row)
    L.put(ws, note_row + 2, 1, f"Created by {product()}")


_STYLES: WeakKeyDictionary[Worksheet, dict[tuple[int, bool], StyleArray]] = WeakKeyDictionary()
"""The style of each Tasks column, for tasks and for milestones, once per sheet: setting font, fill and
alignment cell by cell makes openpyxl search its style tables each time (most of a large seed's time)."""


def append_task(ws: Worksheet, row: int, spec: ItemSpec, cols: Mapping[str, int], currency: str) -> None:
    """Write ``spec`` as a Tasks row, each value in the column its header is in now."""
    milestone = spec.kind is ItemKind.milestone
    money = L.money_format(currency)
    values: dict[str, tuple[L.Value, str | None]] = {
        L.KEY: (spec.key, None),
        L.PHASE: (spec.phase_name or spec.parent, None),
        L.TASK: (spec.title, None),
        L.CLAUSES: (", ".join(spec.clauses) or None, None),
        L.OWNER_ROLE: (spec.owner_role, None),
        L.PLANNED_START: (spec.due if milestone else spec.start, L.DATE_FORMAT),
        L.PLANNED_FINISH: (spec.due, L.DATE_FORMAT),
        L.BASELINE_COST: (float(spec.baseline_cost), money),
        L.STATE: (None, None),
        L.PERCENT: (None, L.PERCENT_FORMAT),
        L.ACTUAL_START: (None, L.DATE_FORMAT),
        L.ACTUAL_FINISH: (None, L.DATE_FORMAT),
        L.ACTUAL_COST: (None, money),
        L.NOTES: (None, None),
        L.KIND: (spec.kind.value, None),
    }
    styles = _STYLES.setdefault(ws, {})
    lines = 1
    for header, (value, number_format) in values.items():
        if header not in cols:
            continue
        column = cols[header]
        cell = L.put(ws, row, column, value, number_format)
        known = styles.get((column, milestone))
        if known is not None:
            cell._style = copy(known)
        else:
            if header in L.USER_HEADERS:
                cell.fill = L.EDIT_FILL
            if milestone:
                cell.font = L.MILESTONE_FONT
            cell.alignment = L.WRAP if header in L.TASK_WRAPPED else L.TOP
            styles[(column, milestone)] = copy(cell._style)
        if header in L.TASK_WRAPPED and value is not None:
            width = ws.column_dimensions[get_column_letter(column)].width or 13
            lines = max(lines, lines_needed(str(value), width))
    ws.row_dimensions[row].height = LINE_HEIGHT * lines if lines > 1 else None


def append_milestone(ws: Worksheet, row: int, spec: ItemSpec, cols: Mapping[str, int]) -> None:
    values: dict[str, tuple[L.Value, str | None]] = {
        L.KEY: (spec.key, None),
        L.MILESTONE: (spec.title, None),
        L.PHASE: (spec.phase_name or spec.parent, None),
        L.BASELINE_DATE: (spec.due, L.DATE_FORMAT),
        L.FORECAST: (None, L.DATE_FORMAT),
        L.VARIANCE: (None, "0"),
    }
    for header, (value, number_format) in values.items():
        if header in cols:
            cell = L.put(ws, row, cols[header], value, number_format)
            cell.alignment = L.WRAP if header in L.MILESTONE_WRAPPED else L.TOP
    L.fit_height(ws, row)


def extend_filter(ws: Worksheet, last_row: int) -> None:
    """Let the autofilter cover every column and row, so a sort moves whole rows (hidden Kind too)."""
    ws.auto_filter.ref = f"A1:{get_column_letter(ws.max_column)}{max(last_row, 1)}"


def update_task(ws: Worksheet, row: int, update: ItemUpdate, cols: Mapping[str, int]) -> bool:
    """Rewrite the planned values ``update`` names in the Tasks row; True if a cell changed."""
    milestone = L.text(ws.cell(row, cols[L.KIND]).value) == ItemKind.milestone if L.KIND in cols else False
    values: dict[str, tuple[L.Value, str | None]] = {}
    if update.title is not None:
        values[L.TASK] = (update.title, None)
    if update.due is not None:
        values[L.PLANNED_FINISH] = (update.due, L.DATE_FORMAT)
        if milestone:
            values[L.PLANNED_START] = (update.due, L.DATE_FORMAT)
    if update.start is not None and not milestone:
        values[L.PLANNED_START] = (update.start, L.DATE_FORMAT)
    changed = False
    for header, (value, number_format) in values.items():
        cell = ws.cell(row, cols[header])
        current = cell.value.date() if isinstance(cell.value, datetime) else cell.value
        if current != value:
            L.put(ws, row, cols[header], value, number_format)
            changed = True
    if changed:
        L.fit_height(ws, row)
    return changed

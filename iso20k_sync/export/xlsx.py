"""The plan as an Excel workbook: tasks by phase, budget, milestones, roles and an about sheet.

Sheets:

* **Plan** - one bold summary row per phase followed by its tasks (outline level 1, so Excel can
  collapse a phase), with dates, predecessors, float, owner, effort and cost by category.
* **Budget** - cost by category with shares, a phase x category table with totals, and the
  cumulative planned value by date with a line chart.
* **Milestones**, **Roles** and **About** (template, calendar, parameters, critical path).

Every value is written as a number or a date, never as a formula, because openpyxl does not
compute formulas: a reader that does not recalculate (pandas, openpyxl itself, a previewer) still
sees correct totals. Money is written as ``float`` of the plan's :class:`~decimal.Decimal`, which
round-trips to the cent, with the plan's currency in the number format.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.chart import LineChart, Reference
from openpyxl.chart.axis import DateAxis
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from connectors.spreadsheet import Value, fit_height, money_format, print_header, print_layout, put

from .. import __version__
from ..files import output_path
from ..plan import Plan, PlannedTask
from ..template.model import CostCategory

CATEGORIES = tuple(CostCategory)
CATEGORY_LABELS = {c: c.value.capitalize() for c in CATEGORIES}
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

DATE_FORMAT = "yyyy-mm-dd"
AXIS_FORMAT = "#,##0"  # chart axes in whole units; the currency is in the axis title
CHART_ROWS = 19  # rows kept free for the planned value chart (9 cm)
DAYS_FORMAT = "0"
EFFORT_FORMAT = "#,##0.00"
SHARE_FORMAT = "0.0%"

CHECK = "✓"
CRITICAL_RED = "C00000"
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_BORDER = Border(bottom=Side(style="thin", color="000000"))
TITLE_FONT = Font(bold=True, size=12)
PHASE_FILL = PatternFill("solid", fgColor="DDEBF7")
TOTAL_FONT = Font(bold=True)
TOTAL_BORDER = Border(top=Side(style="thin", color="000000"))
CENTER = Alignment(horizontal="center")


PLAN_HEADERS = (
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
    *CATEGORY_LABELS.values(),
    "Total cost",
)
TABLE_SHEETS = ("Plan", "Milestones", "Roles")
"""Sheets that are one table under a header row, repeated on every printed page."""
PLAN_FROZEN = "D2"  # below the header, right of the task name
MARK_COLUMNS = (9, 10)  # Milestone, Critical: centred check marks


def write_plan_workbook(plan: Plan, path: Path) -> None:
    """Write the plan's workbook to ``path`` atomically (a temporary file beside it, then a rename).

    Raises :class:`~iso20k_sync.files.OutputError` if the directory does not exist; nothing is
    created then, and a failure while saving leaves neither the temporary nor a partial file.
    """
    with output_path(path) as temporary:
        plan_workbook(plan).save(temporary)


def plan_workbook(plan: Plan) -> Workbook:
    """Build the workbook of ``plan`` (sheets Plan, Budget, Milestones, Roles, About)."""
    workbook = Workbook()
    workbook.properties.title = f"{plan.template.name} - plan"
    workbook.properties.creator = f"iso20k-sync {__version__}"
    money = money_format(plan.currency)
    plan_sheet = workbook.active
    plan_sheet.title = "Plan"
    _plan_sheet(plan_sheet, plan, money)
    _budget_sheet(workbook.create_sheet("Budget"), plan, money)
    _milestones_sheet(workbook.create_sheet("Milestones"), plan)
    _roles_sheet(workbook.create_sheet("Roles"), plan, money)
    _about_sheet(workbook.create_sheet("About"), plan)
    detail = f"Plan {plan.start.isoformat()} to {plan.finish.isoformat()}"
    for ws in workbook.worksheets:
        print_layout(ws, "1:1" if ws.title in TABLE_SHEETS else None)
        print_header(ws, plan.template.name, detail)
    return workbook


# --- sheets --------------------------------------------------------------------------------------


def _plan_sheet(ws: Worksheet, plan: Plan, money: str) -> None:
    formats = {5: DATE_FORMAT, 6: DATE_FORMAT, 7: DAYS_FORMAT, 11: DAYS_FORMAT}
    formats |= {column: money for column in range(15, len(PLAN_HEADERS) + 1)}
    _header(ws, 1, PLAN_HEADERS)
    phase_names = {phase.id: phase.name for phase in plan.phases}
    role_names = {role.id: role.name for role in plan.roles}
    row = 2
    for phase in plan.phases:
        by_category = plan.budget.by_phase[phase.id].by_category
        values: list[Value] = [phase.wbs, None, phase.name, phase.name, phase.start, phase.finish]
        values += [phase.duration, None, None, CHECK if phase.critical else None, None, None, None, None]
        values += [_money(by_category[c]) if by_category.get(c) else None for c in CATEGORIES]
        values.append(_money(phase.cost))
        font = Font(bold=True, color=CRITICAL_RED if phase.critical else None)
        _row(ws, row, values, formats, font=font, fill=PHASE_FILL)
        row += 1
        for task in (t for t in plan.tasks if t.phase == phase.id):
            _row(ws, row, _task_values(task, phase_names, role_names), formats, font=_task_font(task))
            ws.row_dimensions[row].outline_level = 1
            row += 1
    for column in MARK_COLUMNS:
        for (cell,) in ws.iter_rows(min_row=2, min_col=column, max_col=column):
            cell.alignment = CENTER
    ws.sheet_properties.outlinePr.summaryBelow = False  # the phase row sits above its tasks
    ws.sheet_format.outlineLevelRow = 1
    _table_view(ws, PLAN_FROZEN, last_row=row - 1, columns=len(PLAN_HEADERS))
    _fit_columns(ws, maximum={3: 45, 4: 24, 8: 24, 12: 16, 13: 24, 14: 30})


def _task_values(task: PlannedTask, phase_names: dict[str, str], role_names: dict[str, str]) -> list[Value]:
    effort = "; ".join(f"{role_names.get(role, role)} {_number_text(d)}" for role, d in task.effort.items())
    values: list[Value] = [
        task.wbs,
        task.id,
        task.name,
        phase_names.get(task.phase, task.phase),
        task.start,
        task.finish,
        task.duration,
        "; ".join(dep.label() for dep in task.depends_on) or None,
        CHECK if task.milestone else None,
        CHECK if task.critical else None,
        task.total_float,
        ", ".join(task.clauses) or None,
        role_names.get(task.owner, task.owner) if task.owner else None,
        effort or None,
    ]
    values += [_money(task.costs[c]) if task.costs.get(c) else None for c in CATEGORIES]
    values.append(_money(task.cost))
    return values


def _task_font(task: PlannedTask) -> Font | None:
    if not (task.critical or task.milestone):
        return None
    return Font(italic=task.milestone, color=CRITICAL_RED if task.critical else None)


def _budget_sheet(ws: Worksheet, plan: Plan, money: str) -> None:
    budget = plan.budget
    titles = [1]
    _title(ws, 1, f"Budget by category ({plan.currency})")
    _header(ws, 2, ("Category", "Amount", "Share"))
    formats = {2: money, 3: SHARE_FORMAT}
    row = 3
    for category in CATEGORIES:
        amount = budget.by_category.get(category, Decimal(0))
        share = float(amount / budget.total) if budget.total else 0.0
        _row(ws, row, [CATEGORY_LABELS[category], _money(amount), share], formats)
        row += 1
    _total_row(ws, row, ["Total", _money(budget.total), 1.0 if budget.total else 0.0], formats)

    row += 2
    titles.append(row)
    _title(ws, row, "Budget by phase and category")
    _header(ws, row + 1, ("Phase", *CATEGORY_LABELS.values(), "Total"))
    row += 2
    formats = {column: money for column in range(2, len(CATEGORIES) + 3)}
    for phase in plan.phases:
        phase_budget = budget.by_phase[phase.id]
        amounts = [phase_budget.by_category.get(c, Decimal(0)) for c in CATEGORIES]
        _row(ws, row, [phase.name, *map(_money, amounts), _money(phase_budget.total)], formats)
        row += 1
    totals = [_money(budget.by_category.get(c, Decimal(0))) for c in CATEGORIES]
    _total_row(ws, row, ["Total", *totals, _money(budget.total)], formats)

    row += 2
    chart_row = row
    if plan.planned_value:
        row += CHART_ROWS
        ws.row_breaks.append(Break(id=row - 1))  # the long table prints from a new page, under its title
    titles.append(row)
    _title(ws, row, "Planned value (cumulative, at the end of each working day with planned cost)")
    header_row = row + 1
    _header(ws, header_row, ("Date", "Cumulative planned value", *CATEGORY_LABELS.values()))
    row = header_row + 1
    formats = {1: DATE_FORMAT} | {column: money for column in range(2, len(CATEGORIES) + 3)}
    for point in plan.planned_value:
        amounts = [point.by_category.get(c, Decimal(0)) for c in CATEGORIES]
        _row(ws, row, [point.date, _money(point.cumulative), *map(_money, amounts)], formats)
        row += 1
    if plan.planned_value:  # between the budget tables and its data, as wide as they are
        _planned_value_chart(ws, header_row, row - 1, plan.currency, f"A{chart_row}")
    _fit_columns(ws, skip_rows=set(titles))


def _planned_value_chart(ws: Worksheet, header_row: int, last_row: int, currency: str, anchor: str) -> None:
    chart = LineChart()
    chart.title = "Cumulative planned value"
    chart.height = 9
    chart.width = 24
    chart.legend = None
    chart.y_axis.title = f"Planned value ({currency})" if currency else "Planned value"
    chart.y_axis.number_format = AXIS_FORMAT
    chart.y_axis.majorGridlines = None
    chart.y_axis.crossAx = 500
    chart.x_axis = DateAxis(crossAx=100, axPos="b", baseTimeUnit="days")
    chart.x_axis.number_format = "yyyy-mm"
    chart.x_axis.majorUnit = 3
    chart.x_axis.majorTimeUnit = "months"
    # openpyxl >= 3.1 marks axes as deleted by default; Excel then draws the chart without them
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.add_data(Reference(ws, min_col=2, min_row=header_row, max_row=last_row), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=header_row + 1, max_row=last_row))
    ws.add_chart(chart, anchor)


def _milestones_sheet(ws: Worksheet, plan: Plan) -> None:
    headers = ("Key", "Milestone", "Phase", "Date", "Critical", "Total float (working days)")
    _header(ws, 1, headers)
    phase_names = {phase.id: phase.name for phase in plan.phases}
    formats = {4: DATE_FORMAT, 6: DAYS_FORMAT}
    for row, milestone in enumerate(plan.milestones, start=2):
        values: list[Value] = [
            milestone.id,
            milestone.name,
            phase_names.get(milestone.phase, milestone.phase),
            milestone.date,
            CHECK if milestone.critical else None,
            milestone.total_float,
        ]
        font = Font(color=CRITICAL_RED) if milestone.critical else None
        _row(ws, row, values, formats, font=font)
        ws.cell(row, 5).alignment = CENTER
    _table_view(ws, "C2", last_row=len(plan.milestones) + 1, columns=len(headers))
    _fit_columns(ws, maximum={2: 60})


def _roles_sheet(ws: Worksheet, plan: Plan, money: str) -> None:
    """Roles with rate and total effort; cost is rate x effort (per-task rounding may differ by cents)."""
    headers = ("Role", "Category", "Day rate", "Effort (person-days)", "Cost")
    _header(ws, 1, headers)
    formats = {3: money, 4: EFFORT_FORMAT, 5: money}
    row = 2
    total_effort = Decimal(0)
    total_cost = Decimal(0)
    for role in plan.roles:
        cost = role.cost
        total_effort += role.effort
        total_cost += cost
        values: list[Value] = [
            role.name,
            CATEGORY_LABELS[role.category],
            _money(role.day_rate),
            float(role.effort),
            _money(cost),
        ]
        _row(ws, row, values, formats)
        row += 1
    _total_row(ws, row, ["Total", None, None, float(total_effort), _money(total_cost)], formats)
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{row - 1}"
    _fit_columns(ws)


def _about_sheet(ws: Worksheet, plan: Plan) -> None:
    calendar = plan.calendar
    holidays = calendar.country or "none"
    if calendar.country and calendar.subdivision:
        holidays = f"{calendar.country}-{calendar.subdivision}"
    rows: list[tuple[str, Value]] = [
        ("Template", plan.template.name),
        ("Template id", plan.template.id),
        ("Template version", plan.template.version),
        ("Currency", plan.currency),
        ("Start", plan.start),
        ("Finish", plan.finish),
        ("Working days", plan.duration),
        ("Budget", _money(plan.budget.total)),
        ("Critical path", " → ".join(plan.critical_path)),
        ("Weekend", ", ".join(WEEKDAY_NAMES[d] for d in calendar.weekend) or "none"),
        ("Public holidays", holidays),
        ("Extra days off", ", ".join(d.isoformat() for d in calendar.extra_holidays) or "none"),
    ]
    formats = {"Start": DATE_FORMAT, "Finish": DATE_FORMAT, "Budget": money_format(plan.currency)}
    _title(ws, 1, "About this plan")
    row = 2
    for label, value in rows:
        _row(ws, row, [label, value], {2: formats[label]} if label in formats else {})
        ws.cell(row, 1).font = TOTAL_FONT
        ws.cell(row, 1).alignment = Alignment(vertical="top")
        ws.cell(row, 2).alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
        row += 1
    row += 1
    titles = [1, row]
    _title(ws, row, "Parameters")
    _header(ws, row + 1, ("Name", "Value"))
    row += 2
    for name, value in plan.parameters.items():
        _row(ws, row, [name, _parameter_value(value)])
        ws.cell(row, 2).alignment = Alignment(horizontal="left")
        row += 1
    if not plan.parameters:
        _row(ws, row, ["(none)"])
        row += 1
    row += 1
    put(ws, row, 1, f"Generated by iso20k-sync {__version__}").font = Font(italic=True, color="808080")
    titles.append(row)
    _fit_columns(ws, skip_rows=set(titles), maximum={2: 80})


# --- helpers -------------------------------------------------------------------------------------


def _row(
    ws: Worksheet,
    row: int,
    values: Sequence[Value],
    formats: dict[int, str] | None = None,
    font: Font | None = None,
    fill: PatternFill | None = None,
) -> None:
    """Write ``values`` from column A; ``formats`` maps 1-based columns to number formats."""
    formats = formats or {}
    for column, value in enumerate(values, start=1):
        cell = put(ws, row, column, value, formats.get(column))
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill


def _header(ws: Worksheet, row: int, headers: Sequence[str]) -> None:
    for column, text in enumerate(headers, start=1):
        cell = put(ws, row, column, text)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.border = HEADER_BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.row_dimensions[row].height = 32  # room for two lines of a wrapped header


def _title(ws: Worksheet, row: int, text: str) -> None:
    put(ws, row, 1, text).font = TITLE_FONT


def _total_row(ws: Worksheet, row: int, values: Sequence[Value], formats: dict[int, str]) -> None:
    _row(ws, row, values, formats, font=TOTAL_FONT)
    for column in range(1, len(values) + 1):
        ws.cell(row, column).border = TOTAL_BORDER


def _table_view(ws: Worksheet, freeze: str, last_row: int, columns: int) -> None:
    """Frozen header and autofilter over the table."""
    ws.freeze_panes = freeze
    ws.auto_filter.ref = f"A1:{get_column_letter(columns)}{max(last_row, 1)}"


def _fit_columns(
    ws: Worksheet, skip_rows: set[int] | None = None, maximum: dict[int, int] | None = None
) -> None:
    """Size each column to its longest value (headers by their longest word, as they wrap); text wider
    than its column's ``maximum`` wraps, in a row as tall as it takes (``skip_rows``: titles that run on)."""
    skip_rows = skip_rows or set()
    maximum = maximum or {}
    widths: dict[int, int] = {}
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is None or cell.row in skip_rows:
                continue
            width = _display_width(cell)
            widths[cell.column] = max(widths.get(cell.column, 0), width)
    for column, width in widths.items():
        limit = maximum.get(column, 50)
        ws.column_dimensions[get_column_letter(column)].width = min(max(width + 2, 6), limit)
    for row in ws.iter_rows():
        if not row or row[0].row in skip_rows:
            continue
        for cell in row:
            width = ws.column_dimensions[cell.column_letter].width
            if isinstance(cell.value, str) and cell.fill != HEADER_FILL and len(cell.value) > width:
                cell.alignment = Alignment(horizontal=cell.alignment.horizontal, wrap_text=True)
        fit_height(ws, row[0].row)
        if ws.row_dimensions[row[0].row].height:  # lines of a tall row start at its top
            for cell in row:
                if cell.fill != HEADER_FILL:
                    align = cell.alignment
                    cell.alignment = Alignment(
                        horizontal=align.horizontal, vertical="top", wrap_text=align.wrap_text
                    )


def _display_width(cell: Cell) -> int:
    value = cell.value
    if cell.fill == HEADER_FILL:
        return max(len(word) for word in str(value).split())
    if isinstance(value, date):
        return 10
    if isinstance(value, float | int) and cell.number_format.startswith("#,##0.00"):
        return len(f"{value:,.2f}") + len(cell.number_format.removeprefix("#,##0.00").replace('"', ""))
    if isinstance(value, float) and cell.number_format == SHARE_FORMAT:
        return 6
    return len(str(value))


def _money(amount: Decimal) -> float:
    return float(amount)


def _number_text(value: Decimal) -> str:
    """``2.00`` as ``2``, ``2.50`` as ``2.5``."""
    return format(value.normalize(), "f")


def _parameter_value(value: Decimal | bool | str) -> Value:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value

"""Writing a :class:`PlanStatus` onto the Status sheet (rewritten whole) and the Milestones sheet.

Every figure is a value, never a formula, so any reader sees it without recalculating. A figure that
cannot be computed honestly (CPI before any cost is recorded, say) is left blank with the reason beside
it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from iso20k_sync.analytics.earned_value import EarnedValue
from iso20k_sync.analytics.status import PlanStatus

from . import layout as L
from .seed import milestones_sheet

EV_ROWS = (
    ("BAC", "bac", "Budget at completion"),
    ("PV", "pv", "Planned value: baseline cost of the work planned by the status date"),
    ("EV", "ev", "Earned value: baseline cost of the work done"),
    ("AC", "ac", "Actual cost"),
    ("CV", "cv", "Cost variance EV - AC; negative is over budget"),
    ("SV", "sv", "Schedule variance EV - PV; negative is behind"),
    ("CPI", "cpi", "Cost performance index EV / AC"),
    ("SPI", "spi", "Schedule performance index EV / PV"),
    ("EAC", "eac", "Estimate at completion"),
    ("ETC", "etc", "Estimate to complete EAC - AC"),
    ("VAC", "vac", "Variance at completion BAC - EAC; negative is an overrun"),
    ("TCPI (BAC)", "tcpi_bac", "Cost efficiency needed on the rest to finish within BAC"),
    ("TCPI (EAC)", "tcpi_eac", "Cost efficiency needed on the rest to finish within the EAC"),
)
RATIOS = {"cpi", "spi", "tcpi_bac", "tcpi_eac"}
ES_ROWS = (
    ("PD", "planned_duration", "Planned duration, working days"),
    ("AT", "actual_time", "Working days elapsed at the status date"),
    ("ES", "es", "Earned schedule: working day by which today's earned value was planned"),
    ("SV(t)", "sv_t", "Schedule variance in time ES - AT, working days; negative is behind"),
    ("SPI(t)", "spi_t", "Schedule performance index in time ES / AT"),
    ("IEAC(t)", "ieac_t", "Independent estimate of the duration PD / SPI(t), working days"),
)
CATEGORY_HEADERS = (
    "Category",
    "Baseline (BAC)",
    "Planned to date (PV)",
    "Earned (EV)",
    "Actual (AC)",
    "Variance (CV = EV - AC)",
    "Forecast at completion (EAC)",
)
HISTORY_HEADERS = ("Date", "PV", "EV", "AC", "SPI", "CPI", "SPI(t)", "EAC", "Forecast finish", "RAG")
NOTE_FONT = Font(italic=True, color="595959")


def write_status_sheet(book: Workbook, status: PlanStatus) -> None:
    """Replace the Status sheet (keeping its place among the sheets) with ``status``."""
    index = book.sheetnames.index(L.STATUS) if L.STATUS in book.sheetnames else None
    was_active = index is not None and book.active is book[L.STATUS]
    if index is not None:
        book.remove(book[L.STATUS])
    elif L.MILESTONES in book.sheetnames:
        index = book.sheetnames.index(L.MILESTONES) + 1
    ws = book.create_sheet(L.STATUS, index)
    _Status(ws, status).write()
    if was_active:  # the workbook opens where the user left it
        book.active = ws
        ws.sheet_view.tabSelected = True


def update_milestones(book: Workbook, status: PlanStatus, where: str) -> None:
    """Fill Forecast, Variance, RAG and Reason of each Milestones row from ``status`` (by Key)."""
    if L.MILESTONES not in book.sheetnames:
        milestones_sheet(book.create_sheet(L.MILESTONES, book.sheetnames.index(L.TASKS) + 1))
    ws = book[L.MILESTONES]
    cols = L.columns(ws, L.MILESTONE_HEADERS, (L.KEY, L.FORECAST, L.VARIANCE, L.RAG, L.REASON), where)
    by_key = {m.id: m for m in status.milestones}
    for row in range(2, ws.max_row + 1):
        key = L.text(ws.cell(row, cols[L.KEY]).value)
        if not key:
            continue
        rag = ws.cell(row, cols[L.RAG])
        rag.value = None
        rag.fill, rag.font = PatternFill(), Font()
        milestone = by_key.get(key)
        if milestone is None:  # no longer in the plan: no stale figures
            for header in (L.FORECAST, L.VARIANCE, L.REASON):
                ws.cell(row, cols[header]).value = None
            continue
        L.put(ws, row, cols[L.FORECAST], milestone.forecast, L.DATE_FORMAT)
        L.put(ws, row, cols[L.VARIANCE], milestone.variance_days, "0")
        L.put_rag(rag, milestone.rag)
        L.put(ws, row, cols[L.REASON], milestone.reason).alignment = L.WRAP


class _Status:
    """Writes the Status sheet top to bottom; ``row`` is the next free row."""

    def __init__(self, ws: Worksheet, status: PlanStatus) -> None:
        self.ws = ws
        self.status = status
        self.money = L.money_format(status.currency)
        self.row = 1

    def write(self) -> None:
        status = self.status
        L.put(self.ws, 1, 1, f"Plan status at {status.status_date.isoformat()}").font = L.TITLE_FONT
        self.row = 3
        self._pair("Status date", status.status_date, L.DATE_FORMAT)
        L.put(self.ws, self.row, 1, "RAG").font = L.HEADER_FONT
        L.put_rag(self.ws.cell(self.row, 2), status.rag)
        self.row += 1
        self._pair("Reason", status.reason)
        self._pair("Baseline finish", status.baseline_finish, L.DATE_FORMAT)
        self._pair("Forecast finish", status.forecast_finish, L.DATE_FORMAT)
        slip = (status.forecast_finish - status.baseline_finish).days
        self._pair("Finish variance (calendar days)", slip, "0", "positive is late")
        self._pair("Template", status.template)
        self.row += 1

        self._title("Tasks")
        counts = status.tasks
        self._pair("Not started", counts.not_started, "0")
        self._pair("In progress", counts.in_progress, "0")
        self._pair("Done", counts.done, "0")
        self._pair("Total", counts.not_started + counts.in_progress + counts.done, "0")
        self.row += 1

        self._earned_value(status.earned_value)
        self._earned_schedule()
        self._categories()
        self._history()
        self._problems()
        widths = {"A": 32, "B": 18, "C": 20, "D": 16, "E": 16, "F": 20, "G": 26, "H": 16, "I": 16, "J": 9}
        for letter, width in widths.items():
            self.ws.column_dimensions[letter].width = width
        self.ws.sheet_view.showGridLines = False

    def _earned_value(self, ev: EarnedValue) -> None:
        self._title(f"Earned value ({self.status.currency})")
        self._header(("Figure", "Value", "Meaning"))
        for label, name, meaning in EV_ROWS:
            value: Decimal | None = getattr(ev, name)
            if name == "eac":
                note = f"{meaning}, method {ev.eac_method.value}"
                if "eac" in ev.unavailable:
                    note += f": {ev.unavailable['eac']}"
            elif value is None:
                note = f"{meaning}: not available, {ev.unavailable.get(name, 'no reason given')}"
            else:
                note = meaning
            self._pair(label, _float(value), L.RATIO_FORMAT if name in RATIOS else self.money, note)
        unallocated = self.status.unallocated_actual_cost
        self._pair("Unallocated AC", _float(unallocated), self.money, "Expenses not tied to a task")
        self.row += 1

    def _earned_schedule(self) -> None:
        es = self.status.earned_schedule
        self._title("Earned schedule (working days)")
        self._header(("Figure", "Value", "Meaning"))
        for label, name, meaning in ES_ROWS:
            value = getattr(es, name)
            fmt = L.RATIO_FORMAT if name == "spi_t" else ("0" if isinstance(value, int) else L.PERIODS_FORMAT)
            note = meaning if value is not None else f"{meaning}: not available, {es.unavailable.get(name)}"
            self._pair(label, _float(value), fmt, note)
        self.row += 1

    def _categories(self) -> None:
        self._title(f"By cost category ({self.status.currency})")
        self._header(CATEGORY_HEADERS)
        for category, ev in self.status.by_category.items():
            figures = (ev.bac, ev.pv, ev.ev, ev.ac, ev.cv, ev.eac)
            self._values([category.value.capitalize(), *map(_float, figures)], self.money)
        self.row += 1

    def _history(self) -> None:
        self._title("Trend")
        self._header(HISTORY_HEADERS)
        money, ratio = self.money, L.RATIO_FORMAT
        formats = (L.DATE_FORMAT, money, money, money, ratio, ratio, ratio, money, L.DATE_FORMAT)
        for point in self.status.history:
            values = (point.status_date, point.pv, point.ev, point.ac, point.spi, point.cpi, point.spi_t)
            values += (point.eac, point.forecast_finish)
            for column, (value, fmt) in enumerate(zip(values, formats, strict=True), start=1):
                L.put(self.ws, self.row, column, value if isinstance(value, date) else _float(value), fmt)
            L.put_rag(self.ws.cell(self.row, len(HISTORY_HEADERS)), point.rag)
            self.row += 1
        self.row += 1

    def _problems(self) -> None:
        self._title("Problems")
        for problem in self.status.problems or ["(none)"]:
            L.put(self.ws, self.row, 1, problem)
            self.row += 1

    # --- helpers ---------------------------------------------------------------------------------

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

    def _pair(self, label: str, value: L.Value, number_format: str | None = None, note: str = "") -> None:
        L.put(self.ws, self.row, 1, label).font = L.HEADER_FONT
        L.put(self.ws, self.row, 2, value, number_format)
        if note:
            L.put(self.ws, self.row, 3, note).font = NOTE_FONT
        self.row += 1

    def _values(self, values: Sequence[L.Value], number_format: str) -> None:
        for column, value in enumerate(values, start=1):
            L.put(self.ws, self.row, column, value, None if column == 1 else number_format)
        self.row += 1


def _float(value: Decimal | int | None) -> float | int | None:
    if value is None or isinstance(value, int):
        return value
    return float(value)

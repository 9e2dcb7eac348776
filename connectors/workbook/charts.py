"""A line chart of the charted columns of a note's tables, drawn from the cells they were written to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.chart.layout import Layout, ManualLayout
from openpyxl.chart.marker import Marker
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.worksheet import Worksheet

from ..values import Table

COLOURS = ("2F5597", "548235", "C00000", "A5A5A5", "7030A0", "ED7D31")
"""Line colours in series order: the trend's PV, EV and AC, then the baseline's curve."""
MARKED = 24
"""Series of at most this many points show a marker at each point (status dates); longer ones a line."""
TICKS = (7, 14, 31, 62, 92, 184, 366, 731)
"""Steps between the date axis' labels, in days: a week up to two years. From the first of a month, each
step of 31 days or more lands a little after the first of a later month, so its label (year and month)
names the month it stands for."""


@dataclass(frozen=True)
class Placed:
    """A table written to the sheet: its column headers in ``header_row``, its rows below from column A."""

    table: Table
    header_row: int


def line_chart(ws: Worksheet, placed: list[Placed], title: str, unit: str) -> ScatterChart | None:
    """Each charted column a line against its table's first column (dates), on one chart with ``unit``
    (a currency) on the value axis; None when no table has both a chart and rows."""
    chart = ScatterChart()
    chart.title = title
    chart.style = 2
    dates: list[date] = []
    for item in placed:
        table, first, last = item.table, item.header_row + 1, item.header_row + len(item.table.rows)
        if not table.chart or not table.rows:
            continue
        dates += [row[0] for row in table.rows if isinstance(row[0], date)]
        headers = [column.header for column in table.columns]
        x = Reference(ws, min_col=1, min_row=first, max_row=last)
        for header in table.chart:
            values = Reference(ws, min_col=headers.index(header) + 1, min_row=item.header_row, max_row=last)
            chart.series.append(_series(values, x, len(chart.series), len(table.rows)))
    if not chart.series:
        return None
    chart.y_axis.title = unit
    chart.y_axis.number_format = "#,##0"
    chart.x_axis.number_format = "yyyy-mm"
    if dates:
        _date_axis(chart, min(dates), max(dates))
    chart.x_axis.majorGridlines = None
    chart.legend.position = "b"
    # openpyxl >= 3.1 marks axes as deleted by default; Excel then draws the chart without them
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.plot_area.layout = Layout(manualLayout=ManualLayout(x=0.08, y=0.1, w=0.9, h=0.68))
    return chart


def _series(values: Reference, x: Reference, number: int, points: int) -> Series:
    series = Series(values, x, title_from_data=True)
    series.smooth = False
    colour = COLOURS[number % len(COLOURS)]
    series.graphicalProperties.line.solidFill = colour
    series.graphicalProperties.line.width = 28575  # EMU: 2.25 pt
    series.marker = Marker(symbol="circle" if points <= MARKED else "none", size=6)
    series.marker.graphicalProperties = GraphicalProperties(solidFill=colour)
    series.marker.graphicalProperties.line.solidFill = colour
    return series


def _date_axis(chart: ScatterChart, first: date, last: date) -> None:
    """Span the x axis from the first of ``first``'s month to ``last``, labelled at most about eight times."""
    start = to_excel(first.replace(day=1))
    end = max(to_excel(last), start + 1)
    chart.x_axis.scaling.min = start
    chart.x_axis.scaling.max = end
    chart.x_axis.majorUnit = next((step for step in TICKS if (end - start) / step <= 8), TICKS[-1])

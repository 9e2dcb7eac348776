"""The plan status rendered once, as tracker-neutral notes: one per milestone and one for the plan.

Every tracker shows these same words and figures: Jira and GitLab as a comment per milestone, the workbook
as its Milestones and Status sheets. A milestone note's text carries no status date, so it changes only
when the milestone's outlook changes and an unchanged status writes nothing (which keeps the tracker's
"updated" times, and so the next incremental pull, quiet). The plan's note holds the whole status for
trackers that show a page of it (the workbook's Status sheet).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from connectors.values import Column, Figure, FigureKind, Level, Scalar, StatusNote, Table

from ..analytics import MilestoneStatus, PlanStatus
from ..analytics.earned_schedule import EarnedSchedule
from ..analytics.earned_value import EarnedValue
from ..plan import PlannedValuePoint

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
    ("PD", "planned_duration", "Planned duration: working days of the baseline with planned value"),
    ("DT", "down_time", "Down time: working days of the baseline with no planned value (waits), not in PD"),
    ("AT", "actual_time", "Working days with planned value elapsed at the status date (all, after PD)"),
    ("ES", "es", "Earned schedule: working days with planned value by which today's EV was planned"),
    ("SV(t)", "sv_t", "Schedule variance in time ES - AT, working days; negative is behind"),
    ("SPI(t)", "spi_t", "Schedule performance index in time ES / AT"),
    (
        "IEAC(t)",
        "ieac_t",
        "Independent estimate of the duration PD / SPI(t) + DT, working days (the forecast finish is the "
        "network's)",
    ),
)
STAGE_COLUMNS = (
    ("Stage (closing milestone)", FigureKind.text),
    ("Baseline", FigureKind.date),
    ("Forecast (network)", FigureKind.date),
    ("Variance (working days)", FigureKind.count),
    ("PD", FigureKind.count),
    ("AT", FigureKind.count),
    ("ES", FigureKind.days),
    ("SV(t)", FigureKind.days),
    ("SPI(t)", FigureKind.ratio),
)
CATEGORY_COLUMNS = (
    "Category",
    "Baseline (BAC)",
    "Planned to date (PV)",
    "Earned (EV)",
    "Actual (AC)",
    "Variance (CV = EV - AC)",
    "Forecast at completion (EAC)",
)
TREND_COLUMNS = (
    ("Date", FigureKind.date),
    ("Planned value (PV)", FigureKind.money),
    ("Earned value (EV)", FigureKind.money),
    ("Actual cost (AC)", FigureKind.money),
    ("SPI", FigureKind.ratio),
    ("CPI", FigureKind.ratio),
    ("SPI(t)", FigureKind.ratio),
    ("EAC", FigureKind.money),
    ("Forecast finish", FigureKind.date),
    ("RAG", FigureKind.level),
)


TREND_CHART = [header for header, _ in TREND_COLUMNS[1:4]]
BASELINE_CURVE = "Baseline planned value"


def render_notes(status: PlanStatus, planned_value: Sequence[PlannedValuePoint] = ()) -> list[StatusNote]:
    """The plan's note first, then one note per milestone in plan order; ``planned_value`` is the
    baseline's curve (:attr:`Plan.planned_value`), drawn behind the trend."""
    plan = plan_note(status, planned_value)
    return [plan, *(milestone_note(m, status.currency) for m in status.milestones)]


def milestone_note(milestone: MilestoneStatus, currency: str = "") -> StatusNote:
    m = milestone
    text = (
        f"{m.rag.value.upper()}: forecast {m.forecast} against the baseline {m.baseline}. "
        f"{m.reason[:1].upper()}{m.reason[1:]}."
    )
    return StatusNote(
        key=m.id,
        level=Level(m.rag.value),
        title=m.name,
        text=text,
        currency=currency,
        figures=[
            Figure(name="baseline", label="Baseline", value=m.baseline, kind=FigureKind.date),
            Figure(name="forecast", label="Forecast", value=m.forecast, kind=FigureKind.date),
            Figure(
                name="variance", label="Variance (working days)", value=m.variance_days, kind=FigureKind.count
            ),
            Figure(name="reason", label="Reason", value=m.reason),
        ],
    )


def plan_note(status: PlanStatus, planned_value: Sequence[PlannedValuePoint] = ()) -> StatusNote:
    """The whole status: headline, task counts, earned value, earned schedule, by stage, by category, trend
    (charted with the baseline's curve, when given), problems."""
    slip = (status.forecast_finish - status.baseline_finish).days
    day = FigureKind.date
    headline = [
        Figure(name="status_date", label="Status date", value=status.status_date, kind=FigureKind.date),
        Figure(name="rag", label="RAG", value=status.rag.value, kind=FigureKind.level),
        Figure(name="reason", label="Reason", value=status.reason),
        Figure(name="baseline_finish", label="Baseline finish", value=status.baseline_finish, kind=day),
        Figure(
            name="forecast_finish",
            label="Forecast finish",
            value=status.forecast_finish,
            kind=day,
            note="the remaining work re-scheduled over the plan's links from the status date",
        ),
        Figure(
            name="finish_variance",
            label="Finish variance (calendar days)",
            value=slip,
            kind=FigureKind.count,
            note="positive is late",
        ),
        Figure(name="template", label="Template", value=status.template),
    ]
    counts = status.tasks
    tasks = [
        Figure(name=name, label=label, value=value, kind=FigureKind.count, group="Tasks")
        for name, label, value in (
            ("not_started", "Not started", counts.not_started),
            ("in_progress", "In progress", counts.in_progress),
            ("done", "Done", counts.done),
            ("total", "Total", counts.not_started + counts.in_progress + counts.done),
        )
    ]
    return StatusNote(
        key=None,
        level=Level(status.rag.value),
        title=f"Plan status at {status.status_date.isoformat()}",
        text=status.reason,
        currency=status.currency,
        figures=[*headline, *tasks, *_earned_value(status), *_earned_schedule(status)],
        tables=[
            _stages(status),
            _categories(status),
            _trend(status),
            _problems(status),
            *_baseline_curve(planned_value, status.currency),
        ],
    )


def _earned_value(status: PlanStatus) -> list[Figure]:
    ev = status.earned_value
    group = f"Earned value ({status.currency})"
    figures = []
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
        kind = FigureKind.ratio if name in RATIOS else FigureKind.money
        figures.append(Figure(name=name, label=label, value=value, kind=kind, note=note, group=group))
    figures.append(
        Figure(
            name="unallocated_ac",
            label="Unallocated AC",
            value=status.unallocated_actual_cost,
            kind=FigureKind.money,
            note="Expenses not tied to a task",
            group=group,
        )
    )
    return figures


def _earned_schedule(status: PlanStatus) -> list[Figure]:
    es = status.earned_schedule
    figures = []
    for label, name, meaning in ES_ROWS:
        value = getattr(es, name)
        if name == "spi_t":
            kind = FigureKind.ratio
        else:
            kind = FigureKind.count if isinstance(value, int) else FigureKind.days
        note = meaning if value is not None else f"{meaning}: not available, {es.unavailable.get(name)}"
        group = "Earned schedule (working days)"
        figures.append(Figure(name=name, label=label, value=value, kind=kind, note=note, group=group))
    return figures


def _stages(status: PlanStatus) -> Table:
    """Each stage's own earned schedule, and its closing milestone (e.g. the certificate) from the network."""
    rows: list[list[Scalar]] = [
        [s.name, s.baseline, s.forecast, s.variance_days, *_stage_figures(s.earned_schedule)]
        for s in status.stages
    ]
    columns = [Column(header=header, kind=kind) for header, kind in STAGE_COLUMNS]
    return Table(title="Schedule by stage (working days with planned value)", columns=columns, rows=rows)


def _stage_figures(es: EarnedSchedule) -> list[Scalar]:
    return [es.planned_duration, es.actual_time, es.es, es.sv_t, es.spi_t]


def _categories(status: PlanStatus) -> Table:
    columns = [Column(header=CATEGORY_COLUMNS[0])]
    columns += [Column(header=h, kind=FigureKind.money) for h in CATEGORY_COLUMNS[1:]]
    rows = [_money_row(category.value.capitalize(), ev) for category, ev in status.by_category.items()]
    rows.append(_money_row("Total", status.earned_value))
    return Table(title=f"By cost category ({status.currency})", columns=columns, rows=rows, total_row=True)


def _money_row(label: str, ev: EarnedValue) -> list[Scalar]:
    return [label, ev.bac, ev.pv, ev.ev, ev.ac, ev.cv, ev.eac]


def _trend(status: PlanStatus) -> Table:
    rows: list[list[Scalar]] = [
        [p.status_date, p.pv, p.ev, p.ac, p.spi, p.cpi, p.spi_t, p.eac, p.forecast_finish, p.rag.value]
        for p in status.history
    ]
    columns = [Column(header=header, kind=kind) for header, kind in TREND_COLUMNS]
    return Table(title=f"Trend ({status.currency})", columns=columns, rows=rows, chart=TREND_CHART)


def _problems(status: PlanStatus) -> Table:
    return Table(
        title="Problems",
        columns=[Column(header="Problem")],
        rows=[[problem] for problem in status.problems or ["(none)"]],
    )


def _baseline_curve(points: Sequence[PlannedValuePoint], currency: str) -> list[Table]:
    """The baseline's cumulative planned value on its first and last day and at each month end between,
    flat stretches cut to their ends: the S-curve the trend is charted against (none without points)."""
    if not points:
        return []
    days = [point.date for point in points]
    rows: list[list[Scalar]] = [
        [day, points[bisect_right(days, day) - 1].cumulative]
        for day in (days[0], *_month_ends(days[0], days[-1]), days[-1])
    ]
    rows = [
        row
        for before, row, after in zip([None, *rows[:-1]], rows, [*rows[1:], None], strict=True)
        if before is None or after is None or not before[1] == row[1] == after[1]
    ]
    columns = [
        Column(header="Date", kind=FigureKind.date),
        Column(header=BASELINE_CURVE, kind=FigureKind.money),
    ]
    title = f"Baseline planned value ({currency}, cumulative at month ends)"
    return [Table(title=title, columns=columns, rows=rows, chart=[BASELINE_CURVE])]


def _month_ends(first: date, last: date) -> list[date]:
    """The last days of months strictly between ``first`` and ``last``."""
    ends = []
    month = first.replace(day=1)
    while month <= last:
        month = (month + timedelta(days=32)).replace(day=1)
        if first < month - timedelta(days=1) < last:
            ends.append(month - timedelta(days=1))
    return ends

"""The sponsors' weekly status digest: subject, Outlook-safe HTML, 80-column text and the trend chart.

Pure: values in, values out. The HTML comes from a Jinja2 template with autoescape on (every tracker
string arrives as text), laid out in tables with its CSS inlined at render time (Outlook's Word engine
ignores <style> blocks in places); the text part is laid out here, to 80 columns, with the same content.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

import css_inline
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ..analytics import MilestoneStatus, PlanStatus
from ..analytics.attention import TaskAttention
from ..analytics.rag import Rag
from ..plan import Plan
from ..template.model import CostCategory
from .chart import HEIGHT_PX, TREND_WEEKS, WIDTH_PX, trend_chart

SUBJECT_MAX = 118
WIDTH = 80
COMING_UP_DAYS = 28
LIST_MAX = 8
"""Longest task list shown; the rest are counted and left to the tracker."""
CATEGORY_LABELS = {
    CostCategory.consulting: "Consulting",
    CostCategory.certification: "Certification",
    CostCategory.training: "Training",
    CostCategory.materials: "Materials and publicity",
    CostCategory.tools: "Tools and software",
    CostCategory.internal: "Internal effort",
}
RAG_COLOURS = {  # background, text
    Rag.red: ("#C62828", "#FFFFFF"),
    Rag.amber: ("#FFB300", "#1A1A1A"),
    Rag.green: ("#2E7D32", "#FFFFFF"),
}
NO_CHART = "No cost or schedule index yet: the chart starts once work is earned and costs are booked."
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class DigestInput:
    plan_name: str
    plan_key: str
    week: str  # ISO week, e.g. "2027-W05"
    status: PlanStatus
    previous: PlanStatus | None  # the status a week earlier, for "completed this week"
    baseline: Plan
    certificate_milestone: str | None  # task id of the certificate milestone, if known
    budget_limit: Decimal | None
    outages: list[str]  # tracker/mail outages since the last digest, to name
    tracker_location: str


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    html: str
    text: str
    images: dict[str, bytes]  # content-id -> PNG


# -- the view: every string the templates show, already formatted ---------------------------------------


@dataclass(frozen=True)
class Colour:
    bg: str
    fg: str
    label: str


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Decision:
    title: str
    detail: str


@dataclass(frozen=True)
class MilestoneRow:
    name: str
    baseline: str
    forecast: str
    variance: str
    note: str
    colour: Colour
    reached: bool


@dataclass(frozen=True)
class TaskRow:
    name: str
    due: str
    forecast: str
    done: str


@dataclass(frozen=True)
class BudgetRow:
    label: str
    baseline: str
    actual: str
    forecast: str
    variance: str
    overrun: bool = False
    total: bool = False


@dataclass(frozen=True)
class TaskList:
    title: str
    empty: str
    rows: list[TaskRow]
    more: int = 0


@dataclass(frozen=True)
class View:
    plan_name: str
    week: str
    status_date: str
    currency: str
    rag: Colour
    reason: str
    last_week: str
    certificate: Fact
    certificate_colour: Colour | None
    figures: list[Fact]
    decisions: list[Decision]
    outages: list[str]
    milestones: list[MilestoneRow]
    coming_up: list[MilestoneRow]
    completed: list[str]
    completed_note: str
    task_lists: list[TaskList]
    budget: list[BudgetRow]
    budget_note: str
    chart_cid: str | None
    chart_note: str
    problems: list[str]
    problems_more: int
    tracker: str
    tracker_url: str | None
    preheader: str
    coming_up_days: int = COMING_UP_DAYS
    trend_weeks: int = TREND_WEEKS
    chart_width: int = WIDTH_PX
    chart_height: int = HEIGHT_PX


def render_digest(data: DigestInput) -> RenderedDigest:
    """The digest for one plan and week: subject, HTML with its inline images, and plain text."""
    chart = trend_chart(data.status.history)
    cid = f"trend.{_token(data.plan_key)}.{_token(data.week)}@iso20k-sync" if chart else None
    view = _view(data, cid)
    subject = _subject(data)
    html = _inliner().inline(_environment().get_template("digest.html").render(v=view, subject=subject))
    return RenderedDigest(
        subject=subject,
        html=html,
        text=_text(view),
        images={cid: chart} if cid and chart else {},
    )


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("iso20k_sync.digest", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def _inliner() -> css_inline.CSSInliner:
    return css_inline.CSSInliner(keep_style_tags=False, keep_link_tags=False, load_remote_stylesheets=False)


# -- subject -------------------------------------------------------------------------------------------


def _subject(data: DigestInput) -> str:
    """One line, cut to SUBJECT_MAX characters: "<plan> · <week> · <RAG>: <short reason>"."""
    name = _shorten(_one_line(data.plan_name), 48)
    head = f"{name} · {_one_line(data.week)} · {data.status.rag.value.upper()}: "
    return head + _shorten(_short_reason(data.status), max(SUBJECT_MAX - len(head), 12))


def _short_reason(status: PlanStatus) -> str:
    m = _reason_milestone(status)
    if m is None:
        return _one_line(status.reason.split(";")[0])
    name = m.name.removeprefix("Gate: ")
    return f"{name} past due" if m.baseline < status.status_date else f"{name} {_days(m.variance_days)} late"


def _reason_milestone(status: PlanStatus) -> MilestoneStatus | None:
    """The milestone the plan's reason is about, if it is about one."""
    return next((m for m in status.milestones if status.reason.startswith(f"milestone {m.name!r}")), None)


def _headline(status: PlanStatus, plan: Plan) -> str:
    """The plan's reason as a sentence, with dates and task names for a milestone's."""
    m = _reason_milestone(status)
    if m is None:
        return _sentence(status.reason)
    held = f", held up by “{_task_name(plan, m.waits_on)}”" if m.waits_on else ""
    if m.baseline < status.status_date:
        return (
            f"“{m.name}” is past due since {_date(m.baseline)}: now forecast {_date(m.forecast)}, "
            f"{_days(m.variance_days)} late{held}."
        )
    return f"“{m.name}” is forecast {_date(m.forecast)}, {_lateness(m.variance_days)}{held}."


def _one_line(text: str) -> str:
    """Every run of white space or control characters (CR and LF included) as one space."""
    return re.sub(r"[\s\x00-\x1f\x7f]+", " ", text).strip()


def _shorten(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    cut = text[: width - 1].rsplit(" ", 1)[0] if " " in text[: width - 1] else text[: width - 1]
    return cut.rstrip(" ,;:·") + "…"


def _token(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-")[:40] or "plan"


# -- the view ------------------------------------------------------------------------------------------


def _view(data: DigestInput, chart_cid: str | None) -> View:
    status, plan = data.status, data.baseline
    certificate, certificate_colour = _certificate(data)
    decisions = _decisions(data)
    rag = _colour(status.rag)
    outages = [_shorten(_one_line(o), 160) for o in data.outages if o.strip()]
    if len(outages) > LIST_MAX:
        outages = [*outages[: LIST_MAX - 1], f"and {len(outages) - LIST_MAX + 1} more"]
    url = data.tracker_location.strip()
    completed, completed_note = _completed(data)
    return View(
        plan_name=_one_line(data.plan_name),
        week=_one_line(data.week),
        status_date=_date(status.status_date),
        currency=status.currency,
        rag=rag,
        reason=_headline(status, plan),
        last_week=f"{data.previous.rag.value} last week" if data.previous else "",
        certificate=certificate,
        certificate_colour=certificate_colour,
        figures=_figures(data),
        decisions=decisions,
        outages=outages,
        milestones=_milestone_rows(_in_date_order(status.milestones), plan),
        coming_up=_milestone_rows(_coming_up(status), plan),
        completed=completed,
        completed_note=completed_note,
        task_lists=_task_lists(status),
        budget=_budget(data),
        budget_note=_budget_note(status),
        chart_cid=chart_cid,
        chart_note="" if chart_cid else NO_CHART,
        problems=[_one_line(p) for p in status.problems[:LIST_MAX]],
        problems_more=max(len(status.problems) - LIST_MAX, 0),
        tracker=url,
        tracker_url=url if re.fullmatch(r"https?://[^\s\"'<>]+", url) else None,
        preheader=f"{certificate.label} {certificate.value} ({certificate.note.split(';')[0]}) · "
        + (f"{_plural(len(decisions), 'decision')} needed from you" if decisions else "no decision needed"),
    )


def _colour(rag: Rag) -> Colour:
    bg, fg = RAG_COLOURS[rag]
    return Colour(bg=bg, fg=fg, label=rag.value.upper())


def _in_date_order(milestones: Iterable[MilestoneStatus]) -> list[MilestoneStatus]:
    return sorted(milestones, key=lambda m: (m.baseline, m.forecast, m.id))


def _certificate(data: DigestInput) -> tuple[Fact, Colour | None]:
    """The certificate's forecast (or the plan's finish, when the certificate is not known) against its
    target date, and how it moved since last week."""
    status = data.status
    m = _find(status.milestones, data.certificate_milestone)
    if m is None:
        late = (status.forecast_finish - status.baseline_finish).days
        lateness = (
            "on time" if late == 0 else f"{_plural(abs(late), 'day')} {'late' if late > 0 else 'early'}"
        )
        note = f"target {_date(status.baseline_finish)}, {lateness}"
        return Fact("Plan finish forecast", _date(status.forecast_finish), note), None
    note = f"target {_date(m.baseline)}, {_lateness(m.variance_days)}"
    if m.reached:
        return Fact("Certificate issued", _date(m.forecast), note), _colour(m.rag)
    before = _find(data.previous.milestones, m.id) if data.previous else None
    if before is not None and not before.reached:
        moved = (m.forecast - before.forecast).days
        note += "; " + (
            "unchanged since last week"
            if moved == 0
            else f"{_plural(abs(moved), 'day')} {'later' if moved > 0 else 'earlier'} than forecast last week"
        )
    return Fact("Certificate forecast", _date(m.forecast), note), _colour(m.rag)


def _find(milestones: Iterable[MilestoneStatus], task_id: str | None) -> MilestoneStatus | None:
    return next((m for m in milestones if m.id == task_id), None) if task_id else None


def _figures(data: DigestInput) -> list[Fact]:
    status = data.status
    ev, es = status.earned_value, status.earned_schedule
    currency = status.currency
    cost = f"{_money(ev.eac)} {currency}" if ev.eac is not None else "–"
    if ev.vac is not None and ev.vac:
        cost += f", {_money(abs(ev.vac))} {'over' if ev.vac < 0 else 'under'} the {_money(ev.bac)} baseline"
    if data.budget_limit is not None:
        cost += f" (limit {_money(data.budget_limit)})"
    spent = f"{_money(ev.ac)} {currency}; work worth {_money(ev.ev)} done of {_money(ev.pv)} planned by now"
    return [
        Fact("Forecast cost at completion", cost),
        Fact("Spent to date", spent),
        Fact(
            "Cost performance (CPI)",
            _index(ev.cpi),
            _index_note(
                ev.cpi, ev.unavailable.get("cpi"), "the work done cost more than planned", "under cost"
            ),
        ),
        Fact(
            "Schedule performance (SPI(t))",
            _index(es.spi_t),
            _index_note(es.spi_t, es.unavailable.get("spi_t"), "behind schedule", "ahead of schedule"),
        ),
        Fact(
            "Tasks",
            f"{status.tasks.done} done, {status.tasks.in_progress} in progress, "
            f"{status.tasks.not_started} not started",
        ),
    ]


def _index(value: Decimal | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _index_note(value: Decimal | None, why: str | None, below: str, above: str) -> str:
    if value is None:
        return f"not measured yet: {why}" if why else "not measured yet"
    if value.quantize(Decimal("0.01")) == 1:
        return "on plan"
    return f"below 1.00: {below}" if value < 1 else f"above 1.00: {above}"


def _week_end(data: DigestInput) -> date:
    """Sunday of the digest's ISO week (six days after the status date if the week does not parse)."""
    found = re.fullmatch(r"(\d{4})-W(\d{2})", data.week.strip())
    if found:
        try:
            return date.fromisocalendar(int(found[1]), int(found[2]), 7)
        except ValueError:
            pass
    return data.status.status_date + timedelta(days=6)


def _decisions(data: DigestInput) -> list[Decision]:
    """Gates awaiting approval (baseline past or within the week, not reached) and a budget overrun."""
    status, plan = data.status, data.baseline
    week_end = max(_week_end(data), status.status_date)
    decisions = []
    for m in _in_date_order(status.milestones):
        if m.reached or m.baseline > week_end:
            continue
        due = (
            f"past due since {_date(m.baseline)}"
            if m.baseline < status.status_date
            else f"due {_date(m.baseline)}"
        )
        detail = [due, f"now forecast {_date(m.forecast)}"]
        owner = _owner(plan, m.id)
        if owner:
            detail.append(f"owner: {owner}")
        if m.waits_on:
            detail.append(f"held up by “{_task_name(plan, m.waits_on)}”")
        decisions.append(Decision(f"Approve or unblock “{m.name}”", "; ".join(detail)))
    eac = status.earned_value.eac
    if data.budget_limit is not None and eac is not None and eac > data.budget_limit:
        over = eac - data.budget_limit
        decisions.append(
            Decision(
                "Forecast cost exceeds the budget limit",
                f"forecast at completion {_money(eac)} {status.currency} is {_money(over)} over the limit "
                f"of {_money(data.budget_limit)}: approve the overrun or agree where to cut",
            )
        )
    return decisions


def _owner(plan: Plan, task_id: str) -> str | None:
    task = next((t for t in plan.tasks if t.id == task_id), None)
    if task is None or task.owner is None:
        return None
    return next((r.name for r in plan.roles if r.id == task.owner), task.owner)


def _task_name(plan: Plan, task_id: str) -> str:
    return next((t.name for t in plan.tasks if t.id == task_id), task_id)


def _milestone_rows(milestones: Sequence[MilestoneStatus], plan: Plan) -> list[MilestoneRow]:
    """Rows in the given order; the task holding a milestone up is named where it changes."""
    rows, held = [], None
    for m in milestones:
        note = "reached" if m.reached else ""
        if m.waits_on and m.waits_on != held:
            note = f"held up by “{_task_name(plan, m.waits_on)}”"
        held = m.waits_on
        rows.append(
            MilestoneRow(
                name=m.name,
                baseline=_date(m.baseline),
                forecast=_date(m.forecast),
                variance=f"{m.variance_days:+d}" if m.variance_days else "0",
                note=note,
                colour=_colour(m.rag),
                reached=m.reached,
            )
        )
    return rows


def _coming_up(status: PlanStatus) -> list[MilestoneStatus]:
    """Open milestones not past due whose baseline or forecast falls in the four weeks after the status
    date."""
    start, end = status.status_date, status.status_date + timedelta(days=COMING_UP_DAYS)
    return [
        m
        for m in _in_date_order(status.milestones)
        if not m.reached and m.baseline >= start and (m.baseline <= end or m.forecast <= end)
    ]


def _attention_ids(status: PlanStatus) -> dict[str, str]:
    a = status.attention
    return {t.id: t.name for t in (*a.late, *a.due, *a.in_progress)}


def _completed(data: DigestInput) -> tuple[list[str], str]:
    """Tasks done now and not done a week earlier, and a note on what could not be named.

    A milestone's state is in the status; a task's shows through the attention lists: one listed a week
    ago (so not done then) and listed nowhere now has been finished. The task counts tell how many finished
    in all, so any finished without ever being listed (early, quickly) are counted, not named."""
    status, previous = data.status, data.previous
    if previous is None:
        return [], "No status from a week earlier to compare with."
    reached_before = {m.id for m in previous.milestones if m.reached}
    names = [m.name for m in _in_date_order(status.milestones) if m.reached and m.id not in reached_before]
    now = _attention_ids(status)
    names += [name for task_id, name in _attention_ids(previous).items() if task_id not in now]
    unnamed = status.tasks.done - previous.tasks.done - len(names)
    if unnamed > 0:
        return names, f"and {unnamed} more task{'s' if unnamed != 1 else ''} (see the tracker)"
    return names, "" if names else "Nothing was completed this week."


def _task_lists(status: PlanStatus) -> list[TaskList]:
    a = status.attention
    at_risk = sorted(
        (t for t in (*a.due, *a.in_progress) if t.variance_days > 0), key=lambda t: (t.finish, t.name)
    )
    return [
        _task_list("Overdue", "No task is overdue.", a.late),
        _task_list("At risk: forecast to finish late", "No other task is forecast late.", at_risk),
    ]


def _task_list(title: str, empty: str, tasks: Sequence[TaskAttention]) -> TaskList:
    rows = [
        TaskRow(
            name=t.name,
            due=_date(t.finish),
            forecast=_date(t.forecast_finish),
            done="–" if t.percent_complete is None else f"{t.percent_complete:.0f}%",
        )
        for t in tasks[:LIST_MAX]
    ]
    return TaskList(title=title, empty=empty, rows=rows, more=max(len(tasks) - LIST_MAX, 0))


def _budget(data: DigestInput) -> list[BudgetRow]:
    """The five cost parts, internal effort and the plan's total: baseline, actual, forecast, variance."""
    status, excluded = data.status, set(data.baseline.excluded_categories)
    rows = []
    for category, label in CATEGORY_LABELS.items():
        ev = status.by_category.get(category)
        if category in excluded or ev is None:
            rows.append(BudgetRow(label, "not included", "", "", ""))
            continue
        rows.append(_budget_row(label, ev.bac, ev.ac, ev.eac))
    total = status.earned_value
    rows.append(_budget_row("Total", total.bac, total.ac, total.eac, total=True))
    return rows


def _budget_row(label: str, bac: Decimal, ac: Decimal, eac: Decimal | None, total: bool = False) -> BudgetRow:
    variance = None if eac is None else bac - eac
    return BudgetRow(
        label=label,
        baseline=_money(bac),
        actual=_money(ac),
        forecast="–" if eac is None else _money(eac),
        variance="–" if variance is None else _money(variance, signed=True),
        overrun=variance is not None and variance < 0,
        total=total,
    )


def _budget_note(status: PlanStatus) -> str:
    parts = sum((ev.eac or ev.bac for ev in status.by_category.values()), Decimal(0))
    note = "Variance: baseline minus forecast; negative is an overrun."
    total = status.earned_value.eac
    if total is not None and abs(parts - total) >= 1:
        note += (
            " The total is forecast from the whole plan's figures and each part from its own, so the parts"
            " need not add up to the total."
        )
    return note


# -- formatting ----------------------------------------------------------------------------------------


def _date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _money(value: Decimal, signed: bool = False) -> str:
    text = f"{abs(value):,.0f}"
    if text == "0":
        return "0"
    return ("-" if value < 0 else "+" if signed else "") + text


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if abs(count) != 1 else ''}"


def _days(count: int) -> str:
    return _plural(count, "working day")


def _lateness(variance: int) -> str:
    if variance == 0:
        return "on time"
    return f"{_days(abs(variance))} {'late' if variance > 0 else 'early'}"


def _sentence(text: str) -> str:
    text = _one_line(text)
    return (text[:1].upper() + text[1:]).rstrip(".") + "." if text else ""


# -- the plain-text part -------------------------------------------------------------------------------


def _text(v: View) -> str:
    """The same content as the HTML, for 80 columns."""
    out: list[str] = []
    out += _wrap(v.plan_name)
    out += [f"Weekly status {v.week}, status date {v.status_date}", "=" * WIDTH, ""]
    out += _wrap(f"STATUS: {v.rag.label}" + (f" ({v.last_week})" if v.last_week else ""))
    out += _wrap(v.reason, indent="  ")
    certificate = v.certificate.label
    if v.certificate_colour:
        certificate += f" [{v.certificate_colour.label}]"
    certificate += f": {v.certificate.value} ({v.certificate.note})"
    out += ["", *_wrap(certificate, indent="  ")]

    out += _heading("Decisions needed from you")
    if not v.decisions:
        out.append("None this week.")
    for d in v.decisions:
        out += _wrap(d.title, first="* ", indent="  ")
        out += _wrap(d.detail, indent="  ")
    if v.outages:
        out += _heading("Outages since the last digest")
        out += _wrap("Figures may miss updates made during these outages.")
        for outage in v.outages:
            out += _wrap(outage, first="* ", indent="  ")

    out += _heading("Key figures")
    for f in v.figures:
        out += _wrap(f"{f.label}: {f.value}" + (f" – {f.note}" if f.note else ""), indent="  ")

    out += _heading("Milestones (dates; variance in working days)")
    out += _milestone_lines(v.milestones)
    out += _heading(f"Milestones due in the next {v.coming_up_days // 7} weeks")
    out += _milestone_lines(v.coming_up) if v.coming_up else ["None."]

    out += _heading("Completed this week")
    for name in v.completed:
        out += _wrap(name, first="* ", indent="  ")
    if v.completed_note:
        out += _wrap(v.completed_note)
    for tasks in v.task_lists:
        out += _heading(tasks.title)
        if not tasks.rows:
            out.append(tasks.empty)
        for t in tasks.rows:
            out += _wrap(t.name, first="* ", indent="  ")
            out.append(f"  due {t.due}, forecast {t.forecast}, {t.done} done")
        if tasks.more:
            out.append(f"and {tasks.more} more (see the tracker)")

    out += _heading(f"Budget ({v.currency})")
    columns = (23, 13, 13, 14, 13)
    header = ("", "Baseline", "Actual", "Forecast", "Variance")
    out.append(_columns(header, columns))
    for row in v.budget:
        if row.total:
            out.append("-" * sum(columns))
        out.append(_columns((row.label, row.baseline, row.actual, row.forecast, row.variance), columns))
    out += _wrap(v.budget_note)

    out += _heading(f"Cost and schedule performance, last {v.trend_weeks} weeks")
    out += _wrap("CPI and SPI(t) are charted in the HTML version." if v.chart_cid else v.chart_note)

    if v.problems:
        out += _heading("Data problems")
        for problem in v.problems:
            out += _wrap(problem, first="* ", indent="  ")
        if v.problems_more:
            out.append(f"and {v.problems_more} more")
    out += ["", "-" * WIDTH]
    if v.tracker:
        out += _wrap(f"Details, tasks and owners are in the tracker: {v.tracker}")
    return "\n".join(out) + "\n"


def _heading(title: str) -> list[str]:
    return ["", title.upper(), "-" * min(len(title), WIDTH)]


def _wrap(text: str, first: str = "", indent: str = "") -> list[str]:
    return textwrap.wrap(
        text, WIDTH, initial_indent=first or indent, subsequent_indent=indent, break_on_hyphens=False
    ) or [""]


def _columns(cells: Sequence[str], widths: Sequence[int]) -> str:
    label, *rest = cells
    return (
        label.ljust(widths[0]) + "".join(c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))
    ).rstrip()


def _milestone_lines(rows: Sequence[MilestoneRow]) -> list[str]:
    lines = [f"{'RAG':<6} {'Baseline':<11} {'Forecast':<11} {'Var':>4}  Milestone"]
    for r in rows:
        lead = f"{r.colour.label:<6} {r.baseline:<11} {r.forecast:<11} {r.variance:>4}  "
        name = r.name + (f" ({r.note})" if r.note else "")
        lines += textwrap.wrap(name, WIDTH, initial_indent=lead, subsequent_indent=" " * len(lead))
    return lines

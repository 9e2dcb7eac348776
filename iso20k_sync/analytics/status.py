"""The plan status at a status date: earned value, earned schedule for the plan and per stage, per category
and phase, milestone forecasts with RAG, and the trend of earlier statuses. Pure: values in, values out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from ..budget import planned_cents
from ..calendar import WorkCalendar
from ..gc_pause import without_gc_pauses
from ..plan import Plan, PlannedTask
from ..template.model import CostCategory, EarnedValueRule
from .attention import Attention, tasks_needing_attention
from .earned_schedule import EarnedSchedule, earned_schedule
from .earned_value import EarnedValue, earned_value
from .forecast import Forecast, ProgressCalendar, baseline_days, forecast_tasks
from .progress import Expense, TaskProgress, TaskState
from .rag import Rag, Verdict, worst
from .settings import AnalyticsSettings, RagThresholds
from .stages import Stage, plan_stages, planned_curve

ZERO = Decimal(0)


class MilestoneStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    phase: str
    baseline: date
    forecast: date = Field(description="Actual date when reached, otherwise the forecast")
    variance_days: int = Field(description="Working days forecast minus baseline; positive is late")
    reached: bool
    critical: bool
    rag: Rag
    reason: str = Field(
        description="Why, in a few words, without the dates (e.g. '30 working days late: waits on "
        "define-scope'); milestone_summary() reads alone"
    )
    waits_on: str | None = Field(
        default=None,
        description="Not reached and late: the late task at the head of the links that set its forecast",
    )


class StageStatus(BaseModel):
    """One stage of the baseline (see :mod:`.stages`): its schedule performance and its closing date."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="The name of the milestone closing the stage")
    milestone: str = Field(description="Id of the milestone closing the stage (its last task if none)")
    start: date = Field(description="Baseline start of the stage's first task")
    baseline: date = Field(description="Baseline date of the closing milestone")
    forecast: date = Field(description="Closing milestone's actual date, or its forecast from the network")
    variance_days: int = Field(description="Working days forecast minus baseline; positive is late")
    reached: bool
    earned_schedule: EarnedSchedule = Field(description="The stage's own: its days, its planned value")


class StatusPoint(BaseModel):
    """One earlier status, kept for trends."""

    model_config = ConfigDict(frozen=True)

    status_date: date
    pv: Decimal
    ev: Decimal
    ac: Decimal
    spi: Decimal | None
    cpi: Decimal | None
    spi_t: Decimal | None
    eac: Decimal | None
    forecast_finish: date
    rag: Rag


class TaskCounts(BaseModel):
    model_config = ConfigDict(frozen=True)

    not_started: int
    in_progress: int
    done: int


class PlanStatus(BaseModel):
    """Everything a sponsor needs to know at one status date (documented in docs/analytics.md)."""

    model_config = ConfigDict(frozen=True)

    status_date: date
    currency: str
    template: str
    baseline_finish: date
    forecast_finish: date
    rag: Rag
    reason: str
    tasks: TaskCounts
    earned_value: EarnedValue
    earned_schedule: EarnedSchedule
    stages: list[StageStatus] = Field(default=[], description="Schedule performance stage by stage")
    by_category: dict[CostCategory, EarnedValue]
    by_phase: dict[str, EarnedValue]
    unallocated_actual_cost: Decimal = Field(
        description="Expenses not tied to a task: in totals, not in phases"
    )
    milestones: list[MilestoneStatus] = Field(description="In date order: baseline, then forecast")
    attention: Attention = Field(
        default=Attention(), description="Unfinished tasks to look at: late, due in two weeks, in progress"
    )
    problems: list[str] = Field(description="Progress facts or expenses that could not be used, and why")
    history: list[StatusPoint] = Field(description="Earlier statuses and this one, oldest first")


@dataclass
class _Sums:
    """Running money totals for one scope (plan, category or phase)."""

    bac: Decimal = ZERO
    pv: Decimal = ZERO
    ev: Decimal = ZERO
    ac: Decimal = ZERO
    etc: Decimal = ZERO
    has_remaining: bool = False

    def figures(self, settings: AnalyticsSettings, bottom_up: bool = False) -> EarnedValue:
        etc = self.etc if bottom_up and self.has_remaining else None
        return earned_value(self.bac, self.pv, self.ev, self.ac, etc, settings.eac_method)


@without_gc_pauses
def plan_status(
    plan: Plan,
    progress: Iterable[TaskProgress],
    expenses: Iterable[Expense],
    status_date: date,
    settings: AnalyticsSettings | None = None,
    history: Sequence[StatusPoint] = (),
) -> PlanStatus:
    settings = settings or AnalyticsSettings()
    days = ProgressCalendar(WorkCalendar(plan.calendar, plan.start), status_date)
    problems: list[str] = []
    tasks = {t.id: t for t in plan.tasks}
    facts: dict[str, TaskProgress] = {}
    for fact in progress:
        if fact.task_id in tasks:
            facts[fact.task_id] = fact
        else:
            problems.append(f"progress for task {fact.task_id!r} ignored: it is not in the plan")
    rates = {r.id: (r.day_rate, r.category) for r in plan.roles}

    total = _Sums()
    by_category = {c: _Sums() for c in CostCategory}
    by_phase = {p.id: _Sums() for p in plan.phases}
    task_ev: dict[str, Decimal] = {}
    for task in plan.tasks:
        fact = facts.get(task.id)
        scopes = (total, by_phase[task.phase])
        earned = _earned_fraction(task, fact)
        elapsed_days = _elapsed(task, days.cutoff)
        task_ev[task.id] = ZERO
        for category, amount in task.costs.items():
            planned = Decimal(planned_cents(int(amount * 100), max(task.duration, 1), elapsed_days)) / 100
            task_ev[task.id] += amount * earned
            for sums in (*scopes, by_category[category]):
                sums.bac += amount
                sums.pv += planned
                sums.ev += amount * earned
        for category, amount in actual_costs(task, fact, rates, problems).items():
            for sums in (*scopes, by_category[category]):
                sums.ac += amount
        remaining = _remaining(task, fact, rates, earned)
        for sums in scopes:
            sums.etc += remaining if remaining is not None else task.cost * (1 - earned)
            sums.has_remaining |= remaining is not None

    unallocated = ZERO
    for expense in expenses:
        if expense.date > status_date:
            continue
        if expense.currency != plan.currency:
            problems.append(
                f"expense {expense.reference or expense.amount} ignored: "
                f"it is in {expense.currency}, the plan in {plan.currency}"
            )
            continue
        total.ac += expense.amount
        by_category[expense.category].ac += expense.amount
        task = tasks.get(expense.task_id or "")
        if task is not None:
            by_phase[task.phase].ac += expense.amount
        else:
            unallocated += expense.amount

    overall = total.figures(settings, bottom_up=True)
    forecasts = forecast_tasks(plan, facts, days)
    forecast_finish = days.calendar.date_of(max((f.last for f in forecasts.values()), default=0))
    schedule_figures = _measure(plan.tasks, 0, max(plan.duration, 1), total.ev, facts, forecasts, days.cutoff)
    stages = [
        _stage_status(stage, task_ev, facts, forecasts, days)
        for stage in plan_stages(plan.tasks, settings.stage_gap_days)
    ]
    milestones = sorted(
        (
            _milestone(task, tasks, facts, forecasts, days, status_date, settings.rag)
            for task in plan.tasks
            if task.milestone
        ),
        key=lambda m: (m.baseline, m.forecast),
    )
    verdict = _plan_verdict(milestones, overall, schedule_figures, settings.rag, status_date)
    states = [(facts[t.id].effective_state if t.id in facts else TaskState.not_started) for t in plan.tasks]
    point = StatusPoint(
        status_date=status_date,
        pv=overall.pv,
        ev=overall.ev,
        ac=overall.ac,
        spi=overall.spi,
        cpi=overall.cpi,
        spi_t=schedule_figures.spi_t,
        eac=overall.eac,
        forecast_finish=forecast_finish,
        rag=verdict.rag,
    )
    return PlanStatus(
        status_date=status_date,
        currency=plan.currency,
        template=plan.template.id,
        baseline_finish=plan.finish,
        forecast_finish=forecast_finish,
        rag=verdict.rag,
        reason=verdict.reason,
        tasks=TaskCounts(**{s.value: states.count(s) for s in TaskState}),
        earned_value=overall,
        earned_schedule=schedule_figures,
        stages=stages,
        by_category={c: sums.figures(settings) for c, sums in by_category.items()},
        by_phase={p: sums.figures(settings, bottom_up=True) for p, sums in by_phase.items()},
        unallocated_actual_cost=unallocated,
        milestones=milestones,
        attention=tasks_needing_attention(plan, facts, forecasts, days, status_date),
        problems=problems,
        history=sorted(
            [*(h for h in history if h.status_date != status_date), point], key=lambda h: h.status_date
        ),
    )


def _earned_fraction(task: PlannedTask, fact: TaskProgress | None) -> Decimal:
    if fact is None:
        return ZERO
    state = fact.effective_state
    if task.ev_rule is EarnedValueRule.zero_hundred:
        return Decimal(1) if state is TaskState.done else ZERO
    if task.ev_rule is EarnedValueRule.fifty_fifty:
        return {
            TaskState.not_started: ZERO,
            TaskState.in_progress: Decimal("0.5"),
            TaskState.done: Decimal(1),
        }[state]
    return fact.fraction_complete


def _elapsed(task: PlannedTask, cutoff: int) -> int:
    """Working days of the task's baseline span that lie on or before the status date."""
    return min(max(cutoff - baseline_days(task).first, 0), max(task.duration, 1))


def actual_costs(
    task: PlannedTask,
    fact: TaskProgress | None,
    rates: dict[str, tuple[Decimal, CostCategory]],
    problems: list[str],
) -> dict[CostCategory, Decimal]:
    """Actual cost by category: the tracker's cost figure if it has one, else time spent x day rates.

    A cost figure is spread over the task's categories in its baseline proportions (all to the
    owner's category when the task has no baseline cost).
    """
    if fact is None:
        return {}
    owner = rates.get(task.owner or "")
    if fact.actual_cost is not None:
        if task.cost > 0:
            return {c: fact.actual_cost * amount / task.cost for c, amount in task.costs.items()}
        return {owner[1] if owner else CostCategory.internal: fact.actual_cost}
    costs: dict[CostCategory, Decimal] = defaultdict(Decimal)
    for role, spent in fact.time_spent.items():
        if role not in rates:
            problems.append(f"time spent on {task.id!r} by unknown role {role!r} ignored")
            continue
        rate, category = rates[role]
        costs[category] += spent * rate
    if fact.time_spent_days:
        if owner is None:
            problems.append(
                f"time spent on {task.id!r} not costed: the task has no owner role to take a rate from"
            )
        else:
            costs[owner[1]] += fact.time_spent_days * owner[0]
    return costs


def _remaining(
    task: PlannedTask,
    fact: TaskProgress | None,
    rates: dict[str, tuple[Decimal, CostCategory]],
    earned: Decimal,
) -> Decimal | None:
    """The task's own remaining estimate in money, if it has one."""
    if fact is None:
        return None
    if fact.effective_state is TaskState.done:
        return ZERO
    if fact.remaining_cost is not None:
        return fact.remaining_cost
    owner = rates.get(task.owner or "")
    if fact.remaining_days is not None and owner is not None:
        return fact.remaining_days * owner[0]
    return None


def _measure(
    tasks: Sequence[PlannedTask],
    first: int,
    length: int,
    ev: Decimal,
    facts: dict[str, TaskProgress],
    forecasts: dict[str, Forecast],
    cutoff: int,
    scope: str = "project",
) -> EarnedSchedule:
    """Earned schedule of ``tasks`` over ``length`` working days from offset ``first``. Once all of them are
    done, AT stops at their last finish: at completion AT is the actual duration, not the time since."""
    elapsed = cutoff - first
    if tasks and all(_is_done(facts.get(t.id)) for t in tasks):
        elapsed = min(elapsed, max(forecasts[t.id].last for t in tasks) + 1 - first)
    started = any(_state(facts.get(t.id)) is not TaskState.not_started for t in tasks)
    return earned_schedule(planned_curve(tasks, first, length), ev, max(elapsed, 0), scope, started)


def _stage_status(
    stage: Stage,
    task_ev: dict[str, Decimal],
    facts: dict[str, TaskProgress],
    forecasts: dict[str, Forecast],
    days: ProgressCalendar,
) -> StageStatus:
    closing = stage.closing
    forecast_day = forecasts[closing.id].last
    ev = sum((task_ev[t.id] for t in stage.tasks), ZERO)
    return StageStatus(
        name=closing.name,
        milestone=closing.id,
        start=min(t.start for t in stage.tasks),
        baseline=closing.finish,
        forecast=days.calendar.date_of(max(forecast_day, 0)),
        variance_days=forecast_day - baseline_days(closing).last,
        reached=_is_done(facts.get(closing.id)),
        earned_schedule=_measure(
            stage.tasks,
            stage.first,
            stage.last - stage.first + 1,
            ev,
            facts,
            forecasts,
            days.cutoff,
            "stage's baseline",
        ),
    )


def _state(fact: TaskProgress | None) -> TaskState:
    return fact.effective_state if fact is not None else TaskState.not_started


def _is_done(fact: TaskProgress | None) -> bool:
    return _state(fact) is TaskState.done


def _milestone(
    task: PlannedTask,
    tasks: dict[str, PlannedTask],
    facts: dict[str, TaskProgress],
    forecasts: dict[str, Forecast],
    days: ProgressCalendar,
    status_date: date,
    thresholds: RagThresholds,
) -> MilestoneStatus:
    forecast_day = forecasts[task.id].first
    variance = forecast_day - baseline_days(task).first
    reached = _is_done(facts.get(task.id))
    waits_on = None if reached or variance <= 0 else _waits_on(task.id, tasks, forecasts)
    if reached:
        reason = "reached " + _early_or_late(variance)
    else:
        cause = ""
        if waits_on is not None:
            head = _state(facts.get(waits_on))
            idle = "not reached" if tasks[waits_on].milestone else "not started"
            cause = f"waits on {waits_on}" + (f" ({idle})" if head is TaskState.not_started else "")
        if task.finish < status_date:
            reason = f"past due: {cause}" if cause else "past due, not reached"
        else:
            reason = _early_or_late(variance) + (f": {cause}" if cause else "")
    return MilestoneStatus(
        id=task.id,
        name=task.name,
        phase=task.phase,
        baseline=task.finish,
        forecast=days.calendar.date_of(max(forecast_day, 0)),
        variance_days=variance,
        reached=reached,
        critical=task.critical,
        rag=_lateness(variance, thresholds),
        reason=reason,
        waits_on=waits_on,
    )


def _days(count: int) -> str:
    return f"{count} working day{'s' if abs(count) != 1 else ''}"


def _early_or_late(variance: int) -> str:
    if variance > 0:
        return f"{_days(variance)} late"
    return "on time" + (f", {_days(-variance)} early" if variance < 0 else "")


def _waits_on(task_id: str, tasks: dict[str, PlannedTask], forecasts: dict[str, Forecast]) -> str | None:
    """Follow the links that set the forecast back from ``task_id`` while the task reached is late itself;
    the last such task is where the delay starts (None: none of its drivers is late)."""
    head, current = None, forecasts[task_id].driver
    while current is not None and forecasts[current].last > baseline_days(tasks[current]).last:
        head, current = current, forecasts[current].driver
    return head


def milestone_summary(m: MilestoneStatus, status_date: date) -> str:
    """The milestone's outlook read on its own, dates included (the plan's reason uses it)."""
    late = f"{_days(m.variance_days)} after the baseline {m.baseline}"
    cause = f"; waits on {m.waits_on}" if m.waits_on else ""
    if m.reached:
        return f"reached on {m.forecast}" + (f", {late}" if m.variance_days > 0 else "")
    if m.baseline < status_date:
        return f"past due since {m.baseline} and not reached; forecast {m.forecast}, {late}{cause}"
    if m.variance_days <= 0:
        return f"forecast {m.forecast}, on or before the baseline {m.baseline}"
    return f"forecast {m.forecast}, {late}{cause}"


def _lateness(variance: int, thresholds: RagThresholds) -> Rag:
    """A milestone's RAG from its working days late, forecast or actual (past due: late by the forecast)."""
    if variance <= thresholds.green_days:
        return Rag.green
    return Rag.amber if variance <= thresholds.amber_days else Rag.red


def _plan_verdict(
    milestones: list[MilestoneStatus],
    ev: EarnedValue,
    es: EarnedSchedule,
    thresholds: RagThresholds,
    status_date: date,
) -> Verdict:
    verdicts = [
        Verdict(rag=m.rag, reason=f"milestone {m.name!r}: {milestone_summary(m, status_date)}")
        for m in sorted(milestones, key=lambda m: -m.variance_days)
        if not m.reached and m.rag is not Rag.green
    ]
    # SPI(t) over the first few days swings on a day's slip (ES / AT with a small AT): rate it once AT has
    # reached a share of PD.
    schedule, unrated = es.spi_t, ""
    if schedule is not None and es.actual_time < thresholds.spi_t_min_share * es.planned_duration:
        schedule = None
        unrated = (
            f"; SPI(t) {es.spi_t} not rated yet: {es.actual_time} of {es.planned_duration} working days "
            f"elapsed, under {thresholds.spi_t_min_share:.0%}"
        )
    for name, value, red, amber in (
        ("schedule performance SPI(t)", schedule, thresholds.spi_t_red, thresholds.spi_t_amber),
        ("cost performance CPI", ev.cpi, thresholds.cpi_red, thresholds.cpi_amber),
    ):
        if value is not None and value < amber:
            rag = Rag.red if value < red else Rag.amber
            verdicts.append(
                Verdict(rag=rag, reason=f"{name} {value} is below {red if rag is Rag.red else amber}")
            )
    rated = "cost performance" if unrated else "schedule and cost performance"
    verdict = worst(verdicts, f"all open milestones forecast on time; {rated} within thresholds{unrated}")
    if unrated and verdict.rag is not Rag.green:
        verdict = Verdict(rag=verdict.rag, reason=verdict.reason + unrated)
    return verdict

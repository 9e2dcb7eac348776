"""The plan status at a status date: earned value, earned schedule, per category and phase, milestone
forecasts with RAG, and the trend of earlier statuses. Pure: values in, values out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from ..budget import planned_cents
from ..calendar import WorkCalendar
from ..plan import Plan, PlannedTask
from ..template.model import CostCategory, EarnedValueRule
from .earned_schedule import EarnedSchedule, earned_schedule
from .earned_value import EarnedValue, earned_value
from .forecast import ProgressCalendar, baseline_days, forecast_tasks
from .progress import Expense, TaskProgress, TaskState
from .rag import Rag, Verdict, worst
from .settings import AnalyticsSettings, RagThresholds

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
    reason: str


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
    by_category: dict[CostCategory, EarnedValue]
    by_phase: dict[str, EarnedValue]
    unallocated_actual_cost: Decimal = Field(
        description="Expenses not tied to a task: in totals, not in phases"
    )
    milestones: list[MilestoneStatus]
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
    for task in plan.tasks:
        fact = facts.get(task.id)
        scopes = (total, by_phase[task.phase])
        earned = _earned_fraction(task, fact)
        elapsed_days = _elapsed(task, days.cutoff)
        for category, amount in task.costs.items():
            planned = Decimal(planned_cents(int(amount * 100), max(task.duration, 1), elapsed_days)) / 100
            for sums in (*scopes, by_category[category]):
                sums.bac += amount
                sums.pv += planned
                sums.ev += amount * earned
        for category, amount in _actual_costs(task, fact, rates, problems).items():
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
    schedule_figures = earned_schedule(_daily_planned_value(plan, days), total.ev, days.cutoff)
    forecasts = forecast_tasks(plan, facts, days)
    forecast_finish = days.calendar.date_of(max((f.last for f in forecasts.values()), default=0))
    milestones = [
        _milestone(task, facts.get(task.id), forecasts[task.id].first, days, status_date, settings.rag)
        for task in plan.tasks
        if task.milestone
    ]
    verdict = _plan_verdict(milestones, overall, schedule_figures, settings.rag)
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
        by_category={c: sums.figures(settings) for c, sums in by_category.items()},
        by_phase={p: sums.figures(settings, bottom_up=True) for p, sums in by_phase.items()},
        unallocated_actual_cost=unallocated,
        milestones=milestones,
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


def _actual_costs(
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


def _daily_planned_value(plan: Plan, days: ProgressCalendar) -> list[Decimal]:
    """Cumulative planned value at the end of each working day of the baseline."""
    daily = [ZERO] * max(plan.duration, 1)
    for point in plan.planned_value:
        offset = days.first_offset(point.date)
        if offset < len(daily):
            daily[offset] = point.cumulative
    for offset in range(1, len(daily)):
        daily[offset] = max(daily[offset], daily[offset - 1])
    return daily


def _milestone(
    task: PlannedTask,
    fact: TaskProgress | None,
    forecast_day: int,
    days: ProgressCalendar,
    status_date: date,
    thresholds: RagThresholds,
) -> MilestoneStatus:
    baseline_day = baseline_days(task).first
    reached = fact is not None and fact.effective_state is TaskState.done
    variance = forecast_day - baseline_day
    forecast = days.calendar.date_of(max(forecast_day, 0))
    late = f"{variance} working day{'s' if variance != 1 else ''} after the baseline {task.finish}"
    if reached:
        verdict = (
            Verdict(rag=Rag.green, reason=f"reached on {forecast}")
            if variance <= 0
            else Verdict(rag=Rag.amber, reason=f"reached on {forecast}, {late}")
        )
    elif task.finish < status_date:
        verdict = Verdict(
            rag=Rag.red, reason=f"past due since {task.finish} and not reached; forecast {forecast}"
        )
    elif variance <= 0:
        verdict = Verdict(
            rag=Rag.green, reason=f"forecast {forecast}, on or before the baseline {task.finish}"
        )
    else:
        rag = Rag.amber if variance <= thresholds.amber_days else Rag.red
        verdict = Verdict(rag=rag, reason=f"forecast {forecast}, {late}")
    return MilestoneStatus(
        id=task.id,
        name=task.name,
        phase=task.phase,
        baseline=task.finish,
        forecast=forecast,
        variance_days=variance,
        reached=reached,
        critical=task.critical,
        rag=verdict.rag,
        reason=verdict.reason,
    )


def _plan_verdict(
    milestones: list[MilestoneStatus], ev: EarnedValue, es: EarnedSchedule, thresholds: RagThresholds
) -> Verdict:
    verdicts = [
        Verdict(rag=m.rag, reason=f"milestone {m.name!r}: {m.reason}")
        for m in sorted(milestones, key=lambda m: -m.variance_days)
        if not m.reached and m.rag is not Rag.green
    ]
    for name, value, red, amber in (
        ("schedule performance SPI(t)", es.spi_t, thresholds.spi_t_red, thresholds.spi_t_amber),
        ("cost performance CPI", ev.cpi, thresholds.cpi_red, thresholds.cpi_amber),
    ):
        if value is not None and value < amber:
            rag = Rag.red if value < red else Rag.amber
            verdicts.append(
                Verdict(rag=rag, reason=f"{name} {value} is below {red if rag is Rag.red else amber}")
            )
    return worst(
        verdicts, "all open milestones forecast on time; schedule and cost performance within thresholds"
    )

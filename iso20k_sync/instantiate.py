"""Template + parameters + start date + calendar -> a scheduled, costed :class:`Plan`."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from .budget import CostedSpan, money, planned_value, task_costs, totals_by_category
from .calendar import CalendarSpec, WorkCalendar
from .errors import ExpressionError, InputError, InputProblem, PathItem
from .expressions import Value, evaluate_number
from .gc_pause import without_gc_pauses
from .parameters import evaluate_variables, resolve_parameters
from .plan import (
    Budget,
    Milestone,
    PhaseBudget,
    PhaseSummary,
    Plan,
    PlannedTask,
    PlannedValuePoint,
    RoleRate,
    TemplateRef,
)
from .scheduling import Activity, Link, Schedule, days_worked, schedule
from .template.model import CostCategory, EarnedValueRule, PlanTemplate, TaskTemplate


@dataclass(frozen=True, slots=True)
class _TaskValues:
    """A task's template expressions evaluated for one organisation."""

    duration: int
    effort: dict[str, Decimal]
    costs: dict[CostCategory, Decimal]


class _Evaluator:
    """Evaluates template fields, collecting every problem with its template path."""

    def __init__(self, env: Mapping[str, Value]) -> None:
        self.env = env
        self.problems: list[InputProblem] = []

    def number(self, path: tuple[PathItem, ...], expr: Decimal | str, what: str) -> Decimal:
        try:
            value = evaluate_number(expr, self.env)
        except ExpressionError as exc:
            self.problems.append(InputProblem(path, str(exc)))
            return Decimal(0)
        if value < 0:
            shown = f"{expr!r} gives {value}" if isinstance(expr, str) else str(value)
            self.problems.append(InputProblem(path, f"negative {what}: {shown}; expected a value >= 0"))
            return Decimal(0)
        return value


@without_gc_pauses
def instantiate(
    template: PlanTemplate,
    start: date,
    parameters: Mapping[str, object] | None = None,
    calendar: CalendarSpec | None = None,
    source: str | None = None,
    exclude: Collection[CostCategory] = (),
) -> Plan:
    """Schedule and cost ``template`` for an organisation; raise :class:`InputError` on bad values.

    ``exclude`` switches budget parts off (e.g. no tools budget): their costs are left out everywhere.
    """
    source = source or f"template {template.id}"
    calendar = calendar or CalendarSpec()
    resolved = resolve_parameters(template, parameters or {})
    env = evaluate_variables(template, resolved, source)
    ev = _Evaluator(env)

    rates = {
        role.id: (money(ev.number(("roles", r, "day_rate"), role.day_rate, "day rate")), role.category)
        for r, role in enumerate(template.roles)
    }
    values: dict[str, _TaskValues] = {}
    for p, phase in enumerate(template.phases):
        for t, task in enumerate(phase.tasks):
            path: tuple[PathItem, ...] = ("phases", p, "tasks", t)
            days = ev.number((*path, "duration"), task.duration, "duration")
            duration = int(days.to_integral_value(rounding=ROUND_CEILING))
            if task.milestone and duration:
                ev.problems.append(
                    InputProblem(
                        (*path, "duration"), f"milestone {task.id!r} evaluates to {days} days; expected 0"
                    )
                )
            effort = {
                role: ev.number((*path, "effort", role), expr, "effort").quantize(
                    Decimal("0.01"), rounding=ROUND_HALF_UP
                )
                for role, expr in task.effort.items()
            }
            items = [
                (item.category, money(ev.number((*path, "costs", c, "amount"), item.amount, "amount")))
                for c, item in enumerate(task.costs)
                if item.category not in exclude
            ]
            costed_effort = {role: days for role, days in effort.items() if rates[role][1] not in exclude}
            values[task.id] = _TaskValues(duration, effort, task_costs(costed_effort, rates, items))
    if ev.problems:
        raise InputError(source, ev.problems)

    timing = schedule(
        [
            Activity(t.id, values[t.id].duration, tuple(Link(d.task, d.type, d.lag) for d in t.depends_on))
            for t in template.tasks()
        ]
    )
    work = WorkCalendar(calendar, start)
    return _assemble(template, resolved, calendar, work, timing, values, rates, exclude)


def _dates(work: WorkCalendar, early_start: int, duration: int) -> tuple[date, date]:
    first, last = days_worked(early_start, duration)
    return work.date_of(first), work.date_of(last)


def _assemble(
    template: PlanTemplate,
    parameters: Mapping[str, Value],
    calendar: CalendarSpec,
    work: WorkCalendar,
    timing: Schedule,
    values: Mapping[str, _TaskValues],
    rates: Mapping[str, tuple[Decimal, CostCategory]],
    exclude: Collection[CostCategory],
) -> Plan:
    planned: list[PlannedTask] = []
    phases: list[PhaseSummary] = []
    by_phase: dict[str, PhaseBudget] = {}
    for p, phase in enumerate(template.phases, start=1):
        phase_tasks: list[PlannedTask] = []
        for t, task in enumerate(phase.tasks, start=1):
            phase_tasks.append(
                _planned_task(task, phase.id, f"{p}.{t}", work, timing, values[task.id], template.ev_rule)
            )
        planned += phase_tasks
        phase_costs = totals_by_category(pt.costs for pt in phase_tasks)
        by_phase[phase.id] = PhaseBudget(
            total=sum(phase_costs.values(), Decimal("0.00")), by_category=phase_costs
        )
        spans = [days_worked(pt.early_start_offset, pt.duration) for pt in phase_tasks]
        worked = any(pt.duration for pt in phase_tasks)
        phases.append(
            PhaseSummary(
                id=phase.id,
                name=phase.name,
                wbs=str(p),
                start=min(pt.start for pt in phase_tasks),
                finish=max(pt.finish for pt in phase_tasks),
                duration=max(s[1] for s in spans) - min(s[0] for s in spans) + 1 if worked else 0,
                critical=any(pt.critical for pt in phase_tasks),
                cost=by_phase[phase.id].total,
            )
        )
    by_category = totals_by_category(pt.costs for pt in planned)
    curve = planned_value(
        CostedSpan(days_worked(pt.early_start_offset, pt.duration)[0], pt.duration, pt.costs)
        for pt in planned
    )
    role_effort = {role.id: Decimal(0) for role in template.roles}
    role_cost = {role.id: Decimal("0.00") for role in template.roles}
    for task_values in values.values():
        for role, days in task_values.effort.items():
            role_effort[role] += days
            if rates[role][1] not in exclude:
                role_cost[role] += money(days * rates[role][0])
    return Plan(
        template=TemplateRef(id=template.id, name=template.name, version=template.version),
        currency=template.currency,
        parameters=dict(parameters),
        excluded_categories=sorted(exclude),
        calendar=calendar,
        start=work.start,
        finish=max((pt.finish for pt in planned), default=work.start),
        duration=timing.finish,
        critical_path=timing.critical_path(),
        roles=[
            RoleRate(
                id=r.id,
                name=r.name,
                day_rate=rates[r.id][0],
                category=r.category,
                effort=role_effort[r.id],
                cost=role_cost[r.id],
            )
            for r in template.roles
        ],
        phases=phases,
        tasks=planned,
        milestones=[
            Milestone(
                id=pt.id,
                name=pt.name,
                phase=pt.phase,
                date=pt.finish,
                critical=pt.critical,
                total_float=pt.total_float,
            )
            for pt in planned
            if pt.milestone
        ],
        budget=Budget(
            currency=template.currency,
            total=sum(by_category.values(), Decimal("0.00")),
            by_category=by_category,
            by_phase=by_phase,
        ),
        planned_value=[
            PlannedValuePoint(
                date=work.date_of(offset),
                cumulative=sum(values.values(), Decimal("0.00")),
                by_category=values,
            )
            for offset, values in curve
        ],
    )


def _planned_task(
    task: TaskTemplate,
    phase_id: str,
    wbs: str,
    work: WorkCalendar,
    timing: Schedule,
    values: _TaskValues,
    ev_rule: EarnedValueRule,
) -> PlannedTask:
    t = timing.timings[task.id]
    duration = values.duration
    start, finish = _dates(work, t.early_start, duration)
    late_start, late_finish = _dates(work, t.late_start, duration)
    effort = values.effort
    owner = task.owner or (max(effort, key=lambda role: effort[role]) if effort else None)
    return PlannedTask(
        id=task.id,
        name=task.name,
        phase=phase_id,
        wbs=wbs,
        description=task.description,
        start=start,
        finish=finish,
        duration=duration,
        depends_on=task.depends_on,
        clauses=task.clauses,
        milestone=task.milestone,
        critical=t.critical,
        total_float=t.total_float,
        early_start_offset=t.early_start,
        late_start=late_start,
        late_finish=late_finish,
        owner=owner,
        ev_rule=task.ev_rule or ev_rule,
        effort=effort,
        costs=values.costs,
        cost=sum(values.costs.values(), Decimal("0.00")),
        deliverables=task.deliverables,
        labels=task.labels,
    )

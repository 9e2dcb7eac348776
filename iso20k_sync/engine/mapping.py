"""The core's plan and progress onto the connectors' neutral values and back: the one place where the two
vocabularies meet (status notes are rendered in :mod:`iso20k_sync.engine.notes`)."""

from __future__ import annotations

from decimal import Decimal

from connectors.values import (
    ContainerSpec,
    GateSpec,
    ItemKind,
    ItemSpec,
    LinkKind,
    LinkSpec,
    ProgressRecord,
    stable_id,
)

from ..analytics import TaskProgress
from ..plan import Plan, PlannedTask


def gates(plan: Plan) -> dict[str, str]:
    """Each phase's gate: its last milestone (by date, then order). Phases without one have none."""
    latest: dict[str, PlannedTask] = {}
    for task in plan.tasks:  # in plan order, so of two on the same date the later one wins
        if task.milestone and (task.phase not in latest or task.finish >= latest[task.phase].finish):
            latest[task.phase] = task
    return {phase: task.id for phase, task in latest.items()}


def container_spec(plan_key: str, plan_name: str, plan: Plan) -> ContainerSpec:
    tasks = {t.id: t for t in plan.tasks}
    return ContainerSpec(
        plan_key=plan_key,
        plan_name=plan_name,
        template=plan.template.id,
        currency=plan.currency,
        start=plan.start,
        finish=plan.finish,
        gates=[GateSpec(key=k, title=tasks[k].name, due=tasks[k].finish) for k in gates(plan).values()],
    )


def link_specs(plan: Plan) -> list[LinkSpec]:
    return [
        LinkSpec(predecessor=d.task, successor=t.id, type=LinkKind(d.type.value), lag=d.lag)
        for t in plan.tasks
        for d in t.depends_on
    ]


def phase_key(phase_id: str) -> str:
    """Phases and tasks share the tracker's key space (a phase and a task may both be 'internal-audit')."""
    return f"phase:{phase_id}"


def item_specs(plan: Plan, plan_key: str, with_phases: bool) -> list[ItemSpec]:
    """What the tracker should hold for this plan, phases first when the tracker has them."""
    roles = {r.id: r.name for r in plan.roles}
    rates = {r.id: r.day_rate for r in plan.roles}
    phases = {p.id: p for p in plan.phases}
    gate_of = gates(plan)
    depends_on: dict[str, list[LinkSpec]] = {}
    for link in link_specs(plan):
        depends_on.setdefault(link.successor, []).append(link)
    specs = []
    if with_phases:
        specs += [
            ItemSpec(
                key=phase_key(phase.id),
                uid=stable_id(plan_key, phase_key(phase.id)),
                kind=ItemKind.phase,
                title=phase.name,
                wbs=phase.wbs,
                start=phase.start,
                due=phase.finish,
                duration_days=phase.duration,
                baseline_cost=phase.cost,
                gate=gate_of.get(phase.id),
            )
            for phase in plan.phases
        ]
    for task in plan.tasks:
        description = task.description
        if task.deliverables:
            description += "\n\nDeliverables: " + "; ".join(task.deliverables)
        specs.append(
            ItemSpec(
                key=task.id,
                uid=stable_id(plan_key, task.id),
                kind=ItemKind.milestone if task.milestone else ItemKind.task,
                title=task.name,
                description=description.strip(),
                parent=phase_key(task.phase) if with_phases else None,
                phase_name=phases[task.phase].name,
                wbs=task.wbs,
                start=task.start,
                due=task.finish,
                duration_days=task.duration,
                estimate_days=sum(task.effort.values(), start=Decimal(0)),
                baseline_cost=task.cost,
                clauses=task.clauses,
                labels=task.labels,
                owner_role=roles.get(task.owner or ""),
                owner_rate=rates.get(task.owner or ""),
                gate=gate_of.get(task.phase),
                depends_on=depends_on.get(task.id, []),
            )
        )
    return specs


def task_progress(record: ProgressRecord) -> TaskProgress:
    """What a tracker reported for an item, as the analytics' progress fact of that task."""
    return TaskProgress(task_id=record.key, **record.progress.model_dump())

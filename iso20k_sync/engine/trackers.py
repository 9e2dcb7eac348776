"""Building the connector a plan's configuration names."""

from __future__ import annotations

from connectors.base import Connector, ContainerSpec, ItemKind, ItemSpec
from iso20k_sync.config import PlanConfig, ServiceConfig
from iso20k_sync.plan import Plan


def connector_for(config: ServiceConfig, plan: PlanConfig) -> Connector:
    from connectors.workbook import WorkbookConnector

    return WorkbookConnector(config.tracker_path(plan), plan.plan_key, plan.tracker.batch_size)


def container_spec(config: PlanConfig, plan: Plan) -> ContainerSpec:
    return ContainerSpec(
        plan_key=config.plan_key,
        plan_name=config.name,
        template=plan.template.id,
        currency=plan.currency,
        start=plan.start,
        finish=plan.finish,
    )


def item_specs(plan: Plan, with_phases: bool) -> list[ItemSpec]:
    """What the tracker should hold for this plan, phases first when the tracker has them."""
    roles = {r.id: r.name for r in plan.roles}
    phases = {p.id: p for p in plan.phases}
    specs = []
    if with_phases:
        specs += [
            ItemSpec(
                key=phase.id,
                kind=ItemKind.phase,
                title=phase.name,
                wbs=phase.wbs,
                start=phase.start,
                due=phase.finish,
                duration_days=phase.duration,
                baseline_cost=phase.cost,
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
                kind=ItemKind.milestone if task.milestone else ItemKind.task,
                title=task.name,
                description=description.strip(),
                phase_key=task.phase,
                phase_name=phases[task.phase].name,
                wbs=task.wbs,
                start=task.start,
                due=task.finish,
                duration_days=task.duration,
                estimate_days=sum(task.effort.values(), start=type(task.cost)(0)),
                baseline_cost=task.cost,
                clauses=task.clauses,
                labels=task.labels,
                owner_role=roles.get(task.owner or ""),
            )
        )
    return specs

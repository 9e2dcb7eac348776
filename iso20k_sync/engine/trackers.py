"""Building the connector a plan's configuration names."""

from __future__ import annotations

from connectors.base import Connector, ContainerSpec, GateSpec, ItemKind, ItemSpec, LinkSpec
from iso20k_sync.config import JiraTracker, PlanConfig, ServiceConfig, read_secret
from iso20k_sync.errors import InputProblem
from iso20k_sync.plan import Plan, PlannedTask


def connector_for(config: ServiceConfig, plan: PlanConfig) -> Connector:
    """The tracker connector a plan's ``tracker`` section names (imported only when used)."""
    tracker = plan.tracker
    if isinstance(tracker, JiraTracker):
        from connectors.jira import JiraConnector

        return JiraConnector(tracker, plan.plan_key, tracker_secret(config, plan, tracker.token_env))
    from connectors.workbook import WorkbookConnector

    return WorkbookConnector(config.tracker_path(plan), plan.plan_key, tracker.batch_size)


def tracker_secret(config: ServiceConfig, plan: PlanConfig, variable: str) -> str:
    """The tracker's token, from the environment or a secret file; a clear error naming both if absent."""
    secret = read_secret(variable)
    if secret is None:
        index = config.plans.index(plan)
        raise config.error(
            [
                InputProblem(
                    ("plans", index, "tracker", "token_env"),
                    f"the token is not set: put it in the environment variable {variable} "
                    f"or in a file {variable} in ISO20K_SECRETS_DIR",
                )
            ]
        )
    return secret.get_secret_value()


def tracker_location(config: ServiceConfig, plan: PlanConfig) -> str:
    tracker = plan.tracker
    if isinstance(tracker, JiraTracker):
        return f"{tracker.url.rstrip('/')}/browse/{tracker.project}"
    return str(config.tracker_path(plan))


def gates(plan: Plan) -> dict[str, str]:
    """Each phase's gate: its last milestone (by date, then order). Phases without one have none."""
    latest: dict[str, PlannedTask] = {}
    for task in plan.tasks:  # in plan order, so of two on the same date the later one wins
        if task.milestone and (task.phase not in latest or task.finish >= latest[task.phase].finish):
            latest[task.phase] = task
    return {phase: task.id for phase, task in latest.items()}


def container_spec(config: PlanConfig, plan: Plan) -> ContainerSpec:
    tasks = {t.id: t for t in plan.tasks}
    return ContainerSpec(
        plan_key=config.plan_key,
        plan_name=config.name,
        template=plan.template.id,
        currency=plan.currency,
        start=plan.start,
        finish=plan.finish,
        gates=[GateSpec(key=k, title=tasks[k].name, due=tasks[k].finish) for k in gates(plan).values()],
    )


def link_specs(plan: Plan) -> list[LinkSpec]:
    return [
        LinkSpec(predecessor=d.task, successor=t.id, type=d.type, lag=d.lag)
        for t in plan.tasks
        for d in t.depends_on
    ]


def phase_key(phase_id: str) -> str:
    """Phases and tasks share the tracker's key space (a phase and a task may both be 'internal-audit')."""
    return f"phase:{phase_id}"


def item_specs(plan: Plan, with_phases: bool) -> list[ItemSpec]:
    """What the tracker should hold for this plan, phases first when the tracker has them."""
    roles = {r.id: r.name for r in plan.roles}
    phases = {p.id: p for p in plan.phases}
    gate_of = gates(plan)
    specs = []
    if with_phases:
        specs += [
            ItemSpec(
                key=phase_key(phase.id),
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
                kind=ItemKind.milestone if task.milestone else ItemKind.task,
                title=task.name,
                description=description.strip(),
                phase_key=phase_key(task.phase) if with_phases else None,
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
                gate=gate_of.get(task.phase),
            )
        )
    return specs

"""Plan instances: instantiated from the configuration once, then read back from the store frozen."""

from __future__ import annotations

from iso20k_sync.config import PlanConfig, ServiceConfig
from iso20k_sync.errors import InputError, InputProblem
from iso20k_sync.instantiate import instantiate
from iso20k_sync.plan import Plan
from iso20k_sync.store import Repository
from iso20k_sync.store.schema import PlanRow
from iso20k_sync.template import resolve_template
from iso20k_sync.template.model import PlanTemplate


def plan_from_config(config: ServiceConfig, plan: PlanConfig) -> Plan:
    """Instantiate the plan the configuration describes; parameter problems name the plan's section."""
    index = config.plans.index(plan)
    try:
        template = resolve_template(plan.template)
        if plan.organisation is not None:
            return _from_profile(config, plan, index, template)
        return instantiate(template, plan.start, plan.parameters, plan.calendar.spec(), source=plan.template)
    except InputError as exc:
        if exc.source == "--param":  # parameter problems belong to this plan's section of the file
            raise config.error(
                [InputProblem(("plans", index, "parameters", *p.path), p.message) for p in exc.problems]
            ) from None
        raise


def drift(configured: Plan, baseline: Plan) -> list[str]:
    """What the configuration now says differently from the frozen baseline, as ``what: old -> new``."""
    changes = []
    if configured.template != baseline.template:
        changes.append(
            f"template {baseline.template.id} {baseline.template.version} -> "
            f"{configured.template.id} {configured.template.version}"
        )
    if configured.start != baseline.start:
        changes.append(f"start {baseline.start} -> {configured.start}")
    for name in sorted(configured.parameters.keys() | baseline.parameters.keys()):
        old, new = baseline.parameters.get(name), configured.parameters.get(name)
        if old != new:
            changes.append(f"parameters.{name} {old} -> {new}")
    if configured.calendar != baseline.calendar:
        changes.append("calendar (country, holidays or working days)")
    if configured.excluded_categories != baseline.excluded_categories:
        changes.append("budget parts switched off")
    return changes


def seeded_plan(repo: Repository, plan: PlanConfig) -> tuple[PlanRow, Plan]:
    """The stored plan instance and its frozen baseline; an error if it was never seeded."""
    row = repo.plan(plan.name)
    if row is None:
        raise InputError(
            "--plan",
            [
                InputProblem(
                    (), f"plan {plan.name!r} is not seeded yet; run `iso20k-sync seed --plan {plan.name}`"
                )
            ],
        )
    return row, repo.baseline(row)


def _from_profile(config: ServiceConfig, plan: PlanConfig, index: int, template: PlanTemplate) -> Plan:
    """The plan the feasibility scheme priced: parameters and calendar from the profile, start from here."""
    from iso20k_sync.feasibility import load_profile
    from iso20k_sync.feasibility.estimate import profile_plan

    if plan.parameters:
        raise config.error(
            [InputProblem(("plans", index, "parameters"), "give parameters or organisation, not both")]
        )
    assert plan.organisation is not None
    path = plan.organisation if plan.organisation.is_absolute() else config.base_dir / plan.organisation
    profile = load_profile(path).model_copy(update={"planned_start": plan.start})
    return profile_plan(profile, str(path), template)

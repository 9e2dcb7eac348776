"""What the commands on configured plans share: the --config and --plan options, opening the store."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from ..config import PlanConfig, ServiceConfig, config_path, load_config
from ..engine.plans import drift, plan_from_config
from ..plan import Plan
from ..store import Store
from .common import ReportFormat, err

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", envvar="ISO20K_CONFIG", help="Configuration file (default: ./iso20k-sync.yaml)"
    ),
]
PlanOption = Annotated[str | None, typer.Option("--plan", help="Plan name (required with several plans).")]
FormatOption = Annotated[ReportFormat, typer.Option("--format")]


def load(config_option: Path | None) -> ServiceConfig:
    """The configuration, checked as `config check` checks it (see :func:`load_plans`)."""
    return load_plans(config_option)[0]


def load_plans(config_option: Path | None) -> tuple[ServiceConfig, dict[str, Plan]]:
    """The configuration and each plan instantiated from it by name: every plan instantiates from its
    template and parameters (a typo in a parameter or a template name stops every command the same way)."""
    config = load_config(config_path(config_option))
    return config, {plan.name: plan_from_config(config, plan) for plan in config.plans}


def warn_drift(plan: PlanConfig, configured: Plan, baseline: Plan) -> None:
    """Say so when the plan the configuration describes no longer matches its frozen baseline."""
    changes = drift(configured, baseline)
    if changes:
        err.print(
            f"warning: plan {plan.name!r} in the configuration differs from its seeded baseline "
            f"({'; '.join(changes)}); the baseline is kept: re-planning a seeded plan is not supported yet",
            highlight=False,
            markup=False,
        )


def open_store(config: ServiceConfig) -> Store:
    store = Store(config.database_url())
    store.upgrade()
    return store


def open_plan(config_option: Path | None, plan: str | None) -> tuple[ServiceConfig, PlanConfig, Store]:
    """The configuration, the plan a command is about, and the store (migrated)."""
    config = load(config_option)
    plan_config = config.plan(plan)
    return config, plan_config, open_store(config)


def today(plan: PlanConfig) -> date:
    """Today in the plan's time zone: the default status date."""
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(plan.timezone)).date()

"""What the commands on configured plans share: the --config and --plan options, opening the store."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from ..config import PlanConfig, ServiceConfig, config_path, load_config
from ..store import Store
from .common import ReportFormat

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", envvar="ISO20K_CONFIG", help="Configuration file (default: ./iso20k-sync.yaml)"
    ),
]
PlanOption = Annotated[str | None, typer.Option("--plan", help="Plan name (required with several plans).")]
FormatOption = Annotated[ReportFormat, typer.Option("--format")]


def load(config_option: Path | None) -> ServiceConfig:
    return load_config(config_path(config_option))


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

    return datetime.now(ZoneInfo(plan.schedule.timezone)).date()

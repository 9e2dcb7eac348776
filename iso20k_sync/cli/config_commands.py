"""Commands on the configuration and the store: ``config check|example|organisation-example``,
``db upgrade``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
import yaml

from ..config import config_path, load_config
from ..engine.plans import plan_from_config
from ..engine.trackers import check_secrets
from ..examples import ORGANISATION, SERVICE, example_text
from ..files import OutputError, write_atomically
from ..store import Store
from .common import ReportFormat, err, out, reports_errors
from .configured import ConfigOption, FormatOption, load, open_store

config_app = typer.Typer(
    help="Check the service configuration, or write out the annotated examples.", no_args_is_help=True
)
db_app = typer.Typer(help="Manage the store's schema.", no_args_is_help=True)


@config_app.command("check")
@reports_errors
def config_check(config_option: ConfigOption = None, fmt: FormatOption = ReportFormat.table) -> None:
    """Validate the configuration and every plan in it; print the effective settings, secrets masked."""
    path = config_path(config_option)
    config = load_config(path)
    for plan in config.plans:
        plan_from_config(config, plan)
        check_secrets(config, plan)
    config.mail_secret()
    effective = config.model_dump(mode="json")
    effective["store"] = Store.describe(config.database_url())
    for plan, shown in zip(config.plans, effective["plans"], strict=True):
        shown["tracker"]["location"] = config.tracker_location(plan)
    if fmt is ReportFormat.json:
        print(json.dumps(effective, indent=2))
        return
    out.print(f"[green]valid[/] {path} ({len(config.plans)} plan{'s' if len(config.plans) != 1 else ''})")
    out.print(yaml.safe_dump(effective, sort_keys=False, allow_unicode=True), markup=False, highlight=False)


OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write here (refused if it exists) instead of stdout.")
]


@config_app.command("example")
@reports_errors
def config_example(output: OutputOption = None) -> None:
    """Print the annotated example configuration: every option, its default and what it does."""
    _write_example(SERVICE, output)


@config_app.command("organisation-example")
@reports_errors
def organisation_example(output: OutputOption = None) -> None:
    """Print the annotated example organisation profile (for feasibility, plan --org and plans)."""
    _write_example(ORGANISATION, output)


def _write_example(name: str, output: Path | None) -> None:
    text = example_text(name)
    if output is None:
        print(text, end="")
        return
    if output.exists():
        raise OutputError(f"{output}: exists already; choose another path or remove it first")
    write_atomically(output, text.encode("utf-8"))
    err.print(f"wrote {output}", highlight=False)


@db_app.command("upgrade")
@reports_errors
def db_upgrade(config_option: ConfigOption = None) -> None:
    """Create the store or apply its pending migrations."""
    config = load(config_option)
    open_store(config)
    out.print(f"store at head: {Store.describe(config.database_url())}")

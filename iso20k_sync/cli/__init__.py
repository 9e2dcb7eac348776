"""The ``iso20k-sync`` command line (Typer): one app, composed here from command modules grouped by what
they work on. Nothing registers itself on import: this module is the one list of commands."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import __version__
from . import (
    config_commands,
    feasibility_commands,
    plan_commands,
    quickstart_command,
    status_commands,
    tracker_commands,
)
from .common import out

__all__ = ["app"]

app = typer.Typer(
    help="ISO/IEC 20000-1 certification projects: plan templates, schedules, budgets and tracker sync.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
# Plans without a store
app.add_typer(plan_commands.template_app, name="template")
app.command("plan")(plan_commands.plan_command)
app.command("feasibility")(feasibility_commands.feasibility_command)
# Configured plans: the configuration and the store, the tracker, the figures
app.add_typer(config_commands.config_app, name="config")
app.add_typer(config_commands.db_app, name="db")
app.command("seed")(tracker_commands.seed_command)
app.command("sync")(tracker_commands.sync_command)
app.command("status")(status_commands.status_command)
app.add_typer(status_commands.expense_app, name="expense")
app.command("quickstart")(quickstart_command.quickstart)


def _version(value: bool) -> None:
    if value:
        out.print(f"iso20k-sync {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option(
            "--version", callback=_version, is_eager=True, metavar="", help="Print the version and exit."
        )
    ] = False,
) -> None:
    """ISO/IEC 20000-1 certification projects: plan templates, schedules, budgets and tracker sync."""

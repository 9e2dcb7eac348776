"""The ``iso20k-sync`` command line (Typer): one app, composed here from command modules grouped by what
they work on. Nothing registers itself on import: :data:`COMMANDS` is the one list of commands.

A command's module (and with it pydantic models, SQLAlchemy, openpyxl...) is imported only when that
command runs or its own help is asked for, so ``iso20k-sync --help`` starts about as fast as Typer itself.
The short help shown in the command list is kept here; a test checks it against each command's docstring.
"""

from __future__ import annotations

from importlib import import_module
from typing import Annotated, Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup

from .. import __version__

__all__ = ["COMMANDS", "app"]


class Entry(NamedTuple):
    module: str  # in this package
    attribute: str  # a command function, or a Typer app of subcommands
    summary: str  # the line shown in ``iso20k-sync --help``


COMMANDS: dict[str, Entry] = {
    # Plans without a store
    "template": Entry(
        "plan_commands",
        "template_app",
        "List, show, validate and import (from Microsoft Project) plan templates.",
    ),
    "plan": Entry(
        "plan_commands",
        "plan_command",
        "Instantiate a plan template: schedule (critical path), milestones and baseline budget.",
    ),
    "feasibility": Entry(
        "feasibility_commands",
        "feasibility_command",
        "Management basis, benefits, three-year resources and costs, and a recommendation.",
    ),
    # Configured plans: the configuration and the store, the tracker, the figures
    "config": Entry(
        "config_commands",
        "config_app",
        "Check the service configuration, or write out the annotated examples.",
    ),
    "db": Entry("config_commands", "db_app", "Manage the store's schema."),
    "login": Entry(
        "tracker_commands",
        "login_command",
        "Sign in to the plan's tracker once as yourself (Planner premium: Microsoft device-code sign-in).",
    ),
    "seed": Entry(
        "tracker_commands",
        "seed_command",
        "Create the plan's items in its tracker: what is missing and nothing else (safe to re-run).",
    ),
    "sync": Entry(
        "tracker_commands",
        "sync_command",
        "Pull progress from the tracker, recompute the status, write it back.",
    ),
    "status": Entry(
        "status_commands",
        "status_command",
        "Milestones (baseline, forecast, variance, RAG) and budget by category, from the store alone.",
    ),
    "expense": Entry(
        "status_commands", "expense_app", "Record fixed fees and invoices (e.g. the certification body's)."
    ),
    # The service
    "serve": Entry(
        "service_commands",
        "serve_command",
        "Run the service until SIGTERM or SIGINT: every plan synced daily, each digest sent weekly.",
    ),
    "digest": Entry(
        "service_commands",
        "digest_command",
        "Preview or send a plan's weekly digest to its sponsors; each gets a week's digest once.",
    ),
    "quickstart": Entry(
        "quickstart_command",
        "quickstart",
        "Create a working demo: configuration, a plan seeded into an Excel workbook, a first sync and "
        "status.",
    ),
}


def build(name: str) -> Any:
    """The real command: its module imported and turned into a Click command by Typer."""
    entry = COMMANDS[name]
    target: Any = getattr(import_module(f"{__name__}.{entry.module}"), entry.attribute)
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


class LazyGroup(TyperGroup):
    """Lists commands from :data:`COMMANDS` and builds one only when it is invoked."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._built: dict[str, Any] = {}  # Typer's own Click commands (Typer vendors Click)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self._built:
            return self._built[cmd_name]
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        return TyperCommand(cmd_name, help=entry.summary, short_help=entry.summary)  # for the list only

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        if args and args[0] in COMMANDS and args[0] not in self._built:
            self._built[args[0]] = build(args[0])
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=LazyGroup,
    help="ISO/IEC 20000-1 certification projects: plan templates, schedules, budgets and tracker sync.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"iso20k-sync {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, metavar="", help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """ISO/IEC 20000-1 certification projects: plan templates, schedules, budgets and tracker sync."""

"""The ``iso20k-sync`` command line (Typer): one app, commands grouped by what they work on."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import __version__
from . import feasibility_commands, plan_commands, service_commands  # noqa: F401  (they register commands)
from .common import app, out

__all__ = ["app"]


def _version(value: bool) -> None:
    if value:
        out.print(f"iso20k-sync {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """ISO/IEC 20000-1 certification projects: plan templates, schedules, budgets and tracker sync."""

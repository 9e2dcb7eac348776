"""What every command shares: the app, the consoles, error reporting and argument parsing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import StrEnum
from functools import wraps
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from connectors.errors import SetupError, TrackerError

from ..errors import InputError, InputProblem, Iso20kError
from ..files import OutputError

# Messages are not wrapped (soft_wrap), so scripts and tests see whole lines; tables fit the width.
out = Console(soft_wrap=True)
if not out.is_terminal:  # piped or redirected: wide enough that tables are not squeezed into 80 columns
    out = Console(width=160, soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

EXIT_FAILED = 1
"""The work could not be done (a tracker or the store refused); it was recorded where it could be."""
EXIT_INPUT = 2
"""The user's input (configuration, template, option, file) is wrong; nothing was written."""
EXIT_PROBLEMS = 3
"""The work was done, but some values were rejected (``sync``: cells or fields it could not use)."""

F = TypeVar("F", bound=Callable[..., Any])


class ReportFormat(StrEnum):
    table = "table"
    json = "json"


def reports_errors(func: F) -> F:
    """Print expected errors as one clear message on stderr: exit 2 for bad input, 1 for failed work."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (InputError, OutputError) as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_INPUT) from None
        except (Iso20kError, TrackerError) as exc:
            if isinstance(exc, SetupError) or getattr(exc, "setup", False):  # settings the tracker refused
                err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
                raise typer.Exit(EXIT_INPUT) from None
            err.print(f"[bold red]failed:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_FAILED) from None

    return wrapper  # type: ignore[return-value]


def parse_date(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(option, [InputProblem((), f"{text!r} is not a date; expected YYYY-MM-DD")]) from None


def parse_params(pairs: list[str] | None) -> dict[str, str]:
    values: dict[str, str] = {}
    problems = []
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            problems.append(InputProblem((), f"{pair!r}: expected KEY=VALUE"))
        else:
            values[key.strip()] = value.strip()
    if problems:
        raise InputError("--param", problems)
    return values

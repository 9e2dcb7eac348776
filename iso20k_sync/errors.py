"""Errors a user sees: each names where the problem is and what was expected."""

from __future__ import annotations

from collections.abc import Sequence

PathItem = str | int


def format_path(path: Sequence[PathItem]) -> str:
    """Render ``("phases", 3, "tasks", 2, "depends_on", 0)`` as ``phases[3].tasks[2].depends_on[0]``."""
    out = ""
    for item in path:
        if isinstance(item, int):
            out += f"[{item}]"
        else:
            out += f".{item}" if out else str(item)
    return out


class Iso20kError(Exception):
    """Base class for errors reported to the user without a traceback."""


class InputProblem:
    """One problem in an input file: where it is and what is wrong."""

    __slots__ = ("line", "message", "path")

    def __init__(self, path: Sequence[PathItem], message: str, line: int | None = None) -> None:
        self.path = tuple(path)
        self.message = message
        self.line = line

    def render(self, source: str) -> str:
        where = source if self.line is None else f"{source}:{self.line}"
        dotted = format_path(self.path)
        return f"{where}: {dotted}: {self.message}" if dotted else f"{where}: {self.message}"


class InputError(Iso20kError):
    """An input file (template, profile, configuration) is invalid; lists every problem found."""

    def __init__(self, source: str, problems: Sequence[InputProblem]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(p.render(source) for p in self.problems))


class ExpressionError(Iso20kError):
    """An expression in a template cannot be parsed or evaluated."""

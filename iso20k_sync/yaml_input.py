"""YAML input files (templates, configuration, profiles): parsing, validation, and where problems are.

Every problem is reported as ``file:line: yaml.path: message``; lines are found only when something is
wrong, so a good file is parsed once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import InputError, InputProblem, PathItem

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: about 10x faster


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """Safe loading, except that a date that does not exist (2026-13-07) stays text, so the model rejects
    it with its file, line and key instead of the YAML library raising from deep inside."""


def _timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def parse_yaml(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(source, [InputProblem((), f"not valid YAML: {problem}", line)]) from None


def validation_problems(exc: ValidationError, tags: Sequence[str] = ()) -> list[InputProblem]:
    """One problem per validation error. ``tags``: the tags of discriminated unions in the model, which
    pydantic puts in an error's location (``tracker.jira.url``) although they are no key of the file."""
    return [
        InputProblem(tuple(item for item in err["loc"] if item not in tags), _message(err))
        for err in exc.errors()
    ]


def fail(text: str, source: str, problems: list[InputProblem]) -> InputError:
    """The error to raise, with each problem's line looked up in ``text``."""
    node = yaml.compose(text, Loader=_Loader)
    for problem in problems:
        if problem.line is None:
            problem.line = _line(node, problem.path)
    return InputError(source, problems)


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key; see the documentation for the keys allowed here"
    if error["type"] == "missing":
        return "required key is missing"
    if error["type"] == "union_tag_invalid":
        ctx = error["ctx"]
        return f"{ctx['discriminator'].strip(chr(39))} {ctx['tag']!r} is not one of {ctx['expected_tags']}"
    return str(error["msg"]).removeprefix("Value error, ")


def _line(node: yaml.Node | None, path: Sequence[PathItem]) -> int | None:
    """The 1-based line of the deepest YAML node along ``path``."""
    line = node.start_mark.line + 1 if node is not None else None
    for item in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == str(item)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(item, int) and item < len(node.value):
            child = node.value[item]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line

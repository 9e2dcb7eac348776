"""Reading template files: YAML parsing, model validation and problem locations (file:line path)."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from ..errors import InputError, InputProblem, PathItem
from .checks import check_template
from .model import PlanTemplate

BUNDLED_PACKAGE = "plan_templates"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~10x faster


def bundled_template_ids() -> list[str]:
    """Ids of the templates shipped inside the installed package (file stem = template id)."""
    files = resources.files(BUNDLED_PACKAGE)
    return sorted(f.name.removesuffix(".yaml") for f in files.iterdir() if f.name.endswith(".yaml"))


def resolve_template(ref: str) -> PlanTemplate:
    """Load a template by bundled id or by file path."""
    if ref in bundled_template_ids():
        resource = resources.files(BUNDLED_PACKAGE) / f"{ref}.yaml"
        return load_template_text(resource.read_text(encoding="utf-8"), source=f"{ref}.yaml (bundled)")
    path = Path(ref)
    if not path.exists():
        known = ", ".join(bundled_template_ids())
        raise InputError(ref, [InputProblem((), f"no such file, and not a bundled template id ({known})")])
    return load_template(path)


def load_template(path: Path | str) -> PlanTemplate:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), [InputProblem((), f"cannot read template: {exc}")]) from None
    return load_template_text(text, source=str(path))


def load_template_text(text: str, source: str) -> PlanTemplate:
    """Parse and validate a template; raise :class:`InputError` listing every problem found."""
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(source, [InputProblem((), f"not valid YAML: {problem}", line)]) from None
    if not isinstance(data, dict):
        raise InputError(source, [InputProblem((), "expected a mapping with the template's keys at the top")])
    try:
        template = PlanTemplate.model_validate(data)
    except ValidationError as exc:
        problems = [InputProblem(err["loc"], _message(err)) for err in exc.errors()]
    else:
        problems = check_template(template)
    if problems:
        # Only a failing template pays for a second parse that keeps line numbers.
        node = yaml.compose(text, Loader=_Loader)
        for problem in problems:
            problem.line = _line(node, problem.path)
        raise InputError(source, problems)
    return template


def _message(error: dict) -> str:  # type: ignore[type-arg]
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return "unknown key; see docs/templates.md for the keys a template may have"
    if error["type"] == "missing":
        return "required key is missing"
    return message


def _line(node: yaml.Node | None, path: Sequence[PathItem]) -> int | None:
    """The 1-based line of the deepest YAML node along ``path`` (pydantic locations included)."""
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

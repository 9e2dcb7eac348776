"""Reading template files: YAML parsing, model validation and problem locations (file:line path)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from ..errors import InputError, InputProblem
from ..gc_pause import without_gc_pauses
from ..yaml_input import fail, parse_yaml, validation_problems
from .checks import check_template
from .model import PlanTemplate

BUNDLED_PACKAGE = "plan_templates"


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


@without_gc_pauses
def load_template_text(text: str, source: str) -> PlanTemplate:
    """Parse and validate a template; raise :class:`InputError` listing every problem found."""
    data = parse_yaml(text, source)
    if not isinstance(data, dict):
        raise InputError(source, [InputProblem((), "expected a mapping with the template's keys at the top")])
    try:
        template = PlanTemplate.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(exc)
    else:
        problems = check_template(template)
    if problems:
        raise fail(text, source, problems)
    return template

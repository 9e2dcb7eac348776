"""Turning user-supplied parameter values into typed values a template's expressions can use."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from .errors import ExpressionError, InputError, InputProblem
from .expressions import Value, evaluate
from .template.model import Parameter, PlanTemplate

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def resolve_parameters(
    template: PlanTemplate, overrides: Mapping[str, object], source: str = "--param"
) -> dict[str, Value]:
    """Defaults overlaid with ``overrides`` (strings from the command line or typed values)."""
    problems = []
    values: dict[str, Value] = {name: p.default for name, p in template.parameters.items()}
    for name, raw in overrides.items():
        spec = template.parameters.get(name)
        if spec is None:
            known = ", ".join(sorted(template.parameters)) or "none"
            problems.append(
                InputProblem((name,), f"unknown parameter; template {template.id!r} has: {known}")
            )
            continue
        try:
            values[name] = coerce(spec, raw)
        except ValueError as exc:
            problems.append(InputProblem((name,), str(exc)))
    for name, spec in template.parameters.items():
        if spec.follows and name not in overrides and spec.follows in overrides:
            try:
                values[name] = coerce(spec, values[spec.follows])
            except ValueError as exc:
                problems.append(InputProblem((name,), f"follows {spec.follows}, but {exc}"))
    if problems:
        raise InputError(source, problems)
    return values


def coerce(spec: Parameter, raw: object) -> Value:
    """One value checked against its parameter's type, choices and range."""
    if spec.type == "boolean":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise ValueError(f"expected true or false, got {raw!r}")
    if spec.type == "choice":
        if str(raw) not in (spec.choices or []):
            raise ValueError(f"expected one of {', '.join(spec.choices or [])}, got {raw!r}")
        return str(raw)
    if spec.type == "text":
        return str(raw)
    if isinstance(raw, bool):
        raise ValueError(f"expected a number, got {raw!r}")
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError(f"expected a number, got {raw!r}") from None
    if not number.is_finite():
        raise ValueError(f"expected a finite number, got {raw!r}")
    if spec.type == "integer" and number != number.to_integral_value():
        raise ValueError(f"expected a whole number, got {raw!r}")
    if spec.minimum is not None and number < spec.minimum:
        raise ValueError(f"expected at least {spec.minimum}, got {raw!r}")
    if spec.maximum is not None and number > spec.maximum:
        raise ValueError(f"expected at most {spec.maximum}, got {raw!r}")
    return number


def evaluate_variables(
    template: PlanTemplate, parameters: Mapping[str, Value], source: str
) -> dict[str, Value]:
    """Parameters plus the template's variables, each evaluated in order."""
    env: dict[str, Value] = dict(parameters)
    for name, expr in template.variables.items():
        try:
            env[name] = evaluate(expr, env)
        except ExpressionError as exc:
            raise InputError(source, [InputProblem(("variables", name), str(exc))]) from None
    return env

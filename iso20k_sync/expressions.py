"""Safe arithmetic over template parameters.

Template durations, efforts and amounts may be written as expressions such as
``"ceil(10 * size_factor) if maturity == 'low' else 6"``. They are parsed with :mod:`ast` and
evaluated by walking a small whitelist of node types: no attribute access, no subscripts, no
comprehensions, no calls but the functions below, so no template can run arbitrary code.
Numbers are evaluated as :class:`~decimal.Decimal` so money stays exact.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from itertools import pairwise
from typing import Any

from .audit_time import initial_audit_days
from .errors import ExpressionError

Value = Decimal | bool | str

_MAX_SOURCE = 1000
_MAX_POWER = Decimal(100)


def _ceil(x: Decimal) -> Decimal:
    return Decimal(math.ceil(x))


def _floor(x: Decimal) -> Decimal:
    return Decimal(math.floor(x))


def _round(x: Decimal, digits: Decimal = Decimal(0)) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-int(digits)), rounding=ROUND_HALF_UP)


def _clamp(x: Decimal, low: Decimal, high: Decimal) -> Decimal:
    return max(low, min(high, x))


def _audit_days(headcount: Decimal) -> Decimal:
    return initial_audit_days(int(headcount))


FUNCTIONS: dict[str, Callable[..., Value]] = {
    "min": min,
    "max": max,
    "abs": abs,
    "ceil": _ceil,
    "floor": _floor,
    "round": _round,
    "clamp": _clamp,
    "audit_days": _audit_days,
}
"""Functions a template expression may call. ``audit_days(n)`` is the IAF MD5 proxy table."""

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_ALLOWED = (
    ast.Expression,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.Tuple,
    ast.List,
    ast.USub,
    ast.UAdd,
    ast.Not,
    ast.And,
    ast.Or,
    *_BINARY,
    *_COMPARE,
)


@lru_cache(maxsize=4096)
def parse(source: str) -> ast.Expression:
    """Parse and check an expression; raise :class:`ExpressionError` saying what is not allowed."""
    if len(source) > _MAX_SOURCE:
        raise ExpressionError(f"expression longer than {_MAX_SOURCE} characters")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse expression {source!r}: {exc.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ExpressionError(f"{type(node).__name__} is not allowed in expression {source!r}")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                raise ExpressionError(
                    f"unknown function in expression {source!r}; allowed: {', '.join(sorted(FUNCTIONS))}"
                )
            if node.keywords:
                raise ExpressionError(f"keyword arguments are not allowed in expression {source!r}")
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float | str | bool):
            raise ExpressionError(f"constant {node.value!r} is not allowed in expression {source!r}")
    return tree


def names(source: str) -> set[str]:
    """The variable names an expression refers to (function names excluded)."""
    tree = parse(source)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called}


def compared_texts(source: str) -> list[tuple[str, str]]:
    """``(name, text)`` for every comparison of a name with a text literal (``maturity == 'high'``,
    ``system in ('iso9001', 'both')``), so choices can be checked for typos."""
    pairs = []
    for node in ast.walk(parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for left, right in pairwise(operands):
            for name_node, other in ((left, right), (right, left)):
                if isinstance(name_node, ast.Name):
                    literals = other.elts if isinstance(other, ast.Tuple | ast.List) else [other]
                    pairs += [
                        (name_node.id, lit.value)
                        for lit in literals
                        if isinstance(lit, ast.Constant) and isinstance(lit.value, str)
                    ]
    return pairs


def evaluate(source: str | int | float | Decimal, variables: Mapping[str, Value]) -> Value:
    """Evaluate a number or an expression string against ``variables``."""
    if isinstance(source, bool):
        return source
    if isinstance(source, int | float | Decimal):
        return Decimal(str(source))
    tree = parse(source)
    try:
        return _eval(tree.body, variables, source)
    except ExpressionError:
        raise
    except (ArithmeticError, InvalidOperation, TypeError, ValueError) as exc:
        raise ExpressionError(f"cannot evaluate {source!r}: {exc or type(exc).__name__}") from None


def evaluate_number(source: str | int | float | Decimal, variables: Mapping[str, Value]) -> Decimal:
    """Evaluate to a number; a boolean or text result is an error."""
    value = evaluate(source, variables)
    if isinstance(value, bool) or not isinstance(value, Decimal):
        raise ExpressionError(f"expression {source!r} gives {value!r}, expected a number")
    return value


def _eval(node: ast.AST, env: Mapping[str, Value], source: str) -> Any:
    match node:
        case ast.Constant(value=bool() as v) | ast.Constant(value=str() as v):
            return v
        case ast.Constant(value=v):
            return Decimal(str(v))
        case ast.Name(id=name):
            if name not in env:
                raise ExpressionError(
                    f"unknown name {name!r} in expression {source!r}; known: {', '.join(sorted(env))}"
                )
            return env[name]
        case ast.BinOp(left=left, op=op, right=right):
            a, b = _eval(left, env, source), _eval(right, env, source)
            if isinstance(op, ast.Pow) and abs(b) > _MAX_POWER:
                raise ExpressionError(f"exponent {b} too large in expression {source!r}")
            return _BINARY[type(op)](a, b)
        case ast.UnaryOp(op=ast.Not(), operand=operand):
            return not _eval(operand, env, source)
        case ast.UnaryOp(op=ast.USub(), operand=operand):
            return -_eval(operand, env, source)
        case ast.UnaryOp(operand=operand):
            return +_eval(operand, env, source)
        case ast.BoolOp(op=ast.And(), values=values):
            return all(_eval(v, env, source) for v in values)
        case ast.BoolOp(values=values):
            return any(_eval(v, env, source) for v in values)
        case ast.Compare(left=left, ops=ops, comparators=comparators):
            current = _eval(left, env, source)
            for op, right in zip(ops, comparators, strict=True):
                other = _eval(right, env, source)
                if not _COMPARE[type(op)](current, other):
                    return False
                current = other
            return True
        case ast.IfExp(test=test, body=body, orelse=orelse):
            return _eval(body if _eval(test, env, source) else orelse, env, source)
        case ast.Tuple(elts=elts) | ast.List(elts=elts):
            return tuple(_eval(e, env, source) for e in elts)
        case ast.Call(func=ast.Name(id=name), args=args):
            return FUNCTIONS[name](*(_eval(a, env, source) for a in args))
    raise ExpressionError(
        f"{type(node).__name__} is not allowed in expression {source!r}"
    )  # pragma: no cover

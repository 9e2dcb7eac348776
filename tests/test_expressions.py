from __future__ import annotations

from decimal import Decimal

import pytest

from iso20k_sync.audit_time import initial_audit_days
from iso20k_sync.errors import ExpressionError
from iso20k_sync.expressions import evaluate, names


def test_arithmetic_is_decimal_exact():
    assert evaluate("0.1 + 0.2", {}) == Decimal("0.3")
    assert evaluate("ceil(staff / 30) * 2", {"staff": Decimal(100)}) == Decimal(8)
    assert evaluate("round(2.345, 2)", {}) == Decimal("2.35")
    assert evaluate("clamp(x, 1, 5)", {"x": Decimal(9)}) == Decimal(5)


def test_conditions_choices_and_booleans():
    env = {"maturity": "high", "consultant": False}
    assert evaluate("0.7 if maturity == 'high' else 1", env) == Decimal("0.7")
    assert evaluate("maturity in ('medium', 'high')", env) is True
    assert evaluate("0 if not consultant else 10", env) == Decimal(0)


def test_names_excludes_function_names():
    assert names("max(a, b) + ceil(c)") == {"a", "b", "c"}


@pytest.mark.parametrize(
    "source",
    [
        "().__class__.__bases__",
        "open('/etc/passwd')",
        "9 ** 9 ** 9",
        "{'a': 1}",
        "a[0]",
        "f'{a}'",
        "x := 1",
    ],
)
def test_unsafe_or_unsupported_expressions_are_refused(source):
    with pytest.raises(ExpressionError):
        evaluate(source, {"a": Decimal(1)})


@pytest.mark.parametrize(
    ("headcount", "days"),
    [
        (1, "1.5"),
        (5, "1.5"),
        (6, "2"),
        (25, "3"),
        (26, "4"),
        (125, "7"),
        (126, "8"),
        (2025, "15"),
        (2026, "16"),
        (10700, "22"),
        (10701, "23"),
    ],
)
def test_audit_days_follow_the_proxy_table_at_band_edges(headcount, days):
    assert initial_audit_days(headcount) == Decimal(days)
    assert evaluate("audit_days(n)", {"n": Decimal(headcount)}) == Decimal(days)

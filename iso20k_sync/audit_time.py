"""Initial certification audit time by headcount in scope.

ISO/IEC 20000-6 Table 1 is not public, so this is the public proxy the reference names: IAF MD5
(quality management systems) initial-audit auditor-days by effective personnel. Anything built on it
must be labelled as a proxy and replaced by the certification body's quote when one exists.
Surveillance is about one third and recertification about two thirds of the initial audit time.
"""

from __future__ import annotations

from bisect import bisect_left
from decimal import Decimal

PROXY_SOURCE = "IAF MD5 (QMS) initial audit time, used as a public proxy for ISO/IEC 20000-6 Table 1"

# (upper bound of the headcount band, auditor-days for Stage 1 + Stage 2)
_BANDS: tuple[tuple[int, Decimal], ...] = (
    (5, Decimal("1.5")),
    (10, Decimal(2)),
    (15, Decimal("2.5")),
    (25, Decimal(3)),
    (45, Decimal(4)),
    (65, Decimal(5)),
    (85, Decimal(6)),
    (125, Decimal(7)),
    (175, Decimal(8)),
    (275, Decimal(9)),
    (425, Decimal(10)),
    (625, Decimal(11)),
    (875, Decimal(12)),
    (1175, Decimal(13)),
    (1550, Decimal(14)),
    (2025, Decimal(15)),
    (2675, Decimal(16)),
    (3450, Decimal(17)),
    (4350, Decimal(18)),
    (5450, Decimal(19)),
    (6800, Decimal(20)),
    (8500, Decimal(21)),
    (10700, Decimal(22)),
)
_UPPER = [upper for upper, _ in _BANDS]
SURVEILLANCE_RATIO = Decimal(1) / Decimal(3)
RECERTIFICATION_RATIO = Decimal(2) / Decimal(3)


def initial_audit_days(headcount: int) -> Decimal:
    """Auditor-days for the initial audit (Stage 1 and Stage 2 together) for ``headcount`` people.

    Above the last band (10,700) the table continues by the IAF MD5 progression: the last
    value plus one day for every further 2,000 people, rounded up.
    """
    if headcount < 1:
        raise ValueError(f"headcount must be at least 1, got {headcount}")
    index = bisect_left(_UPPER, headcount)
    if index < len(_BANDS):
        return _BANDS[index][1]
    extra = -(-(headcount - _UPPER[-1]) // 2000)
    return _BANDS[-1][1] + extra

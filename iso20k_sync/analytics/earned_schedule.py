"""Earned schedule (Lipke): schedule performance in time units, honest after the planned finish.

SPI = EV / PV drifts back to 1 as a late project finishes (EV reaches BAC and so does PV). Earned
schedule ES asks instead *when* the value earned now was planned to be earned: ES = C + (EV - PV_C) /
(PV_{C+1} - PV_C), where C is the last period whose cumulative PV does not exceed EV.

Periods in which no value is planned (down time: waits for an auditor, surveillance intervals, work
without a cost) are left out of PD, AT and ES and added back only to the duration forecast, after Lipke's
treatment of down time ("Earned Schedule Application to Projects with Performance Interruption", PM World
Journal; see docs/analytics.md). Counted, they let a project exactly on plan look ahead by the rest of a
wait: EV then equals the PV of every day of the wait, and C is its last day.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict, Field

from .earned_value import ratio

PERIOD = Decimal("0.01")


class EarnedSchedule(BaseModel):
    """Earned schedule figures. Periods are those of the planned-value series (working days here) in
    which value is planned; the periods of down time are counted apart in ``down_time``."""

    model_config = ConfigDict(frozen=True)

    planned_duration: int = Field(description="PD: periods of the baseline with planned value")
    down_time: int = Field(default=0, description="DT: periods of the baseline with no planned value")
    actual_time: int = Field(description="AT: periods with planned value elapsed at the status date")
    es: Decimal = Field(description="Earned schedule: periods at which today's EV was planned")
    sv_t: Decimal = Field(description="Schedule variance in time ES - AT; negative is behind")
    spi_t: Decimal | None = Field(description="Schedule performance index in time ES / AT")
    ieac_t: Decimal | None = Field(description="Independent estimate of the duration PD / SPI(t) + DT")
    unavailable: dict[str, str]


def earned_schedule_periods(cumulative_pv: Sequence[Decimal], ev: Decimal) -> Decimal:
    """ES in periods; ``cumulative_pv[i]`` is the planned value at the end of period ``i + 1``."""
    count = bisect_right(cumulative_pv, ev)  # periods whose cumulative PV <= EV (PV only rises)
    if count >= len(cumulative_pv):
        return Decimal(len(cumulative_pv))
    before = cumulative_pv[count - 1] if count else Decimal(0)
    return count + (ev - before) / (cumulative_pv[count] - before)


def earned_schedule(
    cumulative_pv: Sequence[Decimal],
    ev: Decimal,
    actual_time: int,
    scope: str = "project",
    started: bool = False,
) -> EarnedSchedule:
    """Figures at ``actual_time`` periods of the baseline's clock (down time included; every period after
    the baseline's end counts). The caller stops ``actual_time`` at the finish once all work is done.
    ``started``: work in the scope is recorded as started (or done), so the reasons do not say otherwise."""
    measured = [i for i, pv in enumerate(cumulative_pv) if pv > (cumulative_pv[i - 1] if i else 0)]
    curve = [cumulative_pv[i] for i in measured]
    planned, down = len(curve), len(cumulative_pv) - len(curve)
    elapsed = bisect_left(measured, actual_time) + max(actual_time - len(cumulative_pv), 0)
    why: dict[str, str] = {}
    es = earned_schedule_periods(curve, ev)
    spi_t = ieac_t = None
    if actual_time <= 0 and started:
        earned = "" if ev > 0 else ", nothing earned yet"
        why["spi_t"] = why["ieac_t"] = (
            f"work has started ahead of the baseline{earned}: no baseline time has elapsed by the status "
            "date to measure it against"
        )
    elif actual_time <= 0:
        why["spi_t"] = why["ieac_t"] = f"the {scope} has not started by the status date"
    elif not curve:
        why["spi_t"] = why["ieac_t"] = "no value is planned, so there is no schedule to earn"
    elif elapsed <= 0:
        why["spi_t"] = why["ieac_t"] = "no work with planned value was due by the status date"
    else:
        spi_t = es / elapsed
        if es <= 0:
            done = "work has started but nothing is earned yet" if started else "no work earned yet"
            why["ieac_t"] = f"{done}, so no duration can be forecast from performance"
        else:
            ieac_t = planned / spi_t + down
    return EarnedSchedule(
        planned_duration=planned,
        down_time=down,
        actual_time=elapsed,
        es=_periods(es),
        sv_t=_periods(es - elapsed),
        spi_t=None if spi_t is None else ratio(spi_t),
        ieac_t=None if ieac_t is None else _periods(ieac_t),
        unavailable=why,
    )


def _periods(value: Decimal) -> Decimal:
    return value.quantize(PERIOD, rounding=ROUND_HALF_UP)

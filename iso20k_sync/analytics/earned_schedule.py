"""Earned schedule (Lipke): schedule performance in time units, honest after the planned finish.

SPI = EV / PV drifts back to 1 as a late project finishes (EV reaches BAC and so does PV). Earned
schedule ES asks instead *when* the value earned now was planned to be earned: ES = C + (EV - PV_C) /
(PV_{C+1} - PV_C), where C is the last period whose cumulative PV does not exceed EV.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict, Field

from .earned_value import ratio

PERIOD = Decimal("0.01")


class EarnedSchedule(BaseModel):
    """Earned schedule figures; periods are the unit of the planned-value series (working days here)."""

    model_config = ConfigDict(frozen=True)

    planned_duration: int = Field(description="PD: periods in the baseline")
    actual_time: int = Field(description="AT: periods elapsed at the status date")
    es: Decimal = Field(description="Earned schedule: periods at which today's EV was planned")
    sv_t: Decimal = Field(description="Schedule variance in time ES - AT; negative is behind")
    spi_t: Decimal | None = Field(description="Schedule performance index in time ES / AT")
    ieac_t: Decimal | None = Field(description="Independent estimate of the duration PD / SPI(t)")
    unavailable: dict[str, str]


def earned_schedule_periods(cumulative_pv: Sequence[Decimal], ev: Decimal) -> Decimal:
    """ES in periods; ``cumulative_pv[i]`` is the planned value at the end of period ``i + 1``."""
    count = bisect_right(cumulative_pv, ev)  # periods whose cumulative PV <= EV (PV only rises)
    if count >= len(cumulative_pv):
        return Decimal(len(cumulative_pv))
    before = cumulative_pv[count - 1] if count else Decimal(0)
    return count + (ev - before) / (cumulative_pv[count] - before)


def earned_schedule(cumulative_pv: Sequence[Decimal], ev: Decimal, actual_time: int) -> EarnedSchedule:
    why: dict[str, str] = {}
    es = earned_schedule_periods(cumulative_pv, ev)
    spi_t = ieac_t = None
    if actual_time <= 0:
        why["spi_t"] = why["ieac_t"] = "the project has not started by the status date"
    else:
        spi_t = es / actual_time
        if es <= 0:
            why["ieac_t"] = "no work earned yet, so no duration can be forecast from performance"
        else:
            ieac_t = len(cumulative_pv) / spi_t
    return EarnedSchedule(
        planned_duration=len(cumulative_pv),
        actual_time=actual_time,
        es=_periods(es),
        sv_t=_periods(es - actual_time),
        spi_t=None if spi_t is None else ratio(spi_t),
        ieac_t=None if ieac_t is None else _periods(ieac_t),
        unavailable=why,
    )


def _periods(value: Decimal) -> Decimal:
    return value.quantize(PERIOD, rounding=ROUND_HALF_UP)

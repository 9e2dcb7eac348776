"""Earned value figures from BAC, PV, EV and AC (PMI Practice Standard for Earned Value Management).

Every ratio that cannot be computed honestly (nothing planned yet, nothing earned, nothing spent,
budget already used up) is ``None`` with its reason in ``unavailable``: never a crash, a misleading
zero or an infinity.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from ..budget import money

RATIO = Decimal("0.0001")


def ratio(value: Decimal) -> Decimal:
    """Round an index (CPI, SPI, TCPI) to four decimals for display."""
    return value.quantize(RATIO, rounding=ROUND_HALF_UP)


class EacMethod(StrEnum):
    """Ways of forecasting the estimate at completion (EAC)."""

    cpi = "cpi"
    """BAC / CPI: the cost efficiency so far continues (the default)."""
    atypical = "atypical"
    """AC + (BAC - EV): the variance so far was a one-off; the rest goes to plan."""
    cpi_spi = "cpi_spi"
    """AC + (BAC - EV) / (CPI x SPI): cost and schedule pressure both weigh on the rest."""
    bottom_up = "bottom_up"
    """AC + the remaining estimates of the unfinished tasks."""


DEFAULT_EAC = EacMethod.cpi


class EarnedValue(BaseModel):
    """Earned value figures for the whole plan, one cost category or one phase."""

    model_config = ConfigDict(frozen=True)

    bac: Decimal = Field(description="Budget at completion")
    pv: Decimal = Field(description="Planned value at the status date")
    ev: Decimal = Field(description="Earned value: baseline cost of the work done")
    ac: Decimal = Field(description="Actual cost")
    cv: Decimal = Field(description="Cost variance EV - AC; negative is over budget")
    sv: Decimal = Field(description="Schedule variance EV - PV (money); negative is behind")
    cpi: Decimal | None = Field(description="Cost performance index EV / AC")
    spi: Decimal | None = Field(description="Schedule performance index EV / PV")
    eac: Decimal | None = Field(description="Estimate at completion by eac_method")
    eac_method: EacMethod
    eac_variants: dict[EacMethod, Decimal | None]
    etc: Decimal | None = Field(description="Estimate to complete EAC - AC")
    vac: Decimal | None = Field(description="Variance at completion BAC - EAC; negative is an overrun")
    tcpi_bac: Decimal | None = Field(description="Cost efficiency needed to finish within BAC")
    tcpi_eac: Decimal | None = Field(description="Cost efficiency needed to finish within the EAC")
    unavailable: dict[str, str] = Field(description="Figure name to the reason it cannot be computed")


def earned_value(
    bac: Decimal,
    pv: Decimal,
    ev: Decimal,
    ac: Decimal,
    bottom_up_etc: Decimal | None = None,
    method: EacMethod = DEFAULT_EAC,
) -> EarnedValue:
    """All figures at one status date. ``bottom_up_etc`` is the remaining estimate of unfinished work."""
    why: dict[str, str] = {}
    cpi = spi = None
    if ac <= 0:
        why["cpi"] = "no actual cost recorded yet"
    elif ev <= 0:
        why["cpi"] = "no work earned yet, so cost efficiency cannot be measured"
    else:
        cpi = ev / ac
    if pv <= 0:
        why["spi"] = "no work was planned to be done by the status date"
    else:
        spi = ev / pv

    variants: dict[EacMethod, Decimal | None] = {
        EacMethod.cpi: bac / cpi if cpi else None,
        EacMethod.atypical: ac + (bac - ev),
        EacMethod.cpi_spi: ac + (bac - ev) / (cpi * spi) if cpi and spi else None,
        EacMethod.bottom_up: ac + bottom_up_etc if bottom_up_etc is not None else None,
    }
    reasons = {
        EacMethod.cpi: why.get("cpi"),
        EacMethod.atypical: None,
        EacMethod.cpi_spi: why.get("cpi") or why.get("spi"),
        EacMethod.bottom_up: "no remaining estimates recorded",
    }
    for variant, value in variants.items():
        if value is None:
            why[f"eac_{variant.value}"] = str(reasons[variant])
    used = method if variants[method] is not None else EacMethod.atypical
    if used is not method:
        why["eac"] = f"{method.value} forecast not available ({reasons[method]}); used AC + (BAC - EV)"
    eac = variants[used]
    assert eac is not None  # the atypical forecast always exists

    tcpi_bac = None
    if bac - ac <= 0:
        why["tcpi_bac"] = "the budget is already spent: no efficiency can finish within BAC"
    else:
        tcpi_bac = (bac - ev) / (bac - ac)
    tcpi_eac = None
    if eac - ac <= 0:
        why["tcpi_eac"] = "the estimate at completion leaves nothing to spend"
    else:
        tcpi_eac = (bac - ev) / (eac - ac)

    return EarnedValue(
        bac=money(bac),
        pv=money(pv),
        ev=money(ev),
        ac=money(ac),
        cv=money(ev - ac),
        sv=money(ev - pv),
        cpi=_maybe(cpi, ratio),
        spi=_maybe(spi, ratio),
        eac=money(eac),
        eac_method=used,
        eac_variants={k: _maybe(v, money) for k, v in variants.items()},
        etc=money(eac - ac),
        vac=money(bac - eac),
        tcpi_bac=_maybe(tcpi_bac, ratio),
        tcpi_eac=_maybe(tcpi_eac, ratio),
        unavailable=why,
    )


def _maybe(value: Decimal | None, rounding: object) -> Decimal | None:
    return None if value is None else rounding(value)  # type: ignore[operator]

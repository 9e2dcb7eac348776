"""Earned value and earned schedule against published worked examples, and the cases with no data."""

from __future__ import annotations

from decimal import Decimal

import pytest

from iso20k_sync.analytics.earned_schedule import earned_schedule
from iso20k_sync.analytics.earned_value import EacMethod, earned_value

D = Decimal


def test_published_earned_value_example():
    # BAC 100,000; cumulative plan 10, 20, 40, 70, 100 % over five periods; end of period 3
    bac = D(100_000)
    pv = bac * D("0.40")
    figures = earned_value(bac, pv, ev=D(35_000), ac=D(63_000))
    assert figures.spi == D("0.8750")
    assert figures.cpi == D("0.5556")
    assert figures.eac_variants[EacMethod.atypical] == D("128000.00")
    assert figures.eac_variants[EacMethod.cpi] == D("180000.00")
    assert figures.eac == D("180000.00") and figures.eac_method is EacMethod.cpi
    assert figures.tcpi_bac.quantize(D("0.001")) == D("1.757")
    assert figures.vac == D("-80000.00")
    assert figures.etc == D("117000.00")
    assert figures.cv == D("-28000.00") and figures.sv == D("-5000.00")
    assert figures.unavailable == {"eac_bottom_up": "no remaining estimates recorded"}


def test_other_eac_variants_and_tcpi_to_eac():
    figures = earned_value(D(100_000), D(40_000), D(35_000), D(63_000), bottom_up_etc=D(50_000))
    # AC + (BAC - EV) / (CPI x SPI) = 63,000 + 65,000 / (0.5556 x 0.875)
    assert figures.eac_variants[EacMethod.cpi_spi] == D("196714.29")
    assert figures.eac_variants[EacMethod.bottom_up] == D("113000.00")
    assert figures.tcpi_eac == D("0.5556")  # (BAC - EV) / (EAC - AC) with EAC = BAC / CPI
    chosen = earned_value(D(100_000), D(40_000), D(35_000), D(63_000), D(50_000), EacMethod.bottom_up)
    assert chosen.eac == D("113000.00") and chosen.vac == D("-13000.00")


def test_nothing_done_nothing_spent_is_not_available_with_reasons():
    figures = earned_value(D(100_000), pv=D(0), ev=D(0), ac=D(0))
    assert figures.cpi is None and figures.spi is None
    assert figures.unavailable["cpi"] == "no actual cost recorded yet"
    assert figures.unavailable["spi"] == "no work was planned to be done by the status date"
    # with nothing known, the forecast is the budget, and says why it is not BAC / CPI
    assert figures.eac == D("100000.00") and figures.eac_method is EacMethod.atypical
    assert "AC + (BAC - EV)" in figures.unavailable["eac"]
    assert figures.tcpi_bac == D("1.0000")


def test_cost_spent_but_nothing_earned_gives_no_cpi_rather_than_zero():
    figures = earned_value(D(100_000), pv=D(10_000), ev=D(0), ac=D(5_000))
    assert figures.cpi is None
    assert "no work earned yet" in figures.unavailable["cpi"]
    assert figures.spi == D(0)  # nothing done of what was planned: a real zero


def test_budget_already_spent_gives_no_tcpi_to_bac():
    figures = earned_value(D(100_000), pv=D(90_000), ev=D(80_000), ac=D(120_000))
    assert figures.tcpi_bac is None
    assert "already spent" in figures.unavailable["tcpi_bac"]
    assert figures.eac == D("150000.00")


PV = [D(x) for x in (5, 10, 25, 55, 85, 120, 130, 140, 150)]
EV = [D(x) for x in ("3.33", "6.67", "10", "22.5", "70", "82.5", "90", "120", "130", "140", "150")]


@pytest.mark.parametrize(
    ("week", "es"), [(1, "0.67"), (2, "1.33"), (3, "2.00"), (4, "2.83"), (5, "4.50"), (6, "4.92")]
)
def test_published_earned_schedule_example_first_six_weeks(week, es):
    assert earned_schedule(PV, EV[week - 1], week).es == D(es)


def test_earned_schedule_stays_honest_after_the_planned_finish():
    figures = earned_schedule(PV, EV[10], actual_time=11)
    assert figures.sv_t == D("-2.00")
    assert figures.spi_t == D("0.8182")
    assert figures.ieac_t == D("11.00")
    assert earned_value(D(150), PV[-1], EV[10], D(150)).spi == D("1.0000")  # while SPI says "on time"


def test_earned_schedule_before_the_start_is_not_available():
    figures = earned_schedule(PV, D(0), actual_time=0)
    assert figures.es == D(0) and figures.spi_t is None
    assert figures.unavailable["spi_t"] == "the project has not started by the status date"


FLAT = [D(x) for x in (10, 20, 20, 20, 30, 40)]  # nothing is planned in periods 3 and 4: a wait


@pytest.mark.parametrize(
    ("ev", "at", "es", "sv_t", "spi_t"),
    [
        (D(20), 3, "2.00", "0.00", "1.0000"),  # exactly on plan inside the wait (plain ES: 4, SV(t) +1)
        (D(20), 4, "2.00", "0.00", "1.0000"),  # and at its end
        (D(30), 5, "3.00", "0.00", "1.0000"),  # and after it
        (D(15), 4, "1.50", "-0.50", "0.7500"),  # half a period of work owed before the wait stays owed
        (D(30), 2, "3.00", "1.00", "1.5000"),  # the work after the wait done early: ahead by that work
        (D(40), 7, "4.00", "-1.00", "0.8000"),  # done one period after the planned finish
    ],
)
def test_down_time_is_left_out_of_the_time_scale(ev, at, es, sv_t, spi_t):
    figures = earned_schedule(FLAT, ev, at)
    assert (figures.planned_duration, figures.down_time) == (4, 2)
    assert (figures.es, figures.sv_t, figures.spi_t) == (D(es), D(sv_t), D(spi_t))


def test_the_duration_forecast_adds_the_waits_back_unstretched():
    figures = earned_schedule(FLAT, D(15), 4)
    assert figures.ieac_t == D("7.33")  # PD / SPI(t) + DT = 4 / 0.75 + 2, not 6 / 0.75 = 8.00

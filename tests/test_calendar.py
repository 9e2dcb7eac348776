from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from iso20k_sync.calendar import CalendarSpec, WorkCalendar


def test_weekends_and_public_holidays_are_skipped():
    work = WorkCalendar(CalendarSpec(country="DE"), date(2027, 3, 31))
    # Good Friday 26 March 2027 is earlier; Easter Monday is 29 March; 1 April is Thursday
    assert work.date_of(0) == date(2027, 3, 31)
    assert work.date_of(1) == date(2027, 4, 1)
    assert work.date_of(2) == date(2027, 4, 2)  # a Friday, not a holiday in 2027
    plain = WorkCalendar(CalendarSpec(country="DE"), date(2027, 3, 25))
    assert plain.date_of(1) == date(2027, 3, 30)  # skips Good Friday, the weekend and Easter Monday


def test_subdivision_holidays_and_company_days_off():
    bavaria = WorkCalendar(CalendarSpec(country="DE", subdivision="BY"), date(2027, 1, 5))
    assert bavaria.date_of(1) == date(2027, 1, 7)  # 6 January, Epiphany, is a holiday in Bavaria
    extra = WorkCalendar(CalendarSpec(extra_holidays=(date(2027, 1, 5),)), date(2027, 1, 4))
    assert extra.date_of(1) == date(2027, 1, 6)
    assert extra.days_off_between(date(2027, 1, 1), date(2027, 1, 10)) == [
        (date(2027, 1, 5), "Company holiday")
    ]
    assert bavaria.days_off_between(date(2027, 1, 6), date(2027, 1, 6)) == [(date(2027, 1, 6), "Epiphany")]


def test_other_weekends():
    friday_saturday = WorkCalendar(CalendarSpec(weekend=(4, 5)), date(2027, 1, 7))  # a Thursday
    assert friday_saturday.date_of(1) == date(2027, 1, 10)  # Sunday is a working day there


def test_offsets_round_trip():
    work = WorkCalendar(CalendarSpec(), date(2027, 1, 4))
    for offset in (0, 1, 5, 250, 900):
        assert work.offset_of(work.date_of(offset)) == offset
    assert work.offset_of(date(2027, 1, 9)) == 5  # a Saturday counts as the next working day


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"country": "XX"}, "not a country"),
        ({"country": "DE", "subdivision": "ZZ"}, "not a subdivision of DE"),
        ({"subdivision": "BY"}, "needs a country"),
        ({"weekend": (0, 1, 2, 3, 4, 5, 6)}, "at least one day"),
        ({"weekend": (7,)}, "0 (Monday) to 6 (Sunday)"),
    ],
)
def test_bad_calendars_are_refused(kwargs, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        CalendarSpec(**kwargs)

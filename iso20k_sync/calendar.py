"""Working-day calendar: weekends, public holidays (``holidays`` package) and explicit days off.

Scheduling works in integer working-day offsets from the project start; this calendar turns
offsets into dates and back.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Literal

import holidays as holidays_lib
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_CHUNK_DAYS = 400
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class CalendarSpec(BaseModel):
    """How working days are defined: which weekdays are off and which holidays apply."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weekend: tuple[int, ...] = Field(
        default=(5, 6), description="Days off each week, 0 = Monday .. 6 = Sunday"
    )
    country: str | None = Field(default=None, description="ISO 3166 country code for public holidays")
    subdivision: str | None = Field(default=None, description="State or province code, with country")
    extra_holidays: tuple[date, ...] = Field(default=(), description="Further days off (company holidays)")

    @field_validator("weekend")
    @classmethod
    def _weekend(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(d not in range(7) for d in value):
            raise ValueError("weekend days are numbers 0 (Monday) to 6 (Sunday)")
        if len(set(value)) >= 7:
            raise ValueError("at least one day of the week must be a working day")
        return tuple(sorted(set(value)))

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is not None and value.upper() not in holidays_lib.list_supported_countries():
            raise ValueError(f"{value!r} is not a country the holidays package knows (ISO 3166 alpha-2)")
        return value.upper() if value else value

    @model_validator(mode="after")
    def _subdivision(self) -> CalendarSpec:
        if self.subdivision is None:
            return self
        if self.country is None:
            raise ValueError("a subdivision needs a country")
        try:
            holidays_lib.country_holidays(self.country, subdiv=self.subdivision)
        except NotImplementedError:
            known = ", ".join(holidays_lib.list_supported_countries()[self.country])
            raise ValueError(
                f"{self.subdivision!r} is not a subdivision of {self.country}; known: {known}"
            ) from None
        return self


class WorkCalendar:
    """Maps working-day offsets (0 = first working day on or after ``start``) to dates."""

    def __init__(self, spec: CalendarSpec, start: date) -> None:
        self.spec = spec
        self._weekend = frozenset(spec.weekend)
        self._extra = frozenset(spec.extra_holidays)
        self._public = (
            holidays_lib.country_holidays(spec.country, subdiv=spec.subdivision) if spec.country else None
        )
        self._days: list[date] = []
        self._next = start
        self._extend(1)
        self.start = self._days[0]

    def is_working_day(self, day: date) -> bool:
        if day.weekday() in self._weekend or day in self._extra:
            return False
        return not (self._public is not None and day in self._public)

    def days_off_between(self, first: date, last: date) -> list[tuple[date, str]]:
        """Non-weekend days off between two dates with their names, for calendar exports."""
        days = []
        day = first
        while day <= last:
            if day.weekday() not in self._weekend and not self.is_working_day(day):
                name = self._public.get(day) if self._public is not None else None
                days.append((day, name or "Company holiday"))
            day += timedelta(days=1)
        return days

    def date_of(self, offset: int) -> date:
        """The date of working day ``offset`` (0-based) counted from the start."""
        if offset < 0:
            raise ValueError(f"working-day offset {offset} is before the start")
        self._extend(offset + 1)
        return self._days[offset]

    def offset_of(self, day: date) -> int:
        """Working days from the start up to ``day``: the offset of ``day`` or of the next working day."""
        while self._days[-1] < day:
            self._extend(len(self._days) + _CHUNK_DAYS // 2)
        return bisect_left(self._days, day)

    def dates(self, offsets: Iterable[int]) -> list[date]:
        return [self.date_of(o) for o in offsets]

    def _extend(self, count: int) -> None:
        day = self._next
        days = self._days
        guard = 0
        while len(days) < count:
            if self.is_working_day(day):
                days.append(day)
                guard = 0
            else:
                guard += 1
                if guard > 366:
                    raise ValueError(
                        "no working day in a whole year: check the calendar's weekend and holidays"
                    )
            day += timedelta(days=1)
        self._next = day


class CalendarConfig(BaseModel):
    """Working days of the organisation as configuration files and profiles write them: weekend day names,
    public holidays by country, company days off."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str | None = Field(default=None, description="ISO 3166 code for public holidays, e.g. GB")
    subdivision: str | None = Field(default=None, description="State or province, e.g. BY for Bavaria")
    holidays: list[date] = Field(default=[], description="Company days off")
    weekend: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = ["sat", "sun"]

    def spec(self) -> CalendarSpec:
        return CalendarSpec(
            weekend=tuple(WEEKDAYS.index(d) for d in self.weekend),
            country=self.country,
            subdivision=self.subdivision,
            extra_holidays=tuple(self.holidays),
        )

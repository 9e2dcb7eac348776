"""Values read out of a tracker's JSON answer: what cannot be read becomes a problem naming the item and
the field (shown to the user with the status), never an exception that stops a sync."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .values import ItemState


def number(value: Any, what: str, problems: list[str], *, minimum: Decimal | None = None) -> Decimal | None:
    """A finite number (None stays None); otherwise a problem about ``what`` and None."""
    if value is None:
        return None
    try:
        found = Decimal(str(value))
    except InvalidOperation:
        found = Decimal("NaN")
    if isinstance(value, bool) or not found.is_finite() or (minimum is not None and found < minimum):
        floor = f" of {minimum} or more" if minimum is not None else ""
        problems.append(f"{what} {value!r} is not a number{floor}")
        return None
    return found


def day(value: Any, what: str, problems: list[str]) -> date | None:
    """The date of an ISO date or date-time; none for an empty value, Project's "NA" or year 1."""
    if value in (None, "", "NA"):
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        problems.append(f"{what} {value!r} is not a date")
        return None
    return None if moment.year <= 1 else moment.date()


def timestamp(value: Any) -> datetime | None:
    """An ISO date-time (None if there is none or it cannot be read); one without an offset is UTC."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def in_order(key: str, start: date | None, finish: date | None, problems: list[str]) -> date | None:
    """The actual finish, or None (a problem) when it is before the actual start: progress with the two
    out of order is refused whole, and the start and the rest are still worth reading."""
    if start and finish and finish < start:
        problems.append(f"{key}: actual finish {finish} is before actual start {start}; finish not read")
        return None
    return finish


def state(done: bool, started: bool) -> ItemState:
    return ItemState.done if done else ItemState.in_progress if started else ItemState.not_started

"""Reading the project manager's cells of one Tasks row into an :class:`ItemProgress`, or saying why not.

What is accepted (anything else is a problem that names the cell and what was expected):

* **Status**: ``Not started``, ``In progress`` or ``Done`` in any case and spacing; blank leaves the
  state to the other cells (the analytics count a finish date or 100 % as done, a start date or some %
  as in progress).
* **% Complete**: a number from 0 to 100, or text such as ``40`` or ``40%``; a cell formatted as a
  percentage holds a fraction (Excel shows 0.4 as 40 %), read as that percentage.
* **Actual start / Actual finish**: a date (Excel dates, with or without a time) or ISO text
  ``2027-02-03``; the finish may not be before the start.
* **Actual cost**: a number of 0 or more; text, even text that looks like a number, is a problem.
* A formula is read by the result Excel or LibreOffice saved with it; one without a saved result (the
  workbook was last saved by a program that does not compute) is a problem until it is saved again.

A task marked Done with % Complete blank is 100 % complete.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError

from ..values import ItemProgress, ItemState, amount_problem
from . import layout as L

HUNDRED = Decimal(100)
STATES = {L.normal(label): state for state, label in L.STATE_LABELS.items()}
_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')  # literal text, escaped characters, [colours]


@dataclass(frozen=True)
class CellValue:
    """One cell as read: where it is (``Tasks!J7``), its value and number format."""

    ref: str
    value: object
    number_format: str = "General"
    uncomputed: bool = False
    """A formula saved without its result."""


class Bad(ValueError):
    """A cell value that cannot be used; the message says what was expected."""


def read_row(cells: Mapping[str, CellValue]) -> tuple[ItemProgress | None, list[str]]:
    """The progress one row reports, or None and one problem per bad cell."""
    problems: list[str] = []

    def read(header: str, parse: Callable[[CellValue], object]) -> object:
        cell = cells.get(header)
        if cell is None:
            return None
        try:
            if cell.uncomputed:
                raise Bad(
                    f"{header} is a formula saved without its result; open the workbook in Excel or "
                    "LibreOffice and save it"
                )
            if _blank(cell.value):
                return None
            return parse(cell)
        except Bad as bad:
            problems.append(f"{cell.ref}: {bad}")
            return None

    state = read(L.STATE, _state)
    percent = read(L.PERCENT, _percent)
    start = read(L.ACTUAL_START, lambda c: _date(c, L.ACTUAL_START))
    finish = read(L.ACTUAL_FINISH, lambda c: _date(c, L.ACTUAL_FINISH))
    cost = read(L.ACTUAL_COST, _cost)
    if isinstance(start, date) and isinstance(finish, date) and finish < start:
        problems.append(
            f"{cells[L.ACTUAL_FINISH].ref}: {L.ACTUAL_FINISH} {finish} is before {L.ACTUAL_START} {start}"
        )
    if problems:
        return None, problems
    if state is ItemState.done and percent is None:
        percent = HUNDRED
    try:
        progress = ItemProgress(
            state=state,
            percent_complete=percent,
            actual_start=start,
            actual_finish=finish,
            actual_cost=cost,
        )
    except ValidationError as exc:  # every rule is checked above; this is a safety net
        where = next(iter(cells.values())).ref if cells else "row"
        return None, [f"{where}: row cannot be read: {exc.errors()[0]['msg']}"]
    return progress, []


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _show(value: object) -> str:
    """A value as the user would recognise it in a message."""
    if isinstance(value, str):
        return repr(value.strip())
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(value: object) -> Decimal | None:
    """A finite number from a numeric cell, else None (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    number = Decimal(str(value))
    return number if number.is_finite() else None


def _state(cell: CellValue) -> ItemState:
    state = STATES.get(L.normal(cell.value)) if isinstance(cell.value, str) else None
    if state is None:
        choices = ", ".join(L.STATE_LABELS.values())
        raise Bad(f"{L.STATE} {_show(cell.value)} is not one of {choices} (or blank)")
    return state


def is_percent_format(number_format: str) -> bool:
    """Whether Excel shows the cell's value times 100 with a % sign (``0%``, ``0.0%``, not ``0"%"``)."""
    return "%" in _QUOTED.sub("", number_format or "")


def _percent(cell: CellValue) -> Decimal:
    value = cell.value
    number = _number(value)
    shown = _show(value)
    if number is not None and is_percent_format(cell.number_format):
        number *= HUNDRED
        shown = f"{number.normalize():f}%"
    elif number is None and isinstance(value, str):
        typed = value.strip().removesuffix("%").strip()
        try:
            number = Decimal(typed)
        except InvalidOperation:
            number = None
        if number is not None and not number.is_finite():
            number = None
    if number is None:
        raise Bad(f"{L.PERCENT} {shown} is not a number from 0 to 100")
    if not 0 <= number <= HUNDRED:
        raise Bad(f"{L.PERCENT} {shown} is not between 0 and 100")
    return number


def _date(cell: CellValue, header: str) -> date:
    value = cell.value
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        typed = value.strip()
        try:
            return date.fromisoformat(typed)
        except ValueError:
            try:
                return datetime.fromisoformat(typed).date()
            except ValueError:
                pass
    if isinstance(value, time | timedelta):
        raise Bad(f"{header} {_show(value)} is a time, not a date (expected yyyy-mm-dd)")
    raise Bad(f"{header} {_show(value)} is not a date (expected yyyy-mm-dd)")


def _cost(cell: CellValue) -> Decimal:
    value = cell.value
    number = _number(value)
    if number is None:
        if isinstance(value, str) and _looks_numeric(value):
            raise Bad(f"{L.ACTUAL_COST} {_show(value)} is text, not a number; type it as a number")
        raise Bad(f"{L.ACTUAL_COST} {_show(value)} is not a number")
    problem = amount_problem(number)
    if problem:
        raise Bad(f"{L.ACTUAL_COST} {_show(value)} {problem}")
    return number


def _looks_numeric(value: str) -> bool:
    try:
        return Decimal(value.strip().replace(",", "")).is_finite()
    except InvalidOperation:
        return False

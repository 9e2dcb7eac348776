"""Translating between the plan's items and Project Server tasks: the marker in a task's Notes that
carries the keys, task and link creation information, status notes as plain text, progress read back."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from .. import answers, plaintext
from ..plaintext import marker, note_text, read_marker
from ..values import (
    ItemKind,
    ItemProgress,
    ItemSpec,
    LinkKind,
    StatusNote,
)

NAME_LIMIT = 255
NOTES_LIMIT = 60_000
"""Characters of a description kept in a task's Notes (one request stays far below the 2 MB cap)."""
DEPENDENCY_TYPES = {LinkKind.FF: 0, LinkKind.FS: 1, LinkKind.SF: 2, LinkKind.SS: 3}
STATUS_BEGIN, STATUS_END = "=== iso20k-sync status ===", "=== end of status ==="
WORK = re.compile(r"^\s*(-?\d+(?:[.,]\d+)?)\s*(mo|ms|[wdhm]|emo|ew|ed|eh|em)?\s*\??\s*$", re.IGNORECASE)


def one_line(text: str, limit: int = NAME_LIMIT) -> str:
    """A task name Project keeps as it is: one line, at most 255 characters."""
    return plaintext.one_line(text, limit)


def resource_name(role: str) -> str:
    """A resource name Project accepts: no square brackets or commas (Project's list separators)."""
    return one_line(re.sub(r"[\[\],]", " ", role)) or "Resource"


def notes(spec: ItemSpec, plan_key: str) -> str:
    """The task's Notes: its description, facts Project has no field for here, and the marker."""
    parts = []
    if " ".join(spec.title.split()) != one_line(spec.title):
        parts.append(spec.title.strip()[:NOTES_LIMIT])
    if spec.description:
        parts.append(spec.description[:NOTES_LIMIT])
    facts = [f"Clauses: {', '.join(spec.clauses)}"] if spec.clauses else []
    lags = [f"{link.predecessor} ({link.type.value}{link.lag:+d} d)" for link in spec.depends_on if link.lag]
    if lags:  # TaskLinkCreationInformation has no lag: it is kept in the store and shown here
        facts.append(f"Lag (not set in Project): {', '.join(lags)}")
    if facts:
        parts.append("\n".join(facts))
    parts.append(marker(plan_key, spec.key, spec.kind))
    return "\n\n".join(parts)


def task_parameters(spec: ItemSpec, plan_key: str, parent_id: str | None) -> dict[str, Any]:
    """TaskCreationInformation: a zero duration makes Project show the task as a milestone."""
    days = 0 if spec.kind is ItemKind.milestone else max(spec.duration_days, 1)
    fields: dict[str, Any] = {
        "Id": str(spec.uid),
        "Name": one_line(spec.title),
        "Notes": notes(spec, plan_key),
        "Start": f"{spec.start.isoformat()}T08:00:00",
        "Duration": f"{days}d",
        "IsManual": False,
    }
    if parent_id is not None:
        fields["ParentId"] = parent_id
    return fields


def hours(days: Decimal, hours_per_day: float) -> str:
    return f"{(days * Decimal(str(hours_per_day))).quantize(Decimal('0.01')).normalize():f}h"


# --- status notes ------------------------------------------------------------------------------------


def status_block(note: StatusNote) -> str:
    """A status note as plain text (task Notes hold no markup), between lines it is found again by."""
    return f"{STATUS_BEGIN}\n{note_text(note)}\n{STATUS_END}"


def with_status(current: str | None, block: str) -> str:
    """The Notes with their status block replaced by ``block`` (put first when there is none)."""
    text = current or ""
    pattern = re.compile(re.escape(STATUS_BEGIN) + r".*?" + re.escape(STATUS_END) + r"\n*", re.DOTALL)
    rest = pattern.sub("", text).strip()
    return f"{block}\n\n{rest}" if rest else block


# --- progress ----------------------------------------------------------------------------------------


def progress(key: str, task: dict[str, Any], hours_per_day: float) -> tuple[ItemProgress, list[str]]:
    """An item's progress from a published task, and what could not be read."""
    problems: list[str] = []
    percent = answers.number(task.get("PercentComplete"), f"{key}: PercentComplete", problems)
    if percent is not None and not 0 <= percent <= 100:
        problems.append(f"{key}: PercentComplete {percent} is not between 0 and 100")
        percent = None
    cost = answers.number(task.get("ActualCost"), f"{key}: ActualCost", problems, minimum=Decimal(0))
    work = _work(task.get("ActualWork"), hours_per_day, f"{key}: ActualWork", problems)
    start = answers.day(task.get("ActualStart"), f"{key}: ActualStart", problems)
    finish = answers.day(task.get("ActualFinish"), f"{key}: ActualFinish", problems)
    finish = answers.in_order(key, start, finish, problems)
    done = percent == 100
    facts = ItemProgress(
        state=answers.state(done, started=bool(percent) or start is not None or bool(work)),
        percent_complete=percent,
        actual_start=start,
        actual_finish=finish if done else None,
        actual_cost=cost or None,
        time_spent_days=work or None,
    )
    return facts, problems


def _work(value: Any, hours_per_day: float, what: str, problems: list[str]) -> Decimal | None:
    """Person-days of a Project work text: ``16h``, ``2d``, ``90m``, ``1w`` (5 days), ``0h``."""
    if value in (None, ""):
        return None
    found = WORK.match(str(value))
    if found is None:
        problems.append(f"{what} {value!r} is not a work amount")
        return None
    number = Decimal(found[1].replace(",", "."))
    unit = (found[2] or "h").lower().lstrip("e")
    day = Decimal(str(hours_per_day))
    if unit in ("ms", "m", "h"):
        return number / (day * {"ms": 3_600_000, "m": 60, "h": 1}[unit])
    return number * {"d": 1, "w": 5, "mo": 20}[unit]


__all__ = ["marker", "read_marker"]

"""Translating between the plan's items and Jira issues: labels that carry the plan key, the fields to
create, and progress read back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from ..values import ItemProgress, ItemState, amount_problem

CATEGORY_STATE = {
    "new": ItemState.not_started,
    "indeterminate": ItemState.in_progress,
    "done": ItemState.done,
}


def plan_label(plan_key: str) -> str:
    return f"iso20k:{plan_key}"


def item_label(plan_key: str, key: str) -> str:
    return f"iso20k:{plan_key}:{key}"


def item_key(plan_key: str, labels: list[str]) -> str | None:
    """The plan item an issue holds, from the label it carries."""
    prefix = f"iso20k:{plan_key}:"
    for label in labels:
        if label.startswith(prefix) and len(label) > len(prefix):
            return label[len(prefix) :]
    return None


def marker(plan_key: str, key: str) -> str:
    return f"[iso20k-sync {plan_key}:{key}]"


def progress(
    key: str,
    fields: dict[str, Any],
    cost_field: str | None,
    hours_per_day: float,
    status_map: dict[str, str],
) -> tuple[ItemProgress, list[str]]:
    """The task's progress from an issue's fields, and what could not be read."""
    problems: list[str] = []
    status = fields.get("status") or {}
    mapped = status_map.get(status.get("name", ""))
    state = (
        ItemState(mapped)
        if mapped
        else CATEGORY_STATE.get((status.get("statusCategory") or {}).get("key", ""))
    )
    seconds_per_day = Decimal(str(hours_per_day)) * 3600
    spent = fields.get("timespent")
    remaining = fields.get("timeestimate")
    percent = None
    if state is ItemState.done:
        percent = Decimal(100)
    elif spent and remaining is not None and spent + remaining > 0:
        percent = (Decimal(spent) * 100 / Decimal(spent + remaining)).quantize(Decimal("0.1"))
    cost = None
    if cost_field and fields.get(cost_field) is not None:
        try:
            cost = Decimal(str(fields[cost_field]))
        except InvalidOperation:
            problems.append(f"{key}: actual cost {fields[cost_field]!r} is not a number")
        problem = amount_problem(cost) if cost is not None else None
        if problem:
            problems.append(f"{key}: actual cost {fields[cost_field]!r} {problem}")
            cost = None
    facts = ItemProgress(
        state=state,
        percent_complete=percent,
        actual_finish=_date(fields.get("resolutiondate")) if state is ItemState.done else None,
        actual_cost=cost,
        time_spent_days=Decimal(spent) / seconds_per_day if spent else None,
        remaining_days=Decimal(remaining) / seconds_per_day
        if remaining is not None and state is not ItemState.done
        else None,
    )
    return facts, problems


def _date(value: str | None) -> date | None:
    """The calendar date of a Jira timestamp (``2027-02-01T10:00:00.000+0100``), in its own offset."""
    return date.fromisoformat(value[:10]) if value else None


def plain_text(body: Any) -> str:
    """A comment body as text: wiki text as it is, Atlassian Document Format flattened to its text."""
    if isinstance(body, str):
        return body
    if isinstance(body, dict):
        own = body.get("text") if isinstance(body.get("text"), str) else ""
        return own + " ".join(plain_text(child) for child in body.get("content") or [])
    return ""


def one_line(text: str, limit: int = 255) -> str:
    """A summary Jira accepts: no line breaks (Jira refuses them), at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"

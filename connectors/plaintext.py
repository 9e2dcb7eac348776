"""Plan text for trackers whose fields hold plain text only (Project Server task Notes, Planner task
descriptions): the key marker every item carries, one-line names, and a status note as text.

The marker ``[iso20k:<plan key>:<item key> <kind>]`` is visible in such fields (there is no hidden
comment as in Markdown), so it is small and goes last.
"""

from __future__ import annotations

import re
from decimal import Decimal

from .values import FigureKind, ItemKind, Scalar, StatusNote


def marker(plan_key: str, key: str, kind: ItemKind) -> str:
    """The line that names an item's plan and key, the last of its text."""
    return f"[iso20k:{plan_key}:{key} {kind.value}]"


def read_marker(plan_key: str, text: str | None) -> tuple[str, ItemKind] | None:
    """The item key and kind a text's marker names for this plan, or None."""
    found = re.search(rf"\[iso20k:{re.escape(plan_key)}:(\S+) (\w+)\]", text or "")
    if found is None or found[2] not in ItemKind.__members__:
        return None
    return found[1], ItemKind(found[2])


def one_line(text: str, limit: int) -> str:
    """``text`` on one line, shortened with an ellipsis to at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def note_text(note: StatusNote) -> str:
    """A status note as plain text: its level and title, its text, its figures, then each table with
    columns separated by " | "."""
    parts = [f"{note.level.value.upper()}: {one_line(note.title, 1000)}", note.text.strip()]
    if note.figures:
        parts.append("\n".join(f"{f.label}: {shown(f.value, f.kind, note.currency)}" for f in note.figures))
    for table in note.tables:
        kinds = [column.kind for column in table.columns]
        rows = [" | ".join(c.header for c in table.columns)]
        rows += [" | ".join(shown(v, k, note.currency) for v, k in zip(row, kinds, strict=True))
                 for row in table.rows]  # fmt: skip
        parts.append(f"{one_line(table.title, 1000)}\n" + "\n".join(rows))
    return "\n\n".join(part for part in parts if part)


def shown(value: Scalar, kind: FigureKind, currency: str) -> str:
    """A figure or cell as text: "-" for none, money with two decimals and the currency."""
    if value is None:
        return "-"
    if kind is FigureKind.money and isinstance(value, int | Decimal):
        return f"{value:,.2f} {currency}".strip()
    return one_line(str(value), 1000)

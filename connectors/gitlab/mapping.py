"""Translating between the plan's items and GitLab issues: markers that carry the keys, descriptions with
quick actions escaped, labels, and progress read back."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from .. import answers
from ..values import (
    FigureKind,
    ItemKind,
    ItemProgress,
    ItemSpec,
    LinkKind,
    LinkSpec,
    Scalar,
    StatusNote,
)
from .settings import GitLabLabels

TITLE_LIMIT = 255
DEPENDS = "**Depends on:**"
STATUS = "iso20k-sync status"
LINK_WORDS = {LinkKind.SS: "start-to-start", LinkKind.FF: "finish-to-finish", LinkKind.SF: "start-to-finish"}


def marker(plan_key: str, key: str, kind: ItemKind = ItemKind.task) -> str:
    """The hidden line every issue (and gate milestone) carries: ``<!-- iso20k:plan:key kind -->``."""
    return f"<!-- iso20k:{plan_key}:{key} {kind.value} -->"


def read_marker(plan_key: str, text: str | None) -> tuple[str, ItemKind] | None:
    """The item key and kind in a description's marker, or None."""
    found = re.search(rf"<!-- iso20k:{re.escape(plan_key)}:(\S+) (\w+) -->", text or "")
    if found is None or found[2] not in ItemKind.__members__:
        return None
    return found[1], ItemKind(found[2])


def status_marker(plan_key: str) -> str:
    return f"<!-- {STATUS} {plan_key} -->"


def escape(text: str) -> str:
    """Plan text as GitLab keeps it: line ends normalised, and every line that starts with "/" (after
    blanks) escaped as "\\/", so no quick action (/close, /label, ...) runs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"^([ \t]*)/", r"\1\\/", text, flags=re.MULTILINE)


def one_line(text: str, limit: int = TITLE_LIMIT) -> str:
    """A title GitLab keeps as it is: one line, at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def labels(scheme: GitLabLabels, plan_key: str, spec: ItemSpec) -> list[str]:
    """The plan label, then phase, clauses, role and the template's own labels (no commas: GitLab's
    list separator)."""
    found = [f"{scheme.plan}{plan_key}"]
    if scheme.phase and spec.phase_name:
        found.append(f"{scheme.phase}{spec.phase_name}")
    if scheme.clause:
        found += [f"{scheme.clause}{clause}" for clause in spec.clauses]
    if scheme.role and spec.owner_role:
        found.append(f"{scheme.role}{spec.owner_role}")
    found += spec.labels
    cleaned = [" ".join(label.replace(",", " ").split())[:255] for label in found]
    return list(dict.fromkeys(label for label in cleaned if label))


def duration(days: Decimal, hours_per_day: float) -> str:
    """An effort in person-days as GitLab's time words: ``20h``, ``2h24m``."""
    minutes = max(1, round(float(days) * hours_per_day * 60))
    hours, rest = divmod(minutes, 60)
    return f"{hours}h{rest}m" if hours and rest else f"{hours}h" if hours else f"{rest}m"


def description(spec: ItemSpec, plan_key: str, hours_per_day: float, depends: Sequence[str] = ()) -> str:
    """What to do, where it belongs, what it depends on (``depends``: entries of the "Depends on" line),
    and the marker; the ``/estimate`` line is the connector's own."""
    title = one_line(spec.title)
    parts = [escape(spec.title.strip())] if title != " ".join(spec.title.split()) else []
    if spec.description:
        parts.append(escape(spec.description))
    facts = [f"- **Planned:** {spec.start} to {spec.due}"]
    if spec.phase_name:
        facts.append(f"- **Phase:** {one_line(spec.phase_name)}")
    if spec.clauses:
        facts.append(f"- **Clauses:** {', '.join(spec.clauses)}")
    if spec.owner_role:
        facts.append(f"- **Owner:** {one_line(spec.owner_role)}")
    if spec.wbs:
        facts.append(f"- **WBS:** {spec.wbs}")
    parts.append("\n".join(facts))
    if depends:
        parts.append(f"{DEPENDS} {', '.join(depends)}")
    tail = [marker(plan_key, spec.key, spec.kind)]
    if spec.estimate_days > 0 and spec.kind is not ItemKind.phase:
        tail.insert(0, f"/estimate {duration(spec.estimate_days, hours_per_day)}")
    return "\n\n".join([*parts, "\n".join(tail)])


def with_dependencies(text: str, entries: Sequence[str]) -> str:
    """A description with its "Depends on" line (before the marker) replaced by ``entries``."""
    lines = [line for line in escape(text).split("\n") if not line.startswith(DEPENDS)]
    body = "\n".join(lines).rstrip()
    at = body.rfind("<!-- iso20k:")
    head, tail = (body[:at].rstrip(), body[at:]) if at >= 0 else (body, "")
    return "\n\n".join(part for part in (head, f"{DEPENDS} {', '.join(entries)}", tail) if part)


def dependency_entries(text: str | None) -> dict[str, str]:
    """The entries of a description's "Depends on" line by reference: {"#12": "#12 (start-to-start)"}."""
    line = next((ln for ln in (text or "").split("\n") if ln.startswith(DEPENDS)), "")
    return {m[1]: m[0] for m in re.finditer(r"(#\d+)(?: \([^)]*\))?", line)}


def dependencies(text: str | None) -> list[str]:
    """The iids of the predecessors a description's "Depends on" line names."""
    return [reference[1:] for reference in dependency_entries(text)]


def dependency(reference: str, link: LinkSpec) -> str:
    """One entry of the "Depends on" line: ``#12``, ``#13 (start-to-start, +1 d)``."""
    words = [LINK_WORDS[link.type]] if link.type in LINK_WORDS else []
    if link.lag:
        words.append(f"{link.lag:+d} d")
    return f"{reference} ({', '.join(words)})" if words else reference


def progress(
    key: str, issue: dict[str, Any], in_progress: Sequence[str], assignees: bool, hours_per_day: float
) -> tuple[ItemProgress, list[str]]:
    """The item's progress from an issue of a list answer, and what could not be read."""
    problems: list[str] = []
    day = Decimal(str(hours_per_day)) * 3600
    stats = issue.get("time_stats") or {}
    estimate = _seconds(stats.get("time_estimate"), f"{key}: time estimate", problems)
    spent = _seconds(stats.get("total_time_spent"), f"{key}: time spent", problems)
    checklist = issue.get("task_completion_status") or {}
    done = issue.get("state") == "closed"
    percent = None
    if done:
        percent = Decimal(100)
    elif isinstance(checklist.get("count"), int) and checklist["count"] > 0:
        completed = min(int(checklist.get("completed_count") or 0), checklist["count"])
        percent = (Decimal(completed) * 100 / checklist["count"]).quantize(Decimal("0.1"))
    started = bool(set(issue.get("labels") or []) & set(in_progress)) or bool(spent) or bool(percent)
    started = started or (assignees and bool(issue.get("assignees")))
    finish = _date(issue.get("closed_at")) if done else None
    if done and finish is None:
        problems.append(f"{key}: closed without a readable closed_at ({issue.get('closed_at')!r})")
    left = estimate - spent if estimate and not done else None
    facts = ItemProgress(
        state=answers.state(done, bool(started)),
        percent_complete=percent,
        actual_finish=finish,
        time_spent_days=spent / day if spent else None,
        remaining_days=max(left, Decimal(0)) / day if left is not None else None,
    )
    return facts, problems


def _seconds(value: Any, what: str, problems: list[str]) -> Decimal:
    if value is None:
        return Decimal(0)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return Decimal(value)
    problems.append(f"{what} {value!r} is not a number of seconds")
    return Decimal(0)


def _date(value: str | None) -> date | None:
    """The calendar date of a GitLab timestamp (``2027-02-01T10:00:00.000Z``), as written."""
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def note_body(note: StatusNote, plan_key: str) -> str:
    """A status note as Markdown: title, text, figures and tables, then the marker it is found by."""
    parts = [f"**{STATUS}: {escape(one_line(note.title))}**", escape(note.text)]
    if note.figures:
        rows = [[f.label, _shown(f.value, f.kind, note.currency)] for f in note.figures]
        parts.append(_table(["", ""], rows))
    for table in note.tables:
        kinds = [column.kind for column in table.columns]
        rows = [[_shown(v, k, note.currency) for v, k in zip(row, kinds, strict=True)] for row in table.rows]
        parts.append(f"**{_cell(table.title)}**\n\n" + _table([c.header for c in table.columns], rows))
    parts.append(status_marker(plan_key))
    return "\n\n".join(parts)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = [headers, ["---"] * len(headers), *rows]
    return "\n".join("| " + " | ".join(_cell(cell) for cell in line) + " |" for line in lines)


def _shown(value: Scalar, kind: FigureKind, currency: str) -> str:
    if value is None:
        return "-"
    if kind is FigureKind.money and isinstance(value, int | Decimal):
        return f"{value:,.2f} {currency}".strip()
    return str(value)


def _cell(text: str) -> str:
    """Text in a Markdown table cell: one line, pipes escaped (a row starts with "|": no quick action)."""
    return one_line(text, 1000).replace("|", "\\|")

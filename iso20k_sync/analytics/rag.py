"""Red / amber / green with a one-line reason, for milestones and for the whole plan."""

from __future__ import annotations

from enum import IntEnum, StrEnum

from pydantic import BaseModel, ConfigDict


class Rag(StrEnum):
    green = "green"
    amber = "amber"
    red = "red"


class _Level(IntEnum):
    green = 0
    amber = 1
    red = 2


class Verdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    rag: Rag
    reason: str


def worst(verdicts: list[Verdict], all_clear: str) -> Verdict:
    """The most severe verdict (the first of equals); green with ``all_clear`` when there is none."""
    if not verdicts:
        return Verdict(rag=Rag.green, reason=all_clear)
    return max(verdicts, key=lambda v: _Level[v.rag.value])

"""Planner premium's per-project limits, checked before anything is written so a seed never stops half-way
at the 1,001st task."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ..errors import SetupError
from ..values import ItemSpec, LinkSpec

MAX_TASKS = 1000
MAX_LINKS = 600
MAX_LINKS_PER_TASK = 20
MAX_OUTLINE_LEVELS = 10
MAX_RESOURCES = 150


def check_limits(specs: Sequence[ItemSpec], links: Sequence[LinkSpec]) -> None:
    """Raise :class:`SetupError` naming the limit and the plan's count when the plan does not fit."""
    where = "a Planner premium plan (one Dataverse project) holds"
    if len(specs) > MAX_TASKS:
        raise SetupError(
            f"{where} at most {MAX_TASKS:,} tasks; this plan has {len(specs):,} (its phases count as "
            "summary tasks): split the plan"
        )
    pairs = {(ln.predecessor, ln.successor) for ln in links}
    if len(pairs) > MAX_LINKS:
        raise SetupError(f"{where} at most {MAX_LINKS} dependencies; this plan has {len(pairs):,}")
    per_task = Counter(key for pair in pairs for key in pair)
    if per_task and (busiest := per_task.most_common(1)[0])[1] > MAX_LINKS_PER_TASK:
        raise SetupError(
            f"{where} at most {MAX_LINKS_PER_TASK} dependencies per task; task {busiest[0]} has {busiest[1]}"
        )
    roles = {spec.owner_role for spec in specs if spec.owner_role}
    if len(roles) > MAX_RESOURCES:
        raise SetupError(
            f"{where} at most {MAX_RESOURCES} team members; this plan has {len(roles)} roles (one each)"
        )
    parents = {spec.key: spec.parent for spec in specs}
    for spec in specs:
        level, key = 1, spec.parent
        while key is not None and level <= MAX_OUTLINE_LEVELS:
            level, key = level + 1, parents.get(key)
        if level > MAX_OUTLINE_LEVELS:
            raise SetupError(
                f"{where} at most {MAX_OUTLINE_LEVELS} outline levels; task {spec.key} is deeper"
            )

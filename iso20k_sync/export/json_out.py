"""The plan as JSON for scripts: dates in ISO 8601, money as decimal strings."""

from __future__ import annotations

import json

from ..plan import Plan


def plan_json(plan: Plan) -> str:
    return json.dumps(plan.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"

"""Benchmark: generate a 10,000-task template, then time loading, scheduling and the full plan.

Run: python benchmarks/bench_schedule.py [--tasks N] [--repeat R]
Prints the best of R runs for each stage; figures are recorded in the README.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import date
from typing import TypeVar

import yaml

from iso20k_sync.instantiate import instantiate
from iso20k_sync.scheduling import Activity, Link, schedule
from iso20k_sync.template import load_template_text
from iso20k_sync.template.model import LinkType

T = TypeVar("T")


def generated_template(tasks: int, seed: int = 20000) -> str:
    """A template of ``tasks`` tasks in phases of 100, each linked to up to three earlier tasks."""
    rng = random.Random(seed)
    phases = []
    ids: list[str] = []
    for p in range(-(-tasks // 100)):
        phase_tasks = []
        for n in range(min(100, tasks - p * 100)):
            task_id = f"t{p}-{n}"
            window = ids[-300:]
            deps = []
            for pred in rng.sample(window, k=min(len(window), rng.randint(0, 3))):
                kind = rng.choice([LinkType.FS] * 6 + [LinkType.SS, LinkType.FF, LinkType.SF])
                deps.append({"task": pred, "type": kind.value, "lag": rng.randint(-2, 5)})
            milestone = n % 25 == 24
            task: dict[str, object] = {"id": task_id, "name": f"Task {p}.{n}", "depends_on": deps}
            if milestone:
                task.update(
                    milestone=True, costs=[{"category": "certification", "amount": "audit_days(staff) * 10"}]
                )
            else:
                task.update(
                    duration=f"ceil({rng.randint(1, 20)} * factor)", effort={"pm": rng.randint(1, 10)}
                )
            phase_tasks.append(task)
            ids.append(task_id)
        phases.append({"id": f"p{p}", "name": f"Phase {p}", "tasks": phase_tasks})
    return yaml.safe_dump(
        {
            "id": "bench",
            "name": "Generated benchmark plan",
            "version": "1",
            "currency": "EUR",
            "parameters": {"staff": {"type": "integer", "default": 250}},
            "variables": {"factor": "1 + staff / 1000"},
            "roles": [{"id": "pm", "name": "Project manager", "day_rate": 800}],
            "phases": phases,
        },
        sort_keys=False,
    )


def best_of(repeat: int, func: Callable[[], T]) -> tuple[float, T]:
    best, result = float("inf"), None
    for _ in range(repeat):
        began = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - began)
    return best, result  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    text = generated_template(args.tasks)
    load_s, template = best_of(args.repeat, lambda: load_template_text(text, "generated"))
    activities = [
        Activity(t.id, 5, tuple(Link(d.task, d.type, d.lag) for d in t.depends_on)) for t in template.tasks()
    ]
    cpm_s, result = best_of(args.repeat, lambda: schedule(activities))
    plan_s, plan = best_of(args.repeat, lambda: instantiate(template, date(2027, 1, 4)))

    links = sum(len(t.depends_on) for t in template.tasks())
    print(
        f"tasks {len(template.tasks())}, links {links}, plan {plan.duration} working days, "
        f"critical tasks {len(result.critical_path())}"
    )
    print(f"load + validate YAML      {load_s:7.3f} s")
    print(f"CPM forward/backward pass {cpm_s:7.3f} s")
    print(f"instantiate (expressions, CPM, dates, budget, planned value) {plan_s:7.3f} s")


if __name__ == "__main__":
    main()

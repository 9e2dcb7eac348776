"""Benchmark: the plan status of a 10,000-task plan with progress on most tasks.

Run: python benchmarks/bench_status.py [--tasks N] [--repeat R]
Prints the best of R runs; the figures are recorded in the README.
"""

from __future__ import annotations

import argparse
import random
from datetime import date, timedelta
from decimal import Decimal

from bench_schedule import best_of, generated_template

from iso20k_sync.analytics import Expense, TaskProgress, plan_status
from iso20k_sync.instantiate import instantiate
from iso20k_sync.template import load_template_text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    plan = instantiate(load_template_text(generated_template(args.tasks), "generated"), date(2027, 1, 4))
    status_date = plan.start + (plan.finish - plan.start) / 2
    rng = random.Random(7)
    progress = []
    for task in plan.tasks:
        if task.finish < status_date - timedelta(days=30):
            progress.append(
                TaskProgress(
                    task_id=task.id,
                    percent_complete=Decimal(100),
                    actual_start=task.start,
                    actual_finish=task.finish + timedelta(days=rng.randint(0, 5)),
                    time_spent_days=sum(task.effort.values(), Decimal(0)),
                )
            )
        elif task.start < status_date:
            progress.append(
                TaskProgress(
                    task_id=task.id,
                    percent_complete=Decimal(rng.randint(0, 90)),
                    actual_start=task.start,
                    remaining_days=Decimal(rng.randint(1, 10)),
                )
            )
    expenses = [
        Expense(
            category="certification", amount=Decimal(1000), currency="EUR", date=status_date, reference=str(n)
        )
        for n in range(50)
    ]
    seconds, status = best_of(args.repeat, lambda: plan_status(plan, progress, expenses, status_date))
    print(f"tasks {len(plan.tasks)}, progress facts {len(progress)}, milestones {len(status.milestones)}")
    print(f"plan status (EV, ES, per category and phase, forecast, RAG) {seconds:7.3f} s")
    print(f"status {status.rag}: {status.reason}")


if __name__ == "__main__":
    main()

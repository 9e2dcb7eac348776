"""Benchmark: seed a 1,000-task plan into a workbook, edit progress on half of it, sync.

Run: python benchmarks/bench_workbook.py [--tasks N]
Prints wall times for the seed, a re-seed (no-op), the PM's edits (openpyxl, not ours) and the sync.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

import openpyxl
from bench_schedule import generated_template

from iso20k_sync.config import load_config
from iso20k_sync.engine.seed import seed
from iso20k_sync.engine.sync import sync
from iso20k_sync.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "bench.yaml").write_text(generated_template(args.tasks))
        (root / "iso20k-sync.yaml").write_text(
            "plans:\n  - name: bench\n    template: bench.yaml\n    start: 2027-01-04\n"
            "    tracker: {kind: workbook, path: bench.xlsx}\n"
        )
        config = load_config(root / "iso20k-sync.yaml")
        plan = config.plans[0].model_copy(update={"template": str(root / "bench.yaml")})
        config = config.model_copy(update={"plans": [plan]})
        store = Store(config.database_url())
        store.upgrade()

        began = time.perf_counter()
        report = seed(config, plan, store)
        seeded = time.perf_counter() - began
        began = time.perf_counter()
        again = seed(config, plan, store)
        reseeded = time.perf_counter() - began

        began = time.perf_counter()
        workbook = config.tracker_location(plan)
        book = openpyxl.load_workbook(workbook)
        ws = book["Tasks"]
        columns = {cell.value: cell.column for cell in ws[1]}
        for row in range(2, ws.max_row + 1, 2):
            ws.cell(row, columns["Status"]).value = "In progress"
            ws.cell(row, columns["% Complete"]).value = 50
            ws.cell(row, columns["Actual cost"]).value = 1000
        book.save(workbook)
        edited = time.perf_counter() - began

        began = time.perf_counter()
        result = sync(config, plan, store, date(2028, 1, 3))
        synced = time.perf_counter() - began
        print(
            f"tasks {args.tasks}: created {report.created}, re-seed created {again.created}, "
            f"sync read {result.records} rows ({result.status.rag.value})"
        )
        print(f"seed                  {seeded:7.2f} s")
        print(f"re-seed (no-op)       {reseeded:7.2f} s")
        print(f"PM edits (openpyxl)   {edited:7.2f} s")
        print(f"sync (pull, snapshots, status, write back) {synced:7.2f} s")
        store.dispose()


if __name__ == "__main__":
    main()

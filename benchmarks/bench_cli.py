"""Benchmark: command-line start-up, side by side with what Typer itself costs.

Run: python benchmarks/bench_cli.py [--repeat 5]
Makes a quickstart demo in a temporary directory, then times (best of --repeat, each a new process):
`python -c "import typer"`, a one-command Typer app's --help, `iso20k-sync --help`, and `iso20k-sync
status` of the demo; prints each with its ratio to importing Typer.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MINIMAL_APP = (
    "import typer\napp = typer.Typer()\n@app.command()\ndef main(x: int = 1):\n    'Hi.'\napp()\n"
)


def best(command: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cli = [sys.executable, "-m", "iso20k_sync"]
    with tempfile.TemporaryDirectory() as directory:
        demo = Path(directory) / "demo"
        subprocess.run([*cli, "quickstart", str(demo)], check=True, capture_output=True)
        config = str(demo / "iso20k-sync.yaml")
        cases = [
            ('python -c "import typer"', [sys.executable, "-c", "import typer"]),
            ("a one-command Typer app --help", [sys.executable, "-c", MINIMAL_APP, "--help"]),
            ("iso20k-sync --help", [*cli, "--help"]),
            ("iso20k-sync status (demo)", [*cli, "status", "-c", config]),
        ]
        floor = None
        for label, command in cases:
            seconds = best(command, args.repeat)
            floor = floor or seconds
            print(f"{label:<34} {seconds:6.3f} s  {seconds / floor:5.1f} x")


if __name__ == "__main__":
    main()

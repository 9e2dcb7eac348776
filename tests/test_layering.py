"""The layering contract (pyproject.toml, [tool.importlinter]) holds, and it does catch a forbidden import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )


def copy_tree(target: Path) -> Path:
    for package in ("iso20k_sync", "connectors", "plan_templates"):
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def test_the_code_keeps_the_layering_contract():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_a_connector_importing_the_core_breaks_the_contract(tmp_path):
    tree = copy_tree(tmp_path)
    values = tree / "connectors" / "values.py"
    values.write_text(values.read_text() + "\nfrom iso20k_sync.analytics import PlanStatus  # noqa\n")
    result = lint(tree)
    assert result.returncode != 0
    assert "Connectors import nothing from the core BROKEN" in result.stdout
    assert "connectors.values -> iso20k_sync.analytics" in result.stdout


def test_a_pure_room_reaching_the_network_or_the_store_breaks_the_contract(tmp_path):
    tree = copy_tree(tmp_path)
    budget = tree / "iso20k_sync" / "budget.py"
    forbidden = "\nimport requests  # noqa\nfrom iso20k_sync.store import Store  # noqa\n"
    budget.write_text(budget.read_text() + forbidden)
    result = lint(tree)
    assert result.returncode != 0
    assert "The core's pure rooms import no store, no connector, no network BROKEN" in result.stdout
    assert "iso20k_sync.budget is not allowed to import requests" in result.stdout
    assert "iso20k_sync.budget is not allowed to import iso20k_sync.store" in result.stdout

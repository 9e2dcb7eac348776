"""Shared test helpers: writing small templates and instantiating them."""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from iso20k_sync.config import PlanConfig, ServiceConfig, load_config
from iso20k_sync.instantiate import instantiate
from iso20k_sync.plan import Plan
from iso20k_sync.store import Store
from iso20k_sync.template import load_template

HEADER = """\
id: demo
name: Demo
version: "1"
currency: EUR
parameters:
  staff: {type: integer, default: 100, minimum: 1, description: People in scope}
  maturity: {type: choice, default: medium, choices: [low, medium, high]}
variables:
  factor: "1.5 if maturity == 'low' else 1"
roles:
  - {id: pm, name: Project manager, day_rate: 800}
  - {id: consultant, name: Consultant, day_rate: 1200, category: consulting}
"""

# The textbook critical-path network: 30 working days, critical path A-C-F-I.
TEXTBOOK = (
    HEADER
    + """\
phases:
  - id: p1
    name: Phase 1
    tasks:
      - {id: A, name: Task A, duration: 4}
      - {id: B, name: Task B, duration: 3}
      - {id: C, name: Task C, duration: 8, depends_on: [A]}
      - {id: D, name: Task D, duration: 7, depends_on: [A]}
      - {id: E, name: Task E, duration: 9, depends_on: [B, C]}
  - id: p2
    name: Phase 2
    tasks:
      - {id: F, name: Task F, duration: 12, depends_on: [B, C]}
      - {id: G, name: Task G, duration: 2, depends_on: [D, E]}
      - {id: H, name: Task H, duration: 5, depends_on: [D, E]}
      - {id: I, name: Task I, duration: 6, depends_on: [F, G]}
"""
)

MONDAY = date(2027, 1, 4)


@pytest.fixture
def write_template(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str, name: str = "template.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def make_plan(write_template: Callable[[str], Path]) -> Callable[..., Plan]:
    def make(text: str, start: date = MONDAY, **kwargs: object) -> Plan:
        return instantiate(load_template(write_template(text)), start, **kwargs)  # type: ignore[arg-type]

    return make


class Configured:
    """Configurations of a test, each in a directory of its own under ``root``, loaded with their store
    migrated; the stores are disposed when the test ends."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.stores: list[Store] = []
        self._runs = itertools.count()

    def directory(self) -> Path:
        """A fresh directory for the next configuration (and any file it names)."""
        directory = self.root / f"run-{next(self._runs)}"
        directory.mkdir()
        return directory

    def load(self, directory: Path, text: str) -> tuple[ServiceConfig, PlanConfig, Store]:
        """``text`` written as ``directory/iso20k-sync.yaml`` and loaded: the configuration, its first plan
        and its store."""
        path = directory / "iso20k-sync.yaml"
        path.write_text(text)
        config = load_config(path)
        store = Store(config.database_url())
        store.upgrade()
        self.stores.append(store)
        return config, config.plans[0], store


@pytest.fixture
def configured(tmp_path: Path) -> Iterator[Configured]:
    runs = Configured(tmp_path)
    yield runs
    for store in runs.stores:
        store.dispose()

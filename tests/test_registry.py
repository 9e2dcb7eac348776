"""The tracker registry: built-in kinds, and a third party's tracker added through an entry point."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from connectors.jira.settings import JiraSettings
from connectors.registry import tracker_kinds
from connectors.workbook.settings import WorkbookSettings

PLUGIN = '''
from pathlib import Path
from typing import Literal

from connectors.protocol import Capabilities, Connector
from connectors.registry import TrackerKind
from connectors.settings import TrackerSettings
from connectors.values import Inventory


class NotebookSettings(TrackerSettings):
    kind: Literal["notebook"]
    shelf: str
    key_env: str = "NOTEBOOK_KEY"

    def secrets(self):
        return {"key_env": self.key_env}

    def location(self, data_dir: Path) -> str:
        return f"notebook on shelf {self.shelf}"


class Notebook(Connector):
    capabilities = Capabilities(phases=False, links=False, cost_fields=False, bulk_size=10,
                                incremental_pull=False, write_back=False)

    def __init__(self, key):
        self.key = key

    def ensure_container(self, spec):
        return "notebook"

    def find_items(self, known):
        return Inventory()

    def create_items(self, specs, parents):
        raise NotImplementedError

    def pull_progress(self, items, since):
        raise NotImplementedError


TRACKER = TrackerKind(kind="notebook", title="A notebook", settings=NotebookSettings,
                      build=lambda settings, context: Notebook(context.secret(settings.key_env)))
'''
CONFIG = """\
plans:
  - name: acme
    start: 2027-01-04
    tracker: {kind: notebook, shelf: top}
"""


def test_the_built_in_trackers_are_declared():
    kinds = tracker_kinds()
    assert list(kinds)[:2] == ["workbook", "jira"]
    assert kinds["workbook"].settings is WorkbookSettings and kinds["jira"].settings is JiraSettings


def test_a_tracker_from_another_package_is_configured_checked_and_built(tmp_path: Path):
    site = tmp_path / "site"
    (site / "notebook_tracker").mkdir(parents=True)
    (site / "notebook_tracker" / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    info = site / "notebook_tracker-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: notebook-tracker\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[iso20k_sync.trackers]\nnotebook = notebook_tracker:TRACKER\n")
    config = tmp_path / "iso20k-sync.yaml"
    config.write_text(CONFIG)
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("NOTEBOOK_KEY", None)

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "iso20k_sync", *args, "-c", str(config)],
            env={**env, **extra},
            capture_output=True,
            text=True,
        )

    missing = run("config", "check")
    assert missing.returncode == 2
    assert "plans[0].tracker.key_env: the secret is not set" in missing.stderr
    assert "NOTEBOOK_KEY" in missing.stderr
    checked = run("config", "check", NOTEBOOK_KEY="k-1")
    assert checked.returncode == 0, checked.stderr
    assert "notebook on shelf top" in checked.stdout and "k-1" not in checked.stdout
    dry = run("seed", "--dry-run", NOTEBOOK_KEY="k-1")
    assert dry.returncode == 0, dry.stderr
    assert "to create in notebook on shelf top" in dry.stdout
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(CONFIG.replace("notebook", "typewriter"))
    refused = subprocess.run(
        [sys.executable, "-m", "iso20k_sync", "config", "check", "-c", str(wrong)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2
    assert "'typewriter'" in refused.stderr and "'notebook'" in refused.stderr and "'jira'" in refused.stderr

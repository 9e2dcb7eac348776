"""The demo the README's first command creates: a configuration with one plan kept in a workbook."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from .files import write_atomically

CONFIG_NAME = "iso20k-sync.yaml"

TEMPLATE = """\
# iso20k-sync demo configuration, made by `iso20k-sync quickstart`.
# Every option is explained by `iso20k-sync config example`.
data_dir: data                      # the store (SQLite) and the workbook live here

plans:
  - name: demo
    template: iso20000-1-2018       # the bundled ISO/IEC 20000-1:2018 certification programme
    start: {start}
    parameters:                     # see: iso20k-sync template show iso20000-1-2018
      staff_in_scope: 120
      staff_to_train: 120
      maturity: medium
      management_system: none
      use_consultant: true
    calendar:
      country: GB                   # public holidays; add company days off under holidays:
      holidays: []
    tracker:
      kind: workbook
      path: demo-plan.xlsx          # open it in Excel or LibreOffice and record progress
    timezone: Europe/London
    digest:                         # the sponsors' weekly status e-mail (sent by `iso20k-sync serve`)
      recipients: [sponsor@example.com]
      weekday: monday
      time: "08:00"
"""


def next_monday(today: date | None = None) -> date:
    today = today or date.today()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def write_quickstart_config(directory: Path) -> tuple[Path, bool]:
    """Write the demo configuration unless one is there; returns its path and whether it was written."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CONFIG_NAME
    if path.exists():
        return path, False
    write_atomically(path, TEMPLATE.format(start=next_monday().isoformat()).encode())
    return path, True

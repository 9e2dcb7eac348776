"""``iso20k-sync quickstart``: the README's first command, a working demo with no account needed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..config import load_config
from ..engine.seed import seed
from ..engine.sync import sync
from ..quickstart import write_quickstart_config
from .common import out, reports_errors
from .configured import open_store, today
from .status_view import render_status


@reports_errors
def quickstart(
    directory: Annotated[Path, typer.Argument(help="Where to create the demo.")] = Path("iso20k-demo"),
) -> None:
    """Create a working demo: configuration, a plan seeded into an Excel workbook, a first sync and status."""
    path, created = write_quickstart_config(directory)
    out.print(f"{'created' if created else 'using existing'} configuration {path}", highlight=False)
    config = load_config(path)
    plan_config = config.plans[0]
    store = open_store(config)
    report = seed(config, plan_config, store)
    out.print(
        f"seeded plan {plan_config.name!r} into {report.container} ({report.created} rows created)",
        highlight=False,
    )
    result = sync(config, plan_config, store, today(plan_config))
    render_status(result.status, out)
    out.print(
        "\n[bold]Next[/]\n"
        f"  1. Open {report.container} and fill in Status, % Complete, Actual start/finish and Actual cost.\n"
        f"  2. iso20k-sync sync -c {path}\n"
        f"  3. iso20k-sync status -c {path}\n"
        f"  4. iso20k-sync expense add -c {path} --category certification --amount 5250 --task stage1-audit\n"
        f"  5. Edit {path}: your organisation's parameters, start date, holidays and the digest's "
        "recipients (`iso20k-sync config example` explains every option).",
        highlight=False,
    )

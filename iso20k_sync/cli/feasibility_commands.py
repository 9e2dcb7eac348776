"""``iso20k-sync feasibility``: the scheme top managers decide on, from an organisation profile."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..feasibility import feasibility, load_profile
from ..files import write_atomically
from .common import err, reports_errors


class FeasibilityFormat(StrEnum):
    md = "md"
    html = "html"
    json = "json"


@reports_errors
def feasibility_command(
    org: Annotated[
        Path, typer.Option("--org", help="Organisation profile (see config/organisation.example.yaml).")
    ],
    fmt: Annotated[FeasibilityFormat, typer.Option("--format", "-f")] = FeasibilityFormat.md,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
) -> None:
    """Management basis, benefits, three-year resources and costs, and a recommendation."""
    report, _ = feasibility(load_profile(org), str(org))
    from ..feasibility import render  # matplotlib is loaded only when a report is rendered

    text = {"md": render.to_markdown, "html": render.to_html, "json": render.to_json}[fmt.value](report)
    if output is None:
        sys.stdout.write(text)
        return
    write_atomically(output, text.encode())
    err.print(f"wrote {output}: {report.recommendation.headline}", highlight=False)

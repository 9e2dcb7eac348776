"""The ``tracker:`` settings of a plan kept in a local Excel workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from ..settings import TrackerSettings


class WorkbookSettings(TrackerSettings):
    """A local Excel workbook the project manager edits (the embedded default: no account needed)."""

    kind: Literal["workbook"]
    path: Path = Field(description="The .xlsx file; relative paths are inside data_dir")
    batch_size: int | None = Field(
        default=None,
        ge=1,
        le=10_000,
        description="Rows written per save while seeding; none: one save for the whole seed (a seed killed "
        "before it saved wrote nothing, and the next one starts over)",
    )

    def resolve(self, data_dir: Path) -> Path:
        return self.path if self.path.is_absolute() else (data_dir / self.path).resolve()

    def location(self, data_dir: Path) -> str:
        return str(self.resolve(data_dir))

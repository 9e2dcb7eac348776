"""The embedded default tracker: an Excel workbook a project manager edits by hand (Excel or LibreOffice).

Declared here cheaply; :mod:`connectors.workbook.connector` (openpyxl) is imported only when built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..registry import BuildContext, TrackerKind
from .settings import WorkbookSettings

if TYPE_CHECKING:
    from .connector import WorkbookConnector


def _build(settings: WorkbookSettings, context: BuildContext) -> WorkbookConnector:
    from .connector import WorkbookConnector

    return WorkbookConnector(settings.resolve(context.data_dir), context.plan_key, settings.batch_size)


TRACKER = TrackerKind(kind="workbook", title="Excel workbook", settings=WorkbookSettings, build=_build)

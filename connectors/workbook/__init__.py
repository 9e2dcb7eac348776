"""The embedded default tracker: an Excel workbook a project manager edits by hand (Excel or LibreOffice).

Sheets (names and headers in :mod:`connectors.workbook.layout`):

* **Tasks** - one row per task and milestone (milestones in italics, planned start = planned finish).
  ``Key .. Baseline cost`` are written by iso20k-sync; ``Status .. Notes`` (yellow) are the project
  manager's, with data validation; a hidden last column ``Kind`` says task or milestone.
* **Milestones** - key, name, phase and baseline date; forecast, variance, RAG and reason are filled
  by each status run.
* **Status** - rewritten whole by each status run: RAG, forecast, earned value and earned schedule,
  by category, trend, problems.
* **About** - the plan key that ties the file to one plan, and which columns are whose.

Rows are found by their Key and columns by their header text, so sorting, filtering, moving columns
and adding rows of one's own are all fine. iso20k-sync never writes a cell of an existing Tasks row;
every save is atomic (see :mod:`connectors.workbook.storage`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

from connectors.base import (
    BulkResult,
    Capabilities,
    ContainerSpec,
    CreateFailure,
    ExternalItem,
    ItemKind,
    ItemSpec,
    LinkSpec,
    ProgressRecord,
    PullResult,
    TrackerError,
)
from iso20k_sync.analytics.status import PlanStatus

from . import layout as L
from . import storage
from .read import CellValue, read_row
from .seed import append_milestone, append_task, extend_filter, milestones_sheet, new_workbook
from .status_sheet import update_milestones, write_status_sheet

__all__ = ["WorkbookConnector"]


class WorkbookConnector:
    """A plan's tracker kept in one ``.xlsx`` workbook at ``path``."""

    def __init__(self, path: Path, plan_key: str, batch_size: int = 100) -> None:
        """``batch_size`` rows are written per save: each save rewrites the whole file."""
        self.path = Path(path)
        self.plan_key = plan_key
        self.capabilities = Capabilities(
            phases=False,
            links=False,
            cost_fields=True,
            bulk_size=batch_size,
            incremental_pull=False,
            write_back=True,
        )
        if self.path.suffix.lower() != ".xlsx":
            raise TrackerError(f"{self.path}: the tracker workbook must be an .xlsx file")

    @property
    def _where(self) -> str:
        return self.path.name

    # --- Connector ---------------------------------------------------------------------------------

    def ensure_container(self, spec: ContainerSpec) -> str:
        if spec.plan_key != self.plan_key:
            raise TrackerError(
                f"{self._where}: asked to set up plan {spec.plan_key!r} in the tracker of {self.plan_key!r}"
            )
        if self.path.exists():
            book = storage.load(self.path, self.plan_key)
            self._tasks(book, L.TASK_HEADERS, L.SYNC_HEADERS + L.USER_HEADERS)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            storage.save(new_workbook(spec), self.path)
        return str(self.path)

    def find_items(self, known: Mapping[str, ExternalItem] | None = None) -> dict[str, ExternalItem]:
        if not self.path.exists():
            return {}
        book = storage.load(self.path, self.plan_key)
        ws, cols = self._tasks(book, L.TASK_HEADERS, (L.KEY,))
        milestones = _milestone_keys(book, self._where)
        items: dict[str, ExternalItem] = {}
        for key, row in _rows_by_key(ws, cols[L.KEY]):
            if key in items:
                continue
            kind = L.text(ws.cell(row, cols[L.KIND]).value).casefold() if L.KIND in cols else ""
            if kind not in (ItemKind.task, ItemKind.milestone):
                kind = ItemKind.milestone if key in milestones else ItemKind.task
            items[key] = self._item(key, ItemKind(kind), ws.cell(row, cols[L.KEY]))
        return items

    def create_items(self, specs: Sequence[ItemSpec]) -> BulkResult:
        book = storage.load(self.path, self.plan_key)
        ws, cols = self._tasks(book, L.TASK_HEADERS, L.SYNC_HEADERS + L.USER_HEADERS)
        milestones = _milestones(book)
        mcols = L.columns(milestones, L.MILESTONE_HEADERS, L.MILESTONE_HEADERS[:4], self._where)
        currency = _currency(book)
        rows: dict[str, int] = {}
        for key, row in _rows_by_key(ws, cols[L.KEY]):
            rows.setdefault(key, row)
        listed = {key for key, _ in _rows_by_key(milestones, mcols[L.KEY])}
        created: list[ExternalItem] = []
        failed: list[CreateFailure] = []
        last, last_milestone = L.last_used_row(ws), L.last_used_row(milestones)
        changed = False
        for spec in specs:
            if spec.kind is ItemKind.phase:
                failed.append(CreateFailure(key=spec.key, message="the workbook has no rows for phases"))
                continue
            if spec.key not in rows:
                last += 1
                append_task(ws, last, spec, cols, currency)
                rows[spec.key] = last
                changed = True
            if spec.kind is ItemKind.milestone and spec.key not in listed:
                last_milestone += 1
                append_milestone(milestones, last_milestone, spec, mcols)
                listed.add(spec.key)
                changed = True
            created.append(self._item(spec.key, spec.kind, ws.cell(rows[spec.key], cols[L.KEY])))
        if changed:
            extend_filter(ws, last)
            extend_filter(milestones, last_milestone)
            storage.save(book, self.path)
        return BulkResult(created=created, failed=failed)

    def link_items(self, links: Sequence[LinkSpec], items: Mapping[str, ExternalItem]) -> list[CreateFailure]:
        """The workbook holds no links (``capabilities.links`` is false)."""
        return [
            CreateFailure(key=link.successor, message="the workbook does not hold dependency links")
            for link in links
        ]

    def pull_progress(self, items: Mapping[str, ExternalItem], since: datetime | None) -> PullResult:
        """Every seeded row's progress (``since`` is ignored: the whole sheet is read each time)."""
        values, formulas = storage.load_values_and_formulas(self.path, self.plan_key)
        ws, cols = self._tasks(values, L.TASK_HEADERS, L.PROGRESS_HEADERS)
        raw = formulas[L.TASKS]
        problems: list[str] = []
        records: list[ProgressRecord] = []
        first: dict[str, int] = {}
        for key, row in _rows_by_key(ws, cols[L.KEY]):
            if key not in items:
                continue
            if key in first:
                ref = ws.cell(row, cols[L.KEY]).coordinate
                problems.append(
                    f"{self._where} {L.TASKS}!{ref}: key {key!r} appears again (first at row {first[key]}); "
                    "this row is ignored"
                )
                continue
            first[key] = row
            cells = {
                header: _cell_value(ws.cell(row, cols[header]), raw.cell(row, cols[header]))
                for header in L.USER_HEADERS
                if header in cols
            }
            progress, bad = read_row(key, cells)
            problems += [f"{self._where} {problem}" for problem in bad]
            if progress is not None:
                records.append(ProgressRecord(key=key, progress=progress))
        missing = [key for key in items if key not in first]
        return PullResult(records=records, problems=problems, missing=missing)

    def write_status(self, status: PlanStatus, items: Mapping[str, ExternalItem]) -> None:
        """Rewrite the Status sheet and the figures of the Milestones sheet; Tasks is never touched."""
        book = storage.load(self.path, self.plan_key)
        write_status_sheet(book, status)
        update_milestones(book, status, self._where)
        storage.save(book, self.path)

    # --- helpers -----------------------------------------------------------------------------------

    def _tasks(
        self, book: Workbook, headers: Sequence[str], required: Sequence[str]
    ) -> tuple[Worksheet, dict[str, int]]:
        if L.TASKS not in book.sheetnames:
            raise TrackerError(f"{self._where} has no {L.TASKS} sheet; restore it from a backup or re-seed")
        ws = book[L.TASKS]
        return ws, L.columns(ws, headers, required, self._where)

    def _item(self, key: str, kind: ItemKind, cell: Cell) -> ExternalItem:
        url = f"{self.path}#{L.TASKS}!{cell.coordinate}"
        return ExternalItem(key=key, kind=kind, external_id=key, url=url)


def _rows_by_key(ws: Worksheet, column: int) -> list[tuple[str, int]]:
    """(key, row) for each row below the header with a non-empty cell in ``column``, in sheet order."""
    pairs = []
    for (cell,) in ws.iter_rows(min_row=2, min_col=column, max_col=column):
        key = L.text(cell.value)
        if key:
            pairs.append((key, cell.row))
    return pairs


def _cell_value(value: Cell, formula: Cell) -> CellValue:
    """A cell as saved; ``formula`` is the same cell read with formulas, to spot uncomputed ones."""
    uncomputed = value.value is None and formula.data_type == "f"
    return CellValue(
        ref=f"{L.TASKS}!{value.coordinate}",
        value=value.value,
        number_format=value.number_format,
        uncomputed=uncomputed,
    )


def _milestones(book: Workbook) -> Worksheet:
    if L.MILESTONES not in book.sheetnames:
        milestones_sheet(book.create_sheet(L.MILESTONES, book.sheetnames.index(L.TASKS) + 1))
    return book[L.MILESTONES]


def _milestone_keys(book: Workbook, where: str) -> set[str]:
    if L.MILESTONES not in book.sheetnames:
        return set()
    ws = book[L.MILESTONES]
    cols = L.columns(ws, (L.KEY,), (), where)
    return {key for key, _ in _rows_by_key(ws, cols[L.KEY])} if L.KEY in cols else set()


def _currency(book: Workbook) -> str:
    for label, value, *_ in book[L.ABOUT].iter_rows(min_col=1, max_col=2, values_only=True):
        if label is not None and L.normal(label) == "currency" and L.text(value):
            return L.text(value)
    return ""

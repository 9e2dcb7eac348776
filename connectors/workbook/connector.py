"""The embedded default tracker's connector: an Excel workbook a project manager edits by hand.

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
and adding rows of one's own are all fine. iso20k-sync never writes a project manager's cell; of an
existing Tasks row it rewrites its own planned values only when asked to (``update_items``). Writes
happen in a change session: the workbook is loaded once, changed in memory and saved once, atomically
(see :mod:`connectors.workbook.storage`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

from ..errors import TrackerError
from ..files import remove_stale_temporaries
from ..protocol import Capabilities, Connector
from ..values import (
    BulkResult,
    ContainerSpec,
    CreateFailure,
    ExternalItem,
    Inventory,
    ItemKind,
    ItemSpec,
    ItemUpdate,
    NoteReceipt,
    NoteWrite,
    ProgressRecord,
    PullResult,
    StatusNote,
)
from . import layout as L
from . import storage
from .notes_sheets import update_milestones, write_status_sheet
from .read import CellValue, read_row
from .seed import append_milestone, append_task, extend_filter, milestones_sheet, new_workbook, update_task

__all__ = ["WorkbookConnector"]


WHOLE_SEED = 100_000
"""Rows appended per create call when the seed is one session: more than any plan has."""


class WorkbookConnector(Connector):
    """A plan's tracker kept in one ``.xlsx`` workbook at ``path``."""

    def __init__(self, path: Path, plan_key: str, batch_size: int | None = None) -> None:
        """``batch_size`` rows are written per save while seeding (one change session each); None: the
        whole seed is one session, read once and saved once."""
        self.path = Path(path)
        self.plan_key = plan_key
        self.capabilities = Capabilities(
            phases=False,
            links=False,
            cost_fields=True,
            bulk_size=batch_size or WHOLE_SEED,
            session_size=batch_size,
            incremental_pull=False,
            write_back=True,
            rewrite_notes=True,
            plan_note=True,
            updates=True,
        )
        self._book: Workbook | None = None
        self._loaded: storage.Signature | None = None  # the file as it was when the session's book was read
        self._kept: tuple[storage.Signature, Workbook] | None = None  # our last save, still in memory
        self._changed = False
        if self.path.suffix.lower() != ".xlsx":
            raise TrackerError(f"{self.path}: the tracker workbook must be an .xlsx file")

    @property
    def _where(self) -> str:
        return self.path.name

    # --- change sessions: load once, save once ------------------------------------------------------

    def begin(self) -> None:
        self._book = None
        self._changed = False
        remove_stale_temporaries(self.path)

    def commit(self) -> None:
        """Save once; refused, with nothing written, when someone saved the file since it was read."""
        book, self._book = self._book, None
        if book is None or not self._changed:
            return
        if storage.signature(self.path) != self._loaded:
            self._kept = None
            raise TrackerError(
                f"{self.path} was saved by someone else while iso20k-sync was changing it; nothing was "
                "written over their edit: run the command again"
            )
        storage.save(book, self.path)
        self._kept = (storage.signature(self.path), book)

    def abort(self) -> None:
        self._book = None
        self._kept = None  # the kept book may hold half a session's changes

    def _session_book(self) -> Workbook:
        """The workbook being changed: read on first use in the session, or the one this connector last
        saved when the file has not changed since (a seed's sessions then read the file once)."""
        if self._book is None:
            self._loaded = storage.signature(self.path)
            if self._kept is not None and self._kept[0] == self._loaded:
                self._book = self._kept[1]
            else:
                self._book = storage.load(self.path, self.plan_key)
            self._kept = None
        return self._book

    # --- Connector ---------------------------------------------------------------------------------

    def ensure_container(self, spec: ContainerSpec) -> str:
        if spec.plan_key != self.plan_key:
            raise TrackerError(
                f"{self._where}: asked to set up plan {spec.plan_key!r} in the tracker of {self.plan_key!r}"
            )
        remove_stale_temporaries(self.path)
        if self.path.exists():
            book = storage.load(self.path, self.plan_key)
            self._tasks(book, L.TASK_HEADERS, L.SYNC_HEADERS + L.USER_HEADERS)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            storage.save(new_workbook(spec), self.path)
        return str(self.path)

    def find_items(self, known: Mapping[str, ExternalItem] | None = None) -> Inventory:
        if not self.path.exists():
            return Inventory()
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
        return Inventory(items=items)

    def create_items(
        self, specs: Sequence[ItemSpec], parents: Mapping[str, ExternalItem] | None = None
    ) -> BulkResult:
        """Append a row per spec (and a Milestones row per milestone); rows already there are kept."""
        with self.changes():
            book = self._session_book()
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
            for spec in specs:
                if spec.kind is ItemKind.phase:
                    failed.append(CreateFailure(key=spec.key, message="the workbook has no rows for phases"))
                    continue
                if spec.key not in rows:
                    last += 1
                    append_task(ws, last, spec, cols, currency)
                    rows[spec.key] = last
                    self._changed = True
                if spec.kind is ItemKind.milestone and spec.key not in listed:
                    last_milestone += 1
                    append_milestone(milestones, last_milestone, spec, mcols)
                    listed.add(spec.key)
                    self._changed = True
                created.append(self._item(spec.key, spec.kind, ws.cell(rows[spec.key], cols[L.KEY])))
            if self._changed:
                extend_filter(ws, last)
                extend_filter(milestones, last_milestone)
        return BulkResult(created=created, failed=failed)

    def update_items(
        self, updates: Sequence[ItemUpdate], items: Mapping[str, ExternalItem]
    ) -> list[CreateFailure]:
        """Rewrite the planned values (Task, Planned start and finish) of existing rows; the project
        manager's cells stay as they are."""
        failed: list[CreateFailure] = []
        with self.changes():
            ws, cols = self._tasks(self._session_book(), L.TASK_HEADERS, L.SYNC_HEADERS)
            rows = dict(reversed(_rows_by_key(ws, cols[L.KEY])))  # the first row of a key wins
            for update in updates:
                if update.key not in rows:
                    failed.append(CreateFailure(key=update.key, message=f"no row with Key {update.key!r}"))
                    continue
                self._changed |= update_task(ws, rows[update.key], update, cols)
        return failed

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
            progress, bad = read_row(cells)
            problems += [f"{self._where} {problem}" for problem in bad]
            if progress is not None:
                records.append(ProgressRecord(key=key, progress=progress))
        missing = [key for key in items if key not in first]
        return PullResult(records=records, problems=problems, missing=missing)

    def write_notes(self, notes: Sequence[NoteWrite], items: Mapping[str, ExternalItem]) -> list[NoteReceipt]:
        """The plan's note becomes the Status sheet, milestone notes fill the Milestones sheet; the Tasks
        sheet is never touched."""
        plan_note = next((w.note for w in notes if w.note.key is None), None)
        milestone_notes: dict[str, StatusNote] = {w.note.key: w.note for w in notes if w.note.key}
        receipts = []
        with self.changes():
            book = self._session_book()
            if plan_note is not None:
                write_status_sheet(book, plan_note)
                receipts.append(NoteReceipt(key=None))
            written = update_milestones(book, milestone_notes, self._where)
            receipts += [NoteReceipt(key=key) for key in sorted(written)]
            self._changed = True
        return receipts

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
        return ExternalItem(key=key, kind=kind, external_id=key, display_id=cell.coordinate, url=url)


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

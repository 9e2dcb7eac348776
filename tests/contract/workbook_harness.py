"""The workbook tracker under the contract: its operations are the file's reads and saves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from connectors.protocol import Connector
from connectors.workbook import layout as L
from connectors.workbook import storage

from .harness import Harness


class WorkbookHarness(Harness):
    name = "workbook"
    features = frozenset({"updates"})

    def __init__(self, monkeypatch: pytest.MonkeyPatch, directory: Path) -> None:
        super().__init__()
        self.path = directory / "data" / "contract.xlsx"
        read, save = storage._read, storage.save

        def counted_read(path: Path) -> bytes:
            data = read(path)
            self.count()
            return data

        def counted_save(book: Any, path: Path) -> None:
            save(book, path)
            self.count()

        monkeypatch.setattr(storage, "_read", counted_read)
        monkeypatch.setattr(storage, "save", counted_save)

    def tracker_yaml(self, directory: Path) -> str:
        return "{kind: workbook, path: contract.xlsx, batch_size: 3}"

    def stored_title(self, title: str) -> str:
        return title.replace("\r\n", "\n")  # XML (and so .xlsx) keeps line ends as LF; Excel does too

    def attach(self, connector: Connector) -> Connector:
        return connector  # the storage functions are counted for every connector

    def items(self) -> dict[str, dict[str, Any]]:
        if not self.path.exists():
            return {}
        ws = openpyxl.load_workbook(self.path)[L.TASKS]
        columns = {cell.value: cell.column for cell in ws[1]}
        found: dict[str, dict[str, Any]] = {}
        for row in range(2, ws.max_row + 1):
            key = ws.cell(row, columns[L.KEY]).value
            if not key:
                continue
            assert key not in found, f"{key} is in the workbook twice"
            title = ws.cell(row, columns[L.TASK])
            due = ws.cell(row, columns[L.PLANNED_FINISH]).value
            found[key] = {"title": title.value, "text": title.data_type == "s", "due": due.date()}
        return found

    def notes(self) -> dict[str, str]:
        ws = openpyxl.load_workbook(self.path)[L.MILESTONES]
        columns = {cell.value: cell.column for cell in ws[1]}
        return {
            ws.cell(row, columns[L.KEY]).value: " ".join(
                str(ws.cell(row, columns[h]).value) for h in (L.RAG, L.FORECAST, L.VARIANCE, L.REASON)
            )
            for row in range(2, ws.max_row + 1)
            if ws.cell(row, columns[L.RAG]).value
        }

    def delete(self, key: str) -> None:
        book = openpyxl.load_workbook(self.path)
        ws = book[L.TASKS]
        row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == key)
        ws.delete_rows(row)
        book.save(self.path)

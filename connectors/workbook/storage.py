"""Opening the tracker workbook (checking it belongs to the plan) and saving it atomically
(:func:`connectors.files.atomic_path`: a crash leaves the old workbook or the new one)."""

from __future__ import annotations

import os
import stat
from io import BytesIO
from pathlib import Path

import openpyxl
from openpyxl import Workbook

from ..errors import TrackerError
from ..files import atomic_path
from .layout import ABOUT, PLAN_KEY_LABEL, normal, text


def gone(path: Path) -> TrackerError:
    return TrackerError(f"workbook {path} is gone: restore it or re-seed")


def load(path: Path, plan_key: str, data_only: bool = False) -> Workbook:
    """The workbook at ``path``, checked to be this plan's tracker.

    ``data_only`` gives the results saved with formulas instead of the formulas; otherwise rich text is
    kept, so that a workbook saved again loses none of the formatting a user typed.
    """
    return _open(path, _read(path), plan_key, data_only)


def load_values_and_formulas(path: Path, plan_key: str) -> tuple[Workbook, Workbook]:
    """The same saved state of the workbook twice: with formula results, and with the formulas."""
    data = _read(path)
    return _open(path, data, plan_key, data_only=True), _open(path, data, plan_key, data_only=False)


def _read(path: Path) -> bytes:
    if not path.exists():
        raise gone(path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TrackerError(f"workbook {path} cannot be read: {exc.strerror or exc}") from exc


def _open(path: Path, data: bytes, plan_key: str, data_only: bool) -> Workbook:
    try:
        book = openpyxl.load_workbook(BytesIO(data), data_only=data_only, rich_text=not data_only)
    except Exception as exc:  # openpyxl and zipfile raise many kinds for a damaged or foreign file
        raise TrackerError(
            f"{path} is not a readable Excel workbook ({type(exc).__name__}: {exc}); "
            "restore it from a backup or choose another file"
        ) from exc
    owner = plan_key_of(book)
    if owner is None:
        raise TrackerError(
            f"{path} is not an iso20k-sync tracker workbook (no {ABOUT} sheet with a {PLAN_KEY_LABEL!r} "
            "row); choose another file"
        )
    if owner != plan_key:
        raise TrackerError(
            f"{path.name} belongs to plan {owner!r}, not {plan_key!r}; "
            "choose another file for this plan or use the plan key it was made for"
        )
    return book


Signature = tuple[int, int, int] | None
"""A file's inode, size and modification time in nanoseconds (None: no file): a save by anyone changes it."""


def signature(path: Path) -> Signature:
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return (found.st_ino, found.st_size, found.st_mtime_ns)


def plan_key_of(book: Workbook) -> str | None:
    if ABOUT not in book.sheetnames:
        return None
    for label, value, *_ in book[ABOUT].iter_rows(min_col=1, max_col=2, values_only=True):
        if label is not None and normal(label) == normal(PLAN_KEY_LABEL):
            return text(value) or None
    return None


def save(book: Workbook, path: Path) -> None:
    """Replace ``path`` with ``book`` atomically; a locked or read-only workbook is a TrackerError."""
    _check_writable(path)
    try:
        with atomic_path(path) as temporary:
            book.save(temporary)
    except PermissionError as exc:
        raise TrackerError(
            f"cannot save {path}: it is locked or not writable ({exc.strerror or exc}); "
            "close it in Excel or LibreOffice and check its permissions"
        ) from exc
    except OSError as exc:
        raise TrackerError(f"cannot save {path}: {exc.strerror or exc}") from exc


def lock_files(path: Path) -> list[Path]:
    """Lock files that Excel (``~$name``) or LibreOffice (``.~lock.name#``) keep while the file is open."""
    names = {f".~lock.{path.name}#", f"~${path.name}", f"~${path.name[1:]}", f"~${path.name[2:]}"}
    return sorted(path.parent / name for name in names if (path.parent / name).exists())


def _check_writable(path: Path) -> None:
    if not path.exists():
        return
    locks = lock_files(path)
    if locks:
        raise TrackerError(
            f"cannot save {path}: it is open in Excel or LibreOffice (lock file {locks[0].name}); "
            "save and close it there, then retry (delete the lock file if nobody has it open)"
        )
    mode = path.stat().st_mode
    if not os.access(path, os.W_OK) or not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise TrackerError(f"cannot save {path}: the file is read-only; make it writable and retry")

"""Writing the core's output files (exports, reports, the quickstart configuration) durably: through
:func:`connectors.files.atomic_path`, the one place files are replaced, with failures as
:class:`OutputError` so the command line reports them as bad input (exit 2) and writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from connectors.files import atomic_path

from .errors import Iso20kError


class OutputError(Iso20kError):
    """An output file cannot be written."""


@contextmanager
def output_path(target: Path) -> Iterator[Path]:
    """A temporary path that replaces ``target`` when the block succeeds (see ``atomic_path``)."""
    try:
        with atomic_path(target) as temporary:
            yield temporary
    except OSError as exc:
        raise OutputError(f"{target}: cannot write: {exc.strerror or exc}") from None


def write_atomically(target: Path, data: bytes) -> None:
    with output_path(target) as temporary:
        temporary.write_bytes(data)

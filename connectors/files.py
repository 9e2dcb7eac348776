"""Writing files so that a crash at any moment leaves the old file or the new one, never half of one.

A write goes to a temporary file in the same directory, is flushed to disk and renamed over the
target in one step, and the rename itself is flushed. A killed process may leave a temporary file
named ``.<name>.<random>.tmp`` behind: it is safe to delete.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; when the block succeeds it durably replaces ``target``.

    A symbolic link is followed, so the file it points to is replaced and the link survives.
    """
    target = target.resolve() if target.is_symlink() else target
    directory = target.parent
    if not directory.is_dir():
        raise FileNotFoundError(2, f"directory {directory} does not exist", str(target))
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        _flush(temporary)
        os.chmod(temporary, _mode_for(target))
        os.replace(temporary, target)
        _flush_directory(directory)
    finally:
        temporary.unlink(missing_ok=True)


def _mode_for(target: Path) -> int:
    """An existing file keeps its permissions; a new one gets 0666 less the umask (mkstemp gives 0600)."""
    if target.exists():
        return stat.S_IMODE(target.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _flush(path: Path) -> None:
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())


def _flush_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX; Windows has no directory handles to flush)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

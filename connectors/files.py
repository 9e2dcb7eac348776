"""Writing files so that a crash at any moment leaves the old file or the new one, never half of one.

A write goes to a temporary file in the same directory, is flushed to disk and renamed over the
target in one step, and the rename itself is flushed. A killed process may leave a temporary file
named ``.<name>.<random>.tmp`` behind; :func:`remove_stale_temporaries` deletes those whose writer is gone
(the writer holds a lock on its temporary file for as long as it lives, and the system drops the lock
with the process).
"""

from __future__ import annotations

import os
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; stale files are recognised by age instead
    fcntl = None  # type: ignore[assignment]

STALE_AFTER = 3600.0
"""Without locks (Windows), a temporary file this many seconds old is taken to be a killed writer's."""


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
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX)  # held until closed: tells a later run this writer is alive
    temporary = Path(name)
    try:
        yield temporary
        _flush(temporary)
        os.chmod(temporary, _mode_for(target))
        os.replace(temporary, target)
        _flush_directory(directory)
    finally:
        temporary.unlink(missing_ok=True)
        os.close(fd)


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Delete the temporary files that killed writers of ``target`` left behind; the deleted ones."""
    removed = []
    for candidate in target.parent.glob(f".{target.name}.*.tmp"):
        if _writer_gone(candidate):
            with suppress(FileNotFoundError):
                candidate.unlink()
                removed.append(candidate)
    return removed


def _writer_gone(path: Path) -> bool:
    if fcntl is None:
        try:
            return time.time() - path.stat().st_mtime > STALE_AFTER
        except FileNotFoundError:
            return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        return True
    finally:
        os.close(fd)


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

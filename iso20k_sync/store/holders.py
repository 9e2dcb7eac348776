"""Who holds a lease in the store (a plan's lock, a scheduled run's claim): ``host:pid:token``, so that a
message can name the process and a run on the same host can see at once that the holder has died."""

from __future__ import annotations

import os
import secrets
import socket


def new_holder() -> str:
    """A holder id for this process; the random token tells apart two holders in one process."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"[:200]


def host_and_pid(holder: str) -> tuple[str, str]:
    host, _, rest = holder.partition(":")
    return host, rest.partition(":")[0]


def holder_gone(holder: str) -> bool:
    """The holder ran on this host and its process no longer exists."""
    host, pid = host_and_pid(holder)
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False

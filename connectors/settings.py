"""The base of every tracker's settings model (the ``tracker:`` section of a plan in the configuration).

A tracker's settings model narrows ``kind`` to its own literal, so the configuration can tell the
trackers apart by it (a pydantic discriminated union built from the registry).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field


class TrackerSettings(BaseModel):
    """Settings of one plan's tracker. Secrets never sit here: only the names of their variables."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str

    def secrets(self) -> dict[str, str]:
        """The secrets this tracker needs: setting name -> environment variable (or secret file) name."""
        return {}

    def location(self, data_dir: Path) -> str:
        """Where the plan's items live, for humans: a project URL, a file path."""
        raise NotImplementedError


class HttpTrackerSettings(TrackerSettings):
    """What every tracker reached over HTTP shares: pacing, time-outs and the longest wait accepted."""

    requests_per_second: float = Field(default=10, gt=0, description="Pacing, under the tracker's limits")
    max_retry_wait: float = Field(
        default=600,
        gt=0,
        description="Seconds: a tracker asking to wait longer (Retry-After) ends the run with a message",
    )
    timeout: float = Field(default=60, gt=0, le=600, description="Seconds to wait for an answer")


def site_url(value: str) -> str:
    """A tracker's address: http(s), a host, and no credentials (a secret in a URL ends up in logs)."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in value.strip():
        raise ValueError(f"{value!r} is not a web address; expected e.g. https://tracker.example.com")
    if parts.username or parts.password:
        raise ValueError(
            "the address contains credentials (user:secret@): remove them and give the token through "
            "the environment variable named by token_env"
        )
    return value.strip().rstrip("/")

"""The ``tracker:`` settings of a plan kept in Project Server Subscription Edition (on premises, /_api)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from ..settings import HttpTrackerSettings, site_url

TWO_MB = 2 * 1024 * 1024
"""Project Server's cap on one request (and on the changes one draft update carries)."""


class ProjectServerSettings(HttpTrackerSettings):
    """A project on a Project Web App site, signed in to with Windows authentication (NTLM)."""

    kind: Literal["projectserver"]
    url: str = Field(description="The PWA site, e.g. https://project.example.com/pwa")
    project_name: str = Field(
        min_length=1,
        max_length=255,
        pattern=r"^[^\\/:*?\"<>|#%~&{}]+$",
        description='Name of the enterprise project (created if missing); no \\ / : * ? " < > | # % ~ & { }',
    )
    auth: Literal["ntlm"] = Field(default="ntlm", description="Windows authentication (NTLM or Negotiate)")
    username: str = Field(
        pattern=r"^([^\\@\s]+\\[^\\@\s]+|[^\\@\s]+@[^\\@\s]+)$",
        description="The Windows account, DOMAIN\\user (or user@domain)",
    )
    password_env: str = Field(
        default="ISO20K_PROJECTSERVER_PASSWORD",
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="Environment variable (or secret file in ISO20K_SECRETS_DIR) holding the password",
    )
    hours_per_day: float = Field(default=8, gt=0, le=24, description="Hours of a working day (rates, work)")
    update_bytes: int = Field(
        default=1_500_000,
        ge=20_000,
        lt=TWO_MB,
        description="Bytes of draft changes sent before the draft is saved (update); under the 2 MB cap",
    )
    queue_poll: float = Field(
        default=1.0, gt=0, le=60, description="Seconds before a queue job is first asked"
    )
    queue_timeout: float = Field(
        default=600, gt=0, description="Seconds a queue job (save, publish, check-in) may take"
    )

    _site = field_validator("url")(site_url)

    def secrets(self) -> dict[str, str]:
        return {"password_env": self.password_env}

    def location(self, data_dir: Path) -> str:
        return f"{self.url}/projects.aspx (project {self.project_name!r})"

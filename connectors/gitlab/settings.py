"""The ``tracker:`` settings of a plan kept in GitLab (gitlab.com or self-managed)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..settings import HttpTrackerSettings, site_url

PATH = r"[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*"


class GitLabLabels(BaseModel):
    """The label scheme: prefixes of the labels every issue gets (null leaves that kind out)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    plan: str = Field(default="iso20k:", min_length=1, description="Plan label: prefix + plan key")
    phase: str | None = Field(default="phase::", description="Prefix + phase name (scoped: one per issue)")
    clause: str | None = Field(default="iso20000-1:", description="Prefix + clause, one label per clause")
    role: str | None = Field(default="role::", description="Prefix + the owner's role")


class GitLabSettings(HttpTrackerSettings):
    """A GitLab project (created in ``group`` if missing) on gitlab.com or a self-managed instance."""

    kind: Literal["gitlab"]
    url: str = Field(default="https://gitlab.com", description="The instance, e.g. https://gitlab.com")
    project: str = Field(
        pattern=rf"^({PATH}|[0-9]+)$",
        description="Path (group/iso20k) or numeric id of the project; with `group`, its path in the group",
    )
    group: str | None = Field(
        default=None,
        pattern=rf"^({PATH}|[0-9]+)$",
        description="Group (path or id) to create the project in when it does not exist",
    )
    token_env: str = Field(
        default="ISO20K_GITLAB_TOKEN",
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="Environment variable (or secret file in ISO20K_SECRETS_DIR) holding a token with the "
        "api scope",
    )
    tier: Literal["auto", "free", "premium", "ultimate"] = Field(
        default="auto",
        description="auto: the namespace's plan on gitlab.com; Free on self-managed (set it there)",
    )
    labels: GitLabLabels = GitLabLabels()
    in_progress_labels: list[str] = Field(
        default=["workflow::in progress"], description="An open issue with one of these is in progress"
    )
    assignee_in_progress: bool = Field(
        default=True, description="An open issue with an assignee is in progress"
    )
    hours_per_day: float = Field(default=8, gt=0, le=24, description="GitLab's time tracking day (1d = 8h)")
    requests_per_minute: int | None = Field(
        default=None,
        gt=0,
        description="Budget of requests a minute; null: 100 on gitlab.com Free, 1,250 on Premium and "
        "Ultimate, none on self-managed",
    )
    creates_per_minute: int | None = Field(
        default=None,
        gt=0,
        description="Budget of issues created a minute; null: 200 on gitlab.com, none else",
    )

    _site = field_validator("url")(site_url)

    @model_validator(mode="after")
    def _creatable(self) -> GitLabSettings:
        if self.group is None:
            return self
        if self.project.isdigit():
            raise ValueError(
                "a project given by its numeric id cannot be created: give its path with `group`"
            )
        if "/" in self.project and not self.project.startswith(f"{self.group}/"):
            raise ValueError(f"project {self.project!r} is not in group {self.group!r}")
        return self

    @property
    def gitlab_com(self) -> bool:
        return (urlsplit(self.url).hostname or "").lower() == "gitlab.com"

    @property
    def project_ref(self) -> str:
        """The project's id or full path (``group/path`` when only the path in ``group`` is given)."""
        if self.group and "/" not in self.project:
            return f"{self.group}/{self.project}"
        return self.project

    def secrets(self) -> dict[str, str]:
        return {"token_env": self.token_env}

    def location(self, data_dir: Path) -> str:
        ref = self.project_ref
        return f"{self.url}/projects/{ref}" if ref.isdigit() else f"{self.url}/{ref}"

"""The ``tracker:`` settings of a plan kept in Jira Cloud or Jira Data Center."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..settings import HttpTrackerSettings, site_url


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class JiraIssueTypes(_Section):
    phase: str = Field(default="Epic", description="Issue type of a phase")
    task: str = Field(default="Task", description="Issue type of a task (Task or Story)")
    milestone: str = Field(
        default="Milestone", description="Issue type of a milestone; if the project lacks it, a labelled task"
    )


class JiraFields(_Section):
    """Jira fields by the name users see; their ids are looked up and checked before anything is created."""

    actual_cost: str | None = Field(default="Actual cost", description="Number field with the money spent")
    start_date: str | None = Field(default="Start date", description="Date field for the planned start")
    epic_link: str = Field(
        default="Epic Link", description="Data Center: the field joining an issue to its epic"
    )
    epic_name: str = Field(default="Epic Name", description="Data Center: the name an epic requires")


class JiraSettings(HttpTrackerSettings):
    """A Jira Cloud site or Jira Data Center server, and an existing project in it."""

    kind: Literal["jira"]
    url: str = Field(description="Site, e.g. https://acme.atlassian.net")
    deployment: Literal["auto", "cloud", "datacenter"] = Field(
        default="auto", description="auto: read from the server's serverInfo"
    )
    project: str = Field(
        pattern=r"^[A-Z][A-Z0-9_]{1,9}$", description="Key of the existing project, e.g. ISO"
    )
    email: str | None = Field(default=None, description="Cloud: the account's email, used with its API token")
    token_env: str = Field(
        default="ISO20K_JIRA_TOKEN",
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="Environment variable (or secret file in ISO20K_SECRETS_DIR) holding the API token "
        "(Cloud) or personal access token (Data Center)",
    )
    issue_types: JiraIssueTypes = JiraIssueTypes()
    fields: JiraFields = JiraFields()
    status_map: dict[str, Literal["not_started", "in_progress", "done"]] = Field(
        default={}, description="Status name to state, where the status category is not what you mean"
    )
    hours_per_day: float = Field(default=8, gt=0, le=24, description="Jira's time tracking hours per day")
    page_size: int = Field(default=100, ge=1, le=100)
    link_concurrency: int = Field(default=4, ge=1, le=16, description="Links created at the same time")
    write_back_field: str | None = Field(
        default=None,
        description="Text field for the milestone status; without it one comment is kept updated",
    )
    search_lag: float = Field(
        default=30,
        ge=0,
        description="Cloud: seconds a new issue may be missing from search; a re-seed after a crash waits it",
    )

    _site = field_validator("url")(site_url)

    def secrets(self) -> dict[str, str]:
        return {"token_env": self.token_env}

    def location(self, data_dir: Path) -> str:
        return self.browse(self.project)

    def browse(self, key: str) -> str:
        """The page of a project or an issue, for humans."""
        return f"{self.url}/browse/{key}"

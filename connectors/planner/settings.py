"""The ``tracker:`` settings of a plan kept in Planner with premium plans (Dataverse, the Project schedule
API)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from ..settings import HttpTrackerSettings, site_url

GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class PlannerSettings(HttpTrackerSettings):
    """A premium plan (a Dataverse ``msdyn_project``) in one Dataverse environment, written as a person.

    Sign-in is delegated only: run ``iso20k-sync login --plan NAME`` once (device code) and the token cache
    keeps the user signed in. Application (client-credential) sign-in is not offered because the Project
    schedule API refuses application, system and integration users: a licensed user must do the writing.
    """

    kind: Literal["planner"]
    environment_url: str = Field(
        description="The Dataverse environment, e.g. https://contoso.crm.dynamics.com"
    )
    client_id: str = Field(
        pattern=GUID,
        description="Application (client) id of an app registration: a public client with the "
        "device code flow allowed and the Dynamics CRM user_impersonation delegated permission",
    )
    tenant_id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]*$",
        description="Directory (tenant) id or domain, e.g. contoso.com",
    )
    authority: str = Field(
        default="https://login.microsoftonline.com", description="The Microsoft Entra sign-in host"
    )
    hours_per_day: float = Field(default=8, gt=0, le=24, description="Hours of effort in one person-day")
    poll_interval: float = Field(
        default=2, gt=0, description="Seconds between looks at an operation set Dataverse is carrying out"
    )
    max_execution_wait: float = Field(
        default=600, gt=0, description="Seconds to wait for an operation set to be carried out"
    )
    requests_per_second: float = Field(
        default=5, gt=0, description="Pacing, under Dataverse's service protection limits"
    )

    _sites = field_validator("environment_url", "authority")(site_url)

    @property
    def scope(self) -> str:
        """Dataverse takes a token for the environment itself."""
        return f"{self.environment_url}/.default"

    @property
    def authority_url(self) -> str:
        return f"{self.authority}/{self.tenant_id}"

    def token_cache(self, data_dir: Path) -> Path:
        """One msal cache per tenant and client (plans sharing an app registration share the sign-in)."""
        digest = hashlib.sha256(f"{self.authority_url}|{self.client_id}".lower().encode()).hexdigest()[:16]
        return data_dir / "msal" / f"planner-{digest}.json"

    def location(self, data_dir: Path) -> str:
        return f"{self.environment_url} (Planner premium plan)"

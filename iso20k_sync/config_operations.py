"""The configuration of the running service: mail (SMTP or Microsoft Graph), each plan's digest, and the
service's own settings (sync time, HTTP endpoint, concurrency). Secrets are named, never written here."""

from __future__ import annotations

from datetime import time as Time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

EMAIL = r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$"
Email = Annotated[str, Field(pattern=EMAIL, max_length=254)]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def clock_time(value: object) -> object:
    """'08:00' (YAML reads an unquoted 08:00 as a number of minutes in some versions: quote it)."""
    if isinstance(value, int):
        raise ValueError('write the time in quotes, e.g. "08:00"')
    if isinstance(value, str):
        try:
            return Time.fromisoformat(value)
        except ValueError:
            raise ValueError(f'{value!r} is not a time of day like "08:00"') from None
    return value


def time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a time zone name like Europe/Berlin or UTC") from None
    return value


class DigestConfig(_Section):
    """The sponsors' weekly digest of one plan, sent on ``weekday`` at ``time`` in the plan's time zone."""

    recipients: list[Email] = Field(default=[], description="Who receives it; none: no digest")
    weekday: Literal[WEEKDAYS] = "monday"  # type: ignore[valid-type]
    time: Annotated[Time, Field(description='Local time of day, e.g. "08:00"')] = Time(8, 0)

    _time = field_validator("time", mode="before")(clock_time)


class SmtpConfig(_Section):
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = Field(
        default="starttls", description="none only to a server on this machine (loopback)"
    )
    username: str | None = None
    password_env: str = Field(default="ISO20K_SMTP_PASSWORD", description="Variable holding the password")

    @model_validator(mode="after")
    def _plain_only_locally(self) -> SmtpConfig:
        if self.security == "none" and not _loopback(self.host):
            raise ValueError(
                f"security none sends mail (and any password) in clear: only allowed to localhost, not "
                f"{self.host}; use starttls or tls"
            )
        return self

    def secrets(self) -> dict[str, str]:
        return {"password_env": self.password_env} if self.username else {}


class GraphConfig(_Section):
    tenant_id: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    client_secret_env: str = Field(
        default="ISO20K_GRAPH_CLIENT_SECRET", description="Variable holding the app registration's secret"
    )
    mailbox: Email = Field(description="The mailbox that sends (Mail.Send application permission)")

    def secrets(self) -> dict[str, str]:
        return {"client_secret_env": self.client_secret_env}


class MailConfig(_Section):
    sender: Email = Field(description="From: of every digest")
    smtp: SmtpConfig | None = None
    graph: GraphConfig | None = None

    @model_validator(mode="after")
    def _one_transport(self) -> MailConfig:
        if (self.smtp is None) == (self.graph is None):
            raise ValueError("give exactly one of smtp or graph")
        return self

    def secrets(self) -> dict[str, str]:
        transport = self.smtp or self.graph
        assert transport is not None
        return transport.secrets()


class HttpConfig(_Section):
    host: str = Field(default="127.0.0.1", description="0.0.0.0 in a container")
    port: int = Field(default=8080, ge=1, le=65535)


class ServiceSection(_Section):
    """How ``iso20k-sync serve`` runs."""

    sync_time: Annotated[Time, Field(description="Daily sync, local time of each plan")] = Time(6, 0)
    http: HttpConfig = HttpConfig()
    concurrency: int = Field(
        default=4, ge=1, le=64, description="Runs (plans' syncs and digests) at the same time"
    )
    lease_seconds: int = Field(
        default=600, ge=5, description="A claimed run is taken over by another instance after this"
    )

    _time = field_validator("sync_time", mode="before")(clock_time)


def _loopback(host: str) -> bool:
    """The same rule the SMTP mailer applies (kept there, with the transport)."""
    from .mail.smtp import is_loopback

    return is_loopback(host)

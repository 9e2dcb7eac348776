"""Service configuration: one YAML file plus environment variables (documented in config/example.yaml).

Secrets never sit in the YAML file: they come from environment variables (``ISO20K_...``) or from
secret files in ``ISO20K_SECRETS_DIR`` (one file per setting, named like its variable, e.g.
``ISO20K_STORE_URL``, as Docker and Kubernetes mount them),
are typed as secrets, and are masked wherever the configuration is shown.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from connectors.registry import tracker_kinds
from connectors.settings import TrackerSettings

from .analytics.settings import AnalyticsSettings
from .calendar import CalendarConfig
from .config_operations import DigestConfig, MailConfig, ServiceSection, time_zone
from .errors import InputError, InputProblem
from .template.model import ID_PATTERN
from .yaml_input import fail, parse_yaml, validation_problems

CONFIG_ENV = "ISO20K_CONFIG"
DEFAULT_CONFIG = Path("iso20k-sync.yaml")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _tracker_union() -> Any:
    """The ``tracker:`` section: one settings model per registered tracker, told apart by ``kind``."""
    models = tuple(kind.settings for kind in tracker_kinds().values())
    if len(models) == 1:
        return models[0]
    return Annotated[Union[models], Field(discriminator="kind")]  # noqa: UP007 (a runtime tuple)


Tracker = _tracker_union()


def read_secret(name: str) -> SecretStr | None:
    """A secret from the environment variable ``name`` or the file of that name in ISO20K_SECRETS_DIR."""
    value = os.environ.get(name)
    directory = os.environ.get("ISO20K_SECRETS_DIR")
    if value is None and directory:
        path = Path(directory) / name
        if path.is_file():
            value = path.read_text(encoding="utf-8").strip()
    return SecretStr(value) if value else None


class PlanConfig(_Section):
    """One plan instance: a template instantiated for the organisation, kept in one tracker."""

    name: str = Field(pattern=ID_PATTERN, max_length=64, description="Used on the command line: --plan NAME")
    key: str | None = Field(
        default=None,
        pattern=ID_PATTERN,
        max_length=64,
        description="Stable key every tracker item carries; defaults to the name. Keep it once seeded",
    )
    template: str = Field(default="iso20000-1-2018", description="Bundled template id or a YAML file")
    organisation: Path | None = Field(
        default=None,
        description="Organisation profile (as for `feasibility --org`): parameters and calendar come from it",
    )
    parameters: dict[str, str | int | float | bool] = Field(default={}, description="Template parameters")
    start: date
    calendar: CalendarConfig = CalendarConfig()
    tracker: Tracker
    timezone: str = Field(
        default="UTC", description="The plan's time zone: what 'today' is, when its sync and digest run"
    )
    digest: DigestConfig = DigestConfig()
    write_back: bool = Field(default=True, description="Show the computed status in the tracker")
    analytics: AnalyticsSettings = AnalyticsSettings()

    _zone = field_validator("timezone")(time_zone)

    @model_validator(mode="before")
    @classmethod
    def _moved_keys(cls, data: Any) -> Any:
        """Keys of the first release, named with where they went (instead of 'unknown key')."""
        if isinstance(data, dict):
            moved = {
                "sponsors": "digest.recipients",
                "schedule": "timezone (the plan's), digest.weekday and digest.time, and service.sync_time",
            }
            found = [f"{old} moved to {new}" for old, new in moved.items() if old in data]
            if found:
                raise ValueError("; ".join(found))
        return data

    @property
    def plan_key(self) -> str:
        return self.key or self.name


class ServiceConfig(BaseSettings):
    """The whole configuration. ISO20K_DATA_DIR and ISO20K_STORE_URL in the environment override the file."""

    model_config = SettingsConfigDict(env_prefix="ISO20K_", extra="forbid", frozen=True)

    data_dir: Path = Field(
        default=Path("data"), description="Store, workbooks and logs; relative to the file"
    )
    store_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL; default SQLite in data_dir. With a password: only from the environment",
    )
    plans: list[PlanConfig] = []
    mail: MailConfig | None = Field(default=None, description="How digests are sent; none: not sent")
    service: ServiceSection = ServiceSection()
    _source: Path | None = PrivateAttr(default=None)

    @property
    def base_dir(self) -> Path:
        """The directory relative paths in the file are resolved against."""
        return self._source.parent.resolve() if self._source is not None else Path.cwd()

    def error(self, problems: list[InputProblem]) -> InputError:
        """An error about this configuration's content, with lines when it came from a file."""
        if self._source is None:
            return InputError("configuration", problems)
        return fail(self._source.read_text(encoding="utf-8"), str(self._source), problems)

    @field_validator("plans")
    @classmethod
    def _unique_names(cls, plans: list[PlanConfig]) -> list[PlanConfig]:
        for attribute in ("name", "plan_key"):
            values = [getattr(p, attribute) for p in plans]
            duplicates = sorted({v for v in values if values.count(v) > 1})
            if duplicates:
                raise ValueError(f"plan {attribute.replace('_', ' ')} used twice: {', '.join(duplicates)}")
        return plans

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return env_settings, file_secret_settings, init_settings

    def plan(self, name: str | None) -> PlanConfig:
        if name is None:
            if len(self.plans) == 1:
                return self.plans[0]
            raise InputError(
                "--plan", [InputProblem((), f"choose a plan: {', '.join(p.name for p in self.plans)}")]
            )
        for plan in self.plans:
            if plan.name == name:
                return plan
        known = ", ".join(p.name for p in self.plans) or "none configured"
        raise InputError("--plan", [InputProblem((), f"no plan named {name!r}; configured: {known}")])

    def database_url(self) -> str:
        if self.store_url is not None:
            return self.store_url.get_secret_value()
        return f"sqlite:///{(self.data_dir / 'iso20k-sync.db').resolve()}"

    def mail_secret(self) -> str | None:
        """The mail transport's secret (SMTP password, Graph client secret), or None when it needs none;
        an error naming the setting and the variable when it is not set."""
        if self.mail is None:
            return None
        for field, variable in self.mail.secrets().items():
            secret = read_secret(variable)
            if secret is None:
                transport = "smtp" if self.mail.smtp else "graph"
                raise self.error(
                    [
                        InputProblem(
                            ("mail", transport, field),
                            f"the secret is not set: put it in the environment variable {variable} "
                            f"or in a file {variable} in ISO20K_SECRETS_DIR",
                        )
                    ]
                )
            return secret.get_secret_value()
        return None

    def tracker_location(self, plan: PlanConfig) -> str:
        """Where the plan's items live, for humans: a project URL, a workbook path."""
        tracker: TrackerSettings = plan.tracker
        return tracker.location(self.data_dir)


def config_path(option: Path | None) -> Path:
    if option is not None:
        return option
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_config(path: Path) -> ServiceConfig:
    """Read and check the configuration; raise :class:`InputError` naming the file, line and key."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        hint = "create one with `iso20k-sync quickstart DIR` or point --config / ISO20K_CONFIG at it"
        raise InputError(source, [InputProblem((), f"configuration file not found; {hint}")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(source, [InputProblem((), f"cannot read the configuration: {exc}")]) from None
    data = parse_yaml(text, source) or {}
    if not isinstance(data, dict):
        raise InputError(source, [InputProblem((), "expected a mapping of settings at the top")])
    problems = _inline_secrets(data)
    if problems:
        raise fail(text, source, problems)
    secrets_dir = os.environ.get("ISO20K_SECRETS_DIR")
    try:
        config = ServiceConfig(_secrets_dir=secrets_dir, **data)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise fail(text, source, validation_problems(exc, tags=list(tracker_kinds()))) from None
    base = path.parent.resolve()
    data_dir = config.data_dir if config.data_dir.is_absolute() else (base / config.data_dir).resolve()
    resolved = config.model_copy(update={"data_dir": data_dir})
    resolved._source = path
    return resolved


def _inline_secrets(data: dict[str, Any]) -> list[InputProblem]:
    url = data.get("store_url")
    if not isinstance(url, str):
        return []
    try:
        password = make_url(url).password
    except ArgumentError:
        return [
            InputProblem(
                ("store_url",), "not a database URL (expected e.g. postgresql+psycopg://user@host/db)"
            )
        ]
    if password:
        return [
            InputProblem(
                ("store_url",),
                "contains a password: secrets do not belong in the file; set ISO20K_STORE_URL or put the URL "
                "in a secret file ISO20K_STORE_URL in ISO20K_SECRETS_DIR",
            )
        ]
    return []

"""Project Server Subscription Edition (on premises). Declared cheaply; the connector is built on demand."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..registry import BuildContext, TrackerKind
from .settings import ProjectServerSettings

if TYPE_CHECKING:
    from .connector import ProjectServerConnector


def _build(settings: ProjectServerSettings, context: BuildContext) -> ProjectServerConnector:
    from .connector import ProjectServerConnector

    password = context.secret(settings.password_env)
    return ProjectServerConnector(settings, context.plan_key, password, memo=context.memo)


TRACKER = TrackerKind(
    kind="projectserver",
    title="Project Server Subscription Edition (on premises)",
    settings=ProjectServerSettings,
    build=_build,
)

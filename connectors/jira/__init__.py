"""Jira Cloud and Jira Data Center. Declared here cheaply; the connector is imported only when built."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..registry import BuildContext, TrackerKind
from .settings import JiraSettings

if TYPE_CHECKING:
    from .connector import JiraConnector


def _build(settings: JiraSettings, context: BuildContext) -> JiraConnector:
    from .connector import JiraConnector

    return JiraConnector(settings, context.plan_key, context.secret(settings.token_env), memo=context.memo)


TRACKER = TrackerKind(kind="jira", title="Jira Cloud and Data Center", settings=JiraSettings, build=_build)

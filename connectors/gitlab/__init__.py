"""GitLab (gitlab.com and self-managed). Declared here cheaply; the connector is imported only when built."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..registry import BuildContext, TrackerKind
from .settings import GitLabSettings

if TYPE_CHECKING:
    from .connector import GitLabConnector


def _build(settings: GitLabSettings, context: BuildContext) -> GitLabConnector:
    from .connector import GitLabConnector

    return GitLabConnector(settings, context.plan_key, context.secret(settings.token_env), memo=context.memo)


TRACKER = TrackerKind(
    kind="gitlab", title="GitLab (gitlab.com and self-managed)", settings=GitLabSettings, build=_build
)

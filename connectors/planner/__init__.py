"""Planner with premium plans (Dataverse, the Project schedule API). Declared here cheaply; the connector,
msal and the HTTP client are imported only when built or signing in."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..registry import BuildContext, TrackerKind
from .settings import PlannerSettings

if TYPE_CHECKING:
    from .connector import PlannerConnector


def _build(settings: PlannerSettings, context: BuildContext) -> PlannerConnector:
    from .connector import PlannerConnector
    from .identity import signed_in_auth

    auth = signed_in_auth(settings, context)
    return PlannerConnector(settings, context.plan_key, auth, memo=context.memo)


def _sign_in(settings: PlannerSettings, context: BuildContext, show: Callable[[str], None]) -> str:
    from .signin import sign_in

    return sign_in(settings, context, show)


TRACKER = TrackerKind(
    kind="planner",
    title="Planner premium plans (Dataverse)",
    settings=PlannerSettings,
    build=_build,
    sign_in=_sign_in,
)

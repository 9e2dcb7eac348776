"""Building the connector a plan's configuration names, through the tracker registry (no per-tracker code
here), and reading the secrets its settings name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from connectors.protocol import Connector
from connectors.registry import BuildContext, build_connector, sign_in
from connectors.settings import TrackerSettings

from ..config import PlanConfig, ServiceConfig, read_secret
from ..errors import InputProblem


def connector_for(
    config: ServiceConfig, plan: PlanConfig, memo: Mapping[str, Any] | None = None
) -> Connector:
    """The plan's tracker connector; ``memo`` is what its checks learnt in an earlier run."""
    return build_connector(plan.tracker, _context(config, plan, memo))


def sign_in_for(config: ServiceConfig, plan: PlanConfig, show: Callable[[str], None]) -> str:
    """Sign in to the plan's tracker as a person, once (Planner); who signed in."""
    return sign_in(plan.tracker, _context(config, plan), show)


def _context(config: ServiceConfig, plan: PlanConfig, memo: Mapping[str, Any] | None = None) -> BuildContext:
    return BuildContext(
        plan_key=plan.plan_key,
        data_dir=config.data_dir,
        secret=lambda variable: tracker_secret(config, plan, variable),
        memo=memo or {},
    )


def check_secrets(config: ServiceConfig, plan: PlanConfig) -> None:
    """Every secret the plan's tracker needs is set (an error naming the setting and the variable if not)."""
    settings: TrackerSettings = plan.tracker
    for variable in settings.secrets().values():
        tracker_secret(config, plan, variable)


def tracker_secret(config: ServiceConfig, plan: PlanConfig, variable: str) -> str:
    """A tracker secret from the environment or a secret file; a clear error naming both if absent."""
    secret = read_secret(variable)
    if secret is None:
        settings: TrackerSettings = plan.tracker
        field = next((name for name, var in settings.secrets().items() if var == variable), variable)
        index = config.plans.index(plan)
        raise config.error(
            [
                InputProblem(
                    ("plans", index, "tracker", field),
                    f"the secret is not set: put it in the environment variable {variable} "
                    f"or in a file {variable} in ISO20K_SECRETS_DIR",
                )
            ]
        )
    return secret.get_secret_value()

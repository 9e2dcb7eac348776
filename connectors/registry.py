"""The trackers iso20k-sync knows: each connector package declares one :class:`TrackerKind`.

Built-in trackers are listed in :data:`BUILT_IN`; a third party adds one by publishing a
``TrackerKind`` under the entry point group ``iso20k_sync.trackers``::

    [project.entry-points."iso20k_sync.trackers"]
    redmine = "iso20k_redmine:TRACKER"

Declaring a kind is cheap: the settings model is imported, the connector itself only when built.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from .errors import SetupError, TrackerError
from .protocol import Connector
from .settings import TrackerSettings

ENTRY_POINT_GROUP = "iso20k_sync.trackers"
BUILT_IN = (
    "connectors.workbook",
    "connectors.jira",
    "connectors.gitlab",
    "connectors.projectserver",
    "connectors.planner",
)
"""Modules holding a ``TRACKER`` declaration, in the order they are documented."""


@dataclass(frozen=True)
class BuildContext:
    """What a connector is built with besides its settings."""

    plan_key: str
    data_dir: Path
    secret: Callable[[str], str]
    """The value of a secret by its variable name (the engine reads the environment or secret files)."""
    memo: Mapping[str, Any] = field(default_factory=dict)
    """What the connector's last checks learnt (see :meth:`Connector.memo`)."""


@dataclass(frozen=True)
class TrackerKind:
    kind: str
    title: str
    settings: type[TrackerSettings]
    build: Callable[[Any, BuildContext], Connector]
    """Builds the connector for one plan from its settings (an instance of ``settings``)."""
    sign_in: Callable[[Any, BuildContext, Callable[[str], None]], str] | None = None
    """For trackers reached as a person (Planner's delegated Microsoft sign-in): signs in once,
    interactively, showing instructions through the callable, keeps what the connector needs to stay
    signed in (a token cache), and returns who signed in. ``iso20k-sync login`` calls it."""


@cache
def tracker_kinds() -> dict[str, TrackerKind]:
    """Every known tracker by kind: the built-in ones, then those of installed packages."""
    kinds: dict[str, TrackerKind] = {}
    declared = [importlib.import_module(name).TRACKER for name in BUILT_IN]
    declared += [point.load() for point in entry_points(group=ENTRY_POINT_GROUP)]
    for declaration in declared:
        if not isinstance(declaration, TrackerKind):
            raise TypeError(f"{declaration!r} is not a TrackerKind")
        if declaration.kind in kinds:
            raise TypeError(f"tracker kind {declaration.kind!r} is declared twice")
        kinds[declaration.kind] = declaration
    return kinds


def tracker_kind(kind: str) -> TrackerKind:
    try:
        return tracker_kinds()[kind]
    except KeyError:
        raise TrackerError(f"no tracker of kind {kind!r}; known: {', '.join(tracker_kinds())}") from None


def build_connector(settings: TrackerSettings, context: BuildContext) -> Connector:
    return tracker_kind(settings.kind).build(settings, context)


def sign_in(settings: TrackerSettings, context: BuildContext, show: Callable[[str], None]) -> str:
    """Sign in to the tracker once, as a person (see :attr:`TrackerKind.sign_in`); who signed in."""
    declared = tracker_kind(settings.kind)
    if declared.sign_in is None:
        raise SetupError(
            f"{declared.title} needs no sign-in: its credentials come from the configuration"
        )
    return declared.sign_in(settings, context, show)

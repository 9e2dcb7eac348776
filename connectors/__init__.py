"""Tracker connectors: one package per tracker behind one protocol (:mod:`connectors.protocol`), speaking
only the neutral values of :mod:`connectors.values`, declared in :mod:`connectors.registry`. Nothing here
imports the core (``iso20k_sync``); the core maps its plan and status onto these values."""

from __future__ import annotations

from functools import cache


@cache
def product() -> str:
    """``iso20k-sync <version>``, for User-Agents and the files the trackers write."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"iso20k-sync {version('iso20k-sync')}"
    except PackageNotFoundError:  # pragma: no cover - a source tree without installed metadata
        return "iso20k-sync"

"""Errors a connector raises. Every message is safe to show: it names the tracker and what it said,
never a secret."""

from __future__ import annotations


class TrackerError(Exception):
    """The tracker refused or could not be reached; the message is safe to show (no secrets)."""


class SetupError(TrackerError):
    """The tracker refuses the settings before anything is written (no such project, a token without the
    scope it needs, a missing permission, field or tier): the configuration is to be fixed, as for any
    other bad input."""


class WaitTooLong(TrackerError):
    """The tracker asked to wait longer than the configured ceiling: the run stops instead of sleeping."""


class UncertainOutcome(TrackerError):
    """A write may or may not have reached the tracker (a time-out or a connection lost after sending).

    It is never re-sent blindly: the connector looks the item up by the key it carries first.
    """

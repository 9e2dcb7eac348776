"""The one protocol every tracker connector implements, with defaults so simple trackers stay simple.

A connector knows its tracker's API and nothing about ISO 20000 or earned value: it speaks only the
values of :mod:`connectors.values`. Every item it creates carries its plan key and item key in the
tracker itself (a label, entity property, custom field, description marker or key column), so
:meth:`Connector.find_items` finds it again even when the store has lost track: seeding is idempotent
and resumable. The engine relies on no state a connector keeps between calls: what a call needs (the
parents of new items, the items to link) is passed in; a connector may cache for speed only what it
can check is still true (the workbook keeps the book it saved while the file is unchanged).

Writes happen inside a change session (:meth:`Connector.changes`): Project Server's check-out, update,
publish and check-in, Planner's operation sets and the workbook's load-once, save-once fit it; trackers
that write each request at once keep the default no-op session.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from pydantic import Field

from .values import (
    BulkResult,
    ContainerSpec,
    CreateFailure,
    ExternalItem,
    Inventory,
    ItemSpec,
    ItemUpdate,
    LinkSpec,
    NoteReceipt,
    NoteWrite,
    PullResult,
    _Value,
)


class Capabilities(_Value):
    """What a tracker can hold and how it likes to be written; the engine skips what it cannot."""

    phases: bool = Field(description="Phases as items of their own (epics, summary tasks)")
    links: bool = Field(description="Dependencies between items")
    cost_fields: bool = Field(description="An actual-cost value per item")
    bulk_size: int = Field(ge=1, description="Items per create call")
    session_size: int | None = Field(
        default=None, ge=1, description="Items per change session; None: the whole seed in one session"
    )
    incremental_pull: bool = Field(description="Pull only what changed since a time")
    write_back: bool = Field(description="Notes can be written onto the tracker")
    rewrite_notes: bool = Field(
        default=False,
        description="Every note is rewritten on each write-back (a file saved whole), not only changed ones",
    )
    plan_note: bool = Field(
        default=False, description="The plan's own note (the whole status, dated) has a place to be shown"
    )
    updates: bool = Field(default=False, description="Planned dates, titles and estimates can be changed")
    search_lag: float = Field(
        default=0.0,
        ge=0,
        description="Seconds a new item may stay invisible to a search (eventual consistency)",
    )


class Connector(ABC):
    """A tracker for one plan instance."""

    capabilities: Capabilities
    _in_session: bool = False

    # --- change sessions ------------------------------------------------------------------------------

    @contextmanager
    def changes(self) -> Iterator[None]:
        """Group writes: begin, then commit when the block succeeds or abort when it fails. Nested use
        joins the open session."""
        if self._in_session:
            yield
            return
        self.begin()
        self._in_session = True
        try:
            yield
        except BaseException:
            self._in_session = False
            self.abort()
            raise
        self._in_session = False
        self.commit()

    def begin(self) -> None:
        """Start a change session (check out, open an operation set, load the file)."""
        return None

    def commit(self) -> None:
        """Make the session's changes durable (publish and check in, execute the set, save the file)."""
        return None

    def abort(self) -> None:
        """Give up the session's changes where the tracker allows (check in without saving, drop the set)."""
        return None

    # --- the plan's items -----------------------------------------------------------------------------

    def check_plan(self, specs: Sequence[ItemSpec], links: Sequence[LinkSpec]) -> None:  # noqa: B027
        """Raise :class:`~connectors.errors.SetupError` if the tracker cannot hold this plan (a per-project
        limit on tasks, links or outline levels), before anything is written. Default: any plan fits."""

    @abstractmethod
    def ensure_container(self, spec: ContainerSpec) -> str:
        """Create the project or workbook (and its gates) if missing; return its location for humans."""

    @abstractmethod
    def find_items(self, known: Mapping[str, ExternalItem]) -> Inventory:
        """Every item of this plan the tracker holds, by key, found by the key it carries, and the links
        between them. ``known`` are the items the store remembers, for trackers that can make a search
        consistent for them."""

    @abstractmethod
    def create_items(self, specs: Sequence[ItemSpec], parents: Mapping[str, ExternalItem]) -> BulkResult:
        """Create at most ``capabilities.bulk_size`` items; ``parents`` holds every item a spec names as
        its parent. A partial failure lists each failed key with the tracker's reason."""

    def link_items(
        self, links: Sequence[LinkSpec], items: Mapping[str, ExternalItem]
    ) -> list[CreateFailure]:
        """Create dependency links between existing items (only asked if ``capabilities.links``)."""
        message = "this tracker holds no links"
        return [CreateFailure(key=f"{ln.predecessor} -> {ln.successor}", message=message) for ln in links]

    def update_items(
        self, updates: Sequence[ItemUpdate], items: Mapping[str, ExternalItem]
    ) -> list[CreateFailure]:
        """Change planned dates, titles and estimates of existing items (if ``capabilities.updates``)."""
        message = "this tracker cannot change planned values"
        return [CreateFailure(key=update.key, message=message) for update in updates]

    # --- progress and notes ---------------------------------------------------------------------------

    @abstractmethod
    def pull_progress(self, items: Mapping[str, ExternalItem], since: datetime | None) -> PullResult:
        """Progress of the seeded items, only those changed since ``since`` where the tracker allows."""

    def write_notes(
        self, notes: Sequence[NoteWrite], items: Mapping[str, ExternalItem]
    ) -> list[NoteReceipt]:
        """Show notes in the tracker (only asked if ``capabilities.write_back``); return the ones now shown.

        The engine passes only notes whose content changed since they were last shown. A note the
        tracker has no place for is left out of the receipts."""
        return []

    # --- pre-flight cache -----------------------------------------------------------------------------

    def usage(self) -> dict[str, int]:
        """Counts for operators since the connector was built: ``requests`` sent, ``throttled`` answers
        (429/503). A tracker without a network has none."""
        return {}

    def memo(self) -> dict[str, Any]:
        """What this connector learnt in its checks (field ids, deployment, ...), as JSON-able values; the
        engine keeps it in the store and hands it back at the next build so checks are not repeated."""
        return {}

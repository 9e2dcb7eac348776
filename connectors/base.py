"""The one small protocol every tracker connector implements, and the tracker-neutral values it speaks.

A connector knows its tracker's API and nothing about ISO 20000 or earned value: the engine hands it
:class:`ItemSpec` values to create and receives :class:`ProgressRecord` values back. Every created item
carries its plan key and task id in the tracker itself (a label, entity property, custom field,
description marker or a key column), so :meth:`Connector.find_items` finds it again even when the
store has lost track: seeding is idempotent and resumable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from iso20k_sync.analytics.progress import TaskProgress
from iso20k_sync.analytics.status import PlanStatus
from iso20k_sync.template.model import LinkType


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True)


class ItemKind(StrEnum):
    phase = "phase"
    task = "task"
    milestone = "milestone"


class Capabilities(_Value):
    """What a tracker can hold; the engine skips what it cannot."""

    phases: bool = Field(description="Phases as items of their own (epics, summary tasks)")
    links: bool = Field(description="Dependencies between items")
    cost_fields: bool = Field(description="An actual-cost value per item")
    bulk_size: int = Field(ge=1, description="Items per create call")
    incremental_pull: bool = Field(description="Pull only what changed since a time")
    write_back: bool = Field(description="Status can be written onto the tracker")
    search_lag: float = Field(
        default=0.0,
        ge=0,
        description="Seconds a new item may stay invisible to a search (eventual consistency)",
    )


class GateSpec(_Value):
    """A milestone that closes a phase: a Jira version, a GitLab milestone."""

    key: str
    title: str
    due: date


class ContainerSpec(_Value):
    """The project, board or workbook that holds a plan's items."""

    plan_key: str = Field(description="Stable key of the plan instance, e.g. 'acme-2027'")
    plan_name: str
    template: str
    currency: str
    start: date
    finish: date
    gates: list[GateSpec] = []


class ItemSpec(_Value):
    """One phase, task or milestone to create. ``key`` is the template task id (or phase id)."""

    key: str
    kind: ItemKind
    title: str
    description: str = ""
    phase_key: str | None = Field(default=None, description="The phase item this belongs to")
    phase_name: str = ""
    wbs: str = ""
    start: date
    due: date
    duration_days: int = Field(ge=0, description="Working days")
    estimate_days: Decimal = Field(default=Decimal(0), description="Planned effort, person-days")
    baseline_cost: Decimal = Decimal(0)
    clauses: list[str] = []
    labels: list[str] = []
    owner_role: str | None = None
    gate: str | None = Field(default=None, description="Key of the gate milestone closing this item's phase")


class LinkSpec(_Value):
    predecessor: str
    successor: str
    type: LinkType = LinkType.FS
    lag: int = 0


class ExternalItem(_Value):
    """An item as the tracker knows it."""

    key: str
    kind: ItemKind
    external_id: str = Field(description="The tracker's id: issue key, issue iid, task GUID, row Key")
    url: str | None = None


class CreateFailure(_Value):
    key: str
    message: str = Field(description="The tracker's own explanation")


class BulkResult(_Value):
    created: list[ExternalItem] = []
    failed: list[CreateFailure] = []


class ProgressRecord(_Value):
    """Progress of one item as read from the tracker."""

    key: str
    progress: TaskProgress
    updated_at: datetime | None = None


class PullResult(_Value):
    records: list[ProgressRecord] = []
    problems: list[str] = Field(default=[], description="Values that could not be read, with where they are")
    missing: list[str] = Field(default=[], description="Keys of seeded items no longer in the tracker")


class TrackerError(Exception):
    """The tracker refused or could not be reached; the message is safe to show (no secrets)."""


@runtime_checkable
class Connector(Protocol):
    """A tracker for one plan instance."""

    capabilities: Capabilities

    def ensure_container(self, spec: ContainerSpec) -> str:
        """Create the project/workbook if it does not exist; return its id or location."""
        ...

    def find_items(self, known: Mapping[str, ExternalItem] | None = None) -> dict[str, ExternalItem]:
        """Every item of this plan the tracker holds, by key, found by the key it carries. ``known`` are
        the items the store remembers, for trackers that can make a search consistent for them."""
        ...

    def create_items(self, specs: Sequence[ItemSpec]) -> BulkResult:
        """Create at most ``capabilities.bulk_size`` items; a partial failure lists each failed key."""
        ...

    def link_items(self, links: Sequence[LinkSpec], items: Mapping[str, ExternalItem]) -> list[CreateFailure]:
        """Create dependency links between existing items (only if ``capabilities.links``)."""
        ...

    def pull_progress(self, items: Mapping[str, ExternalItem], since: datetime | None) -> PullResult:
        """Progress of the seeded items, only those changed since ``since`` where the tracker allows."""
        ...

    def write_status(self, status: PlanStatus, items: Mapping[str, ExternalItem]) -> None:
        """Show the computed status in the tracker (only if ``capabilities.write_back``)."""
        ...

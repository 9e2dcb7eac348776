"""The tracker-neutral values every connector speaks, and nothing else.

The engine maps its plan onto :class:`ItemSpec`, :class:`LinkSpec` and :class:`ContainerSpec`, and its
computed status onto :class:`StatusNote`; a connector answers with :class:`ExternalItem`,
:class:`Inventory`, :class:`ProgressRecord` and :class:`CreateFailure`. These values know nothing of
ISO 20000, earned value or the store, and import nothing from the core: a tracker package can be written
against this module alone.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

ITEM_NAMESPACE = uuid.UUID("5b0f1c8e-3a55-4d8e-9a51-2c1f0e7a2d10")
"""Namespace of the stable item ids (uuid5): never change it, trackers keep the ids it made."""


def stable_id(plan_key: str, key: str) -> uuid.UUID:
    """The client-assigned id of one item of one plan: the same on every run, on every machine."""
    return uuid.uuid5(ITEM_NAMESPACE, f"{plan_key}:{key}")


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ItemKind(StrEnum):
    phase = "phase"
    task = "task"
    milestone = "milestone"


class LinkKind(StrEnum):
    """Dependency types: finish-to-start, start-to-start, finish-to-finish, start-to-finish."""

    FS = "FS"
    SS = "SS"
    FF = "FF"
    SF = "SF"


class Level(StrEnum):
    """How a note reads at a glance: red, amber, green (RAG)."""

    green = "green"
    amber = "amber"
    red = "red"


class ItemState(StrEnum):
    not_started = "not_started"
    in_progress = "in_progress"
    done = "done"


# --- what the engine asks for ------------------------------------------------------------------------


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


class LinkSpec(_Value):
    predecessor: str
    successor: str
    type: LinkKind = LinkKind.FS
    lag: int = Field(default=0, description="Working days; negative is a lead")


class ItemSpec(_Value):
    """One phase, task or milestone to create. ``key`` is the template task id (or ``phase:<id>``)."""

    key: str
    uid: uuid.UUID = Field(description="Client-assigned stable id, for trackers that take one")
    kind: ItemKind
    title: str
    description: str = ""
    parent: str | None = Field(default=None, description="Key of the item this one belongs to (its phase)")
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
    owner_rate: Decimal | None = Field(
        default=None, ge=0, description="Day rate of the owner's role, plan currency (a resource's rate)"
    )
    gate: str | None = Field(default=None, description="Key of the gate milestone closing this item's phase")
    depends_on: list[LinkSpec] = Field(
        default=[], description="Its dependencies, for trackers that describe them in the item itself"
    )


class ItemUpdate(_Value):
    """New planned values for an item that exists; ``None`` leaves a value as it is."""

    key: str
    title: str | None = None
    start: date | None = None
    due: date | None = None
    estimate_days: Decimal | None = None


# --- what the tracker answers ------------------------------------------------------------------------


class ExternalItem(_Value):
    """An item as the tracker knows it."""

    key: str
    kind: ItemKind
    external_id: str = Field(description="The tracker's id: issue id, issue iid, task GUID, row Key")
    display_id: str | None = Field(default=None, description="What people call it: ISO-12, #5")
    url: str | None = None


class Inventory(_Value):
    """What of a plan the tracker holds, found by the keys its items carry."""

    items: dict[str, ExternalItem] = {}
    links: frozenset[tuple[str, str]] = Field(
        default=frozenset(), description="(predecessor key, successor key) of the dependency links present"
    )


class CreateFailure(_Value):
    key: str
    message: str = Field(description="The tracker's own explanation")


class BulkResult(_Value):
    created: list[ExternalItem] = []
    failed: list[CreateFailure] = []


MAX_AMOUNT = Decimal("999999999999.99")
"""The largest amount of money accepted anywhere (a cost, an expense, a budget): 14 digits, which the
store keeps exactly and every report can show; anything larger is a typing slip, not a certification."""


def amount_problem(value: Decimal) -> str | None:
    """Why an amount of money cannot be taken, or None."""
    if not value.is_finite():
        return "is not a finite number"
    if value < 0:
        return "is negative; expected an amount of 0 or more"
    if value > MAX_AMOUNT:
        return f"is more than {MAX_AMOUNT:,}, the largest amount accepted"
    return None


class ItemProgress(_Value):
    """Progress of one item as the tracker reports it; a value the tracker does not have is None."""

    state: ItemState | None = Field(default=None, description="None: the tracker leaves it to the figures")
    percent_complete: Decimal | None = Field(default=None, ge=0, le=100)
    actual_start: date | None = None
    actual_finish: date | None = None
    actual_cost: Decimal | None = Field(
        default=None, ge=0, le=MAX_AMOUNT, description="Money spent, the plan's currency"
    )
    time_spent_days: Decimal | None = Field(default=None, ge=0, description="Person-days logged")
    remaining_days: Decimal | None = Field(default=None, ge=0, description="Remaining estimate, person-days")

    @model_validator(mode="after")
    def _dates_in_order(self) -> ItemProgress:
        if self.actual_start and self.actual_finish and self.actual_finish < self.actual_start:
            raise ValueError(f"actual finish {self.actual_finish} is before actual start {self.actual_start}")
        return self


class ProgressRecord(_Value):
    key: str
    progress: ItemProgress
    updated_at: datetime | None = None


class PullResult(_Value):
    records: list[ProgressRecord] = []
    problems: list[str] = Field(default=[], description="Values that could not be read, with where they are")
    missing: list[str] = Field(default=[], description="Keys of seeded items no longer in the tracker")


# --- write-back ----------------------------------------------------------------------------------------


class FigureKind(StrEnum):
    """How a figure is shown: trackers format each kind their own way."""

    text = "text"
    date = "date"
    money = "money"
    ratio = "ratio"
    count = "count"
    days = "days"
    level = "level"


Scalar = str | int | Decimal | date | None


class Figure(_Value):
    """One labelled value of a note, e.g. ("forecast", "Forecast", 2027-03-01, date)."""

    name: str = Field(description="Stable machine name, e.g. 'forecast'")
    label: str
    value: Scalar
    kind: FigureKind = FigureKind.text
    note: str = Field(default="", description="What it means, or why it is not available")
    group: str = Field(default="", description="Figures of one group are shown together under this title")


class Column(_Value):
    header: str
    kind: FigureKind = FigureKind.text


class Table(_Value):
    title: str
    columns: list[Column]
    rows: list[list[Scalar]] = []
    total_row: bool = Field(default=False, description="The last row is a total")
    chart: list[str] = Field(
        default=[],
        description="Headers of the columns a tracker that draws charts plots as lines against the first "
        "column (dates); the charted columns of one note's tables share one chart",
    )

    @model_validator(mode="after")
    def _rows_fit(self) -> Table:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"table {self.title!r}: a row has {len(row)} cells for {len(self.columns)}")
        headers = [column.header for column in self.columns]
        if unknown := [header for header in self.chart if header not in headers[1:]]:
            raise ValueError(f"table {self.title!r}: no column {unknown[0]!r} to chart")
        return self


class StatusNote(_Value):
    """What the engine wants shown in the tracker, rendered once for every tracker.

    ``key`` is the item the note belongs to (a milestone), or None for the plan as a whole (shown only by
    trackers with ``Capabilities.plan_note``). A milestone's note carries no status date, so a note whose
    content did not change is not written again; the plan's note is dated and changes every day.
    """

    key: str | None
    level: Level
    title: str
    text: str
    figures: list[Figure] = []
    tables: list[Table] = []
    currency: str = ""

    def figure(self, name: str) -> Figure | None:
        return next((f for f in self.figures if f.name == name), None)


class NoteWrite(_Value):
    """A note to write, with where the tracker put its previous version (if it said)."""

    note: StatusNote
    ref: str | None = Field(default=None, description="The tracker's reference from the last write")


class NoteReceipt(_Value):
    """A note the tracker now shows; ``ref`` lets the next write replace it in place."""

    key: str | None
    ref: str | None = None

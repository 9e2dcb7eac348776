"""The store's tables (SQLAlchemy 2). Changes go through an Alembic migration in ``migrations/``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class DecimalText(TypeDecorator[Decimal]):
    """A Decimal kept exactly as text: SQLite has no exact decimal type, and money must not drift."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class UtcDateTime(TypeDecorator[datetime]):
    """A moment in UTC, aware in Python on every database (SQLite keeps no time zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store times must be time-zone aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        Decimal: DecimalText,
        datetime: UtcDateTime,
    }


class PlanRow(Base):
    """A plan instance: the organisation's plan with its baseline frozen at the first seed."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    plan_key: Mapped[str] = mapped_column(String(100), unique=True)
    template_id: Mapped[str] = mapped_column(String(100))
    template_version: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    baseline: Mapped[dict[str, Any]] = mapped_column(comment="The instantiated Plan as JSON, never changed")
    tracker: Mapped[str] = mapped_column(String(40))
    container: Mapped[str | None] = mapped_column(Text, comment="Project key, workbook path, ...")
    created_at: Mapped[datetime]
    seeded_at: Mapped[datetime | None]
    connector_memo: Mapped[dict[str, Any] | None] = mapped_column(
        comment="What the connector's checks learnt (field ids, deployment), reused by later runs"
    )


class TrackerItemRow(Base):
    """Which tracker item holds which plan task: one row per task, whatever happens."""

    __tablename__ = "tracker_items"
    __table_args__ = (UniqueConstraint("plan_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))
    display_id: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class TrackerNoteRow(Base):
    """A status note as last shown in the tracker: written again only when its digest changes."""

    __tablename__ = "tracker_notes"
    __table_args__ = (UniqueConstraint("plan_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100), comment="Item key; empty for the plan's note")
    digest: Mapped[str] = mapped_column(String(64), comment="SHA-256 of the note as written")
    ref: Mapped[str | None] = mapped_column(String(200), comment="The tracker's id of it (a comment)")
    written_at: Mapped[datetime]


class SyncRunRow(Base):
    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), comment="seed or sync")
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(20), comment="running, succeeded, failed")
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    problems: Mapped[list[Any]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(Text)


class SnapshotRow(Base):
    """Progress of one task as pulled by one run. Appended, never updated."""

    __tablename__ = "progress_snapshots"
    __table_args__ = (Index("ix_snapshots_plan_key", "plan_id", "key", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id", ondelete="CASCADE"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20))
    percent_complete: Mapped[Decimal | None]
    actual_cost: Mapped[Decimal | None]
    facts: Mapped[dict[str, Any]] = mapped_column(comment="The TaskProgress as JSON")
    updated_at: Mapped[datetime | None] = mapped_column(comment="When the tracker says it changed")
    captured_at: Mapped[datetime]
    status_date: Mapped[date] = mapped_column(comment="The status date it was pulled for")


class ExpenseRow(Base):
    __tablename__ = "expenses"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    spent_on: Mapped[date]
    task_key: Mapped[str | None] = mapped_column(String(100))
    reference: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class StatusRow(Base):
    """A computed plan status, kept for history and trends."""

    __tablename__ = "statuses"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id", ondelete="SET NULL"))
    status_date: Mapped[date]
    rag: Mapped[str] = mapped_column(String(10))
    body: Mapped[dict[str, Any]] = mapped_column(comment="The PlanStatus as JSON")
    created_at: Mapped[datetime]


class JobRunRow(Base):
    """One scheduled run (a plan's sync of a day, its digest of an ISO week), claimed by one instance.

    The unique key makes "at most one instance runs it" a database fact; the lease lets another
    instance take over the run of one that died; a failed run is retried from ``retry_at``."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("plan_name", "job", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_name: Mapped[str] = mapped_column(String(200))
    job: Mapped[str] = mapped_column(String(20), comment="sync or digest")
    period: Mapped[str] = mapped_column(String(10), comment="local date (sync) or ISO week (digest)")
    state: Mapped[str] = mapped_column(String(20), comment="running, done or failed")
    holder: Mapped[str] = mapped_column(String(200), comment="host, process id and a random token")
    attempts: Mapped[int] = mapped_column(default=1)
    claimed_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(
        comment="A running claim past this was left by a dead instance"
    )
    retry_at: Mapped[datetime | None] = mapped_column(comment="A failed run may be claimed again from then")
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class OutboxRow(Base):
    """One digest to one recipient for one ISO week, written before it is sent; the unique key makes
    "once per plan, week and recipient" a database fact."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("plan_id", "week", "recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    week: Mapped[str] = mapped_column(String(10), comment="ISO week, e.g. 2027-W03")
    recipient: Mapped[str] = mapped_column(String(254))
    message_id: Mapped[str] = mapped_column(String(250), comment="Deterministic Message-ID of the mail")
    state: Mapped[str] = mapped_column(
        String(20),
        comment="pending, sending (handed to the server, not yet confirmed), sent, failed or unconfirmed",
    )
    attempts: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class PlanLockRow(Base):
    """Who is changing a plan right now: one writer per plan across processes and hosts. Keyed by the plan's
    name, so the first seed of a plan not yet stored is guarded too."""

    __tablename__ = "plan_locks"

    plan_name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200), comment="host, process id and a random token")
    purpose: Mapped[str] = mapped_column(String(20), comment="seed, sync or digest")
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(
        comment="Renewed while the holder lives; a lock past it was left by a killed run"
    )

"""Reading and writing the store. One :meth:`Store.transaction` is one unit of work: all or nothing."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

from connectors.values import ExternalItem
from iso20k_sync.analytics.progress import Expense, TaskProgress
from iso20k_sync.analytics.status import PlanStatus, StatusPoint
from iso20k_sync.errors import Iso20kError
from iso20k_sync.plan import Plan

from .schema import (
    ExpenseRow,
    OutboxRow,
    PlanRow,
    SnapshotRow,
    StatusRow,
    SyncRunRow,
    TrackerItemRow,
    TrackerNoteRow,
)

MIGRATIONS = Path(__file__).parent / "migrations" / "versions"
HEAD_REVISION = max(path.name.partition("_")[0] for path in MIGRATIONS.glob("0*_*.py"))
"""The newest migration (files are named after their revision, 0001_..., in one line of descent)."""


class StoreError(Iso20kError):
    """The store cannot be opened, migrated or written; the message names the database, not its password."""


def now() -> datetime:
    return datetime.now(UTC)


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.safe_url = self.describe(url)
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////:memory:"):
            Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine: Engine = create_engine(url, pool_pre_ping=True)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StoreError(f"cannot open the store {self.safe_url}: {exc}") from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)

    @staticmethod
    def describe(url: str) -> str:
        """The URL with any password masked, for messages and ``config check``."""
        return make_url(url).render_as_string(hide_password=True)

    def upgrade(self) -> None:
        """Apply every Alembic migration not yet applied (run on start and by ``db upgrade``). A store
        already at the head is recognised with one query, without loading Alembic (about 0.1 s)."""
        if self._at_head():
            return
        from alembic import command
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", "iso20k_sync.store:migrations")
        try:
            with self.engine.begin() as connection:
                _one_migration_at_a_time(connection)
                self._refuse_newer(connection, ScriptDirectory.from_config(config))
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot migrate the store {self.safe_url}: {exc.__class__.__name__}: {exc.orig}"
            ) from None

    def _at_head(self) -> bool:
        try:
            with self.engine.connect() as connection:
                query = "SELECT version_num FROM alembic_version"
                current = connection.exec_driver_sql(query).scalars().all()
        except SQLAlchemyError:  # no store yet, or not reachable: the full path says which
            return False
        return current == [HEAD_REVISION]

    def _refuse_newer(self, connection: Connection, scripts: ScriptDirectory) -> None:
        """A store migrated by a newer iso20k-sync is left alone, with a message instead of Alembic's."""
        from alembic.runtime.migration import MigrationContext

        current = MigrationContext.configure(connection).get_current_heads()
        known = {script.revision for script in scripts.walk_revisions()}
        unknown = [revision for revision in current if revision not in known]
        if unknown:
            raise StoreError(
                f"the store {self.safe_url} was migrated by a newer version of iso20k-sync (schema "
                f"{', '.join(unknown)}; this version knows up to {scripts.get_current_head()}): upgrade "
                "iso20k-sync, or point ISO20K_STORE_URL at another store"
            )

    @contextmanager
    def transaction(self) -> Iterator[Repository]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield Repository(session)

    def dispose(self) -> None:
        self.engine.dispose()


MIGRATION_LOCK = 7_220_001
"""PostgreSQL advisory lock key taken while migrating, so two first runs at once migrate one after another."""


def _one_migration_at_a_time(connection: Connection) -> None:
    """Hold the database's write lock for the migration: a second process waits, then finds it done."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.close()


class Repository:
    """The store's operations inside one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # --- plans ------------------------------------------------------------------------------------

    def plan(self, name: str) -> PlanRow | None:
        return self.session.scalar(select(PlanRow).where(PlanRow.name == name))

    def plans(self) -> list[PlanRow]:
        return list(self.session.scalars(select(PlanRow).order_by(PlanRow.name)))

    def add_plan(self, name: str, plan_key: str, plan: Plan, tracker: str) -> PlanRow:
        row = PlanRow(
            name=name,
            plan_key=plan_key,
            template_id=plan.template.id,
            template_version=plan.template.version,
            currency=plan.currency,
            baseline=plan.model_dump(mode="json"),
            tracker=tracker,
            created_at=now(),
        )
        self.session.add(row)
        self.session.flush()
        return row

    def set_container(self, plan_id: int, container: str, seeded: bool) -> None:
        row = self.session.get_one(PlanRow, plan_id)
        row.container = container
        if seeded and row.seeded_at is None:
            row.seeded_at = now()

    @staticmethod
    def baseline(row: PlanRow) -> Plan:
        return Plan.model_validate(row.baseline)

    def set_memo(self, plan_id: int, memo: dict[str, Any] | None) -> None:
        """Keep what the connector's checks learnt (None forgets it, so the next run checks again)."""
        self.session.get_one(PlanRow, plan_id).connector_memo = memo or None

    # --- tracker items ----------------------------------------------------------------------------

    def items(self, plan_id: int) -> dict[str, ExternalItem]:
        rows = self.session.scalars(select(TrackerItemRow).where(TrackerItemRow.plan_id == plan_id))
        return {
            r.key: ExternalItem(
                key=r.key, kind=r.kind, external_id=r.external_id, display_id=r.display_id, url=r.url
            )
            for r in rows
        }

    def record_items(self, plan_id: int, items: Iterable[ExternalItem]) -> int:
        """Remember where tasks live; a key already recorded is left as it is. Returns how many are new."""
        known = set(self.items(plan_id))
        new = [item for item in items if item.key not in known]
        for item in new:
            self.session.add(
                TrackerItemRow(
                    plan_id=plan_id,
                    key=item.key,
                    kind=item.kind.value,
                    external_id=item.external_id,
                    display_id=item.display_id,
                    url=item.url,
                    created_at=now(),
                )
            )
            known.add(item.key)
        self.session.flush()
        return len(new)

    def forget_items(self, plan_id: int, keys: Iterable[str], settled_before: datetime) -> list[str]:
        """Forget items the tracker lost (deleted there), so that a seed creates them again; only those
        recorded before ``settled_before``, since a newer one may not show in the tracker's search yet.
        Returns the keys forgotten."""
        rows = self.session.scalars(
            select(TrackerItemRow).where(
                TrackerItemRow.plan_id == plan_id,
                TrackerItemRow.key.in_(list(keys)),
                TrackerItemRow.created_at < settled_before,
            )
        ).all()
        for row in rows:
            self.session.delete(row)
        notes = select(TrackerNoteRow).where(
            TrackerNoteRow.plan_id == plan_id, TrackerNoteRow.key.in_([r.key for r in rows])
        )
        for note in self.session.scalars(notes).all():
            self.session.delete(note)
        self.session.flush()
        return sorted(row.key for row in rows)

    # --- runs -------------------------------------------------------------------------------------

    def start_run(self, plan_id: int, kind: str) -> int:
        row = SyncRunRow(
            plan_id=plan_id, kind=kind, started_at=now(), outcome="running", counts={}, problems=[]
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def abandon_running(self, plan_id: int) -> int:
        """Mark the plan's runs still 'running' as abandoned: called by a run that holds the plan's lock,
        so their process is gone (killed or crashed). Returns how many."""
        rows = self.session.scalars(
            select(SyncRunRow).where(SyncRunRow.plan_id == plan_id, SyncRunRow.outcome == "running")
        ).all()
        for row in rows:
            row.outcome = "abandoned"
            row.finished_at = now()
            row.error = "the process running it stopped (killed or crashed) before it finished"
        return len(rows)

    def finish_run(
        self,
        run_id: int,
        outcome: str,
        counts: dict[str, int] | None = None,
        problems: list[str] | None = None,
        error: str | None = None,
    ) -> None:
        row = self.session.get_one(SyncRunRow, run_id)
        row.finished_at = now()
        row.outcome = outcome
        if counts is not None:
            row.counts = counts
        row.problems = problems or []
        row.error = error

    def note_run(self, run_id: int, counts: dict[str, Any]) -> None:
        """Record progress notes of a running run (committed with the caller's transaction)."""
        row = self.session.get_one(SyncRunRow, run_id)
        row.counts = {**row.counts, **counts}

    def interrupted_seed(self, plan_id: int) -> datetime | None:
        """When the last seed, if it did not succeed (killed, interrupted or failed), last started creating
        items."""
        query = (
            select(SyncRunRow)
            .where(SyncRunRow.plan_id == plan_id, SyncRunRow.kind == "seed")
            .order_by(SyncRunRow.id.desc())
            .limit(1)
        )
        row = self.session.scalar(query)
        if row is None or row.outcome == "succeeded" or "creating_since" not in row.counts:
            return None
        return datetime.fromisoformat(row.counts["creating_since"])

    def add_run_problem(self, run_id: int, problem: str) -> None:
        row = self.session.get_one(SyncRunRow, run_id)
        row.problems = [*row.problems, problem]

    def runs(self, plan_id: int, limit: int = 20) -> list[SyncRunRow]:
        query = (
            select(SyncRunRow)
            .where(SyncRunRow.plan_id == plan_id)
            .order_by(SyncRunRow.id.desc())
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def last_successful_sync(self, plan_id: int, full: bool = False) -> SyncRunRow | None:
        """The newest successful sync (``full``: the newest that pulled every item)."""
        query = (
            select(SyncRunRow)
            .where(
                SyncRunRow.plan_id == plan_id, SyncRunRow.kind == "sync", SyncRunRow.outcome == "succeeded"
            )
            .order_by(SyncRunRow.id.desc())
        )
        for row in self.session.scalars(query):
            if not full or row.counts.get("full"):
                return row
        return None

    # --- progress ---------------------------------------------------------------------------------

    def append_snapshots(
        self,
        run_id: int,
        plan_id: int,
        status_date: date,
        facts: Iterable[tuple[TaskProgress, datetime | None]],
    ) -> int:
        """Append one snapshot per task, pulled for ``status_date``: its progress and when the tracker
        says it last changed."""
        captured = now()
        rows = [
            SnapshotRow(
                run_id=run_id,
                plan_id=plan_id,
                key=progress.task_id,
                state=progress.effective_state.value,
                percent_complete=progress.percent_complete,
                actual_cost=progress.actual_cost,
                facts=progress.model_dump(mode="json"),
                updated_at=updated_at,
                captured_at=captured,
                status_date=status_date,
            )
            for progress, updated_at in facts
        ]
        self.session.add_all(rows)
        self.session.flush()
        return len(rows)

    def latest_progress(self, plan_id: int, status_date: date | None = None) -> dict[str, TaskProgress]:
        """Each task's progress as known at ``status_date``: its snapshot with the latest status date at
        or before it (of several for one date, the newest)."""
        newest = (
            func.row_number()
            .over(
                partition_by=SnapshotRow.key,
                order_by=(SnapshotRow.status_date.desc(), SnapshotRow.id.desc()),
            )
            .label("rank")
        )
        ranked = select(SnapshotRow.id, newest).where(SnapshotRow.plan_id == plan_id)
        if status_date is not None:
            ranked = ranked.where(SnapshotRow.status_date <= status_date)
        chosen = ranked.subquery()
        query = select(SnapshotRow).join(chosen, SnapshotRow.id == chosen.c.id).where(chosen.c.rank == 1)
        return {row.key: TaskProgress.model_validate(row.facts) for row in self.session.scalars(query)}

    def snapshot_count(self, plan_id: int) -> int:
        return self.session.scalar(select(func.count()).where(SnapshotRow.plan_id == plan_id)) or 0

    # --- expenses ---------------------------------------------------------------------------------

    def add_expense(self, plan_id: int, expense: Expense) -> int:
        row = ExpenseRow(
            plan_id=plan_id,
            category=expense.category.value,
            amount=expense.amount,
            currency=expense.currency,
            spent_on=expense.date,
            task_key=expense.task_id,
            reference=expense.reference,
            created_at=now(),
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def expenses(self, plan_id: int) -> list[tuple[int, Expense]]:
        query = (
            select(ExpenseRow)
            .where(ExpenseRow.plan_id == plan_id)
            .order_by(ExpenseRow.spent_on, ExpenseRow.id)
        )
        return [
            (
                row.id,
                Expense(
                    category=row.category,
                    amount=row.amount,
                    currency=row.currency,
                    date=row.spent_on,
                    task_id=row.task_key,
                    reference=row.reference,
                ),
            )
            for row in self.session.scalars(query)
        ]

    # --- statuses ---------------------------------------------------------------------------------

    def save_status(self, plan_id: int, run_id: int | None, status: PlanStatus) -> None:
        self.session.add(
            StatusRow(
                plan_id=plan_id,
                run_id=run_id,
                status_date=status.status_date,
                rag=status.rag.value,
                body=status.model_dump(mode="json"),
                created_at=now(),
            )
        )
        self.session.flush()

    def latest_status(self, plan_id: int) -> PlanStatus | None:
        query = select(StatusRow).where(StatusRow.plan_id == plan_id).order_by(StatusRow.id.desc()).limit(1)
        row = self.session.scalar(query)
        return None if row is None else PlanStatus.model_validate(row.body)

    def status_as_of(self, plan_id: int, day: date) -> PlanStatus | None:
        """The newest status computed for a status date on or before ``day``."""
        query = (
            select(StatusRow)
            .where(StatusRow.plan_id == plan_id, StatusRow.status_date <= day)
            .order_by(StatusRow.status_date.desc(), StatusRow.id.desc())
            .limit(1)
        )
        row = self.session.scalar(query)
        return None if row is None else PlanStatus.model_validate(row.body)

    def status_history(self, plan_id: int, before: date | None = None) -> list[StatusPoint]:
        """One point per status date (the newest computed), oldest first."""
        latest = self.latest_status(plan_id)
        if latest is None:
            return []
        return [p for p in latest.history if before is None or p.status_date < before]

    # --- notes shown in the tracker ---------------------------------------------------------------

    def notes_shown(self, plan_id: int) -> dict[str, tuple[str, str | None]]:
        """Item key ("" for the plan) -> (digest, tracker reference) of each note as last written."""
        rows = self.session.scalars(select(TrackerNoteRow).where(TrackerNoteRow.plan_id == plan_id))
        return {row.key: (row.digest, row.ref) for row in rows}

    def record_notes(self, plan_id: int, shown: Iterable[tuple[str, str, str | None]]) -> None:
        """Remember (key, digest, reference) of notes just written to the tracker."""
        rows = {
            row.key: row
            for row in self.session.scalars(select(TrackerNoteRow).where(TrackerNoteRow.plan_id == plan_id))
        }
        for key, digest, ref in shown:
            row = rows.get(key)
            if row is None:
                row = rows[key] = TrackerNoteRow(plan_id=plan_id, key=key, digest=digest, written_at=now())
                self.session.add(row)
            row.digest, row.ref, row.written_at = digest, ref, now()
        self.session.flush()

    # --- digest outbox ------------------------------------------------------------------------------

    def outbox(self, plan_id: int, week: str) -> dict[str, OutboxRow]:
        """The week's outbox rows by recipient."""
        rows = self.session.scalars(
            select(OutboxRow).where(OutboxRow.plan_id == plan_id, OutboxRow.week == week)
        )
        return {row.recipient: row for row in rows}

    def last_digest_sent(self, plan_id: int) -> datetime | None:
        """When the plan's last digest mail was accepted by the mail server."""
        return self.session.scalar(select(func.max(OutboxRow.sent_at)).where(OutboxRow.plan_id == plan_id))

    def add_to_outbox(self, plan_id: int, week: str, recipient: str, message_id: str) -> OutboxRow | None:
        """A new row for this recipient's digest of the week, or None when one exists (the unique key
        decides between instances)."""
        row = OutboxRow(
            plan_id=plan_id,
            week=week,
            recipient=recipient,
            message_id=message_id,
            state="pending",
            attempts=0,
            updated_at=now(),
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            return None
        return row

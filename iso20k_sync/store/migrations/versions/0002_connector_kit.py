"""connector kit: display ids of tracker items, the connector's memo, notes shown in the tracker, the
status date of each progress snapshot

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tracker_items") as batch:
        batch.add_column(sa.Column("display_id", sa.String(length=200), nullable=True))
    with op.batch_alter_table("plans") as batch:
        batch.add_column(
            sa.Column(
                "connector_memo",
                sa.JSON(),
                nullable=True,
                comment="What the connector's checks learnt (field ids, deployment), reused by later runs",
            )
        )
    with op.batch_alter_table("progress_snapshots") as batch:
        batch.add_column(
            sa.Column("status_date", sa.Date(), nullable=True, comment="The status date it was pulled for")
        )
    snapshots = sa.table("progress_snapshots", sa.column("status_date", sa.Date()), sa.column("captured_at"))
    op.execute(snapshots.update().values(status_date=sa.func.date(snapshots.c.captured_at)))
    with op.batch_alter_table("progress_snapshots") as batch:
        batch.alter_column("status_date", existing_type=sa.Date(), nullable=False)
    op.create_table(
        "tracker_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column(
            "key", sa.String(length=100), nullable=False, comment="Item key; empty for the plan's note"
        ),
        sa.Column("digest", sa.String(length=64), nullable=False, comment="SHA-256 of the note as written"),
        sa.Column("ref", sa.String(length=200), nullable=True, comment="The tracker's id of it (a comment)"),
        sa.Column("written_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "key"),
    )


def downgrade() -> None:
    op.drop_table("tracker_notes")
    with op.batch_alter_table("progress_snapshots") as batch:
        batch.drop_column("status_date")
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("connector_memo")
    with op.batch_alter_table("tracker_items") as batch:
        batch.drop_column("display_id")

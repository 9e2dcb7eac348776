"""service: scheduled runs claimed per plan, job and period; the digest outbox per recipient (replaces
the unused digests table)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("digests")
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_name", sa.String(length=200), nullable=False),
        sa.Column("job", sa.String(length=20), nullable=False, comment="sync or digest"),
        sa.Column(
            "period", sa.String(length=10), nullable=False, comment="local date (sync) or ISO week (digest)"
        ),
        sa.Column("state", sa.String(length=20), nullable=False, comment="running, done or failed"),
        sa.Column(
            "holder", sa.String(length=200), nullable=False, comment="host, process id and a random token"
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column(
            "expires_at",
            sa.DateTime(),
            nullable=False,
            comment="A running claim past this was left by a dead instance",
        ),
        sa.Column(
            "retry_at", sa.DateTime(), nullable=True, comment="A failed run may be claimed again from then"
        ),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_name", "job", "period"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=10), nullable=False, comment="ISO week, e.g. 2027-W03"),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column(
            "message_id",
            sa.String(length=250),
            nullable=False,
            comment="Deterministic Message-ID of the mail",
        ),
        sa.Column(
            "state",
            sa.String(length=20),
            nullable=False,
            comment="sending (handed to the server, not yet confirmed), sent, failed or unconfirmed",
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "week", "recipient"),
    )
    op.create_index("ix_outbox_plan_id", "outbox", ["plan_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_plan_id", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("job_runs")
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "week"),
    )

"""plan locks: one writer per plan across processes

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_locks",
        sa.Column("plan_name", sa.String(length=200), nullable=False),
        sa.Column(
            "holder", sa.String(length=200), nullable=False, comment="host, process id and a random token"
        ),
        sa.Column("purpose", sa.String(length=20), nullable=False, comment="seed or sync"),
        sa.Column("acquired_at", sa.DateTime(), nullable=False),
        sa.Column(
            "expires_at",
            sa.DateTime(),
            nullable=False,
            comment="Renewed while the holder lives; a lock past it was left by a killed run",
        ),
        sa.PrimaryKeyConstraint("plan_name"),
    )


def downgrade() -> None:
    op.drop_table("plan_locks")

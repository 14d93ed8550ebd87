"""Supporter profiles: stage, department, topics, languages, capacity, availability

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 18:25:10.437576
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stage", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("department", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("topics", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(
            sa.Column("languages", sa.JSON(), server_default='["en"]', nullable=False)
        )
        batch_op.add_column(
            sa.Column("max_cases", sa.Integer(), nullable=False, server_default="3")
        )
        batch_op.add_column(
            sa.Column("available", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("last_assigned_at", storage.models.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("last_assigned_at")
        batch_op.drop_column("available")
        batch_op.drop_column("max_cases")
        batch_op.drop_column("languages")
        batch_op.drop_column("topics")
        batch_op.drop_column("department")
        batch_op.drop_column("stage")

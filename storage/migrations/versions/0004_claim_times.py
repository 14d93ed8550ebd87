"""Claim times on follow-ups and alert messages, so only stale claims are released

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 18:14:47.723803
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_at", storage.models.UTCDateTime(), nullable=True))

    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_at", storage.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")

    with op.batch_alter_table("alert_message", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")

"""Follow-up lifecycle (next action, reminder, overdue), exact flag, case labels, quiet hours

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 17:38:51.988151
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("exact", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("next_action_at", storage.models.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("reminded_at", storage.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("overdue_at", storage.models.UTCDateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_follow_up_next_action_at"), ["next_action_at"], unique=False
        )

    with op.batch_alter_table("guide_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label", sa.String(length=40), nullable=True))

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quiet_hours", sa.String(length=11), nullable=True))

    op.execute("UPDATE follow_up SET next_action_at = due_at WHERE status = 'pending'")


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("quiet_hours")

    with op.batch_alter_table("guide_session", schema=None) as batch_op:
        batch_op.drop_column("label")

    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_up_next_action_at"))
        batch_op.drop_column("overdue_at")
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("next_action_at")
        batch_op.drop_column("exact")

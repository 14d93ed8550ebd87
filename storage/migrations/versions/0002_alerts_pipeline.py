"""Alerts pipeline: timeline, per-recipient outbox, escalation; staff names and duty

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 17:03:32.506007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("detail", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alert_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_event_alert_id"), ["alert_id"], unique=False)

    op.create_table(
        "alert_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("edit_of", sa.BigInteger(), nullable=True),
        sa.Column("repeat", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.String(length=32), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alert_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_message_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_alert_message_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_alert_message_recipient_id"), ["recipient_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_alert_message_status"), ["status"], unique=False)

    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tier", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(
            sa.Column("next_escalation_at", storage.models.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("acked_by", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("acked_at", storage.models.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("supporter_warned", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(
            batch_op.f("ix_alert_next_escalation_at"), ["next_escalation_at"], unique=False
        )

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("display_name", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("on_duty", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("on_duty")
        batch_op.drop_column("display_name")

    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_next_escalation_at"))
        batch_op.drop_column("supporter_warned")
        batch_op.drop_column("acked_at")
        batch_op.drop_column("acked_by")
        batch_op.drop_column("next_escalation_at")
        batch_op.drop_column("tier")

    with op.batch_alter_table("alert_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_message_status"))
        batch_op.drop_index(batch_op.f("ix_alert_message_recipient_id"))
        batch_op.drop_index(batch_op.f("ix_alert_message_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_alert_message_alert_id"))

    op.drop_table("alert_message")
    with op.batch_alter_table("alert_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_event_alert_id"))

    op.drop_table("alert_event")

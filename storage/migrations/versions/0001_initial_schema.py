"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29 16:38:06.974478
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "guide_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("card_message_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("guide_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_guide_session_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_guide_session_status"), ["status"], unique=False)

    op.create_table(
        "invite",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("uses_left", sa.Integer(), nullable=False),
        sa.Column("expires_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "person",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("enrolled_at", storage.models.UTCDateTime(), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "processed_update",
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("processed_at", storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("update_id"),
    )
    with op.batch_alter_table("processed_update", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_processed_update_processed_at"), ["processed_at"], unique=False
        )

    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["guide_session.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_status"), ["status"], unique=False)

    op.create_table(
        "follow_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("due_at", storage.models.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("sent_at", storage.models.UTCDateTime(), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["guide_session.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follow_up_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_follow_up_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_follow_up_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_follow_up_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_up_status"))
        batch_op.drop_index(batch_op.f("ix_follow_up_session_id"))
        batch_op.drop_index(batch_op.f("ix_follow_up_person_id"))
        batch_op.drop_index(batch_op.f("ix_follow_up_due_at"))

    op.drop_table("follow_up")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_status"))
        batch_op.drop_index(batch_op.f("ix_alert_session_id"))
        batch_op.drop_index(batch_op.f("ix_alert_person_id"))

    op.drop_table("alert")
    with op.batch_alter_table("processed_update", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_update_processed_at"))

    op.drop_table("processed_update")
    op.drop_table("person")
    op.drop_table("invite")
    with op.batch_alter_table("guide_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guide_session_status"))
        batch_op.drop_index(batch_op.f("ix_guide_session_person_id"))

    op.drop_table("guide_session")

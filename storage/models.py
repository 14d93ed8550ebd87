"""The database tables. Times are stored as naive UTC and read back as aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Dialect, TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back timezone-aware in UTC, on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store as naive UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not accepted; pass an aware UTC time")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Read back as aware UTC."""
        return value.replace(tzinfo=UTC) if value is not None else None


def _id_column(**kw: Any) -> Any:
    return Field(sa_type=BigInteger, **kw)


def _time(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class Person(SQLModel, table=True):
    """A supporter or coordinator: Telegram id, role, time zone, duty; names only for staff."""

    id: int = _id_column(primary_key=True)
    role: str = Field(max_length=16)
    timezone: str | None = Field(default=None, max_length=64)
    display_name: str | None = Field(default=None, max_length=64)
    on_duty: bool = True
    quiet_hours: str | None = Field(default=None, max_length=11)
    stage: str | None = Field(default=None, max_length=16)
    department: str | None = Field(default=None, max_length=24)
    topics: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    languages: list[str] = Field(
        default_factory=lambda: ["en"],
        sa_column=Column(JSON, nullable=False, server_default='["en"]'),
    )
    max_cases: int = 3
    hours: str | None = Field(default=None, max_length=11)  # when they take requests, local
    available: bool = True
    last_assigned_at: datetime | None = _time(default=None)
    enrolled_at: datetime | None = _time(default=None)
    created_at: datetime = _time()


class Invite(SQLModel, table=True):
    """An enrolment code a coordinator created."""

    code: str = Field(primary_key=True, max_length=32)
    role: str = Field(max_length=16)
    uses_left: int
    expires_at: datetime = _time()
    created_by: int | None = _id_column(default=None)
    created_at: datetime = _time()


class GuideSession(SQLModel, table=True):
    """A supporter's guided session; `state` is the flow's state as plain JSON."""

    __tablename__ = "guide_session"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _id_column(index=True)
    status: str = Field(max_length=16, index=True)
    state: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    version: int = 0
    card_message_id: int | None = _id_column(default=None)
    label: str | None = Field(default=None, max_length=40)
    created_at: datetime = _time()
    updated_at: datetime = _time()


class ProcessedUpdate(SQLModel, table=True):
    """A Telegram update already applied, so a re-delivery changes nothing."""

    __tablename__ = "processed_update"

    update_id: int = _id_column(primary_key=True)
    processed_at: datetime = _time(index=True)


class FollowUp(SQLModel, table=True):
    """A scheduled check-in: the row is the truth, the scheduler job only its trigger."""

    __tablename__ = "follow_up"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="guide_session.id", index=True)
    person_id: int = _id_column(index=True)
    due_at: datetime = _time(index=True)
    status: str = Field(max_length=16, index=True)
    outcome: str | None = Field(default=None, max_length=16)
    message_id: int | None = _id_column(default=None)
    sent_at: datetime | None = _time(default=None)
    created_at: datetime = _time()
    exact: bool = True
    next_action_at: datetime | None = _time(default=None, index=True)
    reminded_at: datetime | None = _time(default=None)
    overdue_at: datetime | None = _time(default=None)
    claimed_at: datetime | None = _time(default=None)


class Alert(SQLModel, table=True):
    """A coordinator alert written in the same transaction as the state change (the outbox)."""

    id: int | None = Field(default=None, primary_key=True)
    session_id: int | None = Field(default=None, foreign_key="guide_session.id", index=True)
    person_id: int = _id_column(index=True)
    level: str = Field(max_length=16)
    trigger: str = Field(max_length=32)
    status: str = Field(max_length=16, index=True)
    created_at: datetime = _time()
    tier: int = 1
    next_escalation_at: datetime | None = _time(default=None, index=True)
    acked_by: int | None = _id_column(default=None)
    acked_at: datetime | None = _time(default=None)
    supporter_warned: bool = False
    request_id: int | None = Field(default=None, foreign_key="support_request.id", index=True)


class AlertEvent(SQLModel, table=True):
    """One line of an alert's timeline: raised, sent, escalated, blocked, acknowledged…"""

    __tablename__ = "alert_event"

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    at: datetime = _time()
    kind: str = Field(max_length=16)
    actor_id: int | None = _id_column(default=None)
    detail: int | None = None


class AlertMessage(SQLModel, table=True):
    """A message about an alert waiting to be sent (or edited), with its delivery state."""

    __tablename__ = "alert_message"

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    recipient_id: int = _id_column(index=True)
    kind: str = Field(max_length=16)
    status: str = Field(max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime = _time(index=True)
    message_id: int | None = _id_column(default=None)
    edit_of: int | None = _id_column(default=None)
    repeat: bool = False
    last_error: str | None = Field(default=None, max_length=32)
    claimed_at: datetime | None = _time(default=None)
    created_at: datetime = _time()


class SupportRequest(SQLModel, table=True):
    """A requester's request for a peer: intake answers (taps only, never free text), the offer
    cascade, the connection and its timings. `requester_id` is cleared by /forgetme."""

    __tablename__ = "support_request"

    id: int | None = Field(default=None, primary_key=True)
    requester_id: int | None = _id_column(default=None, index=True)
    status: str = Field(max_length=16, index=True)
    intake: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    urgent: bool = False
    unsafe: bool = False
    referral: str | None = Field(default=None, max_length=32)
    supporter_id: int | None = _id_column(default=None, index=True)
    session_id: int | None = Field(default=None, foreign_key="guide_session.id")
    offered_to: int | None = _id_column(default=None)
    offer_message_id: int | None = _id_column(default=None)
    offer_expires_at: datetime | None = _time(default=None, index=True)
    tried: list[int] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    version: int = 0
    created_at: datetime = _time()
    submitted_at: datetime | None = _time(default=None)
    accepted_at: datetime | None = _time(default=None)
    first_contact_at: datetime | None = _time(default=None)
    ended_at: datetime | None = _time(default=None)
    sla_due_at: datetime | None = _time(default=None, index=True)
    rating: int | None = None
    wants_checkin: bool | None = None


class RelayMessage(SQLModel, table=True):
    """A message the bot relayed or posted into a supporter's chat for a request, so a reply to
    it reaches the right requester. Ids only: the content is never kept."""

    __tablename__ = "relay_message"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="support_request.id", index=True)
    chat_id: int = _id_column(index=True)
    message_id: int = _id_column()


class Referral(SQLModel, table=True):
    """A one-time reach-in link a coordinator made for a colleague."""

    code: str = Field(primary_key=True, max_length=32)
    created_by: int = _id_column()
    expires_at: datetime = _time()
    used_at: datetime | None = _time(default=None)
    created_at: datetime = _time()

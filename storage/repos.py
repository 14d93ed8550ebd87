"""Repositories: small, plain functions over one transaction. Flows never see these rows."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from storage.models import FollowUp, GuideSession, Invite, Person, ProcessedUpdate


class FollowUpStatus(StrEnum):
    """Where a follow-up row is in its life."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    ANSWERED = "answered"
    CANCELLED = "cancelled"
    FAILED = "failed"


def mark_update(tx: Session, update_id: int, now: datetime) -> bool:
    """Record an update as applied; False when it was applied before (a re-delivery)."""
    if tx.get(ProcessedUpdate, update_id) is not None:
        return False
    tx.add(ProcessedUpdate(update_id=update_id, processed_at=now))
    tx.flush()
    return True


def prune_updates(tx: Session, before: datetime) -> int:
    """Forget processed update ids older than `before` (Telegram re-delivers within a day)."""
    old = tx.exec(select(ProcessedUpdate).where(ProcessedUpdate.processed_at < before)).all()
    for row in old:
        tx.delete(row)
    return len(old)


def get_person(tx: Session, person_id: int) -> Person | None:
    """The person with this Telegram id, if they have been seen."""
    return tx.get(Person, person_id)


def enrol(tx: Session, person_id: int, role: str, now: datetime) -> Person:
    """Give a person a role, creating them if new."""
    person = tx.get(Person, person_id)
    if person is None:
        person = Person(id=person_id, role=role, created_at=now)
    person.role = role
    person.enrolled_at = now
    tx.add(person)
    return person


def note_name(tx: Session, person_id: int, name: str | None) -> None:
    """Keep an enrolled person's display name current (staff only; used in alerts)."""
    person = tx.get(Person, person_id)
    if person is not None and name and person.display_name != name[:64]:
        person.display_name = name[:64]
        tx.add(person)


def ensure_staff(
    tx: Session, person_id: int, role: str, name: str | None, now: datetime
) -> Person:
    """A coordinator's row (created on first use) with their current display name."""
    person = tx.get(Person, person_id)
    if person is None:
        person = Person(id=person_id, role=role, created_at=now, enrolled_at=now)
        tx.add(person)
    if name:
        person.display_name = name[:64]
    tx.add(person)
    return person


def set_timezone(tx: Session, person_id: int, tz: str) -> None:
    """Remember a person's time zone (they must exist)."""
    person = tx.get(Person, person_id)
    if person is not None:
        person.timezone = tz
        tx.add(person)


def create_invite(
    tx: Session,
    role: str,
    uses: int,
    expires_at: datetime,
    created_by: int | None,
    now: datetime,
) -> Invite:
    """A fresh, unguessable invite code."""
    invite = Invite(
        code=secrets.token_urlsafe(12),
        role=role,
        uses_left=uses,
        expires_at=expires_at,
        created_by=created_by,
        created_at=now,
    )
    tx.add(invite)
    return invite


def get_invite(tx: Session, code: str, *, lock: bool = False) -> Invite | None:
    """The invite with this code, locked for redemption when asked."""
    query = select(Invite).where(Invite.code == code)
    if lock:
        query = query.with_for_update()
    return tx.exec(query).first()


def use_invite(tx: Session, invite: Invite) -> None:
    """Spend one use of an invite."""
    invite.uses_left -= 1
    tx.add(invite)


def open_session(tx: Session, person_id: int) -> GuideSession | None:
    """The person's newest session that is not ended, locked against concurrent updates."""
    query = (
        select(GuideSession)
        .where(GuideSession.person_id == person_id, GuideSession.status != "ended")
        .order_by(col(GuideSession.id).desc())
        .with_for_update()
    )
    return tx.exec(query).first()


def get_session(tx: Session, session_id: int) -> GuideSession | None:
    """A session by id, locked against concurrent updates."""
    query = select(GuideSession).where(GuideSession.id == session_id).with_for_update()
    return tx.exec(query).first()


def new_session(tx: Session, person_id: int, state: dict[str, Any], now: datetime) -> GuideSession:
    """Create a session row for a new guided session."""
    row = GuideSession(
        person_id=person_id,
        status=state["status"],
        state=state,
        version=1,
        created_at=now,
        updated_at=now,
    )
    tx.add(row)
    tx.flush()
    return row


def save_session(tx: Session, row: GuideSession, state: dict[str, Any], now: datetime) -> None:
    """Store a session's new state; the version bump retires every older card's buttons."""
    row.state = state
    row.status = state["status"]
    row.version += 1
    row.updated_at = now
    tx.add(row)
    tx.flush()


def set_card(tx: Session, session_id: int, message_id: int) -> None:
    """Remember which message is the live card of a session."""
    row = tx.get(GuideSession, session_id)
    if row is not None:
        row.card_message_id = message_id
        tx.add(row)


def schedule_follow_up(
    tx: Session, session_id: int, person_id: int, due_at: datetime, now: datetime
) -> FollowUp:
    """Set a session's next check-in, replacing any still pending."""
    pending = tx.exec(
        select(FollowUp).where(
            FollowUp.session_id == session_id, FollowUp.status == FollowUpStatus.PENDING
        )
    ).all()
    for row in pending:
        row.status = FollowUpStatus.CANCELLED
        tx.add(row)
    follow_up = FollowUp(
        session_id=session_id,
        person_id=person_id,
        due_at=due_at,
        status=FollowUpStatus.PENDING,
        created_at=now,
    )
    tx.add(follow_up)
    tx.flush()
    return follow_up


def pending_follow_ups(tx: Session) -> Sequence[FollowUp]:
    """Every follow-up still waiting to fire, soonest first."""
    query = select(FollowUp).where(FollowUp.status == FollowUpStatus.PENDING)
    return tx.exec(query.order_by(col(FollowUp.due_at))).all()


def release_claimed(tx: Session) -> int:
    """At start-up: follow-ups claimed by a process that died before sending go back to pending
    (a rare repeat beats a lost check-in)."""
    rows = tx.exec(select(FollowUp).where(FollowUp.status == FollowUpStatus.CLAIMED)).all()
    for row in rows:
        row.status = FollowUpStatus.PENDING
        tx.add(row)
    return len(rows)


def timezone_of(tx: Session, person_id: int, default: str) -> str:
    """A person's time zone, or the programme's default."""
    person = tx.get(Person, person_id)
    return (person.timezone if person else None) or default


def get_follow_up(tx: Session, follow_up_id: int, *, lock: bool = False) -> FollowUp | None:
    """A follow-up by id, locked when the caller will change it."""
    query = select(FollowUp).where(FollowUp.id == follow_up_id)
    if lock:
        query = query.with_for_update()
    return tx.exec(query).first()


def claim_follow_up(tx: Session, follow_up_id: int, now: datetime) -> FollowUp | None:
    """Claim a due, pending follow-up for sending; None if it is not pending or not due."""
    row = get_follow_up(tx, follow_up_id, lock=True)
    if row is None or row.status != FollowUpStatus.PENDING or row.due_at > now:
        return None
    row.status = FollowUpStatus.CLAIMED
    tx.add(row)
    return row


def mark_follow_up(
    tx: Session,
    follow_up_id: int,
    status: str,
    *,
    message_id: int | None = None,
    sent_at: datetime | None = None,
    outcome: str | None = None,
) -> None:
    """Move a follow-up on: sent (with its message), answered (with its outcome) or back."""
    row = tx.get(FollowUp, follow_up_id)
    if row is None:
        return
    row.status = status
    if message_id is not None:
        row.message_id = message_id
    if sent_at is not None:
        row.sent_at = sent_at
    if outcome is not None:
        row.outcome = outcome
    tx.add(row)

"""Alert persistence: alerts, their timeline, and the per-recipient message outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, or_, update
from sqlmodel import Session, col, select

from storage.models import Alert, AlertEvent, AlertMessage, Person

PENDING, SENDING, SENT, BLOCKED, CANCELLED = "pending", "sending", "sent", "blocked", "cancelled"


def create_alert(
    tx: Session,
    *,
    person_id: int,
    session_id: int | None,
    level: str,
    trigger: str,
    now: datetime,
    escalate_at: datetime,
    request_id: int | None = None,
) -> Alert:
    """A new open alert at tier 1, with its 'raised' timeline entry."""
    alert = Alert(
        person_id=person_id,
        session_id=session_id,
        level=level,
        trigger=trigger,
        status="open",
        created_at=now,
        tier=1,
        next_escalation_at=escalate_at,
        request_id=request_id,
    )
    tx.add(alert)
    tx.flush()
    assert alert.id is not None
    add_event(tx, alert.id, "raised", now)
    return alert


def add_event(
    tx: Session,
    alert_id: int,
    kind: str,
    at: datetime,
    actor_id: int | None = None,
    detail: int | None = None,
) -> None:
    """Append a timeline entry."""
    tx.add(AlertEvent(alert_id=alert_id, kind=kind, at=at, actor_id=actor_id, detail=detail))


def enqueue(
    tx: Session,
    alert_id: int,
    recipient_id: int,
    kind: str,
    now: datetime,
    edit_of: int | None = None,
) -> AlertMessage:
    """Queue one message about an alert for delivery."""
    message = AlertMessage(
        alert_id=alert_id,
        recipient_id=recipient_id,
        kind=kind,
        status=PENDING,
        next_attempt_at=now,
        edit_of=edit_of,
        created_at=now,
    )
    tx.add(message)
    return message


def get_alert(tx: Session, alert_id: int, *, lock: bool = False) -> Alert | None:
    """An alert by id, locked when the caller will change it."""
    return tx.get(Alert, alert_id, with_for_update=lock)


def due_escalations(tx: Session, now: datetime) -> Sequence[Alert]:
    """Open alerts whose acknowledgement time has run out, locked for escalation."""
    query = (
        select(Alert)
        .where(Alert.status == "open", col(Alert.next_escalation_at) <= now)
        .with_for_update(skip_locked=True)
    )
    return tx.exec(query).all()


def unwarned_open_alerts(tx: Session) -> Sequence[Alert]:
    """Open alerts whose supporter has not yet been told that no coordinator was reached."""
    query = select(Alert).where(Alert.status == "open", col(Alert.supporter_warned).is_(False))
    return tx.exec(query.with_for_update(skip_locked=True)).all()


def messages_for(tx: Session, alert_id: int, kind: str | None = None) -> Sequence[AlertMessage]:
    """An alert's messages, optionally of one kind."""
    query = select(AlertMessage).where(AlertMessage.alert_id == alert_id)
    if kind is not None:
        query = query.where(AlertMessage.kind == kind)
    return tx.exec(query.order_by(col(AlertMessage.id))).all()


def events_for(tx: Session, alert_id: int) -> Sequence[AlertEvent]:
    """An alert's timeline, oldest first."""
    query = select(AlertEvent).where(AlertEvent.alert_id == alert_id)
    return tx.exec(query.order_by(col(AlertEvent.at), col(AlertEvent.id))).all()


def next_due_message(tx: Session, now: datetime) -> AlertMessage | None:
    """The next message to send: acute alerts first, then oldest."""
    urgency = case((col(Alert.level) == "acute", 0), else_=1)
    query = (
        select(AlertMessage)
        .join(Alert, col(Alert.id) == AlertMessage.alert_id)
        .where(AlertMessage.status == PENDING, col(AlertMessage.next_attempt_at) <= now)
        .order_by(urgency, col(AlertMessage.id))
    )
    return tx.exec(query).first()


def claim(tx: Session, message_id: int, now: datetime) -> bool:
    """Move a pending message to 'sending'; False if another sender got it first."""
    result = tx.execute(
        update(AlertMessage)
        .where(col(AlertMessage.id) == message_id, col(AlertMessage.status) == PENDING)
        .values(status=SENDING, attempts=AlertMessage.attempts + 1, claimed_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def recover_in_flight(tx: Session, before: datetime) -> int:
    """Messages caught mid-send by a crash (claimed before `before`) go back to pending, marked
    as possible repeats; younger claims belong to a replica still sending them."""
    rows = tx.exec(
        select(AlertMessage).where(
            AlertMessage.status == SENDING,
            or_(col(AlertMessage.claimed_at).is_(None), col(AlertMessage.claimed_at) < before),
        )
    ).all()
    for row in rows:
        row.status, row.repeat = PENDING, True
        tx.add(row)
    return len(rows)


def recent_alerts(tx: Session, since: datetime) -> Sequence[Alert]:
    """Open alerts, and alerts raised since `since`, newest first."""
    query = select(Alert).where(or_(col(Alert.status) == "open", col(Alert.created_at) >= since))
    return tx.exec(query.order_by(col(Alert.id).desc()).limit(20)).all()


def off_duty(tx: Session, ids: frozenset[int]) -> set[int]:
    """Which of these coordinators have set themselves off duty."""
    if not ids:
        return set()
    query = select(Person.id).where(col(Person.id).in_(ids), col(Person.on_duty).is_(False))
    return set(tx.exec(query).all())


def display_name(tx: Session, person_id: int | None) -> str | None:
    """A staff member's display name, if known."""
    person = tx.get(Person, person_id) if person_id is not None else None
    return person.display_name if person else None

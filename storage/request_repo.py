"""Requests, relay message ids and reach-in referrals: the queries the request desk needs."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from flows.cascade import LIVE, WAITING, RequestStatus
from storage.models import Alert, AlertMessage, Person, Referral, RelayMessage, SupportRequest


def create(
    tx: Session, requester_id: int, intake: dict[str, Any], referral: str | None, now: datetime
) -> SupportRequest:
    """A new request at the start of intake."""
    row = SupportRequest(
        requester_id=requester_id,
        status=RequestStatus.INTAKE,
        intake=intake,
        referral=referral,
        created_at=now,
    )
    tx.add(row)
    tx.flush()
    return row


def get(tx: Session, request_id: int, *, lock: bool = False) -> SupportRequest | None:
    """A request by id (locked against concurrent updates when asked)."""
    return tx.get(SupportRequest, request_id, with_for_update=lock)


def live_for(tx: Session, requester_id: int) -> SupportRequest | None:
    """The requester's request that is still going (in intake, waiting or connected)."""
    query = (
        select(SupportRequest)
        .where(
            SupportRequest.requester_id == requester_id,
            col(SupportRequest.status).in_(LIVE),
        )
        .order_by(col(SupportRequest.id).desc())
        .with_for_update()
    )
    return tx.exec(query).first()


def connected_for_supporter(tx: Session, supporter_id: int) -> Sequence[SupportRequest]:
    """The requests a supporter is talking with now."""
    query = select(SupportRequest).where(
        SupportRequest.supporter_id == supporter_id,
        SupportRequest.status == RequestStatus.CONNECTED,
    )
    return tx.exec(query.order_by(col(SupportRequest.id))).all()


def save(tx: Session, row: SupportRequest) -> None:
    """Store a changed request; the version bump retires older buttons."""
    row.version += 1
    tx.add(row)
    tx.flush()


def supporters(tx: Session) -> Sequence[Person]:
    """Everyone enrolled as a supporter."""
    return tx.exec(select(Person).where(Person.role == "supporter")).all()


def load_by_supporter(tx: Session) -> dict[int, int]:
    """How many requests each supporter is connected with or has an open offer for."""
    connected = (
        select(SupportRequest.supporter_id, func.count())
        .where(SupportRequest.status == RequestStatus.CONNECTED)
        .group_by(col(SupportRequest.supporter_id))
    )
    offered = (
        select(SupportRequest.offered_to, func.count())
        .where(SupportRequest.status == RequestStatus.SEARCHING)
        .group_by(col(SupportRequest.offered_to))
    )
    load: dict[int, int] = {}
    for query in (connected, offered):
        for sid, n in tx.exec(query).all():
            if sid is not None:
                load[int(sid)] = load.get(int(sid), 0) + int(n)
    return load


def expired_offers(tx: Session, now: datetime) -> Sequence[SupportRequest]:
    """Offers nobody answered in time, locked (another replica's pass skips them)."""
    query = select(SupportRequest).where(
        SupportRequest.status == RequestStatus.SEARCHING,
        col(SupportRequest.offer_expires_at) <= now,
    )
    query = query.order_by(col(SupportRequest.id)).with_for_update(skip_locked=True)
    return tx.exec(query).all()


def overdue(tx: Session, now: datetime) -> Sequence[SupportRequest]:
    """Requests still waiting for a supporter past their deadline, not yet raised."""
    query = select(SupportRequest).where(
        col(SupportRequest.status).in_(WAITING),
        col(SupportRequest.sla_due_at) <= now,
    )
    query = query.order_by(col(SupportRequest.id)).with_for_update(skip_locked=True)
    return tx.exec(query).all()


def submitted_since(tx: Session, since: datetime) -> Sequence[SupportRequest]:
    """Requests submitted (intake finished) since `since`."""
    query = select(SupportRequest).where(col(SupportRequest.submitted_at) >= since)
    return tx.exec(query).all()


def missed_deadline_since(tx: Session, since: datetime) -> int:
    """How many requests since `since` were raised for waiting past their deadline."""
    query = select(func.count()).where(
        Alert.trigger == "request_sla", col(Alert.created_at) >= since
    )
    return int(tx.exec(query).one())


def waiting(tx: Session) -> Sequence[SupportRequest]:
    """Requests waiting for a supporter, oldest first."""
    query = select(SupportRequest).where(col(SupportRequest.status).in_(WAITING))
    return tx.exec(query.order_by(col(SupportRequest.id))).all()


def next_wake(tx: Session) -> datetime | None:
    """The earliest offer expiry or deadline still to come."""
    offers = select(func.min(SupportRequest.offer_expires_at)).where(
        SupportRequest.status == RequestStatus.SEARCHING
    )
    deadlines = select(func.min(SupportRequest.sla_due_at)).where(
        col(SupportRequest.status).in_(WAITING)
    )
    times = [tx.exec(offers).first(), tx.exec(deadlines).first()]
    found = [t for t in times if t is not None]
    return min(found) if found else None


def add_relay(tx: Session, request_id: int, chat_id: int, message_id: int) -> None:
    """Remember that this message in this chat belongs to this request."""
    tx.add(RelayMessage(request_id=request_id, chat_id=chat_id, message_id=message_id))


def relayed(tx: Session, chat_id: int, message_id: int) -> SupportRequest | None:
    """The request a message in a supporter's chat belongs to."""
    query = select(SupportRequest).join(
        RelayMessage, col(RelayMessage.request_id) == col(SupportRequest.id)
    )
    query = query.where(RelayMessage.chat_id == chat_id, RelayMessage.message_id == message_id)
    return tx.exec(query).first()


def thread_start(tx: Session, request_id: int, chat_id: int) -> int | None:
    """The first message of a request's thread in a chat (the introduction), to reply under."""
    query = select(RelayMessage.message_id).where(
        RelayMessage.request_id == request_id, RelayMessage.chat_id == chat_id
    )
    found = tx.exec(query.order_by(col(RelayMessage.id))).first()
    return int(found) if found is not None else None


def purge_relay(tx: Session, ended_before: datetime) -> int:
    """Delete the message ids of conversations over before `ended_before`."""
    over = select(SupportRequest.id).where(
        col(SupportRequest.status).in_((RequestStatus.ENDED, RequestStatus.CANCELLED)),
        col(SupportRequest.ended_at) < ended_before,
    )
    result = tx.exec(delete(RelayMessage).where(col(RelayMessage.request_id).in_(over)))
    return int(result.rowcount or 0)


def newest_for(tx: Session, requester_id: int) -> SupportRequest | None:
    """The requester's most recent request, whatever its state."""
    query = select(SupportRequest).where(SupportRequest.requester_id == requester_id)
    return tx.exec(query.order_by(col(SupportRequest.id).desc())).first()


def checkin_relay_for(tx: Session, requester_id: int, since: datetime) -> SupportRequest | None:
    """The requester's newest request, if it ended (after `since`) with a check-in asked for:
    the relay stays open for it. An older conversation never reopens."""
    row = newest_for(tx, requester_id)
    if row is None or row.status != RequestStatus.ENDED or not row.wants_checkin:
        return None
    return row if row.ended_at is not None and row.ended_at >= since else None


def create_referral(tx: Session, created_by: int, expires_at: datetime, now: datetime) -> Referral:
    """A new one-time reach-in code."""
    row = Referral(
        code=secrets.token_urlsafe(12),
        created_by=created_by,
        expires_at=expires_at,
        created_at=now,
    )
    tx.add(row)
    tx.flush()
    return row


def get_referral(tx: Session, code: str) -> Referral | None:
    """A referral by code, locked so it is spent once."""
    return tx.get(Referral, code, with_for_update=True)


def forget(tx: Session, requester_id: int, now: datetime) -> int:
    """Erase a requester: their requests keep only anonymous counts and times; relay ids and
    intake answers go; alerts about them no longer name them. Returns the requests touched."""
    rows = tx.exec(select(SupportRequest).where(SupportRequest.requester_id == requester_id)).all()
    ids = [row.id for row in rows if row.id is not None]
    if ids:
        tx.exec(delete(RelayMessage).where(col(RelayMessage.request_id).in_(ids)))
    for row in rows:
        row.requester_id, row.intake, row.referral, row.wants_checkin = None, {}, None, False
        if row.status in LIVE:
            connected = row.status == RequestStatus.CONNECTED
            row.status = RequestStatus.ENDED if connected else RequestStatus.CANCELLED
            row.offered_to = row.offer_expires_at = row.sla_due_at = None
            row.ended_at = now
        save(tx, row)
    if ids:
        about_them = (
            col(Alert.request_id).in_(ids)
            & col(Alert.session_id).is_(None)
            & (col(Alert.person_id) == requester_id)
        )
        tx.exec(update(Alert).where(about_them).values(person_id=0))
    mine = col(AlertMessage.recipient_id) == requester_id
    tx.exec(
        update(AlertMessage)
        .where(mine & col(AlertMessage.status).in_(("pending", "sending")))
        .values(status="cancelled")
    )
    tx.exec(update(AlertMessage).where(mine).values(recipient_id=0))
    return len(rows)

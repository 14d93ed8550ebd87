"""Repositories: small, plain functions over one transaction. Flows never see these rows."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, or_, update
from sqlmodel import Session, col, func, select

from flows.followup import CLAIMS, RELEASE, Stage
from storage.models import FollowUp, GuideSession, Invite, Person, ProcessedUpdate


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


def next_update_id(tx: Session) -> int:
    """One past the newest applied update id (a driver of simulated updates starts here)."""
    last = tx.exec(select(func.max(ProcessedUpdate.update_id))).one()
    return int(last or 0) + 1


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
        person = Person(
            id=person_id, role=role, created_at=now, enrolled_at=now, topics=[], languages=["en"]
        )
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
    return tx.get(Invite, code, with_for_update=lock)


def use_invite(tx: Session, invite: Invite) -> None:
    """Spend one use of an invite."""
    invite.uses_left -= 1
    tx.add(invite)


def open_session(tx: Session, person_id: int) -> GuideSession | None:
    """The person's newest session that is not ended, locked against concurrent updates."""
    live_first = case((col(GuideSession.status) == "active", 0), else_=1)
    query = (
        select(GuideSession)
        .where(GuideSession.person_id == person_id, GuideSession.status != "ended")
        .order_by(live_first, col(GuideSession.id).desc())
        .with_for_update()
    )
    return tx.exec(query).first()


def get_session(tx: Session, session_id: int) -> GuideSession | None:
    """A session by id, locked against concurrent updates."""
    return tx.get(GuideSession, session_id, with_for_update=True)


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
    tx: Session,
    session_id: int,
    person_id: int,
    due_at: datetime,
    now: datetime,
    *,
    exact: bool = True,
) -> FollowUp:
    """Set a session's next check-in, replacing any still pending."""
    pending = tx.exec(
        select(FollowUp).where(FollowUp.session_id == session_id, FollowUp.status == Stage.PENDING)
    ).all()
    for row in pending:
        row.status, row.next_action_at = Stage.CANCELLED, None
        tx.add(row)
    follow_up = FollowUp(
        session_id=session_id,
        person_id=person_id,
        due_at=due_at,
        status=Stage.PENDING,
        created_at=now,
        exact=exact,
        next_action_at=due_at,
    )
    tx.add(follow_up)
    tx.flush()
    return follow_up


def next_wake(tx: Session) -> datetime | None:
    """When the earliest follow-up action is due (a ping, a reminder or a notice)."""
    query = select(func.min(FollowUp.next_action_at))
    return tx.exec(query).one()


def claim_due(tx: Session, now: datetime, limit: int) -> list[FollowUp]:
    """Claim up to `limit` follow-ups whose next action is due; another replica skips them."""
    query = (
        select(FollowUp)
        .where(col(FollowUp.next_action_at) <= now, col(FollowUp.status).in_(list(CLAIMS)))
        .order_by(col(FollowUp.next_action_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(tx.exec(query).all())
    for row in rows:
        row.status, row.next_action_at, row.claimed_at = CLAIMS[Stage(row.status)], None, now
        tx.add(row)
    return rows


def oldest_claim(tx: Session) -> datetime | None:
    """When the oldest follow-up still claimed by a sender was claimed."""
    query = select(func.min(FollowUp.claimed_at)).where(col(FollowUp.status).in_(list(RELEASE)))
    return tx.exec(query).one()


def release_claimed(tx: Session, now: datetime, stale_after: timedelta) -> int:
    """At start-up: claims older than `stale_after` were left by a process that died; they go
    back, due now (a rare repeat beats a lost check-in). Younger claims belong to a replica that
    is still sending and are left alone."""
    query = select(FollowUp).where(
        col(FollowUp.status).in_(list(RELEASE)),
        or_(col(FollowUp.claimed_at).is_(None), col(FollowUp.claimed_at) < now - stale_after),
    )
    rows = tx.exec(query).all()
    for row in rows:
        row.status, row.next_action_at = RELEASE[Stage(row.status)], now
        tx.add(row)
    return len(rows)


def settle_many(tx: Session, changes: list[dict[str, Any]]) -> None:
    """Settle a batch of follow-ups in one statement per shape (each dict has "id")."""
    if changes:
        tx.execute(update(FollowUp), changes)


def claim_context(
    tx: Session, rows: Sequence[FollowUp], default_tz: str
) -> tuple[dict[int, str], dict[int, str | None]]:
    """Time zones by person and labels by case for a batch of claimed follow-ups (two queries)."""
    people = {row.person_id for row in rows}
    cases = {row.session_id for row in rows}
    zone_rows = tx.exec(select(Person.id, Person.timezone).where(col(Person.id).in_(people)))
    zones = {person_id: zone for person_id, zone in zone_rows.all()}
    label_rows = tx.exec(
        select(GuideSession.id, GuideSession.label).where(col(GuideSession.id).in_(cases))
    )
    labels = {case_id: label for case_id, label in label_rows.all()}
    return ({p: zones.get(p) or default_tz for p in people}, {c: labels.get(c) for c in cases})


def settle(
    tx: Session,
    follow_up_id: int,
    stage: Stage,
    next_action_at: datetime | None,
    **fields: Any,
) -> None:
    """Move a follow-up to `stage` with its next action time and any other fields."""
    row = tx.get(FollowUp, follow_up_id)
    if row is None:
        return
    row.status, row.next_action_at = stage, next_action_at
    for name, value in fields.items():
        setattr(row, name, value)
    tx.add(row)


def timezone_of(tx: Session, person_id: int, default: str) -> str:
    """A person's time zone, or the programme's default."""
    person = tx.get(Person, person_id)
    return (person.timezone if person else None) or default


def get_follow_up(tx: Session, follow_up_id: int, *, lock: bool = False) -> FollowUp | None:
    """A follow-up by id, locked when the caller will change it."""
    return tx.get(FollowUp, follow_up_id, with_for_update=lock)


def case_label(tx: Session, session_id: int) -> str | None:
    """A case's short label, if the supporter gave one."""
    row = tx.get(GuideSession, session_id)
    return row.label if row else None


def set_label(tx: Session, session_id: int, label: str) -> None:
    """Give a case its short label."""
    row = tx.get(GuideSession, session_id)
    if row is not None:
        row.label = label
        tx.add(row)


def quiet_hours_of(tx: Session, person_id: int) -> str | None:
    """A person's quiet hours ("22:00-08:00"), if set."""
    person = tx.get(Person, person_id)
    return person.quiet_hours if person else None


def set_quiet_hours(tx: Session, person_id: int, quiet: str | None) -> None:
    """Set or clear a person's quiet hours."""
    person = tx.get(Person, person_id)
    if person is not None:
        person.quiet_hours = quiet
        tx.add(person)


OPEN_FOLLOW_UP = (
    Stage.PENDING,
    Stage.CLAIMED,
    Stage.SENT,
    Stage.REMINDING,
    Stage.REMINDED,
    Stage.NOTIFYING,
)


def open_cases(tx: Session, person_id: int) -> Sequence[GuideSession]:
    """A person's open cases, newest first: sessions not ended, and finished sessions whose
    check-in is still to come or unanswered."""
    waiting = select(FollowUp.session_id).where(col(FollowUp.status).in_(OPEN_FOLLOW_UP))
    query = select(GuideSession).where(
        GuideSession.person_id == person_id,
        or_(col(GuideSession.status) != "ended", col(GuideSession.id).in_(waiting)),
    )
    return tx.exec(query.order_by(col(GuideSession.id).desc())).all()


def cancel_follow_ups(tx: Session, session_id: int) -> int:
    """A closed case gets no more pings, reminders or notices."""
    rows = tx.exec(
        select(FollowUp).where(
            FollowUp.session_id == session_id, col(FollowUp.status).in_(OPEN_FOLLOW_UP)
        )
    ).all()
    for row in rows:
        row.status, row.next_action_at = Stage.CANCELLED, None
        tx.add(row)
    return len(rows)


def next_check_in(tx: Session, session_id: int) -> datetime | None:
    """A case's pending check-in time, if any."""
    query = select(FollowUp.due_at).where(
        FollowUp.session_id == session_id, FollowUp.status == Stage.PENDING
    )
    return tx.exec(query.order_by(col(FollowUp.due_at))).first()

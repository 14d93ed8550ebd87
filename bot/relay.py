"""The anonymous relay: a requester's messages reach their supporter and a supporter's replies
reach the requester as copies (no sender shown, protected from forwarding). Content is never
stored — only message ids, so a reply finds its conversation. Requester text is read for crisis
language on the way through."""

from __future__ import annotations

import logging

from sqlmodel import Session
from telegram import Message, Update

from bot.callbacks import guide_data
from bot.render import Outgoing
from bot.requests import Outcome, RequestDesk, Send
from flows import guide
from flows.cascade import RELAY_KEEP, RequestStatus
from flows.crisis import RiskLevel, TextSignal
from flows.guide import GuideState
from flows.intents import AlertCoordinators, Button, Urgency
from storage import repos
from storage import request_repo as rr
from storage.models import SupportRequest

log = logging.getLogger(__name__)


def relay_open(row: SupportRequest) -> bool:
    """Messages may pass: connected, or ended with a check-in the requester asked for."""
    return row.status == RequestStatus.CONNECTED or (
        row.status == RequestStatus.ENDED and bool(row.wants_checkin)
    )


async def on_message(
    desk: RequestDesk, update: Update, signal: TextSignal, *, visitor: bool
) -> bool:
    """Handle a message that belongs to a request; False when it does not (the caller goes on).
    Only requesters (`visitor`) write into a request freely; supporters and coordinators only by
    replying to a relayed message, so their private notes never reach a peer. A requester's
    crisis resources were already sent by the caller."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return False
    now = desk.clock.now()
    with desk.db.transaction() as tx:
        row = None
        if visitor:
            row = rr.live_for(tx, user.id) or rr.checkin_relay_for(tx, user.id, now - RELAY_KEEP)
        reply_to = message.reply_to_message
        replied = rr.relayed(tx, user.id, reply_to.message_id) if reply_to else None
        if replied is not None and replied.supporter_id == user.id:
            if not repos.mark_update(tx, update.update_id, now):
                return True
            outcome = _from_supporter(desk, tx, replied, message, signal)
        elif row is not None:
            if not repos.mark_update(tx, update.update_id, now):
                return True
            if relay_open(row):
                outcome = _from_requester(desk, tx, row, message, signal)
            else:
                outcome = desk.wrote(tx, row, user.id, signal, resources_shown=True)
        else:
            return False
    await desk.deliver(outcome)
    return True


def _open_for_supporter(desk: RequestDesk, tx: Session, row: SupportRequest) -> bool:
    """Connected, or the check-in window of the requester's newest request."""
    if row.requester_id is None:
        return False
    if row.status == RequestStatus.CONNECTED:
        return True
    window = rr.checkin_relay_for(tx, row.requester_id, desk.clock.now() - RELAY_KEEP)
    return window is not None and window.id == row.id


def _from_supporter(
    desk: RequestDesk, tx: Session, row: SupportRequest, message: Message, signal: TextSignal
) -> Outcome:
    assert row.supporter_id is not None
    if not _open_for_supporter(desk, tx, row) or row.requester_id is None:
        return Outcome([Send(row.supporter_id, Outgoing(desk.text("relay.closed", id=row.id)))])
    own: list[Send] = []
    if signal.level is not RiskLevel.NONE and "?" not in (message.text or message.caption or ""):
        # Supporters' replies often name risk to ask about it; a statement may be about
        # themselves. A private word and the resources — no alert on a reply to a peer.
        urgency = Urgency.ACUTE if signal.level is RiskLevel.HIGH else Urgency.NON_ACUTE
        own = [
            Send(row.supporter_id, Outgoing(desk.text("relay.own_wellbeing"))),
            Send(row.supporter_id, desk.renderer.resources(urgency, for_self=True)),
        ]
        log.info("crisis_in_supporter_reply request=%s level=%s", row.id, signal.level)
    if row.first_contact_at is None:
        row.first_contact_at = desk.clock.now()
        rr.save(tx, row)
        log.info("request_first_contact request=%s", row.id)
    log.info("relay_to_requester request=%s", row.id)
    copy = Send(
        row.requester_id, copy_of=(row.supporter_id, message.message_id), relay_sender=row.id
    )
    return Outcome([copy, *own])


def _from_requester(
    desk: RequestDesk,
    tx: Session,
    row: SupportRequest,
    message: Message,
    signal: TextSignal,
) -> Outcome:
    assert row.id is not None
    assert row.requester_id is not None
    assert row.supporter_id is not None
    outcome = Outcome()
    thread = rr.thread_start(tx, row.id, row.supporter_id)
    outcome.sends.append(
        Send(
            row.supporter_id,
            copy_of=(row.requester_id, message.message_id),
            reply_to=thread,
            relay_for=row.id,
            relay_sender=row.id,
        )
    )
    log.info("relay_to_supporter request=%s", row.id)
    if signal.level is not RiskLevel.NONE and row.session_id is not None:
        outcome.sends += _warn_supporter(desk, tx, row, signal, outcome)
    return outcome


def _warn_supporter(
    desk: RequestDesk, tx: Session, row: SupportRequest, signal: TextSignal, outcome: Outcome
) -> list[Send]:
    """The peer's message may signal risk: the supporter's session goes to safety first, with
    resources and the offer of the safety check; a high signal alerts coordinators."""
    assert row.session_id is not None
    assert row.supporter_id is not None
    log.warning("crisis_relay request=%s level=%s rule=%s", row.id, signal.level, signal.trigger)
    session = repos.get_session(tx, row.session_id)
    notice = Send(row.supporter_id, Outgoing(desk.text("relay.peer_at_risk", id=row.id)))
    if session is None or session.status == "ended":
        # The case is closed (e.g. a check-in after /end): no guide to turn to safety, so the
        # supporter gets the resources here and a high signal alerts coordinators directly.
        urgency = Urgency.ACUTE if signal.level is RiskLevel.HIGH else Urgency.NON_ACUTE
        if signal.level is RiskLevel.HIGH:
            desk.alerts.raise_alert(
                tx,
                person_id=row.supporter_id,
                session_id=row.session_id,
                level=urgency,
                trigger=f"text_{signal.trigger or 'high'}",
                request_id=row.id,
            )
            outcome.alerted = True
        return [notice, Send(row.supporter_id, desk.renderer.resources(urgency))]
    now = desk.clock.now()
    state = GuideState.from_data(session.state)
    step = guide.advance(state, guide.Typed(now, None, signal.level, signal.trigger))
    repos.save_session(tx, session, step.state.to_data(), now)
    for intent in step.intents:
        if isinstance(intent, AlertCoordinators):
            desk.alerts.raise_alert(
                tx,
                person_id=row.supporter_id,
                session_id=row.session_id,
                level=intent.level,
                trigger=intent.trigger,
                request_id=row.id,
            )
            outcome.alerted = True
    sid, version = row.session_id, session.version

    def data_for(button: Button) -> str:
        return guide_data(sid, version, button.action, button.arg)

    tz = repos.timezone_of(tx, row.supporter_id, desk.settings.timezone)
    sends = [notice]
    for intent in step.intents:
        out = desk.renderer.render(intent, data_for, tz)
        if out is not None:
            sends.append(Send(row.supporter_id, out, card_of=sid))
    return sends

"""Telegram handlers for requests: /request, /end, /assign, /refer, /forgetme, the requester's
and the offer buttons, and the hooks /start and /cancel use. Each applies once per update."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import timedelta

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.callbacks import OfferButton, RequestButton, request_data
from bot.render import Outgoing
from bot.requests import PRESSED, REFERRAL_DAYS, Outcome, Send, assignable, supporter_of
from bot.services import Services, services
from flows.cascade import RequestStatus, contact_times, request_from, summarise
from flows.enrolment import Role
from flows.matching import excluded
from storage import repos
from storage import request_repo as rr

log = logging.getLogger(__name__)

STATS_PERIOD = timedelta(days=30)


def _user(update: Update) -> int:
    return update.effective_user.id if update.effective_user else 0


async def _apply(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: Callable[[Session], Outcome]
) -> None:
    """Run `action` in one transaction (skipped for a re-delivered update), then send."""
    svc = services(context)
    desk = svc.requests
    with svc.db.transaction() as tx:
        outcome = action(tx) if repos.mark_update(tx, update.update_id, svc.clock.now()) else None
    query = update.callback_query
    if query is not None:
        await query.answer(outcome.toast if outcome else None)
    if outcome is None:
        return
    edit_id = query.message.message_id if query and query.message else None
    await desk.deliver(outcome, edit_id=edit_id)


def _say(user_id: int, text: str) -> Outcome:
    return Outcome([Send(user_id, Outgoing(text))])


def _is_requester(svc: Services, user_id: int) -> bool:
    """Requests are for people who are not enrolled: a supporter's or coordinator's chat is
    their working tool, and their notes must never flow into a peer conversation."""
    return svc.role_of(user_id) is Role.VISITOR


async def _refused(
    update: Update, context: ContextTypes.DEFAULT_TYPE, allowed: Role, key: str
) -> bool:
    """Reply with `key` (once per update) unless the sender has the `allowed` role."""
    svc, user_id = services(context), _user(update)
    if svc.role_of(user_id) is allowed:
        return False
    await _apply(update, context, lambda tx: _say(user_id, svc.requests.text(key)))
    return True


async def on_request(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/request: ask for a peer — safety first, then a few taps."""
    desk, user_id = services(context).requests, _user(update)
    if await _refused(update, context, Role.VISITOR, "request.staff"):
        return
    await _apply(update, context, lambda tx: desk.begin(tx, user_id))


async def start_referral(update: Update, context: ContextTypes.DEFAULT_TYPE, code: str) -> None:
    """/start ref_<code>: a reach-in link opens intake with the referral attached."""
    desk, user_id = services(context).requests, _user(update)
    if await _refused(update, context, Role.VISITOR, "request.staff"):
        return

    def action(tx: Session) -> Outcome:
        outcome = desk.redeem_referral(tx, user_id, code)
        return outcome or _say(user_id, desk.text("referral.invalid"))

    await _apply(update, context, action)


async def on_end(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/end [request]: end an anonymous conversation (either side)."""
    svc, user_id = services(context), _user(update)
    desk, args = svc.requests, context.args or []

    requester = _is_requester(svc, user_id)

    def action(tx: Session) -> Outcome:
        own = rr.live_for(tx, user_id) if requester else None
        if own is not None:
            if own.status == RequestStatus.CONNECTED:
                return desk.end(tx, own, user_id)
            return _say(user_id, desk.text("end.not_connected"))
        talking = rr.connected_for_supporter(tx, user_id)
        if args:
            wanted = args[0].lstrip("#")
            talking = [r for r in talking if str(r.id) == wanted]
        if len(talking) == 1:
            return desk.end(tx, talking[0], user_id)
        if not talking:
            return _say(user_id, desk.text("end.nothing"))
        ids = ", ".join(f"/end {r.id}" for r in talking)
        return _say(user_id, desk.text("end.which", options=ids))

    await _apply(update, context, action)


async def on_forgetme(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/forgetme: after a confirmation, delete what the bot holds about this requester."""
    desk, user_id = services(context).requests, _user(update)
    if await _refused(update, context, Role.VISITOR, "forget.staff"):
        return
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    desk.text(f"btn.request.forget.{v}"),
                    callback_data=request_data(0, "forget", v),
                )
                for v in ("yes", "no")
            ]
        ]
    )
    await _apply(
        update,
        context,
        lambda tx: Outcome([Send(user_id, Outgoing(desk.text("forget.confirm"), markup))]),
    )


async def requester_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """/cancel from a requester withdraws a request not yet connected; False if there is none."""
    svc, user_id = services(context), _user(update)
    if not _is_requester(svc, user_id):
        return False
    with svc.db.transaction() as tx:
        row = rr.live_for(tx, user_id)
        status = row.status if row else None
    if status is None:
        return False
    desk = svc.requests

    def action(tx: Session) -> Outcome:
        live = rr.live_for(tx, user_id)
        if live is None:
            return _say(user_id, desk.text("cancel.nothing"))
        if live.status == RequestStatus.CONNECTED:
            return _say(user_id, desk.text("cancel.connected"))
        return desk.cancel(tx, live)

    await _apply(update, context, action)
    return True


async def on_request_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, press: RequestButton
) -> None:
    """A requester's button: start, intake answer, rating, check-in wish, sharing, forget."""
    svc, user_id = services(context), _user(update)
    desk = svc.requests
    field, value, rid = press.field, press.value, press.request_id
    requester = _is_requester(svc, user_id)

    def action(tx: Session) -> Outcome:
        if field in ("start", "forget") and not requester:
            return Outcome(toast=desk.text("button.stale"))
        if field == "start" and value == "talk":
            return desk.begin(tx, user_id)
        if field == "forget":
            if value == "yes":
                return desk.forget(tx, user_id)
            return Outcome([Send(user_id, Outgoing(desk.text("forget.kept")), edit_id=PRESSED)])
        if field == "rate":
            return desk.rate(tx, user_id, rid, value)
        if field == "checkin":
            return desk.checkin(tx, user_id, rid, value)
        if field == "share":
            return desk.share(tx, user_id, rid)
        return desk.answer(tx, user_id, rid, field, value)

    await _apply(update, context, action)


async def on_offer_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, press: OfferButton
) -> None:
    """A supporter's accept or decline."""
    desk, user_id = services(context).requests, _user(update)
    await _apply(
        update, context, lambda tx: desk.offer_answer(tx, user_id, press.request_id, press.action)
    )


async def on_assign(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/assign — waiting requests; /assign N — who fits and why; /assign N <id|me> — assign."""
    svc, user_id = services(context), _user(update)
    desk, args = svc.requests, context.args or []
    if await _refused(update, context, Role.COORDINATOR, "coordinator.only"):
        return

    def action(tx: Session) -> Outcome:
        if not args:
            return _say(user_id, waiting_list(svc, tx))
        if not args[0].lstrip("#").isdigit() or len(args) > 2:
            return _say(user_id, desk.text("assign.usage"))
        rid = int(args[0].lstrip("#"))
        if len(args) == 1:
            return _say(user_id, candidates_text(svc, tx, rid))
        target = user_id if args[1].lower() == "me" else None
        if target is None and args[1].isdigit():
            target = int(args[1])
        if target is None:
            return _say(user_id, desk.text("assign.usage"))
        return desk.assign(tx, user_id, rid, target)

    await _apply(update, context, action)


def waiting_list(svc: Services, tx: Session) -> str:
    """Requests waiting for a supporter, for coordinators: what, how urgent, since when."""
    desk = svc.requests
    now = svc.clock.now()
    stats = contact_summary(svc, tx)
    rows = rr.waiting(tx)
    if not rows:
        return "\n".join([desk.text("assign.none_waiting"), stats])
    lines = [desk.text("assign.header")]
    for row in rows:
        since = row.submitted_at or row.created_at
        lines.append(
            desk.text(
                "assign.line",
                id=row.id,
                state=desk.text(f"assign.state.{row.status}"),
                minutes=int((now - since).total_seconds() // 60),
                **desk.describe(row),
            )
        )
    lines.append(stats)
    return "\n".join(lines)


def contact_summary(svc: Services, tx: Session) -> str:
    """Time to contact over the last 30 days, in minutes."""
    since = svc.clock.now() - STATS_PERIOD
    rows = rr.submitted_since(tx, since)
    times = [contact_times(r.submitted_at, r.accepted_at, r.first_contact_at) for r in rows]
    summary = summarise(times, rr.missed_deadline_since(tx, since))

    def minutes(seconds: int | None) -> str:
        return "—" if seconds is None else str(round(seconds / 60))

    return svc.requests.text(
        "assign.stats",
        days=STATS_PERIOD.days,
        requests=summary.requests,
        connected=summary.connected,
        to_accept=minutes(summary.median_to_accept),
        to_first=minutes(summary.median_to_first_message),
        missed=summary.missed_deadline,
    )


def candidates_text(svc: Services, tx: Session, rid: int) -> str:
    """Who could take request `rid`, best first, with the points behind each score — and who
    cannot, and why."""
    desk = svc.requests
    row = rr.get(tx, rid)
    if row is None or not assignable(row):
        return desk.text("assign.not_waiting", id=rid)
    lines = [desk.text("assign.candidates_header", id=rid, **desk.describe(row))]
    ranked = desk.ranked(tx, row)
    for place, candidate in enumerate(ranked, start=1):
        why = ", ".join(
            desk.text("assign.reason", reason=desk.text(f"match.{name}"), points=f"{points:+d}")
            for name, points in candidate.reasons
        )
        person = repos.get_person(tx, candidate.supporter.id)
        name = html.escape(person.display_name) if person and person.display_name else "—"
        tried = desk.text("assign.tried") if candidate.supporter.id in row.tried else ""
        lines.append(
            desk.text(
                "assign.candidate",
                place=place,
                name=name,
                id=candidate.supporter.id,
                score=candidate.score,
                why=why or "—",
                tried=tried,
            )
        )
    if not ranked:
        lines.append(desk.text("assign.no_candidates"))
    request = request_from(row.intake.get("answers", ()))
    load = rr.load_by_supporter(tx)
    for person in rr.supporters(tx):
        if person.id == row.requester_id:
            continue
        profile = supporter_of(person, load.get(person.id, 0), svc.settings.timezone)
        reason = excluded(request, profile)
        if reason is not None:
            lines.append(
                desk.text(
                    "assign.excluded",
                    id=person.id,
                    reason=desk.text(f"match.excluded.{reason}"),
                )
            )
    lines.append(desk.text("assign.hint", id=rid))
    return "\n".join(lines)


async def on_refer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/refer: a one-time reach-in link for a colleague (e.g. after an adverse event)."""
    svc, user_id = services(context), _user(update)
    desk = svc.requests
    if await _refused(update, context, Role.COORDINATOR, "coordinator.only"):
        return
    username = svc.settings.bot_username or context.bot.username

    def action(tx: Session) -> Outcome:
        now = svc.clock.now()
        referral = rr.create_referral(tx, user_id, now + timedelta(days=REFERRAL_DAYS), now)
        log.info("referral_created by=%s", user_id)
        expires = referral.expires_at.strftime(svc.renderer.catalog.messages["format.date"])
        link = f"https://t.me/{username}?start=ref_{referral.code}"
        return _say(user_id, desk.text("referral.created", link=link, expires=expires))

    await _apply(update, context, action)

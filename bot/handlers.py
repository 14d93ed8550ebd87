"""Telegram handlers: each turns one kind of update into a flow event or a short reply."""

from __future__ import annotations

import html
import logging
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import messenger, relay
from bot.alerts import on_alert_button
from bot.callbacks import (
    AlertButton,
    CaseButton,
    CheckInButton,
    GuideButton,
    OfferButton,
    RequestButton,
    parse,
)
from bot.checkins import CheckIns, case_list, on_case_button
from bot.guide_runner import runner
from bot.profiles import on_availability, on_hours, on_profile, on_profile_button
from bot.request_handlers import (
    on_assign,
    on_end,
    on_forgetme,
    on_offer_button,
    on_refer,
    on_request,
    on_request_button,
    requester_cancel,
    start_referral,
)
from bot.services import Services, services
from flows import guide
from flows.crisis import RiskLevel, TextSignal, assess_text
from flows.enrolment import InviteProblem, Role, check_invite, may_guide
from flows.followup import check_label, parse_quiet_hours
from flows.intents import Urgency
from storage import repos
from storage import request_repo as rr
from storage.models import Invite

log = logging.getLogger(__name__)

_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
INVITE_DAYS, INVITE_USES = 7, 1


async def _reply(update: Update, text: str) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            text, parse_mode=ParseMode.HTML, disable_web_page_preview=True
        )


def _user_id(update: Update) -> int:
    return update.effective_user.id if update.effective_user else 0


def invite_link(username: str, code: str) -> str:
    """The deep link that enrols whoever opens it."""
    return f"https://t.me/{username}?start={code}"


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: enrol with an invite code, or explain what the bot is."""
    svc, user_id = services(context), _user_id(update)
    role = svc.role_of(user_id)
    if context.args and context.args[0].startswith("ref_"):
        await start_referral(update, context, context.args[0].removeprefix("ref_"))
        return
    if not context.args:
        if role is Role.VISITOR:
            await _intro(update, svc)
        else:
            await _reply(update, svc.renderer.text("start.already"))
        return
    if role is not Role.VISITOR:
        await _reply(update, svc.renderer.text("start.already"))
        return
    key = redeem(svc, update.update_id, user_id, context.args[0])
    if key is not None:
        await _reply(update, svc.renderer.text(key))


async def _intro(update: Update, svc: Services) -> None:
    """What the bot is, with the button that asks for a peer."""
    if update.effective_message is not None:
        intro = svc.requests.intro()
        await update.effective_message.reply_text(
            intro.text, parse_mode=ParseMode.HTML, reply_markup=intro.markup
        )


def redeem(svc: Services, update_id: int, user_id: int, code: str) -> str | None:
    """Spend an invite and enrol; the reply key, or None for a re-delivered update."""
    now = svc.clock.now()
    with svc.db.transaction() as tx:
        if not repos.mark_update(tx, update_id, now):
            return None
        invite = repos.get_invite(tx, code, lock=True) if _CODE.match(code) else None
        problem = check_invite(
            invite is not None,
            invite.expires_at if invite else None,
            invite.uses_left if invite else 0,
            now,
        )
        if problem is not None or invite is None:
            log.info("invite_rejected user=%s reason=%s", user_id, problem)
            return f"invite.problem.{problem or InviteProblem.UNKNOWN}"
        if rr.live_for(tx, user_id) is not None:  # finish being helped before helping
            log.info("invite_deferred user=%s reason=live_request", user_id)
            return "invite.problem.live_request"
        repos.use_invite(tx, invite)
        repos.enrol(tx, user_id, invite.role, now)
        log.info("enrolled user=%s role=%s", user_id, invite.role)
        return "start.enrolled"


def create_invite(
    svc: Services,
    created_by: int | None,
    uses: int = INVITE_USES,
    days: int = INVITE_DAYS,
    update_id: int | None = None,
) -> Invite | None:
    """A new supporter invite; None when `update_id` was already applied."""
    now = svc.clock.now()
    with svc.db.transaction() as tx:
        if update_id is not None and not repos.mark_update(tx, update_id, now):
            return None
        return repos.create_invite(
            tx, Role.SUPPORTER, uses, now + timedelta(days=days), created_by, now
        )


async def on_invite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/invite [uses] [days]: a coordinator creates a supporter invite link."""
    svc, user_id = services(context), _user_id(update)
    text = svc.renderer.text
    if svc.role_of(user_id) is not Role.COORDINATOR:
        await _reply(update, text("coordinator.only"))
        return
    args = context.args or []
    try:
        uses = int(args[0]) if args else INVITE_USES
        days = int(args[1]) if len(args) > 1 else INVITE_DAYS
    except ValueError:
        uses = days = 0
    if len(args) > 2 or not (1 <= uses <= 100 and 1 <= days <= 90):
        await _reply(update, text("invite.usage"))
        return
    invite = create_invite(svc, user_id, uses, days, update.update_id)
    if invite is None:
        return
    username = svc.settings.bot_username or context.bot.username
    await _reply(
        update,
        text(
            "invite.created",
            role=text(f"role.{invite.role}"),
            uses=invite.uses_left,
            expires=invite.expires_at.strftime(svc.renderer.catalog.messages["format.date"]),
            link=invite_link(username, invite.code),
        ),
    )
    log.info("invite_created by=%s uses=%s days=%s", user_id, uses, days)


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: what this person can do here."""
    svc = services(context)
    role = svc.role_of(_user_id(update))
    keys = {
        Role.VISITOR: ["help.visitor"],
        Role.SUPPORTER: ["help.supporter"],
        Role.COORDINATOR: ["help.supporter", "help.coordinator"],
    }[role]
    await _reply(update, "\n".join(svc.renderer.text(k) for k in keys))


async def on_guide(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/guide: start a guided session or resume the open one."""
    await runner(context).run(update, context, lambda s, now, tz: guide.Opened(now), opens=True)


async def on_status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/status: show where the supporter is."""
    await runner(context).run(update, context, lambda s, now, tz: guide.StatusAsked(now))


async def on_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel: withdraw a request still waiting; else leave the current input or pause."""
    if await requester_cancel(update, context):
        return
    await runner(context).run(
        update, context, lambda s, now, tz: guide.Cancelled(now), no_session="cancel.nothing"
    )


async def on_timezone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/timezone [name]: show or set the supporter's time zone."""
    svc, user_id = services(context), _user_id(update)
    if not may_guide(svc.role_of(user_id)):
        await _reply(update, svc.renderer.text("guide.forbidden"))
        return
    if not context.args:
        await _reply(update, svc.renderer.text("timezone.show", tz=svc.timezone_of(user_id)))
        return
    name = context.args[0]
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        await _reply(update, svc.renderer.text("timezone.invalid"))
        return
    with svc.db.transaction() as tx:
        if repos.get_person(tx, user_id) is None:
            repos.enrol(tx, user_id, svc.role_of(user_id), svc.clock.now())
        repos.set_timezone(tx, user_id, name)
    await _reply(update, svc.renderer.text("timezone.set", tz=name))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Free text: read for crisis language, then a note (never stored) or an awaited time."""
    svc = services(context)
    text = update.effective_message.text if update.effective_message else None
    signal = assess_text(text or "")
    if signal.level is not RiskLevel.NONE:
        log.warning(
            "crisis_text update=%s level=%s rule=%s",
            update.update_id,
            signal.level,
            signal.trigger,
        )
    visitor = await _resources_first(update, context, signal)
    if await relay.on_message(svc.requests, update, signal, visitor=visitor):
        return
    if visitor:
        await _visitor_text(update, context, signal)
        return

    def event(state: guide.GuideState, now: datetime, tz: str) -> guide.Event:
        when = svc.parse_time(text or "", now, tz) if guide.awaits_time(state) else None
        return guide.Typed(now, when, signal.level, signal.trigger)

    await runner(context).run(update, context, event, no_session="unknown.input", crisis=signal)
    await _relay_hint(svc, update)


async def _resources_first(
    update: Update, context: ContextTypes.DEFAULT_TYPE, signal: TextSignal
) -> bool:
    """Whether the writer is a requester (not enrolled). A requester whose message signals
    crisis gets the resources now, before anything else — even if the database is failing.
    (Supporters get them from their guide, in the same reply.)"""
    svc, user_id = services(context), _user_id(update)
    try:
        visitor = svc.role_of(user_id) is Role.VISITOR
    except Exception:  # noqa: BLE001 - safety first: resources even when the lookup fails
        visitor = True
        if signal.level is RiskLevel.NONE:
            raise
    if visitor and signal.level is not RiskLevel.NONE:
        urgency = Urgency.ACUTE if signal.level is RiskLevel.HIGH else Urgency.NON_ACUTE
        await messenger.send(context.bot, user_id, svc.renderer.resources(urgency, for_self=True))
    return visitor


async def _visitor_text(
    update: Update, context: ContextTypes.DEFAULT_TYPE, signal: TextSignal
) -> None:
    """Someone with no request writes: crisis language opens intake at once (the resources are
    already on screen; then the alert and the safety question); anything else gets the
    introduction."""
    svc = services(context)
    if signal.level is RiskLevel.NONE:
        await _intro(update, svc)
        return
    await on_request_with_signal(update, context, signal)


async def on_request_with_signal(
    update: Update, context: ContextTypes.DEFAULT_TYPE, signal: TextSignal
) -> None:
    """Open intake for a message that signalled risk (the alert goes out with it)."""
    desk, user_id = services(context).requests, _user_id(update)
    with desk.db.transaction() as tx:
        if not repos.mark_update(tx, update.update_id, desk.clock.now()):
            return
        outcome = desk.begin(tx, user_id, signal=signal, resources_shown=True)
    await desk.deliver(outcome)


async def _relay_hint(svc: Services, update: Update) -> None:
    """A supporter in an anonymous conversation typed a note: remind them how to answer."""
    with svc.db.transaction() as tx:
        talking = bool(rr.connected_for_supporter(tx, _user_id(update)))
    if talking:
        await _reply(update, svc.renderer.text("relay.how_to_reply"))


async def on_unrecognised(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Unknown commands, stickers, photos…: say so, and show the current step again."""
    svc = services(context)
    is_command = bool(update.effective_message and update.effective_message.text)
    if not is_command:  # a photo, voice note or sticker may belong to an anonymous conversation
        caption = update.effective_message.caption if update.effective_message else None
        signal = assess_text(caption or "")
        visitor = await _resources_first(update, context, signal)
        if await relay.on_message(svc.requests, update, signal, visitor=visitor):
            return
        if visitor and signal.level is not RiskLevel.NONE:
            await _visitor_text(update, context, signal)
            return
    if svc.role_of(_user_id(update)) is Role.VISITOR:
        await _reply(
            update, svc.renderer.text("unknown.command" if is_command else "unknown.input")
        )
        return
    await runner(context).run(
        update,
        context,
        lambda s, now, tz: guide.Unrecognised(now),
        no_session="unknown.command" if is_command else "unknown.input",
    )


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button press: verified against the live card or check-in, else 'no longer active'."""
    query = update.callback_query
    assert query is not None
    svc = services(context)
    if await on_profile_button(update, context):
        return
    press = parse(query.data)
    if isinstance(press, GuideButton):
        await runner(context).run(
            update,
            context,
            lambda s, now, tz: guide.Pressed(guide.Action(press.action), press.arg, now, tz),
            press=press,
        )
    elif isinstance(press, CheckInButton):
        await CheckIns(svc).answer(update, context, press)
    elif isinstance(press, CaseButton):
        await on_case_button(svc, update, context, press)
    elif isinstance(press, RequestButton):
        await on_request_button(update, context, press)
    elif isinstance(press, OfferButton):
        await on_offer_button(update, context, press)
    elif isinstance(press, AlertButton):
        user = update.effective_user
        coordinator = svc.role_of(_user_id(update)) is Role.COORDINATOR
        if coordinator and user is not None:
            _note_staff(svc, user.id, user.first_name)
        await on_alert_button(svc.alerts, update, press.alert_id, press.action, coordinator)
    else:
        log.info("button_unparseable update=%s", update.update_id)
        await query.answer(svc.renderer.text("button.stale"))


def _note_staff(svc: Services, user_id: int, name: str | None) -> None:
    with svc.db.transaction() as tx:
        repos.ensure_staff(tx, user_id, Role.COORDINATOR, name, svc.clock.now())


async def on_alerts(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/alerts: open and recent alerts with their state (coordinators only)."""
    svc = services(context)
    if svc.role_of(_user_id(update)) is not Role.COORDINATOR:
        await _reply(update, svc.renderer.text("coordinator.only"))
        return
    await _reply(update, svc.alerts.listing())


async def on_duty(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/duty [on|off]: whether this coordinator receives first-tier alerts."""
    svc, user = services(context), update.effective_user
    if user is None or svc.role_of(user.id) is not Role.COORDINATOR:
        await _reply(update, svc.renderer.text("coordinator.only"))
        return
    arg = (context.args or [""])[0].lower()
    with svc.db.transaction() as tx:
        person = repos.ensure_staff(
            tx, user.id, Role.COORDINATOR, user.first_name, svc.clock.now()
        )
        if arg in ("on", "off"):
            person.on_duty = arg == "on"
            tx.add(person)
        on_duty = person.on_duty
    if arg not in ("", "on", "off"):
        await _reply(update, svc.renderer.text("duty.usage"))
        return
    await _reply(update, svc.renderer.text("duty.on" if on_duty else "duty.off"))


async def on_cases(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cases: open cases with their step and next check-in; resume, plan or close each."""
    svc, user_id = services(context), _user_id(update)
    if not may_guide(svc.role_of(user_id)):
        await _reply(update, svc.renderer.text("guide.forbidden"))
        return
    text, markup = case_list(svc, user_id)
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            text, parse_mode=ParseMode.HTML, reply_markup=markup
        )


async def on_label(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/label <words>: a short label for the current case — never a name."""
    svc, user_id = services(context), _user_id(update)
    if not may_guide(svc.role_of(user_id)):
        await _reply(update, svc.renderer.text("guide.forbidden"))
        return
    label = " ".join(context.args or [])
    problem = check_label(label)
    if problem is not None:
        await _reply(update, svc.renderer.text(f"label.problem.{problem}"))
        return
    with svc.db.transaction() as tx:
        row = repos.open_session(tx, user_id)
        if row is not None and row.id is not None:
            repos.set_label(tx, row.id, label)
    key = "label.set" if row is not None else "status.none"
    await _reply(update, svc.renderer.text(key, label=html.escape(label)))


async def on_quiet(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/quiet [22:00-08:00|off]: when preset check-ins should not arrive."""
    svc, user_id = services(context), _user_id(update)
    if not may_guide(svc.role_of(user_id)):
        await _reply(update, svc.renderer.text("guide.forbidden"))
        return
    arg = " ".join(context.args or []).strip().lower()
    with svc.db.transaction() as tx:
        if repos.get_person(tx, user_id) is None:
            repos.enrol(tx, user_id, svc.role_of(user_id), svc.clock.now())
        if arg == "off":
            repos.set_quiet_hours(tx, user_id, "off")
        elif arg and parse_quiet_hours(arg) is not None:
            repos.set_quiet_hours(tx, user_id, arg.replace(" ", ""))
        current = repos.quiet_hours_of(tx, user_id) or svc.settings.quiet_hours
    if arg and arg != "off" and parse_quiet_hours(arg) is None:
        await _reply(update, svc.renderer.text("quiet.usage"))
        return
    await _reply(update, svc.renderer.text("quiet.show", quiet=current))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure by type and update id (never content) and tell the person what to do."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error(
        "handler_failed update=%s error=%s",
        update_id,
        type(context.error).__name__,
        exc_info=context.error,
    )
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            if update.callback_query is not None:
                await update.callback_query.answer()
            await context.bot.send_message(
                update.effective_chat.id, services(context).renderer.text("error.generic")
            )
        except Exception:  # noqa: BLE001 - the error path must never raise
            log.error("error_reply_failed update=%s", update_id)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Wire every handler; private chats only."""
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    commands = {
        "start": on_start,
        "help": on_help,
        "guide": on_guide,
        "status": on_status,
        "cancel": on_cancel,
        "invite": on_invite,
        "timezone": on_timezone,
        "alerts": on_alerts,
        "duty": on_duty,
        "cases": on_cases,
        "label": on_label,
        "quiet": on_quiet,
        "profile": on_profile,
        "available": on_availability,
        "away": on_availability,
        "hours": on_hours,
        "request": on_request,
        "end": on_end,
        "assign": on_assign,
        "refer": on_refer,
        "forgetme": on_forgetme,
    }
    for name, callback in commands.items():
        app.add_handler(CommandHandler(name, callback, filters=private))
    app.add_handler(MessageHandler(private & filters.COMMAND, on_unrecognised))
    app.add_handler(MessageHandler(private & filters.TEXT, on_text))
    app.add_handler(MessageHandler(private, on_unrecognised))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_error_handler(on_error)

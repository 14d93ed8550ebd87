"""The alert desk: raises coordinator alerts, delivers them with retries, escalates, and records
acknowledgements. Every message goes through the alert_message outbox, so nothing is lost."""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import warnings
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.callbacks import alert_data
from bot.clock import Clock
from bot.render import Renderer
from bot.settings import Settings
from flows.alerts import (
    AlertStatus,
    Delivery,
    EventKind,
    MessageKind,
    Policy,
    next_tier,
    retry_delay,
    unreachable,
)
from storage import alert_repo as repo
from storage.db import Database
from storage.models import Alert, AlertMessage

log = logging.getLogger(__name__)

RECENT = timedelta(days=7)
STALE_CLAIM = timedelta(minutes=2)  # a send takes seconds; an older claim's sender has died
IDLE_WAIT = 1.0
# Alerts about a request's progress, not a crisis: nobody is told to call an emergency line.
ROUTINE_TRIGGERS = frozenset({"request_unassigned", "request_sla", "relay_blocked"})


def about_requester(alert: Alert) -> bool:
    """An alert raised for a requester (intake, waiting), not for a supporter's case."""
    return alert.request_id is not None and alert.session_id is None


def retry_seconds(exc: RetryAfter) -> float:
    """Telegram's retry_after in seconds, whichever type this PTB version returns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def policy_from(settings: Settings) -> Policy:
    """The alerting policy configured for this programme."""
    return Policy(
        coordinators=settings.coordinator_ids,
        escalation=settings.escalation_ids,
        ack_acute=timedelta(minutes=settings.ack_minutes_acute),
        ack_non_acute=timedelta(minutes=settings.ack_minutes_non_acute),
    )


class AlertDesk:
    """Raises, delivers, escalates and closes alerts."""

    def __init__(self, db: Database, clock: Clock, renderer: Renderer, settings: Settings):
        self.db, self.clock, self.renderer, self.settings = db, clock, renderer, settings
        self.policy = policy_from(settings)
        self.bot: Bot | None = None
        self._wake = asyncio.Event()

    # ---- raising (inside the caller's transaction) ----

    def raise_alert(
        self,
        tx: Session,
        *,
        person_id: int,
        session_id: int | None,
        level: str,
        trigger: str,
        request_id: int | None = None,
    ) -> Alert:
        """Write an alert and its first messages in the caller's transaction (the outbox)."""
        now = self.clock.now()
        alert = repo.create_alert(
            tx,
            person_id=person_id,
            session_id=session_id,
            level=level,
            trigger=trigger,
            now=now,
            escalate_at=now + self.policy.ack_timeout(level),
            request_id=request_id,
        )
        assert alert.id is not None
        recipients = self.policy.recipients(1, repo.off_duty(tx, self.policy.coordinators))
        for coordinator in recipients:
            repo.enqueue(tx, alert.id, coordinator, MessageKind.ALERT, now)
        if not recipients:
            self._warn_supporter(tx, alert)
        log.warning(
            "alert_raised alert=%s session=%s level=%s trigger=%s recipients=%s",
            alert.id,
            session_id,
            level,
            trigger,
            len(recipients),
        )
        self._wake.set()
        return alert

    def _warn_supporter(self, tx: Session, alert: Alert) -> None:
        assert alert.id is not None
        now = self.clock.now()
        alert.supporter_warned = True
        tx.add(alert)
        if alert.trigger in ROUTINE_TRIGGERS or not alert.person_id:
            log.error("alert_unreachable alert=%s routine=true", alert.id)
            return
        repo.enqueue(tx, alert.id, alert.person_id, MessageKind.UNREACHABLE, now)
        repo.add_event(tx, alert.id, EventKind.UNREACHABLE, now)
        log.error("alert_unreachable alert=%s", alert.id)

    # ---- the delivery loop ----

    def recover(self) -> int:
        """Messages caught mid-send by a crashed process go out again, marked as repeats."""
        with self.db.transaction() as tx:
            count = repo.recover_in_flight(tx, self.clock.now() - STALE_CLAIM)
        if count:
            log.warning("alert_messages_recovered count=%s", count)
        return count

    async def run_once(self) -> int:
        """Escalate what is due, warn supporters nobody reached, and deliver every due message."""
        self.recover()
        self._escalate()
        sent = await self._deliver_due()
        self._check_unreachable()
        return sent + await self._deliver_due()

    async def run_forever(self) -> None:
        """The background loop: a pass now, then whenever woken or every second."""
        while True:
            try:
                await self.run_once()
            except Exception:  # noqa: BLE001 - the loop must survive any one failure
                log.exception("alert_loop_failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), IDLE_WAIT)

    def _escalate(self) -> None:
        now = self.clock.now()
        with self.db.transaction() as tx:
            off = repo.off_duty(tx, self.policy.coordinators)
            for alert in repo.due_escalations(tx, now):
                assert alert.id is not None
                alert.tier = next_tier(alert.tier)
                alert.next_escalation_at = now + self.policy.ack_timeout(alert.level)
                tx.add(alert)
                repo.add_event(tx, alert.id, EventKind.ESCALATED, now, detail=alert.tier)
                for coordinator in self.policy.recipients(alert.tier, off):
                    repo.enqueue(tx, alert.id, coordinator, MessageKind.ALERT, now)
                log.warning("alert_escalated alert=%s tier=%s", alert.id, alert.tier)

    def _check_unreachable(self) -> None:
        now = self.clock.now()
        with self.db.transaction() as tx:
            for alert in repo.unwarned_open_alerts(tx):
                assert alert.id is not None
                statuses = [m.status for m in repo.messages_for(tx, alert.id, MessageKind.ALERT)]
                if unreachable(statuses, len(statuses), alert.created_at, now, self.policy):
                    self._warn_supporter(tx, alert)

    async def _deliver_due(self) -> int:
        sent = 0
        while True:
            with self.db.transaction() as tx:
                message = repo.next_due_message(tx, self.clock.now())
                if message is None:
                    return sent
                assert message.id is not None
                if not repo.claim(tx, message.id, self.clock.now()):
                    continue
                tx.refresh(message)
                alert = repo.get_alert(tx, message.alert_id)
                assert alert is not None
                text, markup = self._render(tx, alert, message)
            sent += await self._send(message, text, markup)

    async def _send(
        self,
        message: AlertMessage,
        text: str,
        markup: InlineKeyboardMarkup | None,
    ) -> int:
        assert self.bot is not None
        assert message.id is not None
        try:
            if message.kind == MessageKind.CLOSE and message.edit_of is not None:
                try:
                    result = await self.bot.edit_message_text(
                        text,
                        chat_id=message.recipient_id,
                        message_id=message.edit_of,
                        parse_mode=ParseMode.HTML,
                        reply_markup=None,
                    )
                except BadRequest as exc:
                    if "not modified" not in exc.message.lower():
                        raise
                message_id = message.edit_of
            else:
                result = await self.bot.send_message(
                    message.recipient_id,
                    text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    disable_web_page_preview=True,
                )
                message_id = result.message_id
        except RetryAfter as exc:
            self._retry(message, retry_seconds(exc), "RetryAfter")
            return 0
        except (Forbidden, BadRequest) as exc:
            self._blocked(message, type(exc).__name__)
            return 0
        except TelegramError as exc:
            self._retry(message, None, type(exc).__name__)
            return 0
        with self.db.transaction() as tx:
            row = tx.get(AlertMessage, message.id)
            assert row is not None
            row.status, row.message_id = Delivery.SENT, message_id
            if message.kind == MessageKind.ALERT:
                alert = repo.get_alert(tx, message.alert_id)
                if alert is not None and alert.status == AlertStatus.ACKNOWLEDGED:
                    # Acknowledged while this was in flight: close it at once.
                    repo.enqueue(
                        tx,
                        message.alert_id,
                        message.recipient_id,
                        MessageKind.CLOSE,
                        self.clock.now(),
                        edit_of=message_id,
                    )
            tx.add(row)
        log.info(
            "alert_message_sent alert=%s message=%s kind=%s",
            message.alert_id,
            message.id,
            message.kind,
        )
        return 1

    def _retry(self, message: AlertMessage, retry_after: float | None, error: str) -> None:
        with self.db.transaction() as tx:
            row = tx.get(AlertMessage, message.id)
            assert row is not None
            row.status, row.last_error = Delivery.PENDING, error
            row.next_attempt_at = self.clock.now() + retry_delay(row.attempts, retry_after)
            tx.add(row)
        log.warning(
            "alert_message_retry alert=%s message=%s error=%s attempts=%s",
            message.alert_id,
            message.id,
            error,
            row.attempts,
        )

    def _blocked(self, message: AlertMessage, error: str) -> None:
        now = self.clock.now()
        with self.db.transaction() as tx:
            row = tx.get(AlertMessage, message.id)
            assert row is not None
            row.status, row.last_error = Delivery.BLOCKED, error
            tx.add(row)
            if message.kind == MessageKind.ALERT:
                repo.add_event(
                    tx, message.alert_id, EventKind.BLOCKED, now, actor_id=message.recipient_id
                )
                told = set()
                for other in repo.messages_for(tx, message.alert_id, MessageKind.ALERT):
                    if (
                        other.recipient_id != message.recipient_id
                        and other.recipient_id not in told
                        and other.status != Delivery.BLOCKED
                    ):
                        told.add(other.recipient_id)
                        repo.enqueue(
                            tx,
                            message.alert_id,
                            other.recipient_id,
                            MessageKind.BLOCKED_NOTICE,
                            now,
                        )
        log.warning(
            "alert_recipient_unreachable alert=%s message=%s error=%s",
            message.alert_id,
            message.id,
            error,
        )

    # ---- rendering ----

    def _time(self, tx: Session, at: object) -> str:
        tz = ZoneInfo(self.settings.timezone)
        return f"{at.astimezone(tz):%H:%M}"  # type: ignore[attr-defined]

    def _name(self, tx: Session, person_id: int | None) -> str:
        name = repo.display_name(tx, person_id)
        return html.escape(name) if name else self.renderer.text("alert.someone")

    def _case(self, alert: Alert) -> str:
        """What an alert is about: a supporter's case, a request, or both."""
        parts = []
        if alert.session_id is not None:
            parts.append(self.renderer.text("alerts.case", id=alert.session_id))
        if alert.request_id is not None:
            parts.append(self.renderer.text("alerts.request", id=alert.request_id))
        return " · ".join(parts) or self.renderer.text("alerts.case", id="—")

    def trigger_text(self, trigger: str) -> str:
        """A trigger rule as coordinators read it (never the text that caused it)."""
        if trigger.startswith("text_"):
            return self.renderer.text("alert.trigger.text", rule=trigger.removeprefix("text_"))
        return self.renderer.text(f"alert.trigger.{trigger}")

    def timeline(self, tx: Session, alert: Alert) -> list[str]:
        """The alert's timeline as lines."""
        assert alert.id is not None
        lines = []
        for event in repo.events_for(tx, alert.id):
            lines.append(
                self.renderer.text(
                    f"alert.event.{event.kind}",
                    time=self._time(tx, event.at),
                    name=self._name(tx, event.actor_id),
                    tier=event.detail,
                    number=html.escape(self.settings.emergency_number),
                )
            )
        people = {m.recipient_id for m in repo.messages_for(tx, alert.id, MessageKind.ALERT)}
        lines.append(self.renderer.text("alert.delivered", total=len(people)))
        return lines

    def alert_text(self, tx: Session, alert: Alert, *, repeat: bool = False) -> str:
        """The full alert message: what, who, how to reach them, and the timeline."""
        parts = []
        if repeat:
            parts.append(self.renderer.text("alert.repeat", id=alert.id))
        parts.append(self.renderer.text(f"alert.title.{alert.level}", id=alert.id))
        if about_requester(alert):
            body = self.renderer.text(
                "alert.body_request",
                request=alert.request_id,
                trigger=self.trigger_text(alert.trigger),
            )
        else:
            body = self.renderer.text(
                "alert.body",
                case=alert.session_id or "—",
                trigger=self.trigger_text(alert.trigger),
                supporter=self._name(tx, alert.person_id),
                supporter_id=alert.person_id,
            )
            if alert.request_id is not None:
                body += "\n" + self.renderer.text("alert.from_request", request=alert.request_id)
        parts.append(body)
        if alert.status == AlertStatus.ACKNOWLEDGED:
            parts.append(self.renderer.text("alert.acked_by", name=self._name(tx, alert.acked_by)))
        parts.append("\n".join(self.timeline(tx, alert)))
        return "\n\n".join(parts)

    def _render(
        self,
        tx: Session,
        alert: Alert,
        message: AlertMessage,
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        assert alert.id is not None
        text = self.renderer.text
        if message.kind == MessageKind.ALERT:
            markup = None
            if alert.status == AlertStatus.OPEN:
                row = [
                    InlineKeyboardButton(
                        text("btn.alert.ack"), callback_data=alert_data(alert.id, "ack")
                    )
                ]
                if not about_requester(alert):  # requesters stay anonymous: /assign instead
                    row.append(
                        InlineKeyboardButton(
                            text("btn.alert.call"), callback_data=alert_data(alert.id, "call")
                        )
                    )
                markup = InlineKeyboardMarkup([row])
            return self.alert_text(tx, alert, repeat=message.repeat), markup
        if message.kind == MessageKind.CLOSE:
            return self.alert_text(tx, alert), None
        if message.kind == MessageKind.ACK_NOTICE:
            key = "alert.ack_notice_requester" if about_requester(alert) else "alert.ack_notice"
            return text(key, name=self._name(tx, alert.acked_by)), None
        if message.kind == MessageKind.BLOCKED_NOTICE:
            return text("alert.blocked_notice", id=alert.id), None
        key = "alert.unreachable_requester" if about_requester(alert) else "alert.unreachable"
        return text(key, number=html.escape(self.settings.emergency_number)), None

    # ---- coordinator actions ----

    def acknowledge(self, alert_id: int, coordinator_id: int) -> str:
        """Record the first acknowledgement; returns the toast key for the coordinator."""
        now = self.clock.now()
        with self.db.transaction() as tx:
            alert = repo.get_alert(tx, alert_id, lock=True)
            if alert is None:
                return "button.stale"
            if alert.status == AlertStatus.ACKNOWLEDGED:
                return "alert.already_acked"
            alert.status, alert.acked_by, alert.acked_at = (
                AlertStatus.ACKNOWLEDGED,
                coordinator_id,
                now,
            )
            alert.next_escalation_at = None
            tx.add(alert)
            repo.add_event(tx, alert_id, EventKind.ACKNOWLEDGED, now, actor_id=coordinator_id)
            for message in repo.messages_for(tx, alert_id, MessageKind.ALERT):
                if message.status == Delivery.SENT and message.message_id is not None:
                    repo.enqueue(
                        tx,
                        alert_id,
                        message.recipient_id,
                        MessageKind.CLOSE,
                        now,
                        edit_of=message.message_id,
                    )
                elif message.status == Delivery.PENDING:
                    message.status = "cancelled"
                    tx.add(message)
            if alert.person_id and alert.trigger not in ROUTINE_TRIGGERS:  # 0: forgotten
                repo.enqueue(tx, alert_id, alert.person_id, MessageKind.ACK_NOTICE, now)
        log.info("alert_acknowledged alert=%s by=%s", alert_id, coordinator_id)
        self._wake.set()
        return "alert.acked_toast"

    def listing(self) -> str:
        """Open and recent alerts with their state, for /alerts."""
        text = self.renderer.text
        with self.db.transaction() as tx:
            alerts = repo.recent_alerts(tx, self.clock.now() - RECENT)
            if not alerts:
                return text("alerts.none")
            lines = [text("alerts.header")]
            for alert in alerts:
                state = (
                    text("alerts.state.acked", name=self._name(tx, alert.acked_by))
                    if alert.status == AlertStatus.ACKNOWLEDGED
                    else text("alerts.state.open", tier=alert.tier)
                )
                lines.append(
                    text(
                        "alerts.line",
                        id=alert.id,
                        level=text(f"alerts.level.{alert.level}"),
                        trigger=self.trigger_text(alert.trigger),
                        state=state,
                        raised=self._time(tx, alert.created_at),
                        case=self._case(alert),
                    )
                )
        return "\n".join(lines)

    def contact_texts(self, alert_id: int, coordinator_id: int) -> tuple[int, str, str] | None:
        """For "call the supporter": the supporter's id and the two messages to send."""
        with self.db.transaction() as tx:
            alert = repo.get_alert(tx, alert_id)
            if alert is None or about_requester(alert):
                return None
            supporter = self._name(tx, alert.person_id)
            coordinator = self._name(tx, coordinator_id)
            return (
                alert.person_id,
                self.renderer.text(
                    "alert.call_coordinator",
                    supporter=supporter,
                    supporter_id=alert.person_id,
                ),
                self.renderer.text(
                    "alert.call_supporter",
                    name=coordinator,
                    coordinator_id=coordinator_id,
                    case=alert.session_id or "—",
                ),
            )


async def on_alert_button(
    desk: AlertDesk,
    update: Update,
    alert_id: int,
    action: str,
    is_coordinator: bool,
) -> None:
    """Handle "I'm on it" and "call the supporter"; anyone but a coordinator is refused."""
    query = update.callback_query
    assert query is not None
    assert update.effective_user is not None
    text = desk.renderer.text
    if not is_coordinator:
        await query.answer(text("button.stale"))
        return
    user_id = update.effective_user.id
    if action == "ack":
        key = desk.acknowledge(alert_id, user_id)
        with desk.db.transaction() as tx:
            alert = repo.get_alert(tx, alert_id)
            who = desk._name(tx, alert.acked_by if alert else None)
        await query.answer(text(key, name=who))
        await desk.run_once()
        return
    contact = desk.contact_texts(alert_id, user_id)
    if contact is None:
        await query.answer(text("button.stale"))
        return
    supporter_id, for_coordinator, for_supporter = contact
    await query.answer()
    assert desk.bot is not None
    await desk.bot.send_message(user_id, for_coordinator, parse_mode=ParseMode.HTML)
    try:
        await desk.bot.send_message(supporter_id, for_supporter, parse_mode=ParseMode.HTML)
    except TelegramError:
        log.warning("alert_call_undeliverable alert=%s", alert_id)

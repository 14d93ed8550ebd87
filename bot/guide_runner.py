"""Runs one update through the guide flow: load, advance, save with its outbox rows, then send."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time

from sqlmodel import Session
from telegram import Update
from telegram.ext import ContextTypes

from bot import messenger
from bot.callbacks import GuideButton, guide_data
from bot.render import Outgoing
from bot.services import Services, services
from flows import guide
from flows.crisis import RiskLevel, TextSignal
from flows.enrolment import may_guide
from flows.followup import outside_quiet_hours, parse_quiet_hours
from flows.guide import GuideState
from flows.intents import (
    AlertCoordinators,
    Button,
    Intent,
    Say,
    ScheduleFollowUp,
    ShowStep,
    Urgency,
)
from storage import repos
from storage.models import GuideSession

log = logging.getLogger(__name__)

EventFactory = Callable[[GuideState, datetime, str], guide.Event]


@dataclass
class _Plan:
    outs: list[Outgoing]
    armed: list[tuple[int, datetime]]
    session_id: int | None = None
    old_card_id: int | None = None
    toast: str | None = None
    raised: bool = False


def quiet_window(svc: Services, tx: Session, person_id: int) -> tuple[time, time] | None:
    """A person's quiet hours, or the programme's default ("off" means none)."""
    return parse_quiet_hours(repos.quiet_hours_of(tx, person_id) or svc.settings.quiet_hours)


def persist_intents(
    svc: Services,
    tx: Session,
    intents: Sequence[Intent],
    *,
    person_id: int,
    session_id: int | None,
    now: datetime,
) -> list[tuple[int, datetime]]:
    """Write the intents that must not be lost (alerts, follow-ups) in the caller's transaction.
    Presets and snoozes (not exact times) are moved out of the supporter's quiet hours."""
    armed = []
    for intent in intents:
        if isinstance(intent, AlertCoordinators):
            svc.alerts.raise_alert(
                tx,
                person_id=person_id,
                session_id=session_id,
                level=intent.level,
                trigger=intent.trigger,
            )
        elif isinstance(intent, ScheduleFollowUp) and session_id is not None:
            at = intent.at
            if not intent.exact:  # flows already did this; kept as a guard for other callers
                tz = repos.timezone_of(tx, person_id, svc.settings.timezone)
                at = outside_quiet_hours(at, tz, quiet_window(svc, tx, person_id))
            row = repos.schedule_follow_up(tx, session_id, person_id, at, now, exact=intent.exact)
            assert row.id is not None
            armed.append((row.id, row.due_at))
    return armed


class GuideRunner:
    """Applies guide events for one update, exactly once."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def _render(self, row: GuideSession, intents: Sequence[Intent], tz: str) -> list[Outgoing]:
        assert row.id is not None
        session_id, version = row.id, row.version

        def data_for(button: Button) -> str:
            return guide_data(session_id, version, button.action, button.arg)

        outs = (self.svc.renderer.render(i, data_for, tz) for i in intents)
        return [out for out in outs if out is not None]

    def _plan(
        self,
        update: Update,
        make_event: EventFactory,
        *,
        opens: bool,
        press: GuideButton | None,
        no_session: str,
        crisis: TextSignal | None,
    ) -> _Plan | None:
        svc, now = self.svc, self.svc.clock.now()
        user = update.effective_user
        user_id = user.id if user else 0
        text = svc.renderer.text
        tz, allowed = svc.timezone_of(user_id), may_guide(svc.role_of(user_id))
        with svc.db.transaction() as tx:
            if not repos.mark_update(tx, update.update_id, now):
                log.info("duplicate_update update=%s", update.update_id)
                return None
            if not allowed:
                if press is not None:
                    return _Plan([], [], toast=text("button.stale"))
                return _Plan([Outgoing(text("guide.forbidden"))], [])
            repos.note_name(tx, user_id, user.first_name if user else None)
            row = repos.open_session(tx, user_id)
            if press is not None and not self._live(row, press):
                log.info("stale_button update=%s", update.update_id)
                return _Plan([], [], toast=text("button.stale"))
            if row is None and not opens:
                return self._without_session(tx, user_id, no_session, crisis, now)
            if row is not None:
                state = GuideState.from_data(row.state)
                event = make_event(state, now, tz)
                if isinstance(event, guide.Pressed):
                    event = replace(event, quiet=quiet_window(svc, tx, user_id))
                step = guide.advance(state, event)
                if step.state != state or any(_is_card(i) for i in step.intents):
                    repos.save_session(tx, row, step.state.to_data(), now)
            else:
                step = guide.start()
                row = repos.new_session(tx, user_id, step.state.to_data(), now)
            assert row.id is not None
            armed = persist_intents(
                svc, tx, step.intents, person_id=user_id, session_id=row.id, now=now
            )
            log.info(
                "guide_event update=%s session=%s stage=%s view=%s",
                update.update_id,
                row.id,
                step.state.stage,
                step.state.view,
            )
            raised = any(isinstance(i, AlertCoordinators) for i in step.intents)
            return _Plan(
                self._render(row, step.intents, tz),
                armed,
                row.id,
                row.card_message_id,
                raised=raised,
            )

    def _without_session(
        self,
        tx: Session,
        user_id: int,
        no_session: str,
        crisis: TextSignal | None,
        now: datetime,
    ) -> _Plan:
        """No open session: say what to do, but crisis text still gets resources and alerts."""
        outs = [Outgoing(self.svc.renderer.text(no_session))]
        if crisis is None or crisis.level is RiskLevel.NONE:
            return _Plan(outs, [])
        high = crisis.level is RiskLevel.HIGH
        urgency = Urgency.ACUTE if high else Urgency.NON_ACUTE
        outs.insert(0, self.svc.renderer.resources(urgency))
        if high:
            persist_intents(
                self.svc,
                tx,
                [AlertCoordinators(urgency, f"text_{crisis.trigger}")],
                person_id=user_id,
                session_id=None,
                now=now,
            )
        return _Plan(outs, [], raised=high)

    @staticmethod
    def _live(row: GuideSession | None, press: GuideButton) -> bool:
        if row is None or row.id != press.session_id or row.version != press.version:
            return False
        return guide.offers(GuideState.from_data(row.state), press.action, press.arg)

    async def run(
        self,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        make_event: EventFactory,
        *,
        opens: bool = False,
        press: GuideButton | None = None,
        no_session: str = "status.none",
        crisis: TextSignal | None = None,
    ) -> None:
        """Apply one event to the open session; `opens` starts a session when none is open."""
        plan = self._plan(
            update, make_event, opens=opens, press=press, no_session=no_session, crisis=crisis
        )
        query = update.callback_query
        if plan is None or update.effective_chat is None:
            if query:
                await query.answer()
            return
        for follow_up_id, due_at in plan.armed:
            self.svc.followups.arm(follow_up_id, due_at)
        if query:
            await query.answer(plan.toast)
        edit_id = query.message.message_id if query and query.message else None
        card_id = await messenger.deliver(
            context.bot,
            update.effective_chat.id,
            plan.outs,
            edit_id=edit_id,
            old_card_id=plan.old_card_id,
        )
        if card_id is not None and plan.session_id is not None:
            with self.svc.db.transaction() as tx:
                repos.set_card(tx, plan.session_id, card_id)
        if plan.raised:
            await self.svc.alerts.run_once()


def _is_card(intent: Intent) -> bool:
    return isinstance(intent, ShowStep) or (isinstance(intent, Say) and bool(intent.buttons))


def runner(context: ContextTypes.DEFAULT_TYPE) -> GuideRunner:
    """A runner over the application's services."""
    return GuideRunner(services(context))

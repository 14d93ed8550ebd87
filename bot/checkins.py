"""Check-in answers and the case tools around them: each answer is recorded once, and follow-on
choices reopen the case in the guide (plan again, type a time, safety check) or close it."""

from __future__ import annotations

import html
import logging
from datetime import datetime, time

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot import messenger
from bot.callbacks import CaseButton, CheckInButton, case_data, checkin_data, guide_data
from bot.guide_runner import persist_intents, quiet_window
from bot.render import Outgoing, format_time
from bot.services import Services
from flows import checkin, guide
from flows.checkin import (
    AFTER_ANSWER,
    ANSWERS,
    SNOOZES,
    TOPIC_ACTIONS,
    CheckInAnswer,
    FollowOn,
)
from flows.followup import ANSWERABLE, Stage
from flows.guide import GuideState
from flows.intents import (
    AlertCoordinators,
    Button,
    CloseCase,
    Intent,
    OpenCase,
    RecordOutcome,
)
from storage import repos
from storage.models import FollowUp, GuideSession

log = logging.getLogger(__name__)


def allowed(action: str, stage: Stage) -> bool:
    """Whether a check-in button still acts: answers and snoozes until answered, the follow-on
    choices once answered."""
    if action in ANSWERS or action in SNOOZES:
        return stage in ANSWERABLE
    known = action in AFTER_ANSWER or action in TOPIC_ACTIONS
    return known and stage is Stage.ANSWERED


def intents_for(
    action: str, now: datetime, tz: str, quiet: tuple[time, time] | None
) -> tuple[Intent, ...]:
    """The flow's answer to one check-in button."""
    if action in ANSWERS:
        return checkin.answer(CheckInAnswer(action), now)
    if action in TOPIC_ACTIONS:
        return checkin.topic_resources(action)
    return checkin.follow_on(FollowOn(action), now, tz, quiet)


def activate(tx: Session, person_id: int, row: GuideSession, now: datetime) -> None:
    """Make `row` the person's live session; any other live one is paused, its place kept."""
    for other in repos.open_cases(tx, person_id):
        if other.id != row.id and other.status == "active":
            state = GuideState.from_data(other.state)
            paused = guide.advance(state, guide.Pressed(guide.Action.PAUSE, "", now, "UTC"))
            repos.save_session(tx, other, paused.state.to_data(), now)


class CheckIns:
    """Applies check-in button presses exactly once."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def _case_step(
        self, tx: Session, row: FollowUp, intent: OpenCase | CloseCase, now: datetime, tz: str
    ) -> list[Outgoing]:
        session = repos.get_session(tx, row.session_id)
        if session is None:
            return []
        state = GuideState.from_data(session.state)
        if isinstance(intent, CloseCase):
            step = guide.close(state)
            repos.cancel_follow_ups(tx, row.session_id)
        else:
            activate(tx, row.person_id, session, now)
            step = guide.open_at(state, intent.view)
        repos.save_session(tx, session, step.state.to_data(), now)
        assert session.id is not None
        sid, version = session.id, session.version

        def data_for(button: Button) -> str:
            return guide_data(sid, version, button.action, button.arg)

        outs = (self.svc.renderer.render(i, data_for, tz) for i in step.intents)
        return [o for o in outs if o is not None and not isinstance(intent, CloseCase)]

    def _apply(
        self,
        tx: Session,
        press: CheckInButton,
        user_id: int,
        now: datetime,
        tz: str,
    ) -> tuple[str | None, list[Outgoing], list[tuple[int, datetime]], bool]:
        row = repos.get_follow_up(tx, press.follow_up_id, lock=True)
        known = (
            press.answer in ANSWERS
            or press.answer in set(FollowOn)
            or (press.answer in TOPIC_ACTIONS)
        )
        if row is None or row.person_id != user_id or not known:
            return "button.stale", [], [], False
        if not allowed(press.answer, Stage(row.status)):
            return "checkin.stale", [], [], False
        intents = intents_for(press.answer, now, tz, quiet_window(self.svc, tx, user_id))
        outs: list[Outgoing] = []
        for intent in intents:
            if isinstance(intent, RecordOutcome):
                assert row.id is not None
                repos.settle(tx, row.id, Stage.ANSWERED, None, outcome=intent.outcome)
            elif isinstance(intent, OpenCase | CloseCase):
                outs += self._case_step(tx, row, intent, now, tz)
            else:
                out = self.svc.renderer.render(intent, lambda b: self._data(row, b), tz)
                if out is not None:
                    outs.append(out)
        armed = persist_intents(
            self.svc, tx, intents, person_id=user_id, session_id=row.session_id, now=now
        )
        raised = any(isinstance(i, AlertCoordinators) for i in intents)
        return None, outs, armed, raised

    @staticmethod
    def _data(row: FollowUp, button: Button) -> str:
        return checkin_data(row.id or 0, button.action)

    async def answer(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, press: CheckInButton
    ) -> None:
        """Apply one press on a check-in message."""
        query, user = update.callback_query, update.effective_user
        assert query is not None
        assert user is not None
        svc, now = self.svc, self.svc.clock.now()
        tz = svc.timezone_of(user.id)
        with svc.db.transaction() as tx:
            if not repos.mark_update(tx, update.update_id, now):
                await query.answer()
                return
            stale, outs, armed, raised = self._apply(tx, press, user.id, now, tz)
        if stale is not None:
            await query.answer(svc.renderer.text(stale))
            return
        for follow_up_id, due_at in armed:
            svc.followups.arm(follow_up_id, due_at)
        await query.answer()
        edit_id = query.message.message_id if query.message else None
        await messenger.deliver(context.bot, user.id, outs, edit_id=edit_id)
        if edit_id is not None and outs and not outs[0].replace:
            await messenger.strip_buttons(context.bot, user.id, edit_id)
        log.info("checkin_pressed followup=%s action=%s", press.follow_up_id, press.answer)
        if raised:
            await svc.alerts.run_once()


def case_list(svc: Services, user_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """/cases: each open case with its step and next check-in, and what can be done with it."""
    text = svc.renderer.text
    tz = svc.timezone_of(user_id)
    with svc.db.transaction() as tx:
        cases = [
            (row, repos.next_check_in(tx, row.id or 0)) for row in repos.open_cases(tx, user_id)
        ]
    if not cases:
        return text("cases.none"), None
    lines, rows = [text("cases.header")], []
    for row, due in cases:
        state = GuideState.from_data(row.state)
        lines.append(
            text(
                "cases.line",
                id=row.id,
                label=html.escape(row.label or text("cases.no_label")),
                step=state.step_number,
                title=html.escape(svc.renderer.catalog.steps[state.stage.value].title),
                state=text(f"cases.state.{state.status}"),
                next=format_time(due, tz, svc.renderer.catalog.messages["format.when"])
                if due
                else text("cases.no_check_in"),
            )
        )
        rows.append(
            [
                InlineKeyboardButton(
                    text(f"btn.case.{a}", id=row.id), callback_data=case_data(row.id or 0, a)
                )
                for a in ("resume", "plan", "close")
            ]
        )
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def on_case_button(
    svc: Services, update: Update, context: ContextTypes.DEFAULT_TYPE, press: CaseButton
) -> None:
    """Resume, plan a check-in for, or close a case from /cases."""
    query, user = update.callback_query, update.effective_user
    assert query is not None
    assert user is not None
    now, tz = svc.clock.now(), svc.timezone_of(user.id)
    with svc.db.transaction() as tx:
        if not repos.mark_update(tx, update.update_id, now):
            await query.answer()
            return
        session = repos.get_session(tx, press.session_id)
        if (
            session is None
            or session.person_id != user.id
            or session not in repos.open_cases(tx, user.id)
        ):
            outs = None
        else:
            state = GuideState.from_data(session.state)
            if press.action == "close":
                step = guide.close(state)
                repos.cancel_follow_ups(tx, session.id or 0)
            else:
                activate(tx, user.id, session, now)
                step = guide.open_at(state, "plan" if press.action == "plan" else "")
            repos.save_session(tx, session, step.state.to_data(), now)
            sid, version = session.id or 0, session.version

            def data_for(button: Button) -> str:
                return guide_data(sid, version, button.action, button.arg)

            rendered = (svc.renderer.render(i, data_for, tz) for i in step.intents)
            outs = [o for o in rendered if o is not None]
    if outs is None:
        await query.answer(svc.renderer.text("button.stale"))
        return
    await query.answer()
    card_id = await messenger.deliver(context.bot, user.id, outs)
    if card_id is not None:
        with svc.db.transaction() as tx:
            repos.set_card(tx, press.session_id, card_id)

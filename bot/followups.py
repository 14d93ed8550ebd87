"""Follow-up pings: rows are the truth, APScheduler jobs the trigger; claim, send, then mark."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlmodel import Session
from telegram import Bot, Update
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import messenger
from bot.alerts import AlertDesk
from bot.callbacks import CheckInButton, checkin_data
from bot.clock import Clock
from bot.guide_runner import persist_intents
from bot.render import Outgoing, Renderer
from bot.settings import Settings
from flows import checkin
from flows.checkin import CheckInAnswer
from flows.intents import AlertCoordinators, Button, Intent, RecordOutcome
from storage import repos
from storage.db import Database
from storage.repos import FollowUpStatus

log = logging.getLogger(__name__)

LATE_AFTER = timedelta(minutes=5)
RETRY_AFTER = timedelta(minutes=1)


def job_id(follow_up_id: int) -> str:
    """The scheduler job id for a follow-up row."""
    return f"followup:{follow_up_id}"


class FollowUps:
    """Arms, fires and answers follow-up check-ins."""

    def __init__(
        self,
        db: Database,
        scheduler: AsyncIOScheduler,
        clock: Clock,
        renderer: Renderer,
        settings: Settings,
        desk: AlertDesk,
    ) -> None:
        self.db = db
        self.scheduler = scheduler
        self.clock = clock
        self.renderer = renderer
        self.settings = settings
        self.bot: Bot | None = None
        self.start_paused = False
        self.desk = desk

    def arm(self, follow_up_id: int, due_at: datetime) -> None:
        """Add (or move) the job that fires a follow-up; never dropped for being late."""
        self.scheduler.add_job(
            self.fire,
            "date",
            run_date=due_at,
            args=[follow_up_id],
            id=job_id(follow_up_id),
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
        )

    def reconcile(self) -> int:
        """Make the jobs match the rows: one job per pending row, none without a row."""
        with self.db.transaction() as tx:
            released = repos.release_claimed(tx)
            if released:
                log.warning("followups_released_after_crash count=%s", released)
            pending = {row.id: row.due_at for row in repos.pending_follow_ups(tx)}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("followup:") and int(job.id.split(":")[1]) not in pending:
                job.remove()
        for follow_up_id, due_at in pending.items():
            assert follow_up_id is not None
            self.arm(follow_up_id, due_at)
        log.info("followups_reconciled pending=%s", len(pending))
        return len(pending)

    def _timezone(self, person_id: int) -> str:
        with self.db.transaction() as tx:
            return repos.timezone_of(tx, person_id, self.settings.timezone)

    async def fire(self, follow_up_id: int) -> None:
        """Send a due check-in exactly once: claim the row, send, then mark it sent."""
        now = self.clock.now()
        with self.db.transaction() as tx:
            row = repos.claim_follow_up(tx, follow_up_id, now)
            if row is None:
                return
            person_id, due_at = row.person_id, row.due_at
        intent = checkin.ping(late=now - due_at > LATE_AFTER)

        def data_for(button: Button) -> str:
            return checkin_data(follow_up_id, button.action)

        out = self.renderer.say(intent, data_for, self._timezone(person_id))
        assert self.bot is not None
        try:
            message = await messenger.send(self.bot, person_id, out)
        except (Forbidden, BadRequest) as exc:
            log.warning(
                "followup_undeliverable followup=%s error=%s", follow_up_id, type(exc).__name__
            )
            self._mark(follow_up_id, FollowUpStatus.FAILED)
            return
        except TelegramError as exc:
            log.warning(
                "followup_send_failed followup=%s error=%s; retrying",
                follow_up_id,
                type(exc).__name__,
            )
            self._mark(follow_up_id, FollowUpStatus.PENDING)
            self.arm(follow_up_id, now + RETRY_AFTER)
            return
        with self.db.transaction() as tx:
            repos.mark_follow_up(
                tx, follow_up_id, FollowUpStatus.SENT, message_id=message.message_id, sent_at=now
            )
        log.info("followup_sent followup=%s late=%s", follow_up_id, intent.notice is not None)

    def _mark(self, follow_up_id: int, status: str) -> None:
        with self.db.transaction() as tx:
            repos.mark_follow_up(tx, follow_up_id, status)

    def _apply(
        self, tx: Session, press: CheckInButton, user_id: int, now: datetime
    ) -> tuple[str | None, tuple[Intent, ...], list[tuple[int, datetime]]]:
        """Record an answer; returns a stale-message key instead when the button is not live."""
        row = repos.get_follow_up(tx, press.follow_up_id, lock=True)
        choices = {c.value for c in CheckInAnswer}
        if row is None or row.person_id != user_id or press.answer not in choices:
            return "button.stale", (), []
        if row.status != FollowUpStatus.SENT:
            return "checkin.stale", (), []
        intents = checkin.answer(CheckInAnswer(press.answer), now)
        for intent in intents:
            if isinstance(intent, RecordOutcome):
                repos.mark_follow_up(
                    tx, row.id or 0, FollowUpStatus.ANSWERED, outcome=intent.outcome
                )
        armed = persist_intents(
            tx, intents, person_id=user_id, session_id=row.session_id, now=now, desk=self.desk
        )
        return None, intents, armed

    async def answer(self, update: Update, press: CheckInButton) -> None:
        """Apply a check-in answer once; a stale or foreign button changes nothing."""
        assert update.callback_query is not None
        assert update.effective_user is not None
        query, user_id, now = update.callback_query, update.effective_user.id, self.clock.now()
        tz = self._timezone(user_id)
        with self.db.transaction() as tx:
            if not repos.mark_update(tx, update.update_id, now):
                stale: str | None = ""
            else:
                stale, intents, armed = self._apply(tx, press, user_id, now)
        if stale is not None:
            await query.answer(self.renderer.text(stale) if stale else None)
            return
        for follow_up_id, due_at in armed:
            self.arm(follow_up_id, due_at)
        await query.answer()
        outs = [self.renderer.render(i, lambda b: "", tz) for i in intents]
        edit_id = query.message.message_id if query.message else None
        assert self.bot is not None
        sendable = [o for o in outs if isinstance(o, Outgoing)]
        await messenger.deliver(self.bot, user_id, sendable, edit_id=edit_id)
        if edit_id is not None and not sendable[0].replace:
            await messenger.strip_buttons(self.bot, user_id, edit_id)
        log.info("checkin_answered followup=%s outcome=%s", press.follow_up_id, press.answer)
        if any(isinstance(i, AlertCoordinators) for i in intents):
            await self.desk.run_once()

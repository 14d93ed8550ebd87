"""Follow-up delivery: rows are the truth; one APScheduler job, armed at the earliest due row,
is the trigger. Each due row is claimed, acted on (ping, reminder, coordinator notice), settled."""

from __future__ import annotations

import asyncio
import html
import logging
from dataclasses import replace
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError

from bot import messenger
from bot.callbacks import checkin_data
from bot.clock import Clock
from bot.render import Renderer
from bot.settings import Settings
from flows import checkin
from flows.alerts import Policy
from flows.followup import DONE, RELEASE, RETRY_AFTER, Stage, Timing, is_late
from flows.intents import Button
from storage import alert_repo, repos
from storage.db import Database
from storage.models import FollowUp

log = logging.getLogger(__name__)

TRIGGER = "followups:next"
STALE_CLAIM = timedelta(minutes=2)  # a batch takes seconds; an older claim's sender has died
BATCH = 500
PARALLEL = 100


class FollowUps:
    """Arms the trigger, fires due follow-ups exactly once, and keeps them moving."""

    def __init__(
        self,
        db: Database,
        scheduler: AsyncIOScheduler,
        clock: Clock,
        renderer: Renderer,
        settings: Settings,
        policy: Policy,
    ) -> None:
        self.db, self.scheduler, self.clock = db, scheduler, clock
        self.renderer, self.settings, self.policy = renderer, settings, policy
        self.timing = Timing(
            timedelta(hours=settings.remind_after_hours),
            timedelta(hours=settings.overdue_after_hours),
        )
        self.bot: Bot | None = None
        self.start_paused = False
        self._gate = asyncio.Semaphore(PARALLEL)

    # ---- the trigger ----

    def arm(self, follow_up_id: int, due_at: datetime) -> None:
        """A follow-up was scheduled: make sure the trigger fires no later than its time."""
        job = self.scheduler.get_job(TRIGGER)
        if job is None or job.next_run_time is None or job.next_run_time > due_at:
            self._set_trigger(due_at)

    def _set_trigger(self, at: datetime) -> None:
        self.scheduler.add_job(
            self.fire_due,
            "date",
            run_date=max(at, self.clock.now()),
            id=TRIGGER,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
        )

    def reconcile(self) -> datetime | None:
        """At start-up: release abandoned claims, then arm the trigger."""
        self._release_stale()
        return self.rearm()

    def _release_stale(self) -> None:
        """Claims older than a send could take were left by a process that died."""
        with self.db.transaction() as tx:
            released = repos.release_claimed(tx, self.clock.now(), STALE_CLAIM)
        if released:
            log.warning("followups_released_after_crash count=%s", released)

    def rearm(self) -> datetime | None:
        """Make the trigger match the rows: armed at the earliest due action (at once if it is
        already late), or removed if there is none."""
        with self.db.transaction() as tx:
            wake = repos.next_wake(tx)
            oldest_claim = repos.oldest_claim(tx)
        if oldest_claim is not None:  # come back when that claim would count as abandoned
            stale_at = oldest_claim + STALE_CLAIM
            wake = stale_at if wake is None else min(wake, stale_at)
        if wake is None:
            if self.scheduler.get_job(TRIGGER) is not None:
                self.scheduler.remove_job(TRIGGER)
        else:
            self._set_trigger(wake)
        log.info("followups_armed next=%s", wake.isoformat() if wake else None)
        return wake

    # ---- firing ----

    async def fire_due(self) -> int:
        """Act on every due follow-up, in batches, then re-arm the trigger."""
        self._release_stale()
        done = 0
        while True:
            now = self.clock.now()
            with self.db.transaction() as tx:
                rows = repos.claim_due(tx, now, BATCH)
                zones, labels = repos.claim_context(tx, rows, self.settings.timezone)
                batch = [_Claim(row, zones[row.person_id], labels[row.session_id]) for row in rows]
            if not batch:
                break
            outcomes = await asyncio.gather(*(self._act(claim, now) for claim in batch))
            with self.db.transaction() as tx:  # one commit for the whole batch
                repos.settle_many(
                    tx,
                    [
                        {"id": claim.id, "status": stage, "next_action_at": at, **fields}
                        for claim, (stage, at, fields) in zip(batch, outcomes, strict=True)
                    ],
                )
            done += sum(1 for stage, _, _ in outcomes if stage in DONE.values())
        self.rearm()
        return done

    async def _act(
        self,
        claim: _Claim,
        now: datetime,
    ) -> tuple[Stage, datetime | None, dict[str, object]]:
        """Send one ping, reminder or notice; returns where the row goes next."""
        async with self._gate:
            try:
                message_id = await self._send(claim, now)
            except (Forbidden, BadRequest) as exc:
                log.warning(
                    "followup_undeliverable followup=%s error=%s", claim.id, type(exc).__name__
                )
                return Stage.FAILED, None, {}
            except TelegramError as exc:
                log.warning(
                    "followup_send_failed followup=%s error=%s; retrying",
                    claim.id,
                    type(exc).__name__,
                )
                return RELEASE[claim.stage], now + RETRY_AFTER, {}
        stage = DONE[claim.stage]
        fields: dict[str, object] = (
            {"message_id": message_id, "sent_at": now}
            if stage is Stage.SENT
            else {"reminded_at": now}
            if stage is Stage.REMINDED
            else {"overdue_at": now}
        )
        log.info("followup_%s followup=%s", stage, claim.id)
        return stage, self.timing.next_action(stage, now), fields

    async def _send(self, claim: _Claim, now: datetime) -> int | None:
        assert self.bot is not None
        if claim.stage is Stage.NOTIFYING:
            await self._notify_coordinators(claim, now)
            return None
        intent = checkin.ping(
            late=claim.stage is Stage.CLAIMED and is_late(claim.due_at, now),
            reminder=claim.stage is Stage.REMINDING,
        )

        def data_for(button: Button) -> str:
            return checkin_data(claim.id, button.action)

        params = {"case": claim.session_id, "label": html.escape(claim.label or "")}
        out = self.renderer.say(replace(intent, params=params), data_for, claim.tz)
        message = await messenger.send(self.bot, claim.person_id, out)
        return message.message_id

    async def _notify_coordinators(self, claim: _Claim, now: datetime) -> None:
        """Tell the on-duty coordinators, calmly, that a check-in has gone unanswered."""
        assert self.bot is not None
        with self.db.transaction() as tx:
            recipients = self.policy.recipients(
                1, alert_repo.off_duty(tx, self.policy.coordinators)
            )
            name = alert_repo.display_name(tx, claim.person_id)
        hours = int((now - claim.due_at).total_seconds() // 3600)
        text = self.renderer.text(
            "followup.overdue_notice",
            case=claim.session_id,
            hours=hours,
            supporter=html.escape(name or self.renderer.text("alert.someone")),
            supporter_id=claim.person_id,
        )
        if not recipients:
            log.error("followup_overdue_no_coordinator followup=%s", claim.id)
            return
        reached, transient = 0, False
        for coordinator in recipients:  # one unreachable coordinator must not silence the rest
            try:
                await self.bot.send_message(coordinator, text, parse_mode=ParseMode.HTML)
                reached += 1
            except (Forbidden, BadRequest):
                log.warning(
                    "followup_overdue_unreachable followup=%s coordinator=%s",
                    claim.id,
                    coordinator,
                )
            except TelegramError:
                transient = True
        if not reached and transient:
            raise NetworkError("no coordinator reached yet")  # retried in a minute


class _Claim:
    """What a sender needs from a claimed row, read inside the claiming transaction."""

    __slots__ = ("id", "person_id", "session_id", "due_at", "stage", "tz", "label")

    def __init__(self, row: FollowUp, tz: str, label: str | None) -> None:
        assert row.id is not None
        self.id, self.person_id, self.session_id = row.id, row.person_id, row.session_id
        self.due_at, self.stage = row.due_at, Stage(row.status)
        self.tz, self.label = tz, label

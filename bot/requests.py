"""The request desk: a requester's intake, offers down the ranked list with timeouts, hand
assignment, the connection that opens the supporter's guided session, ending, rating, reach-in
referrals, /forgetme and the waiting-time deadline. Writes in one transaction, then sends."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import messenger
from bot.alerts import AlertDesk
from bot.callbacks import guide_data, offer_data, request_data
from bot.checkins import activate
from bot.clock import Clock
from bot.followups import FollowUps
from bot.render import Outgoing, Renderer
from bot.settings import Settings
from flows import guide, intake, matching
from flows.cascade import (
    RATINGS,
    RELAY_KEEP,
    WAITING,
    HandOver,
    Offer,
    RequestStatus,
    Timing,
    contact_times,
    next_step,
    request_from,
    sla_due,
)
from flows.crisis import RiskLevel, TextSignal
from flows.followup import outside_quiet_hours, parse_quiet_hours
from flows.intake import Field, IntakeState, SubmitRequest
from flows.intents import AlertCoordinators, Button, Intent, ShowResources, Urgency
from storage import repos
from storage import request_repo as rr
from storage.db import Database
from storage.models import Person, SupportRequest

log = logging.getLogger(__name__)

REFERRAL_DAYS = 7
CHECKIN_AFTER = timedelta(days=2)
IDLE_WAIT = 30.0
PRESSED = -1  # Send.edit_id meaning "the message whose button was pressed"


@dataclass
class Send:
    """One message to send after the transaction commits, and what to remember about it."""

    chat_id: int
    out: Outgoing | None = None
    edit_id: int | None = None  # edit this message instead of sending a new one
    copy_of: tuple[int, int] | None = None  # (chat, message) to copy without its sender
    reply_to: int | None = None
    relay_for: int | None = None  # record the new message as part of this request's thread
    offer_for: int | None = None  # record the new message as this request's offer
    card_of: int | None = None  # record the new message as this guide session's card
    relay_sender: int | None = None  # a relayed copy for this request: tell its sender if lost


@dataclass
class Outcome:
    """What a desk action decided: the messages to send, a toast, and whether to wake alerts."""

    sends: list[Send] = field(default_factory=list)
    toast: str | None = None
    alerted: bool = False
    armed: list[tuple[int, datetime]] = field(default_factory=list)


def assignable(row: SupportRequest) -> bool:
    """A coordinator may assign a request that is waiting, or one still in intake whose
    requester said they may not be safe (someone must be able to reach them now)."""
    if row.requester_id is None:
        return False
    return row.status in WAITING or (row.status == RequestStatus.INTAKE and row.unsafe)


def timing_from(settings: Settings) -> Timing:
    """Offer and deadline durations configured for this programme."""
    return Timing(
        offer=timedelta(minutes=settings.offer_minutes),
        urgent_offer=timedelta(minutes=settings.urgent_offer_minutes),
        sla=timedelta(hours=settings.sla_hours),
        urgent_sla=timedelta(hours=settings.urgent_sla_hours),
    )


def supporter_of(person: Person, open_cases: int, default_tz: str) -> matching.Supporter:
    """A supporter's profile as matching reads it."""
    stage = person.stage if person.stage in set(matching.TrainingStage) else "other"
    return matching.Supporter(
        id=person.id,
        stage=matching.TrainingStage(stage),
        languages=frozenset(person.languages or ["en"]),
        topics=frozenset(person.topics or []),
        department=person.department,
        timezone=person.timezone or default_tz,
        hours=parse_quiet_hours(person.hours) if person.hours else None,
        max_cases=person.max_cases,
        open_cases=open_cases,
        available=person.available,
        last_assigned_at=person.last_assigned_at,
    )


class RequestDesk:
    """Applies requester and supporter actions on requests, exactly once, and sends the result."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        renderer: Renderer,
        settings: Settings,
        alerts: AlertDesk,
        followups: FollowUps,
    ) -> None:
        self.db, self.clock, self.renderer, self.settings = db, clock, renderer, settings
        self.alerts, self.followups = alerts, followups
        self.timing = timing_from(settings)
        self.bot: Bot | None = None
        self._wake = asyncio.Event()

    # ---- text helpers ----

    def text(self, key: str, **params: object) -> str:
        """A message by key."""
        return self.renderer.text(key, **params)

    def _answers(self, row: SupportRequest) -> dict[str, str]:
        return {f: v for f, v in row.intake.get("answers", ())}

    def describe(self, row: SupportRequest) -> dict[str, str]:
        """The request as labels (stage, topic, language, how soon, how) — never who."""
        answers = self._answers(row)

        def label(name: Field, fallback: str = "other") -> str:
            return self.text(f"btn.intake.{name}.{answers.get(name, fallback)}")

        return {
            "stage": label(Field.STAGE),
            "topic": label(Field.TOPIC),
            "language": label(Field.LANGUAGE, "en"),
            "soon": self.text("request.urgent") if row.urgent else label(Field.URGENCY, "week"),
            "mode": label(Field.MODE, "anonymous"),
        }

    def _say(self, row: SupportRequest, intents: Sequence[Intent | SubmitRequest]) -> list[Send]:
        assert row.id is not None
        assert row.requester_id is not None
        rid = row.id

        def data_for(button: Button) -> str:
            return request_data(rid, button.action, button.arg)

        sends = []
        for intent in intents:
            if isinstance(intent, SubmitRequest):
                continue
            out = self.renderer.render(intent, data_for, self.settings.timezone)
            if out is not None:
                sends.append(Send(row.requester_id, out))
        return sends

    def _buttons(self, rid: int, field_name: str, values: Sequence[str]) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        self.text(f"btn.request.{field_name}.{v}"),
                        callback_data=request_data(rid, field_name, v),
                    )
                    for v in values
                ]
            ]
        )

    def intro(self) -> Outgoing:
        """What the bot is, with the button that starts a request."""
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        self.text("btn.request.start.talk"),
                        callback_data=request_data(0, "start", "talk"),
                    )
                ]
            ]
        )
        return Outgoing(self.text("start.visitor"), markup)

    # ---- intake ----

    def begin(
        self,
        tx: Session,
        user_id: int,
        referral: str | None = None,
        signal: TextSignal | None = None,
        *,
        resources_shown: bool = False,
    ) -> Outcome:
        """Start intake (or say where the live request stands); risky text goes in at once
        (`resources_shown`: the caller already sent the crisis resources)."""
        now = self.clock.now()
        row = rr.live_for(tx, user_id)
        if row is not None and row.status != RequestStatus.INTAKE:
            return Outcome([Send(user_id, Outgoing(self.text(f"request.already.{row.status}")))])
        if row is None:
            step = intake.start()
            row = rr.create(tx, user_id, step.state.to_data(), referral, now)
            log.info("request_opened request=%s referral=%s", row.id, referral is not None)
        else:
            state = IntakeState.from_data(row.intake)
            step = intake.Step(state, (intake.question(state.asking),) if state.asking else ())
        outcome = Outcome(self._say(row, step.intents))
        if signal is not None and signal.level is not RiskLevel.NONE:
            more = self._intake_event(
                tx,
                row,
                intake.Wrote(signal.level, signal.trigger, now),
                user_id,
                resources_shown=resources_shown,
            )
            outcome = Outcome(more.sends, alerted=more.alerted)
        return outcome

    def _intake_event(
        self,
        tx: Session,
        row: SupportRequest,
        event: intake.Chose | intake.Wrote,
        user_id: int,
        *,
        resources_shown: bool = False,
    ) -> Outcome:
        assert row.id is not None
        now = self.clock.now()
        state = IntakeState.from_data(row.intake)
        step = intake.advance(state, event)
        if resources_shown:
            kept = tuple(i for i in step.intents if not isinstance(i, ShowResources))
            step = intake.Step(step.state, kept)
        outcome = Outcome()
        for item in step.intents:
            if isinstance(item, AlertCoordinators):
                outcome.alerted = self._alert(tx, row, item.level, item.trigger)
        row.intake, row.unsafe = step.state.to_data(), step.state.unsafe
        outcome.sends += self._say(row, step.intents)
        submit = next((i for i in step.intents if isinstance(i, SubmitRequest)), None)
        if submit is not None:
            row.status, row.urgent, row.submitted_at = RequestStatus.SEARCHING, submit.urgent, now
            row.sla_due_at = sla_due(now, submit.urgent, self.timing)
            log.info("request_submitted request=%s urgent=%s", row.id, submit.urgent)
            more = self._cascade(tx, row)
            outcome.sends += more.sends
            outcome.alerted |= more.alerted
        rr.save(tx, row)
        return outcome

    def answer(self, tx: Session, user_id: int, rid: int, name: str, value: str) -> Outcome:
        """An intake button."""
        row = rr.get(tx, rid, lock=True)
        if (
            row is None
            or row.requester_id != user_id
            or row.status != RequestStatus.INTAKE
            or name not in set(Field)
        ):
            return Outcome(toast=self.text("button.stale"))
        return self._intake_event(
            tx, row, intake.Chose(Field(name), value, self.clock.now()), user_id
        )

    def wrote(
        self,
        tx: Session,
        row: SupportRequest,
        user_id: int,
        signal: TextSignal,
        *,
        resources_shown: bool = False,
    ) -> Outcome:
        """Typing while the request is in intake or waiting: read only for crisis language."""
        now = self.clock.now()
        if row.status == RequestStatus.INTAKE:
            return self._intake_event(
                tx,
                row,
                intake.Wrote(signal.level, signal.trigger, now),
                user_id,
                resources_shown=resources_shown,
            )
        if signal.level is RiskLevel.NONE:
            return Outcome([Send(user_id, Outgoing(self.text(f"request.already.{row.status}")))])
        urgency = Urgency.ACUTE if signal.level is RiskLevel.HIGH else Urgency.NON_ACUTE
        resources = self.renderer.resources(urgency, for_self=True)
        shown = [] if resources_shown else [Send(user_id, resources)]
        outcome = Outcome(shown)
        assert row.id is not None
        outcome.alerted = self._alert(tx, row, urgency, f"text_{signal.trigger or signal.level}")
        if not row.urgent:  # a request that turns urgent gets the faster clock
            row.urgent, row.unsafe = True, True
            if row.submitted_at is not None:
                row.sla_due_at = sla_due(row.submitted_at, True, self.timing)
            rr.save(tx, row)
        outcome.sends.append(Send(user_id, Outgoing(self.text("intake.someone_will_reach_out"))))
        return outcome

    def _alert(self, tx: Session, row: SupportRequest, level: str, trigger: str) -> bool:
        """Raise a coordinator alert about a requester (in the caller's transaction)."""
        self.alerts.raise_alert(
            tx,
            person_id=row.requester_id or 0,
            session_id=None,
            level=level,
            trigger=trigger,
            request_id=row.id,
        )
        return True

    @staticmethod
    def _urgency(row: SupportRequest) -> Urgency:
        return Urgency.ACUTE if row.urgent else Urgency.NON_ACUTE

    # ---- the offer cascade ----

    def ranked(self, tx: Session, row: SupportRequest) -> list[matching.Candidate]:
        """Every supporter who may take the request, best first (never the requester)."""
        load = rr.load_by_supporter(tx)
        people = [
            supporter_of(p, load.get(p.id, 0), self.settings.timezone)
            for p in rr.supporters(tx)
            if p.id != row.requester_id
        ]
        request = request_from(row.intake.get("answers", ()))
        return matching.rank(request, people, self.clock.now())

    def _cascade(self, tx: Session, row: SupportRequest) -> Outcome:
        """Offer the request to the best supporter not yet asked, or hand it to coordinators."""
        assert row.id is not None
        assert row.requester_id is not None
        now = self.clock.now()
        decision = next_step(self.ranked(tx, row), row.tried, row.urgent, now, self.timing)
        if isinstance(decision, Offer):
            row.offered_to, row.offer_expires_at = decision.supporter_id, decision.expires_at
            row.offer_message_id = None
            log.info("request_offered request=%s supporter=%s", row.id, decision.supporter_id)
            self._wake.set()
            return Outcome(
                [
                    Send(
                        decision.supporter_id,
                        self._offer(row),
                        offer_for=row.id,
                    )
                ]
            )
        assert isinstance(decision, HandOver)
        row.status, row.offered_to, row.offer_expires_at = RequestStatus.UNASSIGNED, None, None
        self._alert(tx, row, self._urgency(row), "request_unassigned")
        log.warning("request_unassigned request=%s tried=%s", row.id, len(row.tried))
        return Outcome(
            [Send(row.requester_id, Outgoing(self.text("request.handed_over")))], alerted=True
        )

    def _offer(self, row: SupportRequest) -> Outgoing:
        assert row.id is not None
        minutes = int(self.timing.offer_for(row.urgent).total_seconds() // 60)
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        self.text("btn.offer.accept"), callback_data=offer_data(row.id, "accept")
                    ),
                    InlineKeyboardButton(
                        self.text("btn.offer.decline"), callback_data=offer_data(row.id, "decline")
                    ),
                ]
            ]
        )
        key = "offer.urgent" if row.urgent else "offer.text"
        return Outgoing(
            self.text(key, id=row.id, minutes=minutes, **self.describe(row)), markup, is_card=True
        )

    def _retire_offer(self, row: SupportRequest, key: str) -> list[Send]:
        if row.offered_to is None or row.offer_message_id is None:
            return []
        return [
            Send(row.offered_to, Outgoing(self.text(key, id=row.id)), edit_id=row.offer_message_id)
        ]

    def offer_answer(self, tx: Session, user_id: int, rid: int, action: str) -> Outcome:
        """A supporter accepts or declines an offer."""
        row = rr.get(tx, rid, lock=True)
        if row is None or row.status != RequestStatus.SEARCHING or row.offered_to != user_id:
            return Outcome(toast=self.text("offer.gone"))
        if action == "decline":
            sends = self._retire_offer(row, "offer.declined")
            row.tried = [*row.tried, user_id]
            log.info("request_declined request=%s supporter=%s", rid, user_id)
            more = self._cascade(tx, row)
            rr.save(tx, row)
            return Outcome(sends + more.sends, alerted=more.alerted)
        sends = self._retire_offer(row, "offer.accepted")
        more = self._connect(tx, row, user_id)
        return Outcome(sends + more.sends, alerted=more.alerted)

    def skip(self, rid: int, supporter_id: int) -> Outcome:
        """An offer could not be delivered (the supporter blocked the bot): ask the next one."""
        with self.db.transaction() as tx:
            row = rr.get(tx, rid, lock=True)
            if row is None or row.status != RequestStatus.SEARCHING:
                return Outcome()
            if row.offered_to != supporter_id:
                return Outcome()
            row.tried = [*row.tried, supporter_id]
            outcome = self._cascade(tx, row)
            rr.save(tx, row)
            return outcome

    # ---- connection ----

    def _connect(
        self, tx: Session, row: SupportRequest, supporter_id: int, by: int | None = None
    ) -> Outcome:
        """The supporter takes the request: a guided session opens for it, both sides are told."""
        assert row.id is not None
        assert row.requester_id is not None
        now = self.clock.now()
        row.status, row.supporter_id, row.accepted_at = RequestStatus.CONNECTED, supporter_id, now
        row.offered_to = row.offer_expires_at = row.sla_due_at = None
        row.intake = {k: v for k, v in row.intake.items() if k != "share"}  # consent is per pair
        person = repos.get_person(tx, supporter_id) or repos.enrol(
            tx, supporter_id, "coordinator", now
        )
        person.last_assigned_at = now
        tx.add(person)
        step = guide.start()
        session = repos.new_session(tx, supporter_id, step.state.to_data(), now)
        assert session.id is not None
        activate(tx, supporter_id, session, now)
        repos.set_label(tx, session.id, self.text("request.case_label", id=row.id))
        row.session_id = session.id
        rr.save(tx, row)
        sid, version = session.id, session.version

        def data_for(button: Button) -> str:
            return guide_data(sid, version, button.action, button.arg)

        about = self.describe(row)
        contacts = self._answers(row).get(Field.MODE) == "contacts"
        intro = self.text("relay.intro_supporter", id=row.id, case=sid, **about)
        if row.referral:
            intro += "\n\n" + self.text("relay.referral_note")
        if row.unsafe:
            intro += "\n\n" + self.text("relay.unsafe_note")
        share = self._buttons(row.id, "share", ("yes",)) if contacts else None
        sends = [Send(supporter_id, Outgoing(intro, share), relay_for=row.id)]
        tz = repos.timezone_of(tx, supporter_id, self.settings.timezone)
        for intent in step.intents:
            out = self.renderer.render(intent, data_for, tz)
            if out is not None:
                sends.append(Send(supporter_id, out, card_of=sid))
        if person.role == "coordinator":
            stage = self.text("relay.staff_label")
        else:
            stage = self.text(f"btn.intake.stage.{person.stage or 'other'}")
        sends.append(
            Send(
                row.requester_id,
                Outgoing(self.text("relay.intro_requester", stage=stage), share),
            )
        )
        log.info(
            "request_connected request=%s supporter=%s session=%s by=%s wait_s=%s",
            row.id,
            supporter_id,
            sid,
            by,
            contact_times(row.submitted_at, now, None).to_accept,
        )
        return Outcome(sends)

    def assign(self, tx: Session, coordinator_id: int, rid: int, target: int) -> Outcome:
        """A coordinator gives a waiting request to a supporter (or takes it)."""
        row = rr.get(tx, rid, lock=True)
        if row is None or not assignable(row):
            return Outcome(
                [Send(coordinator_id, Outgoing(self.text("assign.not_waiting", id=rid)))]
            )
        person = repos.get_person(tx, target)
        staff = target == coordinator_id or target in self.settings.coordinator_ids
        if not staff and (person is None or person.role != "supporter"):
            return Outcome([Send(coordinator_id, Outgoing(self.text("assign.not_supporter")))])
        if target == row.requester_id:
            return Outcome([Send(coordinator_id, Outgoing(self.text("assign.not_supporter")))])
        sends = self._retire_offer(row, "offer.taken")
        more = self._connect(tx, row, target, by=coordinator_id)
        sends += more.sends
        sends.append(Send(coordinator_id, Outgoing(self.text("assign.done", id=rid))))
        return Outcome(sends)

    def share(self, tx: Session, user_id: int, rid: int) -> Outcome:
        """One side agrees to share contacts; once both have, each gets the other's link."""
        row = rr.get(tx, rid, lock=True)
        if (
            row is None
            or row.status != RequestStatus.CONNECTED
            or user_id
            not in (
                row.requester_id,
                row.supporter_id,
            )
        ):
            return Outcome(toast=self.text("button.stale"))
        assert row.requester_id is not None
        assert row.supporter_id is not None
        agreed = set(row.intake.get("share", []))
        agreed.add("requester" if user_id == row.requester_id else "supporter")
        row.intake = {**row.intake, "share": sorted(agreed)}
        rr.save(tx, row)
        if agreed != {"requester", "supporter"}:
            return Outcome(toast=self.text("share.waiting"))
        return Outcome(
            [
                Send(
                    row.requester_id, Outgoing(self.text("share.link", user_id=row.supporter_id))
                ),
                Send(
                    row.supporter_id, Outgoing(self.text("share.link", user_id=row.requester_id))
                ),
            ],
            toast=self.text("share.done"),
        )

    # ---- ending, rating, check-in ----

    def end(self, tx: Session, row: SupportRequest, by: int) -> Outcome:
        """Either side ends the conversation; the requester may rate it and ask for a check-in."""
        assert row.id is not None
        assert row.requester_id is not None
        row.status, row.ended_at = RequestStatus.ENDED, self.clock.now()
        rr.save(tx, row)
        log.info(
            "request_ended request=%s by=%s",
            row.id,
            "requester" if by == row.requester_id else "supporter",
        )
        rate = self._buttons(row.id, "rate", RATINGS)
        sends = [
            Send(row.requester_id, Outgoing(self.text("relay.ended_requester"), rate)),
        ]
        if row.supporter_id is not None:
            sends.append(
                Send(
                    row.supporter_id,
                    Outgoing(self.text("relay.ended_supporter", id=row.id, case=row.session_id)),
                )
            )
        return Outcome(sends)

    @staticmethod
    def _ended(tx: Session, user_id: int, rid: int, now: datetime) -> SupportRequest | None:
        """The requester's own ended request, locked; None for anyone else's, a live one, or one
        ended so long ago that a check-in could no longer go through the relay."""
        row = rr.get(tx, rid, lock=True)
        if row is None or row.requester_id != user_id or row.status != RequestStatus.ENDED:
            return None
        if row.ended_at is not None and row.ended_at < now - RELAY_KEEP:
            return None
        return row

    def rate(self, tx: Session, user_id: int, rid: int, value: str) -> Outcome:
        """The requester's rating, then the check-in question in its place."""
        row = self._ended(tx, user_id, rid, self.clock.now())
        if row is None or row.rating is not None or value not in RATINGS:
            return Outcome(toast=self.text("button.stale"))
        row.rating = int(value)
        rr.save(tx, row)
        assert row.id is not None
        markup = self._buttons(row.id, "checkin", ("yes", "no"))
        return Outcome(
            [Send(user_id, Outgoing(self.text("relay.checkin_question"), markup), edit_id=PRESSED)]
        )

    def checkin(self, tx: Session, user_id: int, rid: int, value: str) -> Outcome:
        """Whether the requester would like the supporter to check in; yes plans it."""
        row = self._ended(tx, user_id, rid, self.clock.now())
        if row is None or row.wants_checkin is not None or value not in ("yes", "no"):
            return Outcome(toast=self.text("button.stale"))
        row.wants_checkin = value == "yes"
        rr.save(tx, row)
        outcome = Outcome(
            [Send(user_id, Outgoing(self.text(f"relay.checkin_{value}")), edit_id=PRESSED)]
        )
        if row.wants_checkin and row.supporter_id is not None and row.session_id is not None:
            now = self.clock.now()
            tz = repos.timezone_of(tx, row.supporter_id, self.settings.timezone)
            quiet = parse_quiet_hours(
                repos.quiet_hours_of(tx, row.supporter_id) or self.settings.quiet_hours
            )
            at = outside_quiet_hours(now + CHECKIN_AFTER, tz, quiet)
            follow = repos.schedule_follow_up(
                tx, row.session_id, row.supporter_id, at, now, exact=False
            )
            assert follow.id is not None
            outcome.armed.append((follow.id, follow.due_at))
            outcome.sends.append(
                Send(
                    row.supporter_id,
                    Outgoing(self.text("relay.checkin_wanted", id=row.id, case=row.session_id)),
                )
            )
        return outcome

    # ---- cancel, forget, referrals ----

    def cancel(self, tx: Session, row: SupportRequest) -> Outcome:
        """The requester withdraws a request that is not yet connected."""
        sends = self._retire_offer(row, "offer.withdrawn")
        row.status, row.offered_to, row.offer_expires_at, row.sla_due_at = (
            RequestStatus.CANCELLED,
            None,
            None,
            None,
        )
        row.ended_at = self.clock.now()
        rr.save(tx, row)
        log.info("request_cancelled request=%s", row.id)
        assert row.requester_id is not None
        return Outcome([*sends, Send(row.requester_id, Outgoing(self.text("request.cancelled")))])

    def forget(self, tx: Session, user_id: int) -> Outcome:
        """Delete what we hold about a requester; a live conversation ends first."""
        sends: list[Send] = []
        row = rr.live_for(tx, user_id)
        if row is not None:
            sends += self._retire_offer(row, "offer.withdrawn")
            if row.status == RequestStatus.CONNECTED and row.supporter_id is not None:
                sends.append(
                    Send(
                        row.supporter_id,
                        Outgoing(self.text("relay.forgotten", id=row.id, case=row.session_id)),
                    )
                )
        count = rr.forget(tx, user_id, self.clock.now())
        log.info("requester_forgotten requests=%s", count)
        sends.append(Send(user_id, Outgoing(self.text("forget.done"))))
        return Outcome(sends)

    def redeem_referral(self, tx: Session, user_id: int, code: str) -> Outcome | None:
        """Open intake from a reach-in link; None when the code is not a valid referral."""
        referral = rr.get_referral(tx, code)
        now = self.clock.now()
        if referral is None or referral.used_at is not None or referral.expires_at <= now:
            return None
        live = rr.live_for(tx, user_id)
        if live is not None:  # keep the link for later; say where their request stands
            return self.begin(tx, user_id)
        referral.used_at = now
        tx.add(referral)
        log.info("referral_used by_coordinator=%s", referral.created_by)
        welcome = Send(user_id, Outgoing(self.text("referral.welcome")))
        outcome = self.begin(tx, user_id, referral=code)
        outcome.sends.insert(0, welcome)
        return outcome

    def relay_failed(self, rid: int, recipient: int, *, reason: str) -> Outcome:
        """A relayed message did not arrive (`reason`: blocked, uncopyable or network). The
        sender is told; a supporter who has blocked the bot gives the request back to the
        coordinators."""
        with self.db.transaction() as tx:
            row = rr.get(tx, rid, lock=True)
            if row is None or row.requester_id is None or row.supporter_id is None:
                return Outcome()
            log.warning("relay_undelivered request=%s reason=%s", rid, reason)
            if reason != "blocked":
                sender = row.supporter_id if recipient == row.requester_id else row.requester_id
                return Outcome([Send(sender, Outgoing(self.text(f"relay.lost.{reason}")))])
            if recipient == row.requester_id:
                text = self.text("relay.requester_left", id=rid)
                return Outcome([Send(row.supporter_id, Outgoing(text))])
            if row.status != RequestStatus.CONNECTED:  # the check-in window after /end
                row.wants_checkin = False
                rr.save(tx, row)
                text = self.text("relay.checkin_unreachable")
                return Outcome([Send(row.requester_id, Outgoing(text))])
            now = self.clock.now()
            row.tried = [*row.tried, row.supporter_id]
            row.status, row.supporter_id = RequestStatus.UNASSIGNED, None
            row.sla_due_at = sla_due(now, True, self.timing)
            rr.save(tx, row)
            self._alert(tx, row, self._urgency(row), "relay_blocked")
            text = self.text("relay.supporter_left")
            return Outcome([Send(row.requester_id, Outgoing(text))], alerted=True)

    # ---- timeouts and deadlines ----

    def tick(self) -> Outcome:
        """Move expired offers on and raise requests waiting past their deadline."""
        now = self.clock.now()
        outcome = Outcome()
        with self.db.transaction() as tx:
            for row in rr.expired_offers(tx, now):
                assert row.id is not None
                log.info("request_offer_expired request=%s supporter=%s", row.id, row.offered_to)
                outcome.sends += self._retire_offer(row, "offer.expired")
                row.tried = [*row.tried, *([row.offered_to] if row.offered_to else [])]
                more = self._cascade(tx, row)
                outcome.sends += more.sends
                outcome.alerted |= more.alerted
                rr.save(tx, row)
            for row in rr.overdue(tx, now):
                assert row.id is not None
                row.sla_due_at = None  # raised once; acknowledgement and escalation take over
                outcome.alerted = self._alert(tx, row, self._urgency(row), "request_sla")
                log.warning("request_sla_missed request=%s urgent=%s", row.id, row.urgent)
                rr.save(tx, row)
            purged = rr.purge_relay(tx, now - RELAY_KEEP)
            if purged:
                log.info("relay_ids_purged count=%s", purged)
        return outcome

    async def run_once(self) -> None:
        """One pass of timeouts and deadlines, then its messages."""
        await self.deliver(self.tick())

    async def run_forever(self) -> None:
        """The background loop: a pass when woken or at the next offer expiry or deadline."""
        while True:
            try:
                await self.run_once()
                with self.db.transaction() as tx:
                    wake = rr.next_wake(tx)
            except Exception:  # noqa: BLE001 - the loop must survive any one failure
                log.exception("request_loop_failed")
                wake = None
            self._wake.clear()
            wait = IDLE_WAIT
            if wake is not None:
                wait = max(0.05, min(IDLE_WAIT, (wake - self.clock.now()).total_seconds()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    # ---- sending ----

    async def deliver(self, outcome: Outcome, *, edit_id: int | None = None) -> None:
        """Send an outcome's messages, record the ids worth keeping, wake what needs waking."""
        for follow_up_id, due_at in outcome.armed:
            self.followups.arm(follow_up_id, due_at)
        pending = list(outcome.sends)
        rounds = 0
        while pending and rounds < 20:
            rounds += 1
            failed_offers = await self._send_all(pending, edit_id)
            pending = []
            for rid, supporter_id in failed_offers:
                more = self.skip(rid, supporter_id)
                pending += more.sends
                outcome.alerted |= more.alerted
        if outcome.alerted:
            await self.alerts.run_once()

    async def _send_all(self, sends: Sequence[Send], edit_id: int | None) -> list[tuple[int, int]]:
        assert self.bot is not None
        failed: list[tuple[int, int]] = []
        for send in sends:
            target_edit = edit_id if send.edit_id == PRESSED else send.edit_id
            try:
                message_id = await self._send_one(send, target_edit)
            except (Forbidden, BadRequest) as exc:
                if send.relay_sender is not None:
                    reason = "blocked" if isinstance(exc, Forbidden) else "uncopyable"
                    await self._relay_lost(send, reason)
                    continue
                log.warning(
                    "request_send_failed chat_kind=%s error=%s",
                    "offer" if send.offer_for else "message",
                    type(exc).__name__,
                )
                if send.offer_for is not None:
                    failed.append((send.offer_for, send.chat_id))
                continue
            except TelegramError as exc:
                log.warning("request_send_failed error=%s", type(exc).__name__)
                if send.relay_sender is not None:
                    await self._relay_lost(send, "network")
                continue
            if message_id is None or not (send.relay_for or send.offer_for or send.card_of):
                continue  # nothing to remember about this message
            with self.db.transaction() as tx:
                if send.relay_for is not None:
                    rr.add_relay(tx, send.relay_for, send.chat_id, message_id)
                if send.offer_for is not None:
                    row = rr.get(tx, send.offer_for, lock=True)
                    if row is not None and row.offered_to == send.chat_id:
                        row.offer_message_id = message_id
                        tx.add(row)
                if send.card_of is not None:
                    repos.set_card(tx, send.card_of, message_id)
        return failed

    async def _relay_lost(self, send: Send, reason: str) -> None:
        assert send.relay_sender is not None
        more = self.relay_failed(send.relay_sender, send.chat_id, reason=reason)
        await self._send_all(more.sends, None)
        if more.alerted:
            await self.alerts.run_once()

    async def _send_one(self, send: Send, edit_id: int | None) -> int | None:
        assert self.bot is not None
        reply = (
            ReplyParameters(send.reply_to, allow_sending_without_reply=True)
            if send.reply_to
            else None
        )
        if send.copy_of is not None:
            copied = await self.bot.copy_message(
                send.chat_id,
                send.copy_of[0],
                send.copy_of[1],
                protect_content=True,
                reply_parameters=reply,
            )
            return copied.message_id
        assert send.out is not None
        if edit_id is not None and edit_id > 0:
            try:
                await self.bot.edit_message_text(
                    send.out.text,
                    chat_id=send.chat_id,
                    message_id=edit_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=send.out.markup,
                    disable_web_page_preview=True,
                )
                return edit_id
            except BadRequest:
                log.info("request_edit_failed; sending anew")
        message = await messenger.send(self.bot, send.chat_id, send.out)
        return message.message_id

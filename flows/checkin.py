"""The follow-up check-in: the ping, what each answer leads to, and the follow-on choices."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum

from flows.followup import outside_quiet_hours
from flows.intents import (
    AlertCoordinators,
    Button,
    CloseCase,
    Intent,
    OpenCase,
    RecordOutcome,
    Say,
    ScheduleFollowUp,
    ShowResources,
    ShowTopicResources,
    Urgency,
)
from flows.schedule import Preset, preset_time

SNOOZE = timedelta(hours=1)


class CheckInAnswer(StrEnum):
    """How the supporter says their peer is doing (the ping's buttons)."""

    BETTER = "better"
    STRUGGLING = "struggling"
    WORRIED = "worried"
    UNREACHED = "unreached"
    SNOOZE = "snooze"


class FollowOn(StrEnum):
    """What the supporter can do next, once they have answered."""

    CLOSE = "close"
    AGAIN = "again"
    CHECK = "asq"
    RESOURCES = "resources"
    SNOOZE_HOUR = "snooze_1h"
    SNOOZE_TOMORROW = "snooze_tmrw"
    SNOOZE_TYPED = "snooze_typed"


TOPICS = ("exams", "clinical_event", "burnout", "personal", "mistreatment", "substance")
"""Topics with their own resources (content: resources/topics.yaml)."""
TOPIC_ACTIONS = {f"t_{topic[:10]}": topic for topic in TOPICS}

ANSWERS = frozenset(CheckInAnswer)
AFTER_ANSWER = frozenset({FollowOn.CLOSE, FollowOn.AGAIN, FollowOn.CHECK, FollowOn.RESOURCES})
SNOOZES = frozenset({FollowOn.SNOOZE_HOUR, FollowOn.SNOOZE_TOMORROW, FollowOn.SNOOZE_TYPED})


def _b(label: str, action: str) -> tuple[Button]:
    return (Button(f"btn.checkin.{label}", action),)


def ping(*, late: bool, reminder: bool = False) -> Say:
    """The check-in message; a late one says so, and a reminder is gentler."""
    buttons = tuple(_b(a.value, a.value) for a in CheckInAnswer)
    notice = "notice.late" if late else None
    key = "checkin.reminder" if reminder else "checkin.due"
    return Say(key, {}, buttons, replace=False, notice=notice)


def answer(choice: CheckInAnswer, now: datetime) -> tuple[Intent, ...]:
    """The intents for one answer to the ping."""
    if choice is CheckInAnswer.SNOOZE:
        return (
            Say(
                "checkin.snooze_options",
                buttons=(
                    _b("snooze_1h", FollowOn.SNOOZE_HOUR),
                    _b("snooze_tmrw", FollowOn.SNOOZE_TOMORROW),
                    _b("snooze_typed", FollowOn.SNOOZE_TYPED),
                ),
            ),
        )
    recorded = RecordOutcome(choice)
    if choice is CheckInAnswer.WORRIED:
        return (
            ShowResources(Urgency.NON_ACUTE),
            recorded,
            AlertCoordinators(Urgency.NON_ACUTE, "checkin_worried"),
            Say("checkin.worried", buttons=(_b("check", FollowOn.CHECK),), replace=False),
        )
    buttons = {
        CheckInAnswer.BETTER: (_b("close", FollowOn.CLOSE), _b("again", FollowOn.AGAIN)),
        CheckInAnswer.STRUGGLING: (
            _b("again", FollowOn.AGAIN),
            _b("resources", FollowOn.RESOURCES),
        ),
        CheckInAnswer.UNREACHED: (_b("again", FollowOn.AGAIN),),
    }[choice]
    return (recorded, Say(f"checkin.{choice}", buttons=buttons))


def topic_resources(code: str) -> tuple[Intent, ...]:
    """Resources for the topic the supporter picked."""
    return (ShowTopicResources(TOPIC_ACTIONS[code]),)


def follow_on(
    action: FollowOn, now: datetime, tz: str, quiet: tuple[time, time] | None = None
) -> tuple[Intent, ...]:
    """The intents for a follow-on choice; snoozes keep out of the quiet window."""
    if action is FollowOn.CLOSE:
        return (CloseCase(), Say("checkin.closed"))
    if action is FollowOn.AGAIN:
        return (OpenCase("plan"),)
    if action is FollowOn.CHECK:
        return (OpenCase("asq"),)
    if action is FollowOn.RESOURCES:
        return (
            Say(
                "checkin.topics",
                buttons=tuple(
                    (Button(f"btn.topic.{topic}", code),) for code, topic in TOPIC_ACTIONS.items()
                ),
            ),
        )
    snoozed = RecordOutcome(CheckInAnswer.SNOOZE)
    if action is FollowOn.SNOOZE_TYPED:
        return (snoozed, OpenCase("type_time"))
    at = now + SNOOZE if action is FollowOn.SNOOZE_HOUR else preset_time(Preset.TOMORROW, now, tz)
    at = outside_quiet_hours(at, tz, quiet)
    return (snoozed, ScheduleFollowUp(at, exact=False), Say("checkin.snoozed", {"at": at}))

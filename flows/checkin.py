"""The follow-up check-in: the ping a supporter receives and what each answer leads to."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from flows.intents import (
    AlertCoordinators,
    Button,
    Intent,
    RecordOutcome,
    Say,
    ScheduleFollowUp,
    ShowResources,
    Urgency,
)

SNOOZE = timedelta(hours=1)


class CheckInAnswer(StrEnum):
    """How the supporter says their peer is doing."""

    BETTER = "better"
    STRUGGLING = "struggling"
    WORRIED = "worried"
    SNOOZE = "snooze"


def ping(*, late: bool) -> Say:
    """The check-in message; a late one (missed while the bot was down) says so."""
    buttons = (
        (Button("btn.checkin.better", CheckInAnswer.BETTER),),
        (Button("btn.checkin.struggling", CheckInAnswer.STRUGGLING),),
        (Button("btn.checkin.worried", CheckInAnswer.WORRIED),),
        (Button("btn.checkin.snooze", CheckInAnswer.SNOOZE),),
    )
    return Say("checkin.due", {}, buttons, replace=False, notice="notice.late" if late else None)


def answer(choice: CheckInAnswer, now: datetime) -> tuple[Intent, ...]:
    """The intents for one check-in answer."""
    done = Say(f"checkin.{choice}", {"at": now + SNOOZE})
    if choice is CheckInAnswer.WORRIED:
        return (
            ShowResources(Urgency.NON_ACUTE),
            RecordOutcome(choice),
            AlertCoordinators(Urgency.NON_ACUTE, "checkin_worried"),
            Say("checkin.worried", replace=False),
        )
    if choice is CheckInAnswer.SNOOZE:
        return (ScheduleFollowUp(now + SNOOZE), RecordOutcome(choice), done)
    return (RecordOutcome(choice), done)

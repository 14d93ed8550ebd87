"""The follow-up lifecycle: when each check-in's next action is due, quiet hours, and labels."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

LATE_AFTER = timedelta(minutes=5)
RETRY_AFTER = timedelta(minutes=1)
LABEL_MAX = 40


class Stage(StrEnum):
    """Where a follow-up is; the *ing stages are claimed by a sender."""

    PENDING = "pending"  # waiting for its time
    CLAIMED = "claimed"  # ping being sent
    SENT = "sent"  # ping delivered, waiting for an answer
    REMINDING = "reminding"
    REMINDED = "reminded"  # one gentle reminder delivered
    NOTIFYING = "notifying"
    OVERDUE = "overdue"  # coordinators told
    ANSWERED = "answered"
    CANCELLED = "cancelled"
    FAILED = "failed"


CLAIMS = {
    Stage.PENDING: Stage.CLAIMED,
    Stage.SENT: Stage.REMINDING,
    Stage.REMINDED: Stage.NOTIFYING,
}
"""The stage a due follow-up moves to while one sender works on it."""
RELEASE = {claimed: waiting for waiting, claimed in CLAIMS.items()}
"""Where a claim left by a crashed process goes back to."""
DONE = {Stage.CLAIMED: Stage.SENT, Stage.REMINDING: Stage.REMINDED, Stage.NOTIFYING: Stage.OVERDUE}
ANSWERABLE = frozenset(
    {Stage.SENT, Stage.REMINDING, Stage.REMINDED, Stage.NOTIFYING, Stage.OVERDUE}
)


@dataclass(frozen=True)
class Timing:
    """How long a check-in may go unanswered before a reminder, then a coordinator notice."""

    remind_after: timedelta = timedelta(hours=12)
    notify_after: timedelta = timedelta(hours=24)

    def next_action(self, stage: Stage, at: datetime) -> datetime | None:
        """When the next action is due for a follow-up that just reached `stage` at `at`."""
        if stage is Stage.SENT:
            return at + self.remind_after
        if stage is Stage.REMINDED:
            return at + self.notify_after
        return None


def is_late(due_at: datetime, now: datetime) -> bool:
    """A ping sent more than a few minutes after its time says it is late."""
    return now - due_at > LATE_AFTER


_QUIET = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)$")


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """ "22:00-08:00" → (22:00, 08:00); None when it is not a range of clock times."""
    m = _QUIET.match(text.strip())
    if m is None:
        return None
    start, end = time(int(m[1]), int(m[2])), time(int(m[3]), int(m[4]))
    return (start, end) if start != end else None


def outside_quiet_hours(at: datetime, tz: str, quiet: tuple[time, time] | None) -> datetime:
    """Move a time that falls in the quiet window to the window's end (the morning)."""
    if quiet is None:
        return at
    zone = ZoneInfo(tz)
    local = at.astimezone(zone)
    start, end = quiet
    clock = local.time()
    inside = (start <= clock or clock < end) if start > end else (start <= clock < end)
    if not inside:
        return at
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone).astimezone(at.tzinfo)


_NAME = re.compile(
    r"(?i:\b(?:dr|doctor|prof|professor|mr|mrs)\.?\s+[a-z]+)"
    r"|\b[A-Z][a-z]+\s+[A-Z][a-z]{2,}\b"
)


class LabelProblem(StrEnum):
    """Why a case label cannot be used."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    LOOKS_LIKE_NAME = "name"


def check_label(text: str) -> LabelProblem | None:
    """Case labels are short descriptions, never names ("peer from surgery", not "Jane Doe")."""
    label = " ".join(text.split())
    if not label:
        return LabelProblem.EMPTY
    if len(label) > LABEL_MAX:
        return LabelProblem.TOO_LONG
    if _NAME.search(label):
        return LabelProblem.LOOKS_LIKE_NAME
    return None

"""Coordinator alert rules: who is told at each tier, when to escalate, how to retry delivery."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from flows.intents import Urgency

LAST_TIER = 3
MAX_RETRY_DELAY = timedelta(minutes=5)


class AlertStatus(StrEnum):
    """Whether someone has taken responsibility for an alert."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"


class Delivery(StrEnum):
    """Where one alert message is in its delivery."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    BLOCKED = "blocked"


class MessageKind(StrEnum):
    """What an alert message is for."""

    ALERT = "alert"  # the alert itself, to a coordinator, with its buttons
    CLOSE = "close"  # edit a delivered alert: acknowledged, timeline, no buttons
    ACK_NOTICE = "ack_notice"  # to the supporter: a coordinator is on it
    BLOCKED_NOTICE = "blocked"  # to the other coordinators: one could not be reached
    UNREACHABLE = "unreachable"  # to the supporter: no coordinator reached, call now


class EventKind(StrEnum):
    """Timeline entries."""

    RAISED = "raised"
    ESCALATED = "escalated"
    BLOCKED = "blocked"
    UNREACHABLE = "unreachable"
    ACKNOWLEDGED = "acknowledged"


@dataclass(frozen=True)
class Policy:
    """A programme's alerting rules."""

    coordinators: frozenset[int]
    escalation: frozenset[int] = frozenset()
    ack_acute: timedelta = timedelta(minutes=5)
    ack_non_acute: timedelta = timedelta(minutes=30)
    unreachable_after: timedelta = timedelta(minutes=2)

    def ack_timeout(self, level: str) -> timedelta:
        """How long an alert may stay unacknowledged before it escalates."""
        return self.ack_acute if level == Urgency.ACUTE else self.ack_non_acute

    def recipients(self, tier: int, off_duty: Collection[int]) -> list[int]:
        """Everyone an alert at this tier goes to: on-duty, then escalation, then everyone."""
        on_duty = sorted(self.coordinators - set(off_duty)) or sorted(self.coordinators)
        people = list(on_duty)
        if tier >= 2:
            people += sorted(self.escalation - set(people))
        if tier >= LAST_TIER:
            people += sorted(self.coordinators - set(people))
        return people


def retry_delay(attempts: int, retry_after: float | None = None) -> timedelta:
    """Wait before the next try: what Telegram asked for, else exponential back-off."""
    if retry_after is not None:
        return timedelta(seconds=max(1.0, retry_after))
    return min(timedelta(seconds=2 ** min(attempts, 10)), MAX_RETRY_DELAY)


def next_tier(tier: int) -> int:
    """The tier an unacknowledged alert moves to; the last tier repeats."""
    return min(tier + 1, LAST_TIER)


def unreachable(
    statuses: Sequence[str],
    recipients: int,
    raised_at: datetime,
    now: datetime,
    policy: Policy,
) -> bool:
    """No coordinator can be reached: none exist, all blocked, or none reached in time."""
    if recipients == 0:
        return True
    if any(status == Delivery.SENT for status in statuses):
        return False
    if statuses and all(status == Delivery.BLOCKED for status in statuses):
        return True
    return now - raised_at >= policy.unreachable_after

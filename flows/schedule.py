"""Check-in times: presets and limits, computed in the supporter's time zone."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

EVENING = time(19, 0)
MORNING = time(9, 0)
MIN_LEAD = timedelta(minutes=1)
SOONEST = timedelta(minutes=5)
MAX_LEAD = timedelta(days=90)


class Preset(StrEnum):
    """The check-in times a supporter can pick with one tap."""

    EVENING = "evening"
    TOMORROW = "tomorrow"
    THREE_DAYS = "3d"
    WEEK = "week"


def _at_local(day: datetime, clock_time: time, tz: ZoneInfo) -> datetime:
    """The given wall-clock time on `day`'s date in `tz`, resolved to an aware datetime."""
    return datetime.combine(day.date(), clock_time, tzinfo=tz)


def preset_time(preset: Preset, now: datetime, tz_name: str) -> datetime:
    """When a preset check-in falls, as an aware UTC datetime."""
    tz = ZoneInfo(tz_name)
    local_now = now.astimezone(tz)
    if preset is Preset.EVENING:
        at = _at_local(local_now, EVENING, tz)
        if at - MIN_LEAD <= local_now:
            # Too late for this evening: the same time tomorrow.
            at = _at_local(local_now + timedelta(days=1), EVENING, tz)
    else:
        days = {Preset.TOMORROW: 1, Preset.THREE_DAYS: 3, Preset.WEEK: 7}[preset]
        at = _at_local(local_now + timedelta(days=days), MORNING, tz)
    return at.astimezone(ZoneInfo("UTC"))


class TimeProblem(StrEnum):
    """Why a typed check-in time cannot be used."""

    UNREADABLE = "unreadable"
    PAST = "past"
    TOO_SOON = "too_soon"
    TOO_FAR = "too_far"


def check_typed_time(at: datetime | None, now: datetime) -> TimeProblem | None:
    """Whether a parsed check-in time is usable; None when it is."""
    if at is None:
        return TimeProblem.UNREADABLE
    if at <= now:
        return TimeProblem.PAST
    if at < now + SOONEST:
        return TimeProblem.TOO_SOON
    if at > now + MAX_LEAD:
        return TimeProblem.TOO_FAR
    return None

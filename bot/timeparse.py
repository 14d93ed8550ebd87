"""Reads typed check-in times ("in 2 hours", "tomorrow 9am", "at 5") with dateparser, in the
supporter's time zone, choosing the next sensible moment when the text leaves it open."""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateparser.date import DateDataParser

MAX_LENGTH = 64
MORNING = time(9, 0)
_CLOCK = re.compile(r"^(?:at )?(\d{1,2})(?::(\d\d))?\s*(am|pm)?$")
_TONIGHT = re.compile(r"^(?:tonight|this evening)(?: at)? (\d{1,2})(?::(\d\d))?(?: ?pm)?$")
_HAS_CLOCK = re.compile(r"\d{1,2}:\d\d|\d ?(?:am|pm)\b|\bnoon\b|\bmidnight\b")
_WORDS = {
    "half an hour": "30 minutes",
    "an hour": "1 hour",
    "a day": "1 day",
    "a week": "1 week",
    "tonight": "today 8pm",
    "this evening": "today 7pm",
}


def _next_clock(hour: int, minute: int, local_now: datetime, evening: bool = False) -> datetime:
    """The next time the clock shows hour:minute, trying the afternoon reading too."""
    hours = [hour + 12] if evening and hour < 12 else [hour, hour + 12] if hour < 12 else [hour]
    for day in (0, 1):
        for h in hours:
            if h > 23 or minute > 59:
                continue
            candidate = datetime.combine(
                local_now.date() + timedelta(days=day), time(h, minute), tzinfo=local_now.tzinfo
            )
            if candidate > local_now:
                return candidate
    raise ValueError("no such time")


def _next_exact(hour: int, minute: int, local_now: datetime) -> datetime:
    """The next time the clock shows exactly hour:minute (24-hour)."""
    if minute > 59:
        raise ValueError("no such time")
    today = datetime.combine(local_now.date(), time(hour, minute), tzinfo=local_now.tzinfo)
    if today > local_now:
        return today
    tomorrow = local_now.date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(hour, minute), tzinfo=local_now.tzinfo)


def _clock_only(text: str, local_now: datetime) -> datetime:
    """ "9am", "at 5", "tonight at 8": the next such moment. Raises LookupError if `text` is not
    a bare clock time, ValueError if it is an impossible one."""
    if m := _CLOCK.match(text):
        hour, minute = int(m[1]), int(m[2] or 0)
        if not m[3]:
            return _next_clock(hour, minute, local_now)
        if not 1 <= hour <= 12:
            raise ValueError("no such time")
        return _next_exact(hour % 12 + (12 if m[3] == "pm" else 0), minute, local_now)
    if m := _TONIGHT.match(text):
        return _next_clock(int(m[1]), int(m[2] or 0), local_now, True)
    raise LookupError(text)


def _with_dateparser(text: str, local_now: datetime) -> datetime | None:
    for phrase, replacement in _WORDS.items():
        text = re.sub(rf"\b{phrase}\b", replacement, text)
    parser = DateDataParser(
        languages=["en"],
        settings={
            # Wall-clock time only; the zone and its DST rules are applied below, so "tomorrow 9am"
            # is 9:00 on tomorrow's clock even when the offset changes overnight.
            "RELATIVE_BASE": local_now.replace(tzinfo=None),
            "PREFER_DATES_FROM": "future",
            "RETURN_TIME_AS_PERIOD": True,
        },
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = parser.get_date_data(text)
    if data.date_obj is None:
        return None
    at = data.date_obj.replace(tzinfo=local_now.tzinfo)
    if data.period != "time":
        if _HAS_CLOCK.search(text):
            return None  # a time was typed but not understood ("25:00"): don't guess
        if not re.search(r"\b(?:in \d+|\d+ (?:days?|weeks?) from)\b", text):
            at = datetime.combine(at.date(), MORNING, tzinfo=local_now.tzinfo)
    elif at <= local_now and not re.search(r"\b(?:today|yesterday|ago)\b", text):
        at += timedelta(days=1)  # a time already past today means tomorrow
    return at


def parse_when(text: str, now: datetime, tz: str) -> datetime | None:
    """The moment `text` names, relative to `now` in zone `tz`, as aware UTC, or None."""
    text = " ".join(text.lower().split())
    if not text or len(text) > MAX_LENGTH:
        return None
    local_now = now.astimezone(ZoneInfo(tz))
    try:
        return _clock_only(text, local_now).astimezone(UTC)
    except ValueError:
        return None
    except LookupError:
        pass
    if not re.search(r"[a-z]", text):
        return None  # "-1", "42": not a time
    at = _with_dateparser(text, local_now)
    return at.astimezone(UTC) if at is not None else None

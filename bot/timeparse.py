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
_CLOCK = re.compile(r"^(?:at )?(\d{1,2})(?::(\d\d))?$")
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


def parse_when(text: str, now: datetime, tz: str) -> datetime | None:
    """The moment `text` names, relative to `now` in zone `tz`, as aware UTC, or None."""
    text = " ".join(text.lower().split())
    if not text or len(text) > MAX_LENGTH:
        return None
    zone = ZoneInfo(tz)
    local_now = now.astimezone(zone)
    try:
        if m := _CLOCK.match(text):
            return _next_clock(int(m[1]), int(m[2] or 0), local_now).astimezone(UTC)
        if m := _TONIGHT.match(text):
            return _next_clock(int(m[1]), int(m[2] or 0), local_now, True).astimezone(UTC)
    except ValueError:
        return None
    if not re.search(r"[a-z]", text):
        return None  # "-1", "42": not a time
    for phrase, replacement in _WORDS.items():
        text = re.sub(rf"\b{phrase}\b", replacement, text)
    parser = DateDataParser(
        languages=["en"],
        settings={
            "RELATIVE_BASE": local_now.replace(tzinfo=None),
            "TIMEZONE": tz,
            "RETURN_AS_TIMEZONE_AWARE": True,
            "PREFER_DATES_FROM": "future",
            "RETURN_TIME_AS_PERIOD": True,
        },
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = parser.get_date_data(text)
    if data.date_obj is None:
        return None
    at = data.date_obj.astimezone(zone)
    if data.period != "time":
        if _HAS_CLOCK.search(text):
            return None  # a time was typed but not understood ("25:00"): don't guess
        if not re.search(r"\b(?:in \d+|\d+ (?:days?|weeks?) from)\b", text):
            at = datetime.combine(at.date(), MORNING, tzinfo=zone)
    elif at <= local_now and not re.search(r"\b(?:today|yesterday|ago)\b", text):
        at += timedelta(days=1)  # "9am" when it is already past nine means tomorrow
    return at.astimezone(UTC)

"""Reads typed check-in times ("in 2 hours", "tomorrow 9am") with dateparser, in a time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import dateparser

MAX_LENGTH = 64


def parse_when(text: str, now: datetime, tz: str) -> datetime | None:
    """The moment `text` names, relative to `now` in zone `tz`, as aware UTC, or None."""
    text = text.strip()
    if not text or len(text) > MAX_LENGTH:
        return None
    local_now = now.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    parsed = dateparser.parse(
        text,
        languages=["en"],
        settings={
            "RELATIVE_BASE": local_now,
            "TIMEZONE": tz,
            "RETURN_AS_TIMEZONE_AWARE": True,
            "PREFER_DATES_FROM": "future",
        },
    )
    return parsed.astimezone(UTC) if parsed is not None else None

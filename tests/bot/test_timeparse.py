"""Typed check-in times, read in the supporter's zone (Monday 2 March 2026, 10:00 in New York)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.timeparse import parse_when

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
NY = "America/New_York"


def local(text: str, tz: str = NY) -> str | None:
    at = parse_when(text, NOW, tz)
    if at is None:
        return None
    return f"{at.astimezone(ZoneInfo(tz)):%a %d %H:%M}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in 2 hours", "Mon 02 12:00"),
        ("in half an hour", "Mon 02 10:30"),
        ("tomorrow 9am", "Tue 03 09:00"),
        ("Tomorrow at 9am", "Tue 03 09:00"),
        ("9am", "Tue 03 09:00"),  # already past nine today
        ("5pm", "Mon 02 17:00"),
        ("at 5", "Mon 02 17:00"),  # the next five o'clock, not 5 May
        ("8", "Mon 02 20:00"),
        ("tonight at 8", "Mon 02 20:00"),
        ("tonight", "Mon 02 20:00"),
        ("monday", "Mon 09 09:00"),  # a day without a time means the morning
        ("friday 18:00", "Fri 06 18:00"),
        ("next week", "Mon 09 09:00"),
        ("noon", "Mon 02 12:00"),
    ],
)
def test_typed_times_land_where_a_person_means(text: str, expected: str) -> None:
    assert local(text) == expected


@pytest.mark.parametrize("text", ["asdf", "-1", "tomorrow 25:00", "", "x" * 200, "whenever"])
def test_unreadable_or_impossible_times_are_refused(text: str) -> None:
    assert parse_when(text, NOW, NY) is None


def test_the_same_words_mean_different_instants_in_different_zones() -> None:
    assert parse_when("tomorrow 9am", NOW, NY) != parse_when("tomorrow 9am", NOW, "Europe/London")
    assert local("tomorrow 9am", "Europe/London") == "Tue 03 09:00"


@pytest.mark.parametrize(
    ("now", "text", "expected"),
    [
        (datetime(2026, 3, 7, 17, 0, tzinfo=UTC), "tomorrow 9am", "Sun 08 09:00"),  # spring fwd
        (datetime(2026, 10, 31, 16, 0, tzinfo=UTC), "tomorrow 9am", "Sun 01 09:00"),  # fall back
        (datetime(2026, 3, 7, 17, 0, tzinfo=UTC), "tomorrow 18:00", "Sun 08 18:00"),
    ],
)
def test_typed_times_keep_the_wall_clock_across_daylight_saving(
    now: datetime, text: str, expected: str
) -> None:
    at = parse_when(text, now, NY)
    assert at is not None
    assert f"{at.astimezone(ZoneInfo(NY)):%a %d %H:%M}" == expected


def test_a_clock_time_at_the_end_of_a_month_is_the_next_one() -> None:
    evening = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)  # 19:00 in New York
    at = parse_when("9am", evening, NY)
    assert at is not None
    assert f"{at.astimezone(ZoneInfo(NY)):%d %b %H:%M}" == "01 Nov 09:00"
    assert parse_when("13pm", evening, NY) is None

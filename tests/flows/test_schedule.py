"""Check-in presets land at sensible local times, across time zones and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.schedule import Preset, TimeProblem, check_typed_time, preset_time

NY = "America/New_York"


def local(at: datetime, tz: str = NY) -> datetime:
    return at.astimezone(ZoneInfo(tz))


def test_this_evening_is_seven_tonight_or_tomorrow_when_too_late() -> None:
    afternoon = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)  # 13:00 in New York
    assert local(preset_time(Preset.EVENING, afternoon, NY)).strftime("%d %H:%M") == "02 19:00"
    night = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # 21:00 on the 2nd in New York
    assert local(preset_time(Preset.EVENING, night, NY)).strftime("%d %H:%M") == "03 19:00"


@pytest.mark.parametrize(
    ("preset", "days"), [(Preset.TOMORROW, 1), (Preset.THREE_DAYS, 3), (Preset.WEEK, 7)]
)
def test_day_presets_are_nine_in_the_morning(preset: Preset, days: int) -> None:
    now = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
    at = local(preset_time(preset, now, NY))
    assert (at.date() - local(now).date()).days == days
    assert (at.hour, at.minute) == (9, 0)


def test_tomorrow_morning_across_the_spring_forward_change_is_still_nine_local() -> None:
    # New York springs forward on 8 March 2026.
    now = datetime(2026, 3, 7, 20, 0, tzinfo=UTC)
    at = preset_time(Preset.TOMORROW, now, NY)
    assert local(at).hour == 9
    assert at == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)  # EDT is UTC-4


def test_the_same_preset_differs_by_time_zone() -> None:
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    tokyo = preset_time(Preset.TOMORROW, now, "Asia/Tokyo")
    assert local(tokyo, "Asia/Tokyo").hour == 9
    assert tokyo != preset_time(Preset.TOMORROW, now, NY)


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
    st.sampled_from(list(Preset)),
    st.sampled_from([NY, "Europe/London", "Asia/Kolkata", "Australia/Sydney", "UTC"]),
)
def test_every_preset_is_in_the_future_at_a_whole_local_hour(
    now: datetime, preset: Preset, tz: str
) -> None:
    at = preset_time(preset, now, tz)
    assert at > now
    assert at - now <= timedelta(days=8)
    assert local(at, tz).hour in (9, 19, 10, 20)  # +1 h when the wall time falls in a DST gap
    assert at.tzinfo is not None


@pytest.mark.parametrize(
    ("offset", "problem"),
    [
        (None, TimeProblem.UNREADABLE),
        (timedelta(minutes=-5), TimeProblem.PAST),
        (timedelta(seconds=10), TimeProblem.TOO_SOON),
        (timedelta(minutes=4), TimeProblem.TOO_SOON),
        (timedelta(days=91), TimeProblem.TOO_FAR),
        (timedelta(hours=2), None),
    ],
)
def test_typed_times_must_be_readable_at_least_five_minutes_ahead_and_within_ninety_days(
    offset: timedelta | None, problem: TimeProblem | None
) -> None:
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert check_typed_time(None if offset is None else now + offset, now) == problem

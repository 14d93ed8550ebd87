"""Follow-up lifecycle rules: next actions, quiet hours (with DST), late pings, case labels."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.followup import (
    LabelProblem,
    Stage,
    Timing,
    check_label,
    is_late,
    outside_quiet_hours,
    parse_quiet_hours,
)

NY = "America/New_York"
QUIET = (time(22, 0), time(8, 0))


def at_local(day: int, hour: int, minute: int = 0, tz: str = NY) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def test_a_sent_ping_is_reminded_after_twelve_hours_then_reported_after_twenty_four_more() -> None:
    timing, now = Timing(), datetime(2026, 3, 2, tzinfo=UTC)
    assert timing.next_action(Stage.SENT, now) == now + timedelta(hours=12)
    assert timing.next_action(Stage.REMINDED, now) == now + timedelta(hours=24)
    assert timing.next_action(Stage.OVERDUE, now) is None


def test_quiet_hours_move_a_late_evening_ping_to_the_morning() -> None:
    moved = outside_quiet_hours(at_local(2, 23, 30), NY, QUIET)
    assert moved == at_local(3, 8, 0)
    assert outside_quiet_hours(at_local(3, 6, 0), NY, QUIET) == at_local(3, 8, 0)
    assert outside_quiet_hours(at_local(2, 19, 0), NY, QUIET) == at_local(2, 19, 0)


def test_quiet_hours_across_the_spring_forward_night_still_end_at_eight_local() -> None:
    moved = outside_quiet_hours(at_local(7, 23, 0), NY, QUIET)  # DST starts 8 March
    assert moved.astimezone(ZoneInfo(NY)).hour == 8
    assert moved == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)


def test_a_daytime_quiet_window_works_too() -> None:
    lunch = (time(12, 0), time(13, 0))
    assert outside_quiet_hours(at_local(2, 12, 30), NY, lunch) == at_local(2, 13, 0)


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    )
)
def test_a_moved_ping_never_lands_inside_quiet_hours_or_earlier(at: datetime) -> None:
    moved = outside_quiet_hours(at, NY, QUIET)
    assert moved >= at
    clock = moved.astimezone(ZoneInfo(NY)).time()
    assert time(8, 0) <= clock < time(22, 0)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("22:00-08:00", True),
        ("9:30 - 17:00", True),
        ("25:00-08:00", False),
        ("off", False),
        ("08:00-08:00", False),
    ],
)
def test_quiet_hours_are_read_as_clock_ranges(text: str, ok: bool) -> None:
    assert (parse_quiet_hours(text) is not None) is ok


def test_a_ping_more_than_five_minutes_after_its_time_is_late() -> None:
    due = datetime(2026, 3, 2, tzinfo=UTC)
    assert not is_late(due, due + timedelta(minutes=5))
    assert is_late(due, due + timedelta(minutes=6))


@pytest.mark.parametrize(
    ("label", "problem"),
    [
        ("peer from surgery", None),
        ("intern, night float", None),
        ("", LabelProblem.EMPTY),
        ("x" * 41, LabelProblem.TOO_LONG),
        ("Jane Doe", LabelProblem.LOOKS_LIKE_NAME),
        ("Dr Patel from cards", LabelProblem.LOOKS_LIKE_NAME),
    ],
)
def test_case_labels_are_short_and_never_names(label: str, problem: LabelProblem | None) -> None:
    assert check_label(label) == problem

"""Alert rules: recipients per tier, escalation, retry back-off, and when nobody can be reached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flows.alerts import Delivery, Policy, next_tier, retry_delay, unreachable

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
POLICY = Policy(coordinators=frozenset({1, 2, 3}), escalation=frozenset({9}))


def test_tier_one_is_the_on_duty_coordinators() -> None:
    assert POLICY.recipients(1, off_duty={3}) == [1, 2]


def test_when_everyone_is_off_duty_tier_one_is_everyone() -> None:
    assert POLICY.recipients(1, off_duty={1, 2, 3}) == [1, 2, 3]


def test_tier_two_adds_the_escalation_list_and_tier_three_everyone() -> None:
    assert POLICY.recipients(2, off_duty={3}) == [1, 2, 9]
    assert POLICY.recipients(3, off_duty={3}) == [1, 2, 9, 3]
    assert next_tier(1) == 2
    assert next_tier(3) == 3


def test_acute_alerts_escalate_sooner() -> None:
    assert POLICY.ack_timeout("acute") == timedelta(minutes=5)
    assert POLICY.ack_timeout("non_acute") == timedelta(minutes=30)


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 2), (2, 4), (5, 32), (20, 300)])
def test_back_off_doubles_up_to_five_minutes(attempts: int, seconds: int) -> None:
    assert retry_delay(attempts) == timedelta(seconds=seconds)


def test_telegrams_retry_after_wins() -> None:
    assert retry_delay(1, retry_after=17) == timedelta(seconds=17)


def test_unreachable_when_nobody_exists_all_are_blocked_or_none_reached_in_time() -> None:
    later = NOW + timedelta(minutes=3)
    assert unreachable([], 0, NOW, NOW, POLICY)
    assert unreachable([Delivery.BLOCKED, Delivery.BLOCKED], 2, NOW, NOW, POLICY)
    assert not unreachable([Delivery.BLOCKED, Delivery.SENT], 2, NOW, later, POLICY)
    assert not unreachable([Delivery.PENDING], 1, NOW, NOW, POLICY)
    assert unreachable([Delivery.PENDING], 1, NOW, later, POLICY)

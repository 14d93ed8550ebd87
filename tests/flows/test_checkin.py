"""Check-in answers: each is recorded; worry shows resources first and alerts; snoozes reschedule;
follow-on choices reopen or close the case."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flows import checkin
from flows.checkin import SNOOZE, CheckInAnswer, FollowOn
from flows.intents import (
    AlertCoordinators,
    CloseCase,
    OpenCase,
    RecordOutcome,
    Say,
    ScheduleFollowUp,
    ShowResources,
)

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_the_ping_offers_five_answers_and_marks_late_ones_and_reminders() -> None:
    ping = checkin.ping(late=False)
    assert [b.action for row in ping.buttons for b in row] == [a.value for a in CheckInAnswer]
    assert ping.notice is None
    assert checkin.ping(late=True).notice == "notice.late"
    assert checkin.ping(late=False, reminder=True).key == "checkin.reminder"


@pytest.mark.parametrize("choice", [a for a in CheckInAnswer if a is not CheckInAnswer.SNOOZE])
def test_every_answer_is_recorded_as_an_outcome(choice: CheckInAnswer) -> None:
    intents = checkin.answer(choice, NOW)
    assert RecordOutcome(choice.value) in intents
    assert any(isinstance(i, Say) and i.buttons for i in intents)


def test_worry_shows_resources_first_alerts_and_offers_the_safety_check() -> None:
    intents = checkin.answer(CheckInAnswer.WORRIED, NOW)
    assert isinstance(intents[0], ShowResources)
    assert any(isinstance(i, AlertCoordinators) for i in intents)
    last = intents[-1]
    assert isinstance(last, Say)
    assert last.buttons[0][0].action == FollowOn.CHECK


def test_snooze_first_asks_when_and_records_nothing_yet() -> None:
    (options,) = checkin.answer(CheckInAnswer.SNOOZE, NOW)
    assert isinstance(options, Say)
    assert [b.action for row in options.buttons for b in row] == [
        FollowOn.SNOOZE_HOUR,
        FollowOn.SNOOZE_TOMORROW,
        FollowOn.SNOOZE_TYPED,
    ]


def test_snoozing_an_hour_or_till_tomorrow_reschedules_as_a_preset() -> None:
    hour = checkin.follow_on(FollowOn.SNOOZE_HOUR, NOW, "UTC")
    assert ScheduleFollowUp(NOW + SNOOZE, exact=False) in hour
    assert RecordOutcome("snooze") in hour
    tomorrow = [
        i
        for i in checkin.follow_on(FollowOn.SNOOZE_TOMORROW, NOW, "UTC")
        if isinstance(i, ScheduleFollowUp)
    ]
    assert tomorrow[0].at == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (FollowOn.AGAIN, OpenCase("plan")),
        (FollowOn.CHECK, OpenCase("asq")),
        (FollowOn.SNOOZE_TYPED, OpenCase("type_time")),
        (FollowOn.CLOSE, CloseCase()),
    ],
)
def test_follow_on_choices_reopen_or_close_the_case(action: FollowOn, expected: object) -> None:
    assert expected in checkin.follow_on(action, NOW, "UTC")

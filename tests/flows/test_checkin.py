"""Check-in answers: each is recorded; worry shows resources first; snooze reschedules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flows import checkin
from flows.checkin import SNOOZE, CheckInAnswer
from flows.intents import AlertCoordinators, RecordOutcome, Say, ScheduleFollowUp, ShowResources

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_the_ping_offers_the_four_answers_and_marks_late_ones() -> None:
    ping = checkin.ping(late=False)
    assert [b.action for row in ping.buttons for b in row] == [a.value for a in CheckInAnswer]
    assert ping.notice is None
    assert checkin.ping(late=True).notice == "notice.late"


@pytest.mark.parametrize("choice", list(CheckInAnswer))
def test_every_answer_is_recorded_as_an_outcome(choice: CheckInAnswer) -> None:
    intents = checkin.answer(choice, NOW)
    assert RecordOutcome(choice.value) in intents
    assert any(isinstance(i, Say) for i in intents)


def test_worry_shows_resources_first_and_alerts() -> None:
    intents = checkin.answer(CheckInAnswer.WORRIED, NOW)
    assert isinstance(intents[0], ShowResources)
    assert any(isinstance(i, AlertCoordinators) for i in intents)


def test_snooze_schedules_another_ping_an_hour_later() -> None:
    intents = checkin.answer(CheckInAnswer.SNOOZE, NOW)
    assert ScheduleFollowUp(NOW + SNOOZE) in intents

"""Requester intake as pure transcripts: safety first, resources and an alert when unsafe,
then a few taps to a finished request."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flows import intake
from flows.crisis import RiskLevel
from flows.intake import Chose, Field, IntakeState, SubmitRequest, Wrote
from flows.intents import AlertCoordinators, Say, ShowResources, Urgency

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
HAPPY = [
    (Field.SAFETY, "yes"),
    (Field.STAGE, "resident"),
    (Field.DEPARTMENT, "surgery"),
    (Field.TOPIC, "burnout"),
    (Field.LANGUAGE, "en"),
    (Field.MODE, "anonymous"),
    (Field.OUTSIDE, "yes"),
    (Field.URGENCY, "week"),
]


def run(answers: list[tuple[Field, str]]) -> intake.Step:
    step = intake.start()
    for field, value in answers:
        step = intake.advance(step.state, Chose(field, value, NOW))
    return step


def test_the_first_question_is_always_safety() -> None:
    (card,) = intake.start().intents
    assert isinstance(card, Say)
    assert card.key == "intake.safety"


def test_a_safe_requester_taps_through_to_a_request() -> None:
    step = run(HAPPY)
    assert step.state.asking is None
    submit = step.intents[-1]
    assert isinstance(submit, SubmitRequest)
    assert dict(submit.answers)[Field.TOPIC] == "burnout"
    assert not submit.urgent


@pytest.mark.parametrize(
    ("answer", "urgency"), [("no", Urgency.ACUTE), ("unsure", Urgency.NON_ACUTE)]
)
def test_not_safe_shows_resources_first_alerts_and_lets_them_continue(
    answer: str, urgency: Urgency
) -> None:
    step = run([(Field.SAFETY, answer)])
    resources, alert, promise, nxt = step.intents
    assert resources == ShowResources(urgency, for_self=True)  # spoken to the requester
    assert isinstance(alert, AlertCoordinators)
    assert alert.trigger == f"intake_{answer}"
    assert isinstance(promise, Say)
    assert promise.key == "intake.someone_will_reach_out"
    assert isinstance(nxt, Say)
    assert nxt.key == "intake.stage"
    finished = run([(Field.SAFETY, answer), *HAPPY[1:]])
    submit = finished.intents[-1]
    assert isinstance(submit, SubmitRequest)
    assert submit.urgent


def test_crisis_text_during_intake_shows_resources_and_keeps_the_question() -> None:
    state = run(HAPPY[:3]).state
    step = intake.advance(state, Wrote(RiskLevel.HIGH, "plan", NOW))
    assert step.intents[0] == ShowResources(Urgency.ACUTE, for_self=True)
    assert isinstance(step.intents[-1], Say)
    assert step.intents[-1].key == "intake.topic"


def test_ordinary_text_is_asked_to_use_the_buttons() -> None:
    step = intake.advance(IntakeState(), Wrote(RiskLevel.NONE, None, NOW))
    assert [i.key for i in step.intents if isinstance(i, Say)] == [
        "intake.use_buttons",
        "intake.safety",
    ]


@pytest.mark.parametrize(
    "event", [Chose(Field.STAGE, "resident", NOW), Chose(Field.SAFETY, "maybe", NOW)]
)
def test_an_answer_to_another_question_or_an_unknown_value_changes_nothing(event: Chose) -> None:
    state = IntakeState()
    step = intake.advance(state, event)
    assert step.state == state
    assert isinstance(step.intents[0], Say)
    assert step.intents[0].key == "button.stale"

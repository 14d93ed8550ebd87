"""The ASQ safety check (NIMH Ask Suicide-Screening Questions) and its scoring rules."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from flows.intents import Urgency

QUESTIONS: tuple[str, ...] = ("wished_dead", "better_off_dead", "thoughts", "tried")
"""The four screening questions, in the order they are asked (content keys asq.<name>)."""

ACUITY = "acuity"
"""The acuity question, asked only when the screen is positive."""


class Answer(StrEnum):
    """An answer to one ASQ question; a declined answer counts as yes."""

    YES = "yes"
    NO = "no"
    DECLINED = "declined"


class AsqResult(StrEnum):
    """The outcome of the screen."""

    NEGATIVE = "negative"
    NON_ACUTE = "non_acute"
    ACUTE = "acute"


def is_positive(answer: Answer) -> bool:
    """A yes or a declined answer is positive."""
    return answer is not Answer.NO


def needs_acuity(answers: Sequence[Answer]) -> bool:
    """The acuity question is asked once all four are answered and any is positive."""
    return len(answers) == len(QUESTIONS) and any(is_positive(a) for a in answers)


def next_question(answers: Sequence[Answer], acuity: Answer | None) -> str | None:
    """The name of the next question to ask, or None when the screen is complete."""
    if len(answers) < len(QUESTIONS):
        return QUESTIONS[len(answers)]
    if needs_acuity(answers) and acuity is None:
        return ACUITY
    return None


def score(answers: Sequence[Answer], acuity: Answer | None) -> AsqResult | None:
    """Score a complete screen; None while questions remain unanswered."""
    if next_question(answers, acuity) is not None:
        return None
    if not any(is_positive(a) for a in answers):
        return AsqResult.NEGATIVE
    assert acuity is not None
    return AsqResult.ACUTE if is_positive(acuity) else AsqResult.NON_ACUTE


def risk_level(result: AsqResult) -> Urgency | None:
    """The crisis level a result calls for; None for a negative screen."""
    return {
        AsqResult.NEGATIVE: None,
        AsqResult.NON_ACUTE: Urgency.NON_ACUTE,
        AsqResult.ACUTE: Urgency.ACUTE,
    }[result]

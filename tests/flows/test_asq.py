"""ASQ scoring follows its rules: any yes or refusal is positive; acuity splits acute from not."""

from __future__ import annotations

import pytest

from flows.asq import ACUITY, QUESTIONS, Answer, AsqResult, next_question, score

Y, N, D = Answer.YES, Answer.NO, Answer.DECLINED


@pytest.mark.parametrize(
    ("answers", "acuity", "expected"),
    [
        ((N, N, N, N), None, AsqResult.NEGATIVE),
        ((Y, N, N, N), N, AsqResult.NON_ACUTE),
        ((N, N, N, Y), N, AsqResult.NON_ACUTE),
        ((N, D, N, N), N, AsqResult.NON_ACUTE),
        ((N, N, Y, N), Y, AsqResult.ACUTE),
        ((Y, Y, Y, Y), Y, AsqResult.ACUTE),
        ((N, N, N, D), D, AsqResult.ACUTE),
        ((Y, N, N, N), None, None),
        ((Y, N), None, None),
        ((), None, None),
    ],
)
def test_score_follows_the_asq_rules(
    answers: tuple[Answer, ...], acuity: Answer | None, expected: AsqResult | None
) -> None:
    assert score(answers, acuity) == expected


def test_questions_come_in_order_and_acuity_only_when_positive() -> None:
    assert next_question((), None) == QUESTIONS[0]
    assert next_question((N, N), None) == QUESTIONS[2]
    assert next_question((N, N, N, N), None) is None
    assert next_question((N, N, N, D), None) == ACUITY
    assert next_question((N, N, N, Y), Y) is None

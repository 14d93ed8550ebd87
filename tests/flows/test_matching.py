"""Matching tables: hard rules, the score's parts, and deterministic ties."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.matching import (
    Exclusion,
    Request,
    Supporter,
    TrainingStage,
    excluded,
    rank,
    score,
)

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
S = TrainingStage
REQ = Request(stage=S.CLINICAL, topic="exams", language="en", department="surgery")


def sup(id: int, stage: TrainingStage = S.CLINICAL, **kw: object) -> Supporter:
    return Supporter(id=id, stage=stage, languages=frozenset({"en"}), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("supporter", "reason"),
    [
        (sup(1, available=False), Exclusion.AWAY),
        (replace(sup(1), languages=frozenset({"es"})), Exclusion.LANGUAGE),
        (sup(1, open_cases=3, max_cases=3), Exclusion.FULL),
        (sup(1), None),
    ],
)
def test_hard_rules_exclude(supporter: Supporter, reason: Exclusion | None) -> None:
    assert excluded(REQ, supporter) == reason


def test_outside_my_department_excludes_same_department_only_when_asked() -> None:
    same = sup(1, department="surgery")
    assert excluded(REQ, same) is None
    assert excluded(replace(REQ, outside_department=True), same) is Exclusion.SAME_DEPARTMENT


def test_one_step_more_senior_beats_same_stage_which_beats_far_senior() -> None:
    ranked = rank(REQ, [sup(1, S.ATTENDING), sup(2, S.CLINICAL), sup(3, S.RESIDENT)], NOW)
    assert [c.supporter.id for c in ranked] == [3, 2, 1]


def test_topic_readiness_and_hours_add_points_and_load_takes_them_away() -> None:
    ready = score(REQ, sup(1, topics=frozenset({"exams"})), NOW)
    busy = score(REQ, sup(2, open_cases=2), NOW)
    asleep = score(REQ, sup(3, hours=(time(9), time(17)), timezone="Asia/Tokyo"), NOW)
    assert dict(ready.reasons)["topic"] == 3
    assert dict(busy.reasons)["open_cases"] == -2
    assert "in_hours" not in dict(asleep.reasons)


def test_ties_go_to_the_least_recently_assigned_then_the_lowest_id() -> None:
    earlier = datetime(2026, 1, 1, tzinfo=UTC)
    later = datetime(2026, 2, 1, tzinfo=UTC)
    ranked = rank(
        REQ,
        [sup(5, last_assigned_at=later), sup(4, last_assigned_at=earlier), sup(9), sup(7)],
        NOW,
    )
    assert [c.supporter.id for c in ranked] == [7, 9, 4, 5]


def test_every_reason_is_explained_and_adds_up_to_the_score() -> None:
    candidate = score(REQ, sup(1, S.RESIDENT, topics=frozenset({"exams"}), open_cases=1), NOW)
    assert dict(candidate.reasons) == {
        "one_step_senior": 4,
        "topic": 3,
        "in_hours": 2,
        "open_cases": -1,
    }
    assert candidate.score == 8


stages = st.sampled_from(list(TrainingStage))


@given(st.lists(st.tuples(stages, st.integers(0, 4), st.booleans()), max_size=12), stages)
def test_ranking_is_deterministic_and_never_includes_an_excluded_supporter(
    specs: list[tuple[TrainingStage, int, bool]], stage: TrainingStage
) -> None:
    pool = [sup(i, s, open_cases=load, available=free) for i, (s, load, free) in enumerate(specs)]
    request = replace(REQ, stage=stage)
    first = rank(request, pool, NOW)
    assert first == rank(request, list(reversed(pool)), NOW)
    assert all(excluded(request, c.supporter) is None for c in first)
    assert [c.score for c in first] == sorted((c.score for c in first), reverse=True)

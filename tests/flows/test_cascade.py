"""The offer cascade, deadlines and time-to-contact, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flows.cascade import (
    HandOver,
    Offer,
    Timing,
    contact_times,
    next_step,
    request_from,
    sla_due,
    summarise,
)
from flows.matching import Candidate, Supporter, TrainingStage

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def ranked(*ids: int) -> list[Candidate]:
    return [
        Candidate(Supporter(i, TrainingStage.RESIDENT, frozenset({"en"})), 10 - n)
        for n, i in enumerate(ids)
    ]


def test_the_best_candidate_not_yet_asked_gets_the_offer() -> None:
    assert next_step(ranked(5, 6, 7), [], False, NOW, Timing()) == Offer(
        5, NOW + timedelta(minutes=10)
    )
    assert next_step(ranked(5, 6, 7), [5], False, NOW, Timing()) == Offer(
        6, NOW + timedelta(minutes=10)
    )
    assert next_step(ranked(5, 6, 7), [5, 7], True, NOW, Timing()) == Offer(
        6, NOW + timedelta(minutes=3)
    )


def test_nobody_left_hands_the_request_to_coordinators() -> None:
    assert next_step(ranked(5, 6), [5, 6], False, NOW, Timing()) == HandOver()
    assert next_step([], [], True, NOW, Timing()) == HandOver()


def test_timing_is_configurable() -> None:
    timing = Timing(offer=timedelta(minutes=20), urgent_offer=timedelta(minutes=1))
    assert next_step(ranked(5), [], False, NOW, timing) == Offer(5, NOW + timedelta(minutes=20))
    assert next_step(ranked(5), [], True, NOW, timing) == Offer(5, NOW + timedelta(minutes=1))


def test_the_deadline_is_one_hour_when_urgent_and_a_day_otherwise() -> None:
    assert sla_due(NOW, True, Timing()) == NOW + timedelta(hours=1)
    assert sla_due(NOW, False, Timing()) == NOW + timedelta(hours=24)


def test_time_to_contact_counts_from_the_request() -> None:
    times = contact_times(NOW, NOW + timedelta(minutes=4), NOW + timedelta(minutes=9, seconds=5))
    assert (times.to_accept, times.to_first_message) == (240, 545)
    assert contact_times(NOW, None, None) == contact_times(None, NOW, NOW)


def test_intake_answers_become_a_matching_request() -> None:
    answers = [
        ["safety", "yes"],
        ["stage", "clinical"],
        ["department", "surgery"],
        ["topic", "exams"],
        ["language", "es"],
        ["mode", "anonymous"],
        ["outside", "yes"],
        ["urgency", "today"],
    ]
    request = request_from(answers)
    assert request.stage is TrainingStage.CLINICAL
    assert (request.topic, request.language, request.department) == ("exams", "es", "surgery")
    assert request.outside_department
    skipped = request_from([["stage", "resident"], ["department", "skip"]])
    assert skipped.department is None
    assert skipped.language == "en"


def test_the_summary_gives_counts_and_median_waits() -> None:
    times = [
        contact_times(NOW, NOW + timedelta(minutes=2), NOW + timedelta(minutes=5)),
        contact_times(NOW, NOW + timedelta(minutes=4), None),
        contact_times(NOW, NOW + timedelta(minutes=30), NOW + timedelta(minutes=31)),
        contact_times(NOW, None, None),
    ]
    summary = summarise(times, missed_deadline=1)
    assert (summary.requests, summary.connected, summary.missed_deadline) == (4, 3, 1)
    assert summary.median_to_accept == 240
    assert summary.median_to_first_message == (300 + 1860) // 2
    empty = summarise([], 0)
    assert (empty.median_to_accept, empty.median_to_first_message) == (None, None)

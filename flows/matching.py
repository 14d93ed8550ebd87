"""Matching a requester to a supporter: an explainable score, hard rules first, ties broken
deterministically (least recently assigned, then lowest id)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo


class TrainingStage(StrEnum):
    """Where someone is in training or practice, in order of seniority (other clinicians apart)."""

    PRECLINICAL = "preclinical"
    CLINICAL = "clinical"
    RESIDENT = "resident"
    ATTENDING = "attending"
    OTHER = "other"  # nurses and other clinicians


LADDER = (
    TrainingStage.PRECLINICAL,
    TrainingStage.CLINICAL,
    TrainingStage.RESIDENT,
    TrainingStage.ATTENDING,
)

POINTS = {
    "same_stage": 3,
    "one_step_senior": 4,
    "more_senior": 1,
    "topic": 3,
    "in_hours": 2,
    "per_open_case": -1,
}
# The reasons a score can carry, as the coordinator sees them.
REASONS = ("same_stage", "one_step_senior", "more_senior", "topic", "in_hours", "open_cases")


@dataclass(frozen=True)
class Request:
    """What a requester told us (no free text)."""

    stage: TrainingStage
    topic: str
    language: str
    department: str | None = None
    outside_department: bool = False


@dataclass(frozen=True)
class Supporter:
    """A supporter's profile and current load."""

    id: int
    stage: TrainingStage
    languages: frozenset[str]
    topics: frozenset[str] = frozenset()
    department: str | None = None
    timezone: str = "UTC"
    hours: tuple[time, time] | None = None
    max_cases: int = 3
    open_cases: int = 0
    available: bool = True
    last_assigned_at: datetime | None = None


@dataclass(frozen=True)
class Candidate:
    """A supporter who may take the request, with the score and the reasons for it."""

    supporter: Supporter
    score: int
    reasons: tuple[tuple[str, int], ...] = field(default_factory=tuple)


class Exclusion(StrEnum):
    """Why a supporter cannot take a request at all."""

    AWAY = "away"
    LANGUAGE = "language"
    FULL = "full"
    SAME_DEPARTMENT = "same_department"


def excluded(request: Request, supporter: Supporter) -> Exclusion | None:
    """The hard rules: available, speaks the language, has room, department preference."""
    if not supporter.available:
        return Exclusion.AWAY
    if request.language not in supporter.languages:
        return Exclusion.LANGUAGE
    if supporter.open_cases >= supporter.max_cases:
        return Exclusion.FULL
    if (
        request.outside_department
        and request.department is not None
        and supporter.department == request.department
    ):
        return Exclusion.SAME_DEPARTMENT
    return None


def _stage_points(request: TrainingStage, supporter: TrainingStage) -> tuple[str, int] | None:
    if request == supporter:
        return "same_stage", POINTS["same_stage"]
    if request in LADDER and supporter in LADDER:
        gap = LADDER.index(supporter) - LADDER.index(request)
        if gap == 1:
            return "one_step_senior", POINTS["one_step_senior"]
        if gap > 1:
            return "more_senior", POINTS["more_senior"]
    return None


def _in_hours(supporter: Supporter, now: datetime) -> bool:
    if supporter.hours is None:
        return True
    start, end = supporter.hours
    clock = now.astimezone(ZoneInfo(supporter.timezone)).time()
    return start <= clock < end if start < end else (clock >= start or clock < end)


def score(request: Request, supporter: Supporter, now: datetime) -> Candidate:
    """The explainable score of one supporter for one request."""
    reasons: list[tuple[str, int]] = []
    stage = _stage_points(request.stage, supporter.stage)
    if stage is not None:
        reasons.append(stage)
    if request.topic in supporter.topics:
        reasons.append(("topic", POINTS["topic"]))
    if _in_hours(supporter, now):
        reasons.append(("in_hours", POINTS["in_hours"]))
    if supporter.open_cases:
        reasons.append(("open_cases", POINTS["per_open_case"] * supporter.open_cases))
    return Candidate(supporter, sum(points for _, points in reasons), tuple(reasons))


def rank(request: Request, supporters: list[Supporter], now: datetime) -> list[Candidate]:
    """Everyone who may take the request, best first; equal scores go to whoever was assigned
    least recently (never assigned first), then to the lowest id."""
    candidates = [score(request, s, now) for s in supporters if excluded(request, s) is None]
    epoch = datetime.min.replace(tzinfo=now.tzinfo)
    return sorted(
        candidates, key=lambda c: (-c.score, c.supporter.last_assigned_at or epoch, c.supporter.id)
    )

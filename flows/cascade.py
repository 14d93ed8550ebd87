"""A request's life after intake: offers down the ranked list, timeouts, hand assignment,
the service-level deadline and the time-to-contact figures. Pure: facts in, decisions out."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from statistics import median

from flows.intake import Field
from flows.matching import Candidate, Request, TrainingStage


class RequestStatus(StrEnum):
    """Where a request stands."""

    INTAKE = "intake"  # the requester is answering the questions
    SEARCHING = "searching"  # offers are going out
    UNASSIGNED = "unassigned"  # nobody accepted: a coordinator assigns by hand
    CONNECTED = "connected"  # a supporter accepted; they are talking
    ENDED = "ended"
    CANCELLED = "cancelled"


WAITING = (RequestStatus.SEARCHING, RequestStatus.UNASSIGNED)
RATINGS = ("1", "2", "3", "4", "5")  # how helpful the conversation was, asked after /end
# After /end, a check-in the requester asked for keeps the relay open this long; after that the
# message ids that thread the conversation are deleted.
RELAY_KEEP = timedelta(days=14)
LIVE = (RequestStatus.INTAKE, *WAITING, RequestStatus.CONNECTED)


@dataclass(frozen=True)
class Timing:
    """How long an offer stays open, and how long a request may wait for a supporter."""

    offer: timedelta = timedelta(minutes=10)
    urgent_offer: timedelta = timedelta(minutes=3)
    sla: timedelta = timedelta(hours=24)
    urgent_sla: timedelta = timedelta(hours=1)

    def offer_for(self, urgent: bool) -> timedelta:
        """How long one supporter has to answer an offer."""
        return self.urgent_offer if urgent else self.offer

    def sla_for(self, urgent: bool) -> timedelta:
        """How long a request may wait before coordinators are told."""
        return self.urgent_sla if urgent else self.sla


@dataclass(frozen=True)
class Offer:
    """Offer the request to this supporter until `expires_at`."""

    supporter_id: int
    expires_at: datetime


@dataclass(frozen=True)
class HandOver:
    """Nobody left to ask: coordinators assign by hand."""


def next_step(
    ranked: Sequence[Candidate],
    tried: Collection[int],
    urgent: bool,
    now: datetime,
    timing: Timing,
) -> Offer | HandOver:
    """The best candidate not yet asked gets the offer; when none is left, hand it over."""
    for candidate in ranked:
        if candidate.supporter.id not in tried:
            return Offer(candidate.supporter.id, now + timing.offer_for(urgent))
    return HandOver()


def sla_due(submitted_at: datetime, urgent: bool, timing: Timing) -> datetime:
    """When a still-waiting request must be raised to coordinators."""
    return submitted_at + timing.sla_for(urgent)


@dataclass(frozen=True)
class ContactTimes:
    """Request → accepted → first message, in whole seconds (None until it happened)."""

    to_accept: int | None
    to_first_message: int | None


def contact_times(
    submitted_at: datetime | None, accepted_at: datetime | None, first_at: datetime | None
) -> ContactTimes:
    """How long the requester waited for a supporter and for the first word."""

    def gap(end: datetime | None) -> int | None:
        if submitted_at is None or end is None:
            return None
        return int((end - submitted_at).total_seconds())

    return ContactTimes(gap(accepted_at), gap(first_at))


@dataclass(frozen=True)
class ContactSummary:
    """Requests over a period: how many, how many reached a supporter, and the median waits."""

    requests: int
    connected: int
    median_to_accept: int | None  # seconds
    median_to_first_message: int | None
    missed_deadline: int


def summarise(times: Sequence[ContactTimes], missed_deadline: int) -> ContactSummary:
    """The time-to-contact figures coordinators see."""
    accepted = [t.to_accept for t in times if t.to_accept is not None]
    first = [t.to_first_message for t in times if t.to_first_message is not None]
    return ContactSummary(
        requests=len(times),
        connected=len(accepted),
        median_to_accept=int(median(accepted)) if accepted else None,
        median_to_first_message=int(median(first)) if first else None,
        missed_deadline=missed_deadline,
    )


def request_from(answers: Sequence[Sequence[str]]) -> Request:
    """The matching request from intake answers (stored as [field, value] pairs)."""
    found = {Field(field): value for field, value in answers}
    department = found.get(Field.DEPARTMENT)
    return Request(
        stage=TrainingStage(found.get(Field.STAGE, TrainingStage.OTHER)),
        topic=found.get(Field.TOPIC, "other"),
        language=found.get(Field.LANGUAGE, "en"),
        department=None if department in (None, "skip", "other") else department,
        outside_department=found.get(Field.OUTSIDE) == "yes",
    )

"""Requester intake: safety first, then a few taps (no typing needed) that describe who would be
a good peer. Pure: answers in, the next question or the finished request out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from flows.crisis import RiskLevel
from flows.intents import AlertCoordinators, Button, Intent, Say, ShowResources, Urgency


class Field(StrEnum):
    """The intake questions, in the order they are asked."""

    SAFETY = "safety"
    STAGE = "stage"
    DEPARTMENT = "department"
    TOPIC = "topic"
    LANGUAGE = "language"
    MODE = "mode"
    OUTSIDE = "outside"
    URGENCY = "urgency"


CHOICES: dict[Field, tuple[str, ...]] = {
    Field.SAFETY: ("yes", "unsure", "no"),
    Field.STAGE: ("preclinical", "clinical", "resident", "attending", "other"),
    Field.DEPARTMENT: (
        "medicine",
        "surgery",
        "pediatrics",
        "obgyn",
        "psychiatry",
        "emergency",
        "other",
        "skip",
    ),
    Field.TOPIC: (
        "exams",
        "clinical_event",
        "burnout",
        "personal",
        "mistreatment",
        "substance",
        "other",
    ),
    Field.LANGUAGE: ("en", "es"),
    Field.MODE: ("anonymous", "contacts"),
    Field.OUTSIDE: ("yes", "no"),
    Field.URGENCY: ("today", "week"),
}
ORDER = tuple(Field)


@dataclass(frozen=True)
class IntakeState:
    """The answers so far; `asking` is the question on screen (None once finished)."""

    asking: Field | None = Field.SAFETY
    answers: tuple[tuple[Field, str], ...] = ()
    unsafe: bool = False

    def answer(self, field: Field) -> str | None:
        """The answer given to one question, if any."""
        return dict(self.answers).get(field)

    def to_data(self) -> dict[str, Any]:
        """A JSON-ready dict for storage (only tapped answers: there is no free text here)."""
        return {
            "asking": self.asking.value if self.asking else None,
            "answers": [[field.value, value] for field, value in self.answers],
            "unsafe": self.unsafe,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> IntakeState:
        """Rebuild a state from `to_data` output."""
        asking = data.get("asking")
        return cls(
            asking=Field(asking) if asking else None,
            answers=tuple((Field(f), str(v)) for f, v in data.get("answers", ())),
            unsafe=bool(data.get("unsafe", False)),
        )


@dataclass(frozen=True)
class Chose:
    """The requester tapped an answer."""

    field: Field
    value: str
    now: datetime


@dataclass(frozen=True)
class Wrote:
    """The requester typed something; only its crisis reading reaches the flow."""

    risk: RiskLevel
    trigger: str | None
    now: datetime


@dataclass(frozen=True)
class SubmitRequest:
    """Intake is complete: find a peer for these answers."""

    answers: tuple[tuple[Field, str], ...]
    urgent: bool


@dataclass(frozen=True)
class Step:
    """The new state and what to do."""

    state: IntakeState
    intents: tuple[Intent | SubmitRequest, ...]


def question(field: Field) -> Say:
    """The card for one question, one button per choice."""
    buttons = tuple(
        (Button(f"btn.intake.{field}.{value}", field.value, value),) for value in CHOICES[field]
    )
    return Say(f"intake.{field}", buttons=buttons)


def start() -> Step:
    """Intake always begins with safety."""
    return Step(IntakeState(), (question(Field.SAFETY),))


def _next(state: IntakeState) -> Field | None:
    answered = {field for field, _ in state.answers}
    return next((field for field in ORDER if field not in answered), None)


def advance(state: IntakeState, event: Chose | Wrote) -> Step:
    """Apply one answer or one typed message."""
    if isinstance(event, Wrote):
        if event.risk is RiskLevel.NONE:
            keep = (question(state.asking),) if state.asking else ()
            return Step(state, (Say("intake.use_buttons", replace=False), *keep))
        return _unsafe(
            state,
            Urgency.ACUTE if event.risk is RiskLevel.HIGH else Urgency.NON_ACUTE,
            f"text_{event.trigger or event.risk}",
        )
    if (
        state.asking is None
        or event.field is not state.asking
        or event.value not in CHOICES[event.field]
    ):
        return Step(state, (Say("button.stale", replace=False),))
    new = replace(state, answers=(*state.answers, (event.field, event.value)))
    intents: list[Intent | SubmitRequest] = []
    if event.field is Field.SAFETY and event.value != "yes":
        urgency = Urgency.ACUTE if event.value == "no" else Urgency.NON_ACUTE
        unsafe = _unsafe(new, urgency, f"intake_{event.value}")
        new, intents = unsafe.state, list(unsafe.intents[:-1])  # the next question comes below
    following = _next(new)
    new = replace(new, asking=following)
    if following is None:
        urgent = new.unsafe or new.answer(Field.URGENCY) == "today"
        intents += [Say("intake.done"), SubmitRequest(new.answers, urgent)]
    else:
        intents.append(question(following))
    return Step(new, tuple(intents))


def _unsafe(state: IntakeState, urgency: Urgency, trigger: str) -> Step:
    """Resources first, coordinators alerted, a promise that someone will reach out; the
    requester may carry on."""
    new = replace(state, unsafe=True)
    intents: list[Intent | SubmitRequest] = [
        ShowResources(urgency, for_self=True),
        AlertCoordinators(urgency, trigger),
        Say("intake.someone_will_reach_out", replace=False),
    ]
    if state.asking is not None:
        intents.append(question(state.asking))
    return Step(new, tuple(intents))


def content_keys() -> set[str]:
    """Every message key intake can show."""
    keys = {f"intake.{field}" for field in Field}
    keys |= {
        f"btn.intake.{field}.{value}" for field, values in CHOICES.items() for value in values
    }
    return keys | {"intake.use_buttons", "intake.done", "intake.someone_will_reach_out"}

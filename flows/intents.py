"""Intents: frozen descriptions of effects that a flow asks the shell to carry out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Urgency(StrEnum):
    """How urgently crisis resources and coordinators are needed."""

    NON_ACUTE = "non_acute"
    ACUTE = "acute"


@dataclass(frozen=True)
class Button:
    """An inline button: a content key for its label, an action and an optional argument."""

    label: str
    action: str
    arg: str = ""


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Say:
    """Show the message with content key `key`; `replace` edits the live card where possible."""

    key: str
    params: Mapping[str, object] = field(default_factory=dict)
    buttons: Keyboard = ()
    replace: bool = True
    notice: str | None = None
    header: str | None = None


@dataclass(frozen=True)
class ShowStep:
    """Show a step card: its progress title and one section (tips, more tips or phrases)."""

    stage: str
    section: str
    page: int
    buttons: Keyboard
    notice: str | None = None
    replace: bool = True


@dataclass(frozen=True)
class ShowResources:
    """Show crisis resources with what to do now for this risk level, before anything else."""

    level: Urgency
    for_self: bool = False  # addressed to the person at risk, not to someone helping them


@dataclass(frozen=True)
class ShowTopicResources:
    """Show the resources for one topic (exams, burnout, substance use…)."""

    topic: str


@dataclass(frozen=True)
class AlertCoordinators:
    """Raise a coordinator alert for the current case; `trigger` names the rule, never text."""

    level: Urgency
    trigger: str


@dataclass(frozen=True)
class ScheduleFollowUp:
    """Schedule a check-in ping at `at` (aware UTC); a preset (not exact) avoids quiet hours."""

    at: datetime
    exact: bool = True


@dataclass(frozen=True)
class OpenCase:
    """Make the follow-up's case the live session and show it at `view` (plan, type_time, asq)."""

    view: str


@dataclass(frozen=True)
class CloseCase:
    """End the follow-up's case."""


@dataclass(frozen=True)
class RecordOutcome:
    """Record a check-in outcome (a fixed code, no free text)."""

    outcome: str


Intent = (
    Say
    | ShowStep
    | ShowResources
    | AlertCoordinators
    | ScheduleFollowUp
    | RecordOutcome
    | OpenCase
    | CloseCase
    | ShowTopicResources
)

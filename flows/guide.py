"""The supporter's five-step guide: a pure state machine from events to a new state and intents."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from enum import StrEnum
from typing import Any

from flows import asq
from flows.asq import Answer, AsqResult
from flows.crisis import RiskLevel
from flows.followup import outside_quiet_hours
from flows.intents import (
    AlertCoordinators,
    Button,
    Intent,
    Keyboard,
    Say,
    ScheduleFollowUp,
    ShowResources,
    ShowStep,
    Urgency,
)
from flows.schedule import Preset, check_typed_time, preset_time


class Stage(StrEnum):
    """The five steps of peer support, in order."""

    CONNECT = "connect"
    ELICIT = "elicit"
    ASSESS = "assess"
    INTERVENE = "intervene"
    FOLLOW_UP = "follow_up"


STAGES: tuple[Stage, ...] = tuple(Stage)


class View(StrEnum):
    """What the live card shows within a step."""

    TIPS = "tips"
    MORE = "more"
    PHRASES = "phrases"
    ASQ = "asq"
    ASQ_RESULT = "asq_result"
    ASQ_SKIP = "asq_skip"
    PLAN = "plan"
    TYPE_TIME = "type_time"
    SCHEDULED = "scheduled"
    CRISIS = "crisis"


STEP_VIEWS = frozenset({View.TIPS, View.MORE, View.PHRASES})
ASSESS_VIEWS = frozenset({View.ASQ, View.ASQ_RESULT, View.ASQ_SKIP})
FOLLOW_UP_VIEWS = frozenset({View.PLAN, View.TYPE_TIME, View.SCHEDULED})


class Status(StrEnum):
    """Whether the session is live, paused by the supporter, or over."""

    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class Action(StrEnum):
    """What a button asks for; the values are short because they travel in callback data."""

    NEXT = "n"
    BACK = "b"
    MORE = "m"
    PHRASES = "p"
    TIPS = "t"
    PAUSE = "z"
    END = "e"
    ASQ = "q"
    ANSWER = "a"
    RESOURCES = "r"
    PLAN = "l"
    PRESET = "s"
    TYPE_TIME = "y"


@dataclass(frozen=True)
class GuideState:
    """Where a supporter is in a guided session, and the safety-check answers so far."""

    stage: Stage = Stage.CONNECT
    view: View = View.TIPS
    status: Status = Status.ACTIVE
    page: int = 0
    answers: tuple[Answer, ...] = ()
    acuity: Answer | None = None
    follow_up_at: datetime | None = None
    checked: AsqResult | None = None

    @property
    def result(self) -> AsqResult | None:
        """The safety-check result, once every question it needs is answered."""
        return asq.score(self.answers, self.acuity)

    @property
    def step_number(self) -> int:
        """1-based number of the current step."""
        return STAGES.index(self.stage) + 1

    def to_data(self) -> dict[str, Any]:
        """A JSON-ready dict for storage."""
        return {
            "stage": self.stage.value,
            "view": self.view.value,
            "status": self.status.value,
            "page": self.page,
            "answers": [a.value for a in self.answers],
            "acuity": self.acuity.value if self.acuity else None,
            "follow_up_at": self.follow_up_at.isoformat() if self.follow_up_at else None,
            "checked": self.checked.value if self.checked else None,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> GuideState:
        """Rebuild a state from `to_data` output."""
        at = data.get("follow_up_at")
        acuity = data.get("acuity")
        checked = data.get("checked")
        return cls(
            stage=Stage(data["stage"]),
            view=View(data["view"]),
            status=Status(data["status"]),
            page=int(data.get("page", 0)),
            answers=tuple(Answer(a) for a in data.get("answers", ())),
            acuity=Answer(acuity) if acuity else None,
            follow_up_at=datetime.fromisoformat(at) if at else None,
            checked=AsqResult(checked) if checked else None,
        )


@dataclass(frozen=True)
class Opened:
    """The supporter opened the guide (/guide): start, or resume where they were."""

    now: datetime


@dataclass(frozen=True)
class Pressed:
    """The supporter pressed one of the live card's buttons; `quiet` is their quiet window."""

    action: Action
    arg: str
    now: datetime
    tz: str
    quiet: tuple[time, time] | None = None


@dataclass(frozen=True)
class Typed:
    """The supporter typed free text: its crisis reading (the text itself never reaches the flow)
    and, if the flow awaited one, the time read from it."""

    now: datetime
    when: datetime | None = None
    risk: RiskLevel = RiskLevel.NONE
    trigger: str | None = None


@dataclass(frozen=True)
class Unrecognised:
    """The supporter sent something the guide cannot use (a sticker, an unknown command)."""

    now: datetime


@dataclass(frozen=True)
class Cancelled:
    """The supporter sent /cancel."""

    now: datetime


@dataclass(frozen=True)
class StatusAsked:
    """The supporter sent /status."""

    now: datetime


Event = Opened | Pressed | Typed | Unrecognised | Cancelled | StatusAsked


@dataclass(frozen=True)
class Step:
    """A flow's answer to one event: the new state and the intents to carry out, in order."""

    state: GuideState
    intents: tuple[Intent, ...] = field(default_factory=tuple)


STALE = Say("button.stale", replace=False)


def awaits_time(state: GuideState) -> bool:
    """Whether free text should be read as a check-in time."""
    return state.status is Status.ACTIVE and state.view is View.TYPE_TIME


def start() -> Step:
    """A new session (a new case) at step 1, with a hint to label it."""
    state = GuideState()
    return Step(state, (card(state, replace=False, notice="notice.new_case"),))


def advance(state: GuideState, event: Event) -> Step:
    """Apply one event to a session."""
    if isinstance(event, Opened):
        resumed = replace(state, status=Status.ACTIVE)
        return Step(resumed, (card(resumed, replace=False, notice="notice.resumed"),))
    if isinstance(event, Typed) and event.risk is not RiskLevel.NONE:
        # Safety first, whatever the session is doing: resources, alert, the safety check.
        return _crisis_text(replace(state, status=Status.ACTIVE), event)
    if isinstance(event, StatusAsked) and state.status is Status.PAUSED:
        return Step(state, (card(state, replace=False, notice="notice.paused_status"),))
    if state.status is not Status.ACTIVE:
        return Step(state, (Say("guide.not_active", replace=False),))
    if isinstance(event, Pressed):
        return _pressed(state, event)
    if isinstance(event, Typed):
        return _typed(state, event)
    if isinstance(event, Cancelled):
        return _cancelled(state)
    if isinstance(event, StatusAsked):
        return Step(state, (card(state, replace=False, notice="notice.status"),))
    return Step(state, (card(state, replace=False, notice="notice.unrecognised"),))


def _typed(state: GuideState, event: Typed) -> Step:
    if not awaits_time(state):
        return Step(state, (Say("notice.note_not_stored", replace=False),))
    problem = check_typed_time(event.when, event.now)
    if problem is not None:
        return Step(state, (card(state, replace=False, notice=f"followup.problem.{problem}"),))
    assert event.when is not None
    return _scheduled(state, event.when)


def _crisis_text(state: GuideState, event: Typed) -> Step:
    """Resources at once; a HIGH reading also alerts; then offer the safety check."""
    high = event.risk is RiskLevel.HIGH
    intents: list[Intent] = [ShowResources(Urgency.ACUTE if high else Urgency.NON_ACUTE)]
    if high:
        intents.append(AlertCoordinators(Urgency.ACUTE, f"text_{event.trigger or 'high'}"))
    new = replace(_to_tips(state), view=View.CRISIS)
    intents.append(card(new, replace=False))
    return Step(new, tuple(intents))


def _cancelled(state: GuideState) -> Step:
    if state.view in STEP_VIEWS:
        paused = replace(state, status=Status.PAUSED, view=View.TIPS, page=0)
        return Step(paused, (Say("guide.paused", replace=False),))
    back = _to_tips(state)
    notice = "notice.checkin_kept" if state.view is View.SCHEDULED else "notice.cancelled_input"
    return Step(back, (card(back, replace=False, notice=notice),))


def _to_tips(state: GuideState) -> GuideState:
    """Back to the step's tips, dropping an unfinished safety check."""
    answers, acuity = state.answers, state.acuity
    if state.result is None:
        answers, acuity = (), None
    return replace(state, view=View.TIPS, page=0, answers=answers, acuity=acuity)


def _move(state: GuideState, offset: int) -> GuideState:
    index = STAGES.index(state.stage) + offset
    return replace(_to_tips(state), stage=STAGES[index])


def _scheduled(state: GuideState, at: datetime, exact: bool = True) -> Step:
    new = replace(state, view=View.SCHEDULED, follow_up_at=at)
    return Step(new, (ScheduleFollowUp(at, exact), card(new)))


OPEN_AT: dict[str, dict[str, Any]] = {
    "plan": {"stage": Stage.FOLLOW_UP, "view": View.PLAN},
    "type_time": {"stage": Stage.FOLLOW_UP, "view": View.TYPE_TIME},
    "asq": {"stage": Stage.ASSESS, "view": View.ASQ, "answers": (), "acuity": None},
}


def open_at(state: GuideState, where: str) -> Step:
    """Reopen a case at a given card (from a check-in answer or /cases)."""
    changes: dict[str, Any] = OPEN_AT.get(where, {})
    new = replace(state, status=Status.ACTIVE, page=0, **changes)
    return Step(new, (card(new, replace=False, notice="notice.case_opened"),))


def close(state: GuideState) -> Step:
    """End a case from outside the guide (a check-in or /cases)."""
    return Step(replace(state, status=Status.ENDED), (Say("guide.ended", replace=False),))


def _pressed(state: GuideState, event: Pressed) -> Step:
    if not offers(state, event.action, event.arg):
        return Step(state, (STALE,))
    return _HANDLERS[event.action](state, event)


def _show(new: GuideState) -> Step:
    return Step(new, (card(new),))


def _next(state: GuideState, event: Pressed) -> Step:
    if state.stage is Stage.ASSESS and state.checked is None and event.arg != "skip":
        return _show(replace(state, view=View.ASQ_SKIP))
    return _show(_move(state, +1))


def _more(state: GuideState, event: Pressed) -> Step:
    page = state.page + 1 if state.view is View.MORE else 0
    return _show(replace(state, view=View.MORE, page=page))


def _pause(state: GuideState, event: Pressed) -> Step:
    return Step(replace(state, status=Status.PAUSED), (Say("guide.paused"),))


def _end(state: GuideState, event: Pressed) -> Step:
    key = "guide.ended_with_follow_up" if state.follow_up_at else "guide.ended"
    return Step(replace(state, status=Status.ENDED), (Say(key, {"at": state.follow_up_at}),))


def _resources(state: GuideState, event: Pressed) -> Step:
    level = asq.risk_level(state.result) if state.result else None
    assert level is not None
    return Step(state, (ShowResources(level), card(state, replace=False)))


_HANDLERS: dict[Action, Callable[[GuideState, Pressed], Step]] = {
    Action.NEXT: _next,
    Action.BACK: lambda s, e: _back(s),
    Action.MORE: _more,
    Action.PHRASES: lambda s, e: _show(replace(s, view=View.PHRASES, page=0)),
    Action.TIPS: lambda s, e: _show(_to_tips(s)),
    Action.PAUSE: _pause,
    Action.END: _end,
    Action.ASQ: lambda s, e: _show(
        replace(s, stage=Stage.ASSESS, view=View.ASQ, page=0, answers=(), acuity=None)
    ),
    Action.ANSWER: lambda s, e: _answered(s, Answer(e.arg)),
    Action.RESOURCES: _resources,
    Action.PLAN: lambda s, e: _show(replace(s, view=View.PLAN)),
    Action.PRESET: lambda s, e: _scheduled(
        s, outside_quiet_hours(preset_time(Preset(e.arg), e.now, e.tz), e.tz, e.quiet), False
    ),
    Action.TYPE_TIME: lambda s, e: _show(replace(s, view=View.TYPE_TIME)),
}


def _back(state: GuideState) -> Step:
    if state.view is View.ASQ and (state.answers or state.acuity):
        if state.acuity is not None:
            new = replace(state, acuity=None)
        else:
            new = replace(state, answers=state.answers[:-1])
    elif state.view in STEP_VIEWS:
        new = _move(state, -1)
    elif state.view is View.TYPE_TIME:
        new = replace(state, view=View.PLAN)
    else:
        new = _to_tips(state)
    return Step(new, (card(new),))


def _answered(state: GuideState, answer: Answer) -> Step:
    if len(state.answers) < len(asq.QUESTIONS):
        new = replace(state, answers=(*state.answers, answer))
    else:
        new = replace(state, acuity=answer)
    result = new.result
    if result is None:
        return _show(new)
    new = replace(new, view=View.ASQ_RESULT, checked=result)
    level = asq.risk_level(result)
    if level is None:
        return Step(new, (card(new),))
    # Resources first, before any other text; then the alert; then the result card.
    alert = AlertCoordinators(level, f"asq_{result}")
    return Step(new, (ShowResources(level), alert, card(new, replace=False)))


def offers(state: GuideState, action: str, arg: str) -> bool:
    """Whether the live card offers this button: anything else is stale or forged."""
    return any(b.action == action and b.arg == arg for row in buttons(state) for b in row)


def _b(label: str, action: Action, arg: str = "") -> Button:
    return Button(f"btn.{label}", action.value, arg)


def buttons(state: GuideState) -> Keyboard:
    """The buttons the live card offers in this state."""
    if state.status is not Status.ACTIVE:
        return ()
    view = state.view
    if view is View.ASQ:
        return (
            (_b("yes", Action.ANSWER, "yes"), _b("no", Action.ANSWER, "no")),
            (_b("declined", Action.ANSWER, "declined"),),
            (_b("back", Action.BACK), _b("stop_check", Action.TIPS)),
        )
    if view is View.ASQ_RESULT:
        rows: list[tuple[Button, ...]] = []
        if state.result is not AsqResult.NEGATIVE:
            rows.append((_b("resources", Action.RESOURCES),))
        rows += [(_b("continue", Action.NEXT),), (_b("redo_check", Action.ASQ),)]
        return tuple(rows)
    if view is View.ASQ_SKIP:
        return (
            (_b("start_check", Action.ASQ),),
            (_b("skip_check", Action.NEXT, "skip"),),
            (_b("back", Action.TIPS),),
        )
    if view is View.PLAN:
        return (
            (
                _b("evening", Action.PRESET, Preset.EVENING),
                _b("tomorrow", Action.PRESET, Preset.TOMORROW),
            ),
            (
                _b("three_days", Action.PRESET, Preset.THREE_DAYS),
                _b("week", Action.PRESET, Preset.WEEK),
            ),
            (_b("type_time", Action.TYPE_TIME),),
            (_b("back", Action.TIPS),),
        )
    if view is View.TYPE_TIME:
        return ((_b("back", Action.BACK),),)
    if view is View.CRISIS:
        return ((_b("check_now", Action.ASQ),), (_b("back_to_step", Action.TIPS),))
    if view is View.SCHEDULED:
        return ((_b("change_time", Action.PLAN),), (_b("finish", Action.END),))
    return _step_buttons(state)


def _step_buttons(state: GuideState) -> Keyboard:
    rows: list[tuple[Button, ...]] = []
    if state.stage is Stage.ASSESS:
        rows.append((_b("start_check", Action.ASQ),))
    if state.stage is Stage.FOLLOW_UP:
        rows.append((_b("plan", Action.PLAN),))
    nav = []
    if state.stage is not STAGES[0]:
        nav.append(_b("back", Action.BACK))
    if state.stage is not STAGES[-1]:
        nav.append(_b("next", Action.NEXT))
    rows.append(tuple(nav))
    second = (
        _b("phrases", Action.PHRASES)
        if state.view is not View.PHRASES
        else _b("tips", Action.TIPS)
    )
    rows.append((_b("more", Action.MORE), second))
    last = "finish" if state.stage is Stage.FOLLOW_UP else "end"
    rows.append((_b("pause", Action.PAUSE), _b(last, Action.END)))
    return tuple(rows)


def card(state: GuideState, *, replace: bool = True, notice: str | None = None) -> Say | ShowStep:
    """The live card for the current state."""
    keys = buttons(state)
    view = state.view
    if view in STEP_VIEWS:
        return ShowStep(state.stage.value, view.value, state.page, keys, notice, replace)
    params: dict[str, object] = {"step": state.step_number, "total": len(STAGES)}
    header = None
    if view is View.ASQ:
        question = asq.next_question(state.answers, state.acuity)
        assert question is not None
        params |= {"n": len(state.answers) + 1, "of": len(asq.QUESTIONS)}
        key = f"asq.{question}"
        header = "asq.header_acuity" if question == asq.ACUITY else "asq.header"
    elif view is View.ASQ_RESULT:
        key = f"asq.result.{state.result}"
    elif view is View.SCHEDULED:
        key, params = "followup.scheduled", params | {"at": state.follow_up_at}
    elif view is View.CRISIS:
        key = "crisis.offer_check"
    else:
        key = f"guide.{view}"
    return Say(key, params, keys, replace, notice, header)


def _shape(state: GuideState) -> tuple[object, ...]:
    """What makes two states show different cards (pages beyond a few look alike)."""
    return (
        state.stage,
        state.view,
        state.status,
        min(state.page, 3),
        state.result,
        len(state.answers),
        state.acuity is None,
        state.follow_up_at is None,
        state.checked,
    )


def explore(now: datetime, tz: str = "UTC") -> Iterator[tuple[GuideState, Button, GuideState]]:
    """Every (state, button, next state) reachable from the start by pressing offered buttons,
    one state per distinct card; also from the card shown after a crisis text."""
    crisis = advance(start().state, Typed(now, risk=RiskLevel.POSSIBLE)).state
    seen = {_shape(s) for s in (start().state, crisis)}
    queue = deque([start().state, crisis])
    while queue:
        state = queue.popleft()
        for row in buttons(state):
            for button in row:
                nxt = advance(state, Pressed(Action(button.action), button.arg, now, tz)).state
                yield state, button, nxt
                if _shape(nxt) not in seen:
                    seen.add(_shape(nxt))
                    queue.append(nxt)

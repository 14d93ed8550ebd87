"""The guide flow as pure transcripts: events in, state and intents out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows import guide
from flows.asq import Answer, AsqResult
from flows.crisis import RiskLevel
from flows.guide import (
    ASSESS_VIEWS,
    FOLLOW_UP_VIEWS,
    STAGES,
    Action,
    GuideState,
    Stage,
    Status,
    View,
)
from flows.intents import (
    AlertCoordinators,
    Say,
    ScheduleFollowUp,
    ShowResources,
    ShowStep,
    Urgency,
)

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
TZ = "America/New_York"


def press(state: GuideState, action: Action, arg: str = "") -> guide.Step:
    return guide.advance(state, guide.Pressed(action, arg, NOW, TZ))


def run(state: GuideState, *presses: tuple[Action, str] | Action) -> guide.Step:
    step = guide.Step(state)
    for item in presses:
        action, arg = item if isinstance(item, tuple) else (item, "")
        step = press(step.state, action, arg)
    return step


ASSESS = GuideState(stage=Stage.ASSESS)


def asq(*answers: str) -> guide.Step:
    return run(ASSESS, Action.ASQ, *[(Action.ANSWER, a) for a in answers])


def test_start_shows_step_one_tips() -> None:
    step = guide.start()
    assert step.state == GuideState()
    (card,) = step.intents
    assert isinstance(card, ShowStep)
    assert (card.stage, card.section) == ("connect", "tips")


def test_next_walks_through_all_five_steps_in_order() -> None:
    state = GuideState()
    seen = [state.stage]
    for _ in range(4):
        state = press(state, Action.NEXT).state
        if state.view is View.ASQ_SKIP:
            state = press(state, Action.NEXT, "skip").state
        seen.append(state.stage)
    assert seen == list(STAGES)
    assert not guide.offers(state, Action.NEXT, "")


def test_back_returns_to_the_previous_step_and_step_one_has_no_back() -> None:
    assert not guide.offers(GuideState(), Action.BACK, "")
    assert press(GuideState(stage=Stage.ELICIT), Action.BACK).state.stage is Stage.CONNECT


def test_more_tips_pages_forward_and_phrases_switch_section() -> None:
    first = press(GuideState(), Action.MORE)
    second = press(first.state, Action.MORE)
    assert (first.state.view, first.state.page) == (View.MORE, 0)
    assert second.state.page == 1
    phrases = press(second.state, Action.PHRASES)
    card = phrases.intents[0]
    assert isinstance(card, ShowStep)
    assert card.section == "phrases"


def test_next_from_assess_without_the_safety_check_asks_to_do_it_first() -> None:
    step = press(ASSESS, Action.NEXT)
    assert step.state.view is View.ASQ_SKIP
    assert step.state.stage is Stage.ASSESS
    skipped = press(step.state, Action.NEXT, "skip")
    assert skipped.state.stage is Stage.INTERVENE


def test_a_negative_screen_shows_no_resources_and_raises_no_alert() -> None:
    step = asq("no", "no", "no", "no")
    assert step.state.result is AsqResult.NEGATIVE
    assert step.state.view is View.ASQ_RESULT
    assert not any(isinstance(i, ShowResources | AlertCoordinators) for i in step.intents)


@pytest.mark.parametrize(
    ("answers", "level"),
    [
        (("yes", "no", "no", "no", "no"), Urgency.NON_ACUTE),
        (("no", "no", "no", "declined", "no"), Urgency.NON_ACUTE),
        (("no", "no", "yes", "no", "yes"), Urgency.ACUTE),
        (("no", "no", "yes", "no", "declined"), Urgency.ACUTE),
    ],
)
def test_a_positive_screen_shows_resources_before_anything_else_and_alerts(
    answers: tuple[str, ...], level: Urgency
) -> None:
    step = asq(*answers)
    first, second, *rest = step.intents
    assert first == ShowResources(level)
    assert isinstance(second, AlertCoordinators)
    assert second.level is level
    assert isinstance(rest[-1], Say)
    assert rest[-1].key == f"asq.result.{level}"


def test_the_acuity_question_is_asked_only_after_a_positive_answer() -> None:
    assert asq("no", "no", "no", "yes").state.view is View.ASQ
    card = asq("no", "no", "no", "yes").intents[-1]
    assert isinstance(card, Say)
    assert card.key == "asq.acuity"


def test_back_in_the_safety_check_removes_the_last_answer() -> None:
    step = asq("yes", "no")
    back = press(step.state, Action.BACK)
    assert back.state.answers == (Answer.YES,)


def test_cancel_during_the_check_drops_partial_answers_and_cancel_on_tips_pauses() -> None:
    step = guide.advance(asq("yes").state, guide.Cancelled(NOW))
    assert step.state.view is View.TIPS
    assert step.state.answers == ()
    paused = guide.advance(step.state, guide.Cancelled(NOW))
    assert paused.state.status is Status.PAUSED


def test_a_finished_check_is_kept_when_moving_between_steps() -> None:
    done = asq("yes", "no", "no", "no", "no").state
    later = press(press(done, Action.NEXT).state, Action.BACK).state
    assert later.result is AsqResult.NON_ACUTE


def test_a_button_the_card_does_not_offer_changes_nothing() -> None:
    state = GuideState()
    step = press(state, Action.ANSWER, "yes")
    assert step.state == state
    assert step.intents == (guide.STALE,)


def test_a_preset_schedules_the_follow_up_and_shows_it() -> None:
    state = GuideState(stage=Stage.FOLLOW_UP, view=View.PLAN)
    step = press(state, Action.PRESET, "tomorrow")
    (schedule, card) = step.intents
    assert isinstance(schedule, ScheduleFollowUp)
    assert schedule.at > NOW
    assert step.state.follow_up_at == schedule.at
    assert step.state.view is View.SCHEDULED
    assert isinstance(card, Say)
    assert card.params["at"] == schedule.at


def test_typed_time_is_read_only_while_awaited_and_checked() -> None:
    state = GuideState(stage=Stage.FOLLOW_UP, view=View.TYPE_TIME)
    assert guide.awaits_time(state)
    assert not guide.awaits_time(GuideState())
    bad = guide.advance(state, guide.Typed(NOW, None))
    assert bad.state == state
    assert isinstance(bad.intents[0], Say)
    assert bad.intents[0].notice == "followup.problem.unreadable"
    good = guide.advance(state, guide.Typed(NOW, NOW + timedelta(hours=2)))
    assert good.intents[0] == ScheduleFollowUp(NOW + timedelta(hours=2))


def test_a_note_is_acknowledged_and_leaves_the_state_alone() -> None:
    state = GuideState(stage=Stage.ELICIT)
    step = guide.advance(state, guide.Typed(NOW))
    assert step.state == state
    assert step.intents == (Say("notice.note_not_stored", replace=False),)


def test_pause_end_and_resume() -> None:
    paused = press(GuideState(stage=Stage.ELICIT), Action.PAUSE).state
    assert paused.status is Status.PAUSED
    assert guide.advance(paused, guide.Typed(NOW)).state == paused
    resumed = guide.advance(paused, guide.Opened(NOW))
    assert resumed.state == replace(paused, status=Status.ACTIVE)
    ended = press(resumed.state, Action.END)
    assert ended.state.status is Status.ENDED
    assert isinstance(ended.intents[0], Say)
    assert ended.intents[0].key == "guide.ended"


def test_state_survives_a_round_trip_through_plain_data() -> None:
    state = replace(asq("yes", "no", "no", "declined", "no").state, follow_up_at=NOW)
    assert GuideState.from_data(state.to_data()) == state


# Property tests: any sequence of events keeps the session in a defined, storable state.

events = st.one_of(
    st.builds(
        lambda a, arg: ("press", a, arg),
        st.sampled_from(list(Action)),
        st.sampled_from(["", "yes", "no", "declined", "skip", "evening", "week", "x"]),
    ),
    st.just(("offered",)),
    st.just(("typed",)),
    st.just(("cancel",)),
    st.just(("open",)),
    st.just(("status",)),
)


def apply(state: GuideState, event: tuple[str, ...], choice: int) -> guide.Step:
    kind = event[0]
    if kind == "press":
        return press(state, Action(event[1]), event[2])
    if kind == "offered":
        offered = [b for row in guide.buttons(state) for b in row]
        if not offered:
            return guide.advance(state, guide.Opened(NOW))
        button = offered[choice % len(offered)]
        return press(state, Action(button.action), button.arg)
    if kind == "typed":
        return guide.advance(state, guide.Typed(NOW, NOW + timedelta(hours=choice % 48 + 1)))
    if kind == "cancel":
        return guide.advance(state, guide.Cancelled(NOW))
    if kind == "status":
        return guide.advance(state, guide.StatusAsked(NOW))
    return guide.advance(state, guide.Opened(NOW))


@settings(max_examples=300)
@given(st.lists(st.tuples(events, st.integers(0, 50)), max_size=60))
def test_no_event_sequence_leaves_the_flow_in_an_undefined_state(
    sequence: list[tuple[tuple[str, ...], int]],
) -> None:
    state = guide.start().state
    for event, choice in sequence:
        step = apply(state, event, choice)
        state = step.state
        assert GuideState.from_data(state.to_data()) == state
        assert len(state.answers) <= 4
        if state.view in ASSESS_VIEWS:
            assert state.stage is Stage.ASSESS
        if state.view in FOLLOW_UP_VIEWS:
            assert state.stage is Stage.FOLLOW_UP
        if state.view is View.ASQ_RESULT:
            assert state.result is not None
        if state.status is Status.ACTIVE and step.intents:
            assert any(isinstance(i, Say | ShowStep) for i in step.intents)
        levels = [i for i in step.intents if isinstance(i, ShowResources)]
        if levels:
            assert isinstance(step.intents[0], ShowResources)


def test_redoing_the_check_and_stopping_keeps_the_earlier_result() -> None:
    done = asq("yes", "no", "no", "no", "no").state
    redo = press(done, Action.ASQ).state
    stopped = press(redo, Action.TIPS).state
    assert stopped.checked is AsqResult.NON_ACUTE
    assert press(stopped, Action.NEXT).state.stage is Stage.INTERVENE


def test_status_while_paused_shows_where_the_supporter_was() -> None:
    paused = press(GuideState(stage=Stage.ELICIT), Action.PAUSE).state
    (card,) = guide.advance(paused, guide.StatusAsked(NOW)).intents
    assert isinstance(card, ShowStep)
    assert (card.stage, card.notice, card.buttons) == ("elicit", "notice.paused_status", ())


def test_cancel_after_planning_says_the_check_in_still_stands() -> None:
    planned = press(GuideState(stage=Stage.FOLLOW_UP, view=View.PLAN), Action.PRESET, "week")
    (card,) = guide.advance(planned.state, guide.Cancelled(NOW)).intents
    assert isinstance(card, ShowStep)
    assert card.notice == "notice.checkin_kept"


def test_crisis_text_in_a_paused_session_still_shows_resources_and_alerts() -> None:
    paused = press(GuideState(stage=Stage.ELICIT), Action.PAUSE).state
    step = guide.advance(paused, guide.Typed(NOW, risk=RiskLevel.HIGH, trigger="plan"))
    assert isinstance(step.intents[0], ShowResources)
    assert any(isinstance(i, AlertCoordinators) for i in step.intents)
    assert step.state.view is View.CRISIS

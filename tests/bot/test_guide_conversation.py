"""Whole guided sessions through the real PTB stack and the offline Bot API fake."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlmodel import select

from bot.callbacks import guide_data
from storage.models import Alert, GuideSession
from tests.auxil.harness import COORDINATOR, OTHER_SUPPORTER, SUPPORTER, VISITOR, Harness

TITLES = [
    "Make a connection",
    "Hear their story",
    "Assess the impact",
    "Offer support",
    "Follow up",
]


def bullets(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("• ")]


def session_row(bot: Harness, user_id: int = SUPPORTER) -> GuideSession:
    with bot.svc.db.transaction() as tx:
        row = tx.exec(select(GuideSession).where(GuideSession.person_id == user_id)).first()
        assert row is not None
        return row


async def test_a_supporter_walks_all_five_steps_with_titles_and_tips(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/guide")
    for number, title in enumerate(TITLES, 1):
        text = bot.sim.last_text(SUPPORTER)
        if number == 1:
            assert text.startswith("New case.")  # the label hint, then the card
            text = text.split("\n\n", 1)[1]
        assert text.startswith(f"<b>Step {number} of 5 · {title}</b>")
        assert 2 <= len(bullets(text)) <= 4
        if number == 3:
            await bot.sim.press(SUPPORTER, "Next ▶")
            assert "haven't done the safety check" in bot.sim.last_text(SUPPORTER)
            await bot.sim.press(SUPPORTER, "Continue without it")
        elif number < 5:
            await bot.sim.press(SUPPORTER, "Next ▶")
    assert "Next ▶" not in bot.sim.buttons(SUPPORTER)
    assert "Finish session" in bot.sim.buttons(SUPPORTER)


async def test_each_step_card_has_the_navigation_buttons(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/guide")
    assert bot.sim.buttons(SUPPORTER) == [
        "Next ▶",
        "More tips",
        "What do I say?",
        "⏸ Pause",
        "End session",
    ]
    await bot.sim.press(SUPPORTER, "Next ▶")
    assert bot.sim.buttons(SUPPORTER)[:2] == ["◀ Back", "Next ▶"]


async def test_pressing_a_button_edits_the_card_in_place(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/guide")
    cards = len(bot.api.chat(SUPPORTER))
    calls = await bot.sim.press(SUPPORTER, "Next ▶")
    assert [c.method for c in calls] == ["answerCallbackQuery", "editMessageText"]
    assert len(bot.api.chat(SUPPORTER)) == cards


async def test_more_tips_and_example_phrases_show_new_content(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/guide")
    await bot.sim.send(SUPPORTER, "/status")
    tips = bot.sim.last_text(SUPPORTER).removeprefix("You are here:\n\n")
    await bot.sim.press(SUPPORTER, "More tips")
    more = bot.sim.last_text(SUPPORTER)
    assert "More tips" in more
    assert set(bullets(more)).isdisjoint(bullets(tips))
    await bot.sim.press(SUPPORTER, "What do I say?")
    phrases = bot.sim.last_text(SUPPORTER)
    assert "What you could say" in phrases
    assert all("“" in line for line in bullets(phrases))
    await bot.sim.press(SUPPORTER, "Back to tips")
    assert bot.sim.last_text(SUPPORTER) == tips


async def check(bot: Harness, *answers: str) -> list[str]:
    """Go to step 3, run the safety check with these answers; the texts of the last press."""
    calls = await bot.guide_to(SUPPORTER, "Next ▶", "Next ▶", "🛡 Safety check")
    for answer in answers:
        calls = await bot.sim.press(SUPPORTER, answer)
    return bot.texts(calls, SUPPORTER)


def alerts(bot: Harness) -> list[Alert]:
    with bot.svc.db.transaction() as tx:
        return list(tx.exec(select(Alert)).all())


async def test_a_negative_safety_check_shows_no_crisis_resources(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    texts = await check(bot, "No", "No", "No", "No")
    assert len(texts) == 1
    assert "no risk flagged" in texts[0]
    assert "988" not in texts[0]
    assert alerts(bot) == []


async def test_a_non_acute_positive_shows_resources_first_then_what_to_do(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    texts = await check(bot, "Yes", "No", "No", "No", "No")
    resources, result = texts
    assert "help from a professional today" in resources
    for must in ("988", "741741", "1-888-409-0141", "1-800-662-4357", "911"):
        assert must in resources
    assert "positive, not immediate" in result
    (alert,) = alerts(bot)
    assert (alert.level, alert.trigger, alert.status) == ("non_acute", "asq_non_acute", "open")


async def test_an_acute_positive_tells_the_supporter_to_stay_and_call_now(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    texts = await check(bot, "No", "No", "Yes", "No", "Yes")
    assert texts[0].startswith("🆘")
    assert "Stay with them" in texts[0]
    assert "immediate risk" in texts[1]
    assert [a.level for a in alerts(bot)] == ["acute"]


async def test_a_declined_answer_counts_as_positive(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    texts = await check(bot, "No", "No", "No", "They'd rather not answer", "No")
    assert "positive, not immediate" in texts[-1]


async def test_resource_links_are_buttons_and_phone_numbers_are_text(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await check(bot, "Yes", "No", "No", "No", "No")
    messages = bot.api.chat(SUPPORTER)
    resource = next(m for m in messages if "Crisis resources" in m["text"])
    urls = [b["url"] for row in resource["reply_markup"]["inline_keyboard"] for b in row]
    assert all(u.startswith("https://") for u in urls)
    assert "https://988lifeline.org/chat/" in urls


async def test_crisis_resources_can_be_shown_again_from_the_result(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await check(bot, "Yes", "No", "No", "No", "No")
    calls = await bot.sim.press(SUPPORTER, "🆘 Crisis resources")
    assert "Crisis resources" in bot.texts(calls)[0]
    assert len(alerts(bot)) == 1


@pytest.mark.parametrize(
    "path",
    [
        (),
        ("Next ▶", "More tips"),
        ("Next ▶", "Next ▶", "🛡 Safety check", "Yes"),
        (
            "Next ▶",
            "Next ▶",
            "Next ▶",
            "Continue without it",
            "Next ▶",
            "📅 Plan a check-in",
            "Type a time",
        ),
    ],
    ids=["step1", "more-tips", "mid-check", "typing-a-time"],
)
async def test_help_status_and_cancel_work_at_every_point(bot: Harness, path: tuple[str]) -> None:
    await bot.enrol(SUPPORTER)
    await bot.guide_to(SUPPORTER, *path)
    before = session_row(bot).state
    help_text = bot.texts(await bot.sim.send(SUPPORTER, "/help"))[0]
    assert "/guide" in help_text
    assert "/cancel" in help_text
    status = bot.texts(await bot.sim.send(SUPPORTER, "/status"))[0]
    assert status.startswith("You are here:")
    assert re.search(r"Step \d of 5", status)
    assert session_row(bot).state == before
    cancel = bot.texts(await bot.sim.send(SUPPORTER, "/cancel"))[0]
    assert "Cancelled" in cancel or "Paused" in cancel
    resumed = bot.texts(await bot.sim.send(SUPPORTER, "/guide"))[0]
    number = ["connect", "elicit", "assess", "intervene", "follow_up"].index(before["stage"]) + 1
    assert f"Step {number} of 5" in resumed
    assert session_row(bot).state["stage"] == before["stage"]


async def test_cancel_mid_check_returns_to_the_step_and_a_second_cancel_pauses(
    bot: Harness,
) -> None:
    await bot.enrol(SUPPORTER)
    await check(bot, "Yes")
    assert "Cancelled. Back to the step." in bot.texts(await bot.sim.send(SUPPORTER, "/cancel"))[0]
    assert "Paused" in bot.texts(await bot.sim.send(SUPPORTER, "/cancel"))[0]
    assert session_row(bot).status == "paused"


async def test_commands_without_a_session_say_what_to_do(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    assert "No guided session open" in bot.texts(await bot.sim.send(SUPPORTER, "/status"))[0]
    assert "Nothing to cancel" in bot.texts(await bot.sim.send(SUPPORTER, "/cancel"))[0]


async def test_pause_then_guide_resumes_at_the_same_step(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await bot.guide_to(SUPPORTER, "Next ▶", "⏸ Pause")
    assert "Paused" in bot.sim.last_text(SUPPORTER)
    text = bot.texts(await bot.sim.send(SUPPORTER, "/guide"))[0]
    assert "Welcome back" in text
    assert "Step 2 of 5" in text


async def test_ending_closes_the_session_and_guide_starts_a_new_one(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await bot.guide_to(SUPPORTER, "Next ▶", "End session")
    assert "Session finished" in bot.sim.last_text(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/guide")
    assert "<b>Step 1 of 5" in bot.sim.last_text(SUPPORTER)


async def test_an_old_cards_button_is_no_longer_active(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/guide")
    data, old = bot.sim.find_button(SUPPORTER, "Next ▶")
    await bot.sim.press(SUPPORTER, "Next ▶")
    before = session_row(bot)
    calls = await bot.sim.press_data(SUPPORTER, data, old)
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert "no longer active" in calls[0].params["text"]
    after = session_row(bot)
    assert (after.state, after.version) == (before.state, before.version)


async def test_a_new_card_strips_the_buttons_from_the_old_one(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/guide")
    first = bot.api.chat(SUPPORTER)[-1]["message_id"]
    await bot.sim.send(SUPPORTER, "/status")
    stripped = bot.api.messages[(SUPPORTER, first)]
    assert "reply_markup" not in stripped


async def test_another_users_button_changes_nothing(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await bot.enrol(OTHER_SUPPORTER)
    await bot.sim.send(SUPPORTER, "/guide")
    await bot.sim.send(OTHER_SUPPORTER, "/guide")
    data, message = bot.sim.find_button(SUPPORTER, "Next ▶")
    calls = await bot.sim.press_data(OTHER_SUPPORTER, data, message)
    assert "no longer active" in calls[0].params["text"]
    assert session_row(bot, SUPPORTER).state["stage"] == "connect"
    assert session_row(bot, OTHER_SUPPORTER).state["stage"] == "connect"


@pytest.mark.parametrize(
    "forge",
    [
        lambda row: "garbage",
        lambda row: "g1:99999:1:n:",
        lambda row: guide_data(row.id, row.version + 5, "n", ""),
        lambda row: guide_data(row.id, row.version, "a", "yes"),  # not offered on this card
        lambda row: guide_data(row.id, row.version, "n", "skip"),
        lambda row: guide_data(row.id, row.version, "x", ""),
        lambda row: "c1:12345:better",
    ],
    ids=[
        "garbage",
        "unknown-session",
        "wrong-version",
        "not-offered",
        "bad-arg",
        "unknown-action",
        "unknown-checkin",
    ],
)
async def test_forged_buttons_are_refused_and_change_nothing(bot: Harness, forge: object) -> None:
    await bot.enrol(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/guide")
    row = session_row(bot)
    _, message = bot.sim.find_button(SUPPORTER, "Next ▶")
    calls = await bot.sim.press_data(SUPPORTER, forge(row), message)  # type: ignore[operator]
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert "no longer active" in calls[0].params["text"]
    after = session_row(bot)
    assert (after.state, after.version) == (row.state, row.version)


async def test_unknown_input_shows_the_step_again_and_a_note_gets_a_short_reply(
    bot: Harness,
) -> None:
    await bot.enrol(SUPPORTER)
    await bot.guide_to(SUPPORTER, "Next ▶")
    for send in (bot.sim.send(SUPPORTER, "/frobnicate"), bot.sim.sticker(SUPPORTER)):
        text = bot.texts(await send)[0]
        assert "I can't use that here" in text
        assert "Step 2 of 5" in text
    before = session_row(bot)
    (note,) = bot.texts(await bot.sim.send(SUPPORTER, "She said she hasn't slept in days"))
    assert "never saved" in note
    after = session_row(bot)
    assert (after.state, after.version) == (before.state, before.version)


async def test_long_notes_are_never_stored(bot: Harness, database_url: str) -> None:
    await bot.enrol(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/guide")
    secret = "Confidential-" + "x" * 5000
    await bot.sim.send(SUPPORTER, secret)
    assert "never saved" in bot.sim.last_text(SUPPORTER)
    from sqlalchemy import inspect, text

    engine = bot.svc.db.engine
    for table in inspect(engine).get_table_names():
        with engine.connect() as conn:
            rows = conn.execute(text(f"SELECT * FROM {table}")).fetchall()
        assert not any("Confidential-" in str(value) for r in rows for value in r), table


async def test_a_redelivered_update_changes_nothing(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/guide")
    await bot.sim.press(SUPPORTER, "Next ▶")
    pressed = bot.sim.last_update
    before = session_row(bot)
    calls = await bot.sim.deliver(pressed)
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    after = session_row(bot)
    assert (after.state, after.version) == (before.state, before.version)


async def test_a_redelivered_answer_does_not_answer_the_next_question(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await check(bot, "Yes")
    again = bot.sim.last_update
    await bot.sim.deliver(again)
    assert session_row(bot).state["answers"] == ["yes"]


async def test_the_session_resumes_after_a_restart_with_the_same_answers(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await check(bot, "Yes", "No")
    restarted = await bot.restart()
    text = restarted.texts(await restarted.sim.send(SUPPORTER, "/guide"))[0]
    assert "question 3 of 4" in text
    await restarted.sim.press(SUPPORTER, "No")
    await restarted.sim.press(SUPPORTER, "No")
    assert "right now" in restarted.sim.last_text(SUPPORTER)  # acuity question, since q1 was yes


async def test_buttons_from_before_a_restart_still_work_if_they_are_the_live_card(
    bot: Harness,
) -> None:
    await bot.enrol(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/guide")
    data, message = bot.sim.find_button(SUPPORTER, "Next ▶")
    restarted = await bot.restart()
    restarted.api.messages[(SUPPORTER, message["message_id"])] = message
    await restarted.sim.press_data(SUPPORTER, data, message)
    assert "Step 2 of 5" in restarted.sim.last_text(SUPPORTER)


async def test_several_supporters_at_once_keep_separate_sessions(bot: Harness) -> None:
    users = [SUPPORTER, OTHER_SUPPORTER, 5, 6]
    for user in users:
        await bot.enrol(user)
    await asyncio.gather(*(bot.sim.send(u, "/guide") for u in users))
    await asyncio.gather(*(bot.sim.press(u, "Next ▶") for u in users[:2]))
    stages = {u: session_row(bot, u).state["stage"] for u in users}
    assert stages == {SUPPORTER: "elicit", OTHER_SUPPORTER: "elicit", 5: "connect", 6: "connect"}


async def test_visitors_get_an_explanation_and_cannot_use_the_guide(bot: Harness) -> None:
    start = bot.texts(await bot.sim.send(VISITOR, "/start"))[0]
    assert "peer-support bot" in start
    assert "988" in start
    assert "enrolled peer supporters" in bot.texts(await bot.sim.send(VISITOR, "/guide"))[0]
    assert "coordinators" in bot.texts(await bot.sim.send(VISITOR, "/invite"))[0]
    assert "peer-support bot" in bot.texts(await bot.sim.send(VISITOR, "hello"))[0]
    assert "I don't know that command" in bot.texts(await bot.sim.send(VISITOR, "/nope"))[0]


async def test_coordinators_can_also_run_a_guided_session(bot: Harness) -> None:
    await bot.sim.send(COORDINATOR, "/guide")
    assert "<b>Step 1 of 5" in bot.sim.last_text(COORDINATOR)


async def test_the_acuity_question_is_announced_as_the_last_one(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await check(bot, "Yes", "No", "No", "No")
    text = bot.sim.last_text(SUPPORTER)
    assert "the last question" in text
    assert "right now" in text


async def test_an_unexpected_failure_tells_the_user_what_to_do_and_keeps_the_state(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await bot.enrol(SUPPORTER)
    await bot.guide_to(SUPPORTER, "Next ▶")
    before = session_row(bot)

    def broken(*args: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr("flows.guide.advance", broken)
    bot.sim.strict = False
    await bot.sim.press(SUPPORTER, "Next ▶")
    assert "something went wrong on my side" in bot.sim.last_text(SUPPORTER)
    after = session_row(bot)
    assert (after.state, after.version) == (before.state, before.version)
    monkeypatch.undo()
    calls = await bot.sim.press(SUPPORTER, "Next ▶")
    assert "Step 3 of 5" in bot.texts(calls)[0]
    assert session_row(bot).state["stage"] == "assess"

"""Supporter profiles: set with taps, toggles for topics and languages, availability."""

from __future__ import annotations

from bot.requests import supporter_of
from flows.matching import Request, TrainingStage, score
from storage import repos
from storage.models import Person
from tests.auxil.harness import SUPPORTER, VISITOR, Harness


def person(bot: Harness) -> Person:
    with bot.svc.db.transaction() as tx:
        found = repos.get_person(tx, SUPPORTER)
        assert found is not None
        return found


async def test_a_supporter_sets_stage_topics_languages_and_capacity_with_taps(
    bot: Harness,
) -> None:
    await bot.enrol(SUPPORTER)
    text = bot.texts(await bot.sim.send(SUPPORTER, "/profile"))[0]
    assert "Stage: not set" in text
    await bot.sim.press(SUPPORTER, "Stage")
    await bot.sim.press(SUPPORTER, "Resident / fellow")
    assert "✓ Resident / fellow" in bot.sim.buttons(SUPPORTER)
    await bot.sim.press(SUPPORTER, "Done")
    await bot.sim.press(SUPPORTER, "Topics")
    await bot.sim.press(SUPPORTER, "Burnout / workload")
    await bot.sim.press(SUPPORTER, "Exams / academics")
    await bot.sim.press(SUPPORTER, "✓ Exams / academics")  # tapping again removes it
    await bot.sim.press(SUPPORTER, "Done")
    await bot.sim.press(SUPPORTER, "Languages")
    await bot.sim.press(SUPPORTER, "Español")
    await bot.sim.press(SUPPORTER, "Done")
    await bot.sim.press(SUPPORTER, "Most open cases")
    await bot.sim.press(SUPPORTER, "2")
    stored = person(bot)
    assert (stored.stage, stored.topics, stored.languages, stored.max_cases) == (
        "resident",
        ["burnout"],
        ["en", "es"],
        2,
    )
    assert "Ready to talk about: Burnout / workload" in bot.api.chat(SUPPORTER)[-1]["text"]


async def test_the_last_language_cannot_be_removed(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/profile")
    await bot.sim.press(SUPPORTER, "Languages")
    await bot.sim.press(SUPPORTER, "✓ English")
    assert person(bot).languages == ["en"]


async def test_away_and_available(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    assert "You're away" in bot.texts(await bot.sim.send(SUPPORTER, "/away"))[0]
    assert not person(bot).available
    assert "You're available" in bot.texts(await bot.sim.send(SUPPORTER, "/available"))[0]
    assert person(bot).available


async def test_visitors_have_no_profile_and_forged_profile_buttons_do_nothing(
    bot: Harness,
) -> None:
    assert "enrolled peer supporters" in bot.texts(await bot.sim.send(VISITOR, "/profile"))[0]
    await bot.enrol(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/profile")
    message = bot.api.chat(SUPPORTER)[-1]
    calls = await bot.sim.press_data(SUPPORTER, "p1:stage:wizard", message)
    assert "no longer active" in calls[0].params["text"]
    calls = await bot.sim.press_data(VISITOR, "p1:stage:resident", message)
    assert "no longer active" in calls[0].params["text"]
    assert person(bot).stage is None


async def test_hours_are_set_shown_and_used_by_matching(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    assert "Usage: /hours" in bot.texts(await bot.sim.send(SUPPORTER, "/hours teatime"))[0]
    reply = bot.texts(await bot.sim.send(SUPPORTER, "/hours 08:00-12:00"))[0]
    assert "Hours set: 08:00-12:00 (America/New_York)" in reply
    assert person(bot).hours == "08:00-12:00"
    assert (
        "Hours for new requests: 08:00-12:00"
        in bot.texts(await bot.sim.send(SUPPORTER, "/profile"))[0]
    )
    # 15:00 UTC is 10:00 in New York: within hours, so the score carries "in_hours".
    profile = supporter_of(person(bot), 0, bot.svc.settings.timezone)
    assert profile.hours is not None
    request = Request(TrainingStage.RESIDENT, "burnout", "en")
    assert ("in_hours", 2) in score(request, profile, bot.clock.now()).reasons
    bot.clock.advance(hours=4)  # 14:00 in New York
    assert ("in_hours", 2) not in score(request, profile, bot.clock.now()).reasons
    await bot.sim.send(SUPPORTER, "/hours any")
    assert person(bot).hours is None
    assert "enrolled peer supporters" in bot.texts(await bot.sim.send(VISITOR, "/hours any"))[0]

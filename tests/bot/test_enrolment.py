"""Enrolment: coordinators create invites; codes are single-use or counted, and expire."""

from __future__ import annotations

import pytest

from tests.auxil.harness import COORDINATOR, OTHER_SUPPORTER, SUPPORTER, Harness, invite_code


async def invite(bot: Harness, args: str = "") -> str:
    await bot.sim.send(COORDINATOR, f"/invite {args}".strip())
    return invite_code(bot.sim.last_text(COORDINATOR))


async def test_a_coordinator_invite_enrols_a_supporter_who_can_then_guide(bot: Harness) -> None:
    text = bot.texts(await bot.sim.send(COORDINATOR, "/invite"))[0]
    assert "https://t.me/PeerGuideBot?start=" in text
    await bot.sim.send(SUPPORTER, f"/start {invite_code(text)}")
    assert "enrolled as a peer supporter" in bot.sim.last_text(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/guide")
    assert "<b>Step 1 of 5" in bot.sim.last_text(SUPPORTER)


async def test_a_single_use_code_cannot_be_used_twice(bot: Harness) -> None:
    code = await invite(bot)
    await bot.sim.send(SUPPORTER, f"/start {code}")
    await bot.sim.send(OTHER_SUPPORTER, f"/start {code}")
    assert "already been used" in bot.sim.last_text(OTHER_SUPPORTER)
    await bot.sim.send(OTHER_SUPPORTER, "/guide")
    assert "enrolled peer supporters" in bot.sim.last_text(OTHER_SUPPORTER)


async def test_a_counted_code_enrols_that_many_people(bot: Harness) -> None:
    code = await invite(bot, "2 7")
    for user in (SUPPORTER, OTHER_SUPPORTER):
        await bot.sim.send(user, f"/start {code}")
        assert "enrolled" in bot.sim.last_text(user)
    await bot.sim.send(9, f"/start {code}")
    assert "already been used" in bot.sim.last_text(9)


async def test_an_expired_code_is_refused(bot: Harness) -> None:
    code = await invite(bot, "5 1")
    bot.clock.advance(days=1, seconds=1)
    await bot.sim.send(SUPPORTER, f"/start {code}")
    assert "expired" in bot.sim.last_text(SUPPORTER)


@pytest.mark.parametrize("code", ["doesnotexist", "x" * 200, "bad$chars"])
async def test_an_unknown_code_is_refused(bot: Harness, code: str) -> None:
    await bot.sim.send(SUPPORTER, f"/start {code}")
    assert "isn't valid" in bot.sim.last_text(SUPPORTER)


async def test_an_enrolled_supporter_reopening_a_link_does_not_spend_it(bot: Harness) -> None:
    first, second = await invite(bot), await invite(bot)
    await bot.sim.send(SUPPORTER, f"/start {first}")
    await bot.sim.send(SUPPORTER, f"/start {second}")
    assert "already enrolled" in bot.sim.last_text(SUPPORTER)
    await bot.sim.send(OTHER_SUPPORTER, f"/start {second}")
    assert "enrolled as a peer supporter" in bot.sim.last_text(OTHER_SUPPORTER)


@pytest.mark.parametrize("args", ["0", "abc", "5 0", "101", "1 2 3", "3 91"])
async def test_bad_invite_arguments_explain_the_usage(bot: Harness, args: str) -> None:
    await bot.sim.send(COORDINATOR, f"/invite {args}")
    assert "Usage: /invite" in bot.sim.last_text(COORDINATOR)


async def test_a_redelivered_invite_command_creates_one_code(bot: Harness) -> None:
    await bot.sim.send(COORDINATOR, "/invite")
    calls = await bot.sim.deliver(bot.sim.last_update)
    assert calls == []


async def test_only_coordinators_see_the_invite_help(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/help")
    assert "/invite" not in bot.sim.last_text(SUPPORTER)
    await bot.sim.send(COORDINATOR, "/help")
    assert "/invite" in bot.sim.last_text(COORDINATOR)
    await bot.sim.send(SUPPORTER, "/invite")
    assert "for programme coordinators" in bot.sim.last_text(SUPPORTER)


async def test_time_zone_can_be_shown_set_and_is_checked(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/timezone")
    assert "America/New_York" in bot.sim.last_text(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/timezone Mars/Olympus")
    assert "don't know that time zone" in bot.sim.last_text(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/timezone Europe/Madrid")
    await bot.sim.send(SUPPORTER, "/timezone")
    assert "Europe/Madrid" in bot.sim.last_text(SUPPORTER)


async def test_invites_expire_after_the_days_given(bot: Harness) -> None:
    code = await invite(bot, "1 3")
    bot.clock.advance(days=2)
    await bot.sim.send(SUPPORTER, f"/start {code}")
    assert "enrolled" in bot.sim.last_text(SUPPORTER)

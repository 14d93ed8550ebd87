"""Free text goes through the crisis detector: resources at once, an alert for HIGH, the safety
check offered — and the text itself is never stored or shown to coordinators."""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlmodel import select

from storage.models import Alert
from tests.auxil.harness import COORDINATOR, SUPPORTER, VISITOR, Harness

HIGH_TEXT = "She told me she has a plan to overdose on her insulin tonight"
POSSIBLE_TEXT = "he keeps saying everyone would be better off without him"


def alerts(bot: Harness) -> list[Alert]:
    with bot.svc.db.transaction() as tx:
        return list(tx.exec(select(Alert)).all())


def stored_anywhere(bot: Harness, fragment: str) -> bool:
    engine = bot.svc.db.engine
    for table in inspect(engine).get_table_names():
        with engine.connect() as conn:
            rows = conn.execute(text(f"SELECT * FROM {table}")).fetchall()
        if any(fragment in str(value) for row in rows for value in row):
            return True
    return False


async def test_high_risk_text_shows_resources_first_alerts_and_offers_the_check(
    bot: Harness,
) -> None:
    await bot.enrol(SUPPORTER)
    await bot.guide_to(SUPPORTER, "Next ▶")
    calls = await bot.sim.send(SUPPORTER, HIGH_TEXT)
    resources, offer = bot.texts(calls, SUPPORTER)
    assert resources.startswith("🆘")
    assert "988" in resources
    assert "Safety first" in offer
    assert bot.sim.buttons(SUPPORTER) == ["🛡 Go to the safety check", "Back to my step"]
    (alert,) = alerts(bot)
    assert alert.level == "acute"
    assert alert.trigger.startswith("text_")
    coordinator_view = bot.sim.last_text(COORDINATOR)
    assert "a message signalled high risk" in coordinator_view
    assert "insulin" not in coordinator_view
    assert not stored_anywhere(bot, "insulin tonight")


async def test_possible_risk_text_shows_resources_and_offers_the_check_without_an_alert(
    bot: Harness,
) -> None:
    await bot.enrol(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/guide")
    resources, _ = bot.texts(await bot.sim.send(SUPPORTER, POSSIBLE_TEXT), SUPPORTER)
    assert resources.startswith("⚠️")
    assert alerts(bot) == []


async def test_the_offer_leads_straight_to_the_safety_check_or_back(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/guide")
    await bot.sim.send(SUPPORTER, POSSIBLE_TEXT)
    await bot.sim.press(SUPPORTER, "🛡 Go to the safety check")
    assert "Safety check</b> — question 1 of 4" in bot.sim.last_text(SUPPORTER)
    await bot.sim.send(SUPPORTER, POSSIBLE_TEXT)
    await bot.sim.press(SUPPORTER, "Back to my step")
    assert "Step 3 of 5 · Assess the impact" in bot.sim.last_text(SUPPORTER)


async def test_everyday_idioms_are_just_notes(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/guide")
    (reply,) = bot.texts(await bot.sim.send(SUPPORTER, "this rotation is killing me lol"))
    assert "never saved" in reply
    assert alerts(bot) == []


async def test_crisis_text_without_a_session_still_gets_resources_and_an_alert(
    bot: Harness,
) -> None:
    await bot.enrol(SUPPORTER)
    first, second = bot.texts(await bot.sim.send(SUPPORTER, HIGH_TEXT), SUPPORTER)
    assert "Crisis resources" in first
    assert "I can't do anything with that here" in second
    (alert,) = alerts(bot)
    assert alert.session_id is None
    assert "Case #—" in bot.sim.last_text(COORDINATOR)


async def test_a_visitor_in_crisis_sees_resources_before_anything_else(bot: Harness) -> None:
    first, *rest = bot.texts(await bot.sim.send(VISITOR, "i want to die"), VISITOR)
    assert "Crisis resources" in first
    assert "Someone from the programme will reach out" in rest[0]
    assert "are you safe right now?" in rest[-1]  # intake opens, safety first
    (alert,) = alerts(bot)
    assert alert.request_id is not None
    assert alert.session_id is None

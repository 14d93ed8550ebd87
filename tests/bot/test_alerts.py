"""Coordinator alerts through the offline Bot API: raised, delivered, acknowledged, escalated,
retried through faults and restarts, and never lost."""

from __future__ import annotations

import random
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select
from telegram.error import TimedOut

from bot.fake_api import ApiError
from storage.models import Alert, AlertMessage
from tests.auxil.clock import FakeClock
from tests.auxil.harness import SUPPORTER, VISITOR, Harness, settings_for, start_harness

COORDS = (1, 11, 12)
ESCALATION = 21
POSITIVE_ACUTE = ("No", "No", "Yes", "No", "Yes")
POSITIVE_NON_ACUTE = ("Yes", "No", "No", "No", "No")


@pytest.fixture
async def desk(database_url: str, clock: FakeClock) -> Harness:
    """A bot with three coordinators (one tier-2 escalation contact) and an enrolled supporter."""
    settings = settings_for(
        database_url, coordinator_ids=frozenset(COORDS), escalation_ids=frozenset({ESCALATION})
    )
    harness = await start_harness(settings, clock)
    await harness.enrol(SUPPORTER)
    return harness


async def screen(bot: Harness, answers: tuple[str, ...], user: int = SUPPORTER) -> None:
    await bot.sim.send(user, "/guide")
    for label in ("Next ▶", "Next ▶", "🛡 Safety check", *answers):
        await bot.sim.press(user, label)


def alerts(bot: Harness) -> list[Alert]:
    with bot.svc.db.transaction() as tx:
        return list(tx.exec(select(Alert).order_by(Alert.id)).all())  # type: ignore[arg-type]


def messages(bot: Harness, kind: str | None = None) -> list[AlertMessage]:
    with bot.svc.db.transaction() as tx:
        query = select(AlertMessage)
        if kind:
            query = query.where(AlertMessage.kind == kind)
        return list(tx.exec(query).all())


def alert_texts(bot: Harness, chat: int) -> list[str]:
    return [m["text"] for m in bot.api.chat(chat) if "lert #" in m["text"]]


async def test_a_positive_check_alerts_every_on_duty_coordinator_at_once(desk: Harness) -> None:
    await screen(desk, POSITIVE_ACUTE)
    (alert,) = alerts(desk)
    assert (alert.level, alert.trigger, alert.status) == ("acute", "asq_acute", "open")
    for coordinator in COORDS:
        (text,) = alert_texts(desk, coordinator)
        assert f"Crisis alert #{alert.id}" in text
        assert f"Case #{alert.session_id}" in text
        assert "safety check: acute positive" in text
        assert f"tg://user?id={SUPPORTER}" in text
        assert f"User{SUPPORTER}" in text  # the supporter's name, to reach them
    assert desk.sim.buttons(COORDS[0]) == ["✋ I'm on it", "📞 Call the supporter"]
    assert alert_texts(desk, ESCALATION) == []


async def test_a_non_acute_positive_raises_a_non_acute_alert(desk: Harness) -> None:
    await screen(desk, POSITIVE_NON_ACUTE)
    (alert,) = alerts(desk)
    assert alert.level == "non_acute"
    assert "Alert #" in alert_texts(desk, 1)[0]


async def test_the_first_acknowledgement_is_shown_to_everyone_else_and_the_supporter(
    desk: Harness,
) -> None:
    await screen(desk, POSITIVE_ACUTE)
    await desk.sim.press(11, "✋ I'm on it")
    (alert,) = alerts(desk)
    assert (alert.status, alert.acked_by) == ("acknowledged", 11)
    for coordinator in COORDS:
        text = alert_texts(desk, coordinator)[-1]
        assert "User11 is on it" in text
        assert "acknowledged by User11" in text
        assert desk.sim.buttons(coordinator) == []
    assert "A coordinator, User11, is on it" in desk.sim.last_text(SUPPORTER)
    late = await desk.sim.press_data(12, f"a1:{alert.id}:ack", desk.api.chat(12)[-1])
    assert "Already acknowledged by User11" in late[0].params["text"]


async def test_supporters_and_visitors_cannot_acknowledge_or_read_alerts(desk: Harness) -> None:
    await screen(desk, POSITIVE_ACUTE)
    (alert,) = alerts(desk)
    message = desk.api.chat(1)[-1]
    for outsider in (SUPPORTER, VISITOR):
        calls = await desk.sim.press_data(outsider, f"a1:{alert.id}:ack", message)
        assert "no longer active" in calls[0].params["text"]
        assert (
            "for programme coordinators" in desk.texts(await desk.sim.send(outsider, "/alerts"))[0]
        )
    assert alerts(desk)[0].status == "open"


async def test_unacknowledged_alerts_escalate_by_tier_on_time(desk: Harness) -> None:
    await screen(desk, POSITIVE_ACUTE)
    desk.clock.advance(minutes=4, seconds=59)
    await desk.svc.alerts.run_once()
    assert alerts(desk)[0].tier == 1
    assert alert_texts(desk, ESCALATION) == []
    desk.clock.advance(seconds=1)
    await desk.svc.alerts.run_once()
    assert alerts(desk)[0].tier == 2
    (escalated,) = alert_texts(desk, ESCALATION)
    assert "escalated to tier 2" in escalated
    assert len(alert_texts(desk, 1)) == 2  # re-sent to tier one as well
    desk.clock.advance(minutes=5)
    await desk.svc.alerts.run_once()
    assert alerts(desk)[0].tier == 3
    assert "escalated to tier 3" in alert_texts(desk, 1)[-1]


async def test_non_acute_alerts_wait_thirty_minutes_before_escalating(desk: Harness) -> None:
    await screen(desk, POSITIVE_NON_ACUTE)
    desk.clock.advance(minutes=29)
    await desk.svc.alerts.run_once()
    assert alerts(desk)[0].tier == 1
    desk.clock.advance(minutes=1)
    await desk.svc.alerts.run_once()
    assert alerts(desk)[0].tier == 2


async def test_acknowledging_stops_escalation(desk: Harness) -> None:
    await screen(desk, POSITIVE_ACUTE)
    await desk.sim.press(1, "✋ I'm on it")
    desk.clock.advance(hours=2)
    await desk.svc.alerts.run_once()
    assert alerts(desk)[0].tier == 1
    assert alert_texts(desk, ESCALATION) == []


async def test_off_duty_coordinators_get_only_escalated_alerts(desk: Harness) -> None:
    assert "off duty" in desk.texts(await desk.sim.send(12, "/duty off"))[0]
    await screen(desk, POSITIVE_ACUTE)
    assert alert_texts(desk, 12) == []
    for _ in range(2):  # tier 2, then tier 3 (everyone)
        desk.clock.advance(minutes=5)
        await desk.svc.alerts.run_once()
    assert len(alert_texts(desk, 12)) == 1


async def test_a_coordinator_who_blocked_the_bot_is_skipped_and_the_others_are_told(
    desk: Harness,
) -> None:
    def blocked(method: str, params: dict[str, Any]) -> None:
        if int(params.get("chat_id", 0)) == 12:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    desk.api.fault = blocked
    await screen(desk, POSITIVE_ACUTE)
    statuses = {m.recipient_id: m.status for m in messages(desk, "alert")}
    assert statuses == {1: "sent", 11: "sent", 12: "blocked"}
    for coordinator in (1, 11):
        assert any("could not be reached" in m["text"] for m in desk.api.chat(coordinator))


async def test_when_no_coordinator_can_be_reached_the_supporter_is_told_to_call(
    database_url: str,
    clock: FakeClock,
) -> None:
    settings = settings_for(
        database_url, coordinator_ids=frozenset({1, 11}), emergency_number="+1 555 010 0199"
    )
    bot = await start_harness(settings, clock)
    await bot.enrol(SUPPORTER)

    def all_blocked(method: str, params: dict[str, Any]) -> None:
        if int(params.get("chat_id", 0)) in (1, 11):
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    bot.api.fault = all_blocked
    await screen(bot, POSITIVE_ACUTE)
    chat = [m["text"] for m in bot.api.chat(SUPPORTER)]
    assert "We could not reach a coordinator" in chat[-1]
    assert "+1 555 010 0199" in chat[-1]
    assert any("Crisis resources" in text for text in chat)  # resources stay on screen


async def test_with_no_coordinators_configured_the_supporter_is_told_at_once(
    database_url: str,
    clock: FakeClock,
) -> None:
    bot = await start_harness(settings_for(database_url, coordinator_ids=frozenset()), clock)
    await bot.enrol(SUPPORTER)
    await screen(bot, POSITIVE_ACUTE)
    assert "We could not reach a coordinator" in bot.sim.last_text(SUPPORTER)


async def test_a_coordinator_reached_late_still_gets_the_alert_but_the_supporter_is_warned(
    desk: Harness,
) -> None:
    def down(method: str, params: dict[str, Any]) -> None:
        if int(params.get("chat_id", 0)) in COORDS:
            raise ApiError(502, "Bad Gateway")

    desk.api.fault = down
    await screen(desk, POSITIVE_ACUTE)
    desk.clock.advance(minutes=2)
    await desk.svc.alerts.run_once()
    assert "We could not reach a coordinator" in desk.sim.last_text(SUPPORTER)
    desk.api.fault = None
    desk.clock.advance(minutes=5)
    await desk.svc.alerts.run_once()
    assert all(alert_texts(desk, c) for c in COORDS)


async def test_429_retry_after_is_honoured(desk: Harness) -> None:
    attempts: list[int] = []

    def limited(method: str, params: dict[str, Any]) -> None:
        if int(params.get("chat_id", 0)) == 1 and method == "sendMessage" and not attempts:
            attempts.append(1)
            raise ApiError(429, "Too Many Requests: retry after 30", retry_after=30)

    desk.api.fault = limited
    await screen(desk, POSITIVE_ACUTE)
    (pending,) = [m for m in messages(desk, "alert") if m.recipient_id == 1]
    assert pending.status == "pending"
    assert pending.next_attempt_at == desk.clock.now() + timedelta(seconds=30)
    desk.clock.advance(seconds=29)
    await desk.svc.alerts.run_once()
    assert alert_texts(desk, 1) == []
    desk.clock.advance(seconds=1)
    await desk.svc.alerts.run_once()
    assert len(alert_texts(desk, 1)) == 1


def flaky_api(chance: random.Random, blocked: int) -> Any:
    """A fault hook failing a fifth of the sends to coordinators: 5xx, time-outs, 429s, and one
    coordinator who blocked the bot."""

    def fault(method: str, params: dict[str, Any]) -> None:
        if int(params.get("chat_id", 0)) not in COORDS or chance.random() >= 0.2:
            return
        kind = chance.choice(["5xx", "timeout", "429", "403"])
        if kind == "timeout":
            raise TimedOut("Timed out")
        if kind == "429":
            raise ApiError(429, "Too Many Requests", retry_after=chance.randint(1, 20))
        if kind == "403" and int(params.get("chat_id", 0)) == blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        raise ApiError(502, "Bad Gateway")

    return fault


async def test_with_faults_on_a_fifth_of_calls_every_alert_is_delivered_once(
    desk: Harness,
) -> None:
    supporters = [40 + n for n in range(12)]
    for user in supporters:
        await desk.enrol(user)
    desk.api.fault = flaky_api(random.Random(20261129), blocked=12)
    for user in supporters:
        await desk.sim.send(user, "/guide")
        answers = POSITIVE_ACUTE if user % 2 else POSITIVE_NON_ACUTE
        for label in ("Next ▶", "Next ▶", "🛡 Safety check", *answers):
            await desk.sim.press(user, label)
    raised = alerts(desk)
    assert len(raised) == len(supporters)
    for _ in range(200):
        desk.clock.advance(seconds=30)
        await desk.svc.alerts.run_once()
        if not any(m.status in ("pending", "sending") for m in messages(desk, "alert")):
            break
    for alert in raised:
        for coordinator in (1, 11):
            first_sends = [
                t
                for t in alert_texts(desk, coordinator)
                if re.search(rf"<b>(?:Crisis alert|Alert) #{alert.id}</b>", t)
                and "escalated" not in t
            ]
            assert len(first_sends) == 1, (alert.id, coordinator)
        statuses = {m.status for m in messages(desk, "alert") if m.alert_id == alert.id}
        assert statuses <= {"sent", "blocked"}
    retried = [m for m in messages(desk) if m.attempts > 1]
    assert retried, "the fault hook should have forced retries"
    assert {m.last_error for m in retried} >= {"NetworkError", "TimedOut", "RetryAfter"}


async def test_an_alert_committed_before_a_crash_goes_out_after_restart(
    desk: Harness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def crash_before_sending() -> int:
        return 0

    monkeypatch.setattr(desk.svc.alerts, "run_once", crash_before_sending)
    await screen(desk, POSITIVE_ACUTE)
    assert alert_texts(desk, 1) == []
    restarted = await desk.restart()
    await restarted.svc.alerts.run_once()
    (alert,) = alerts(restarted)
    for coordinator in COORDS:
        (text,) = alert_texts(restarted, coordinator)
        assert f"#{alert.id}" in text
        assert "Repeat" not in text


async def test_an_alert_caught_mid_send_is_repeated_with_the_same_id_and_says_so(
    desk: Harness,
) -> None:
    def crash(method: str, params: dict[str, Any]) -> None:
        if int(params.get("chat_id", 0)) == 1:
            raise SystemExit("process killed while sending")

    desk.api.fault = crash
    desk.sim.strict = False
    with pytest.raises(SystemExit):
        await screen(desk, POSITIVE_ACUTE)
    restarted = await desk.restart()
    await restarted.svc.alerts.run_once()
    assert alert_texts(restarted, 1) == []  # a young claim may still be another replica's
    restarted.clock.advance(minutes=2, seconds=1)
    await restarted.svc.alerts.run_once()
    (alert,) = alerts(restarted)
    (text,) = alert_texts(restarted, 1)
    assert f"Repeat of alert #{alert.id}" in text


async def test_alerts_lists_open_and_acknowledged_alerts(desk: Harness) -> None:
    await screen(desk, POSITIVE_ACUTE)
    await desk.enrol(5)
    await screen(desk, POSITIVE_NON_ACUTE, user=5)
    first, second = alerts(desk)
    await desk.sim.press_data(11, f"a1:{first.id}:ack", desk.api.chat(11)[-2])
    listing = desk.texts(await desk.sim.send(1, "/alerts"))[0]
    assert f"#{first.id} · 🆘 acute" in listing
    assert "taken by User11" in listing
    assert f"#{second.id} · ⚠️ non-acute" in listing
    assert "<b>open</b>, tier 1" in listing


async def test_call_the_supporter_connects_both_sides(desk: Harness) -> None:
    await screen(desk, POSITIVE_ACUTE)
    calls = await desk.sim.press(1, "📞 Call the supporter")
    to_coordinator, to_supporter = desk.texts(calls)
    assert f"tg://user?id={SUPPORTER}" in to_coordinator
    assert "tg://user?id=1" in to_supporter
    assert alerts(desk)[0].status == "open"

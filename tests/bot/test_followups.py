"""Follow-up check-ins: scheduled in step 5, fired by the scheduler job once, across restarts."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.job import Job
from sqlmodel import col, select

from bot.fake_api import ApiError
from bot.followups import TRIGGER
from storage.models import Alert, FollowUp
from tests.auxil.harness import OTHER_SUPPORTER, SUPPORTER, Harness

TO_PLAN = ("Next ▶", "Next ▶", "Next ▶", "Continue without it", "Next ▶", "📅 Plan a check-in")
PING_BUTTONS = [
    "😊 Doing better",
    "😔 Still struggling",
    "🆘 Worried about their safety",
    "📵 Couldn't reach them",
    "⏰ Snooze",
]


def follow_ups(bot: Harness) -> list[FollowUp]:
    with bot.svc.db.transaction() as tx:
        return list(tx.exec(select(FollowUp).order_by(col(FollowUp.id))).all())


def trigger(bot: Harness) -> Job:
    found = bot.svc.followups.scheduler.get_job(TRIGGER)
    assert found is not None
    return found


async def fire(bot: Harness, follow_up: FollowUp | None = None) -> None:
    """Run the trigger job's own target, as APScheduler would when the time comes."""
    scheduled = trigger(bot)
    await scheduled.func(*scheduled.args)


async def plan(bot: Harness, preset: str = "Tomorrow morning") -> FollowUp:
    await bot.enrol(SUPPORTER)
    await bot.guide_to(SUPPORTER, *TO_PLAN, preset)
    (row,) = follow_ups(bot)
    return row


async def test_a_preset_creates_a_pending_row_and_a_job_at_the_same_time(bot: Harness) -> None:
    row = await plan(bot)
    assert row.status == "pending"
    assert row.due_at > bot.clock.now()
    assert trigger(bot).next_run_time == row.due_at
    assert trigger(bot).misfire_grace_time is None
    assert "I'll remind you on" in bot.sim.last_text(SUPPORTER)
    assert "(America/New_York)" in bot.sim.last_text(SUPPORTER)


async def test_a_typed_time_is_read_in_the_supporters_time_zone(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/timezone Europe/London")
    await bot.guide_to(SUPPORTER, *TO_PLAN, "Type a time")
    await bot.sim.send(SUPPORTER, "in 2 hours")
    (row,) = follow_ups(bot)
    assert row.due_at == bot.clock.now() + timedelta(hours=2)
    assert "(Europe/London)" in bot.sim.last_text(SUPPORTER)


async def test_an_unreadable_or_past_time_asks_again(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await bot.guide_to(SUPPORTER, *TO_PLAN, "Type a time")
    await bot.sim.send(SUPPORTER, "whenever works")
    assert "couldn't read that time" in bot.sim.last_text(SUPPORTER)
    await bot.sim.send(SUPPORTER, "yesterday")
    assert "already passed" in bot.sim.last_text(SUPPORTER)
    assert follow_ups(bot) == []


async def test_the_ping_fires_when_due_with_the_five_answers(bot: Harness) -> None:
    row = await plan(bot)
    bot.clock.current = row.due_at
    await fire(bot, row)
    assert "Time to check in" in bot.sim.last_text(SUPPORTER)
    assert bot.sim.buttons(SUPPORTER) == PING_BUTTONS
    (sent,) = follow_ups(bot)
    assert sent.status == "sent"
    assert "late" not in bot.sim.last_text(SUPPORTER)


async def test_a_ping_fires_once_even_if_its_job_runs_twice(bot: Harness) -> None:
    row = await plan(bot)
    bot.clock.current = row.due_at
    scheduled = trigger(bot)
    await scheduled.func(*scheduled.args)
    await scheduled.func(*scheduled.args)
    pings = [m for m in bot.api.chat(SUPPORTER) if "Time to check in" in m["text"]]
    assert len(pings) == 1


async def test_a_job_run_early_sends_nothing(bot: Harness) -> None:
    row = await plan(bot)
    await fire(bot, row)
    assert follow_ups(bot)[0].status == "pending"


async def test_the_ping_fires_after_a_restart_before_it_was_due(bot: Harness) -> None:
    row = await plan(bot)
    restarted = await bot.restart()
    restarted.clock.current = row.due_at + timedelta(minutes=1)
    await fire(restarted, row)
    assert "Time to check in" in restarted.sim.last_text(SUPPORTER)
    assert "late" not in restarted.sim.last_text(SUPPORTER)


async def test_a_ping_missed_while_down_fires_late_and_says_so(bot: Harness) -> None:
    row = await plan(bot)
    await bot.stop()
    bot.clock.current = row.due_at + timedelta(hours=3)
    restarted = await bot.restart()
    await fire(restarted, row)
    assert "This reminder is late" in restarted.sim.last_text(SUPPORTER)


async def test_a_failed_send_goes_back_to_pending_and_is_retried(bot: Harness) -> None:
    row = await plan(bot)
    bot.clock.current = row.due_at

    def server_error(method: str, params: dict[str, object]) -> None:
        if method == "sendMessage":
            raise ApiError(502, "Bad Gateway")

    bot.api.fault = server_error
    await fire(bot, row)
    (failed,) = follow_ups(bot)
    assert failed.status == "pending"
    assert trigger(bot).next_run_time == bot.clock.now() + timedelta(minutes=1)
    bot.api.fault = None
    bot.clock.advance(minutes=1)
    await fire(bot, failed)
    assert follow_ups(bot)[0].status == "sent"


async def answer(bot: Harness, label: str) -> list[str]:
    row = await plan(bot)
    bot.clock.current = row.due_at
    await fire(bot, row)
    return bot.texts(await bot.sim.press(SUPPORTER, label), SUPPORTER)


async def test_doing_better_is_recorded_and_offers_to_close_or_check_again(bot: Harness) -> None:
    texts = await answer(bot, "😊 Doing better")
    assert "Glad to hear it" in texts[0]
    (row,) = follow_ups(bot)
    assert (row.status, row.outcome) == ("answered", "better")
    assert bot.sim.buttons(SUPPORTER) == ["✅ Close the case", "📅 Plan another check-in"]
    await bot.sim.press(SUPPORTER, "✅ Close the case")
    assert "Case closed" in bot.sim.last_text(SUPPORTER)
    assert "No open cases" in bot.texts(await bot.sim.send(SUPPORTER, "/cases"))[0]


async def test_still_struggling_gives_tips_for_the_next_conversation(bot: Harness) -> None:
    texts = await answer(bot, "😔 Still struggling")
    assert "next conversation" in texts[0]
    assert follow_ups(bot)[0].outcome == "struggling"


async def test_worried_shows_crisis_resources_first_and_raises_an_alert(bot: Harness) -> None:
    texts = await answer(bot, "🆘 Worried about their safety")
    assert "Crisis resources" in texts[0]
    assert "safety check again" in texts[1]
    await bot.sim.press(SUPPORTER, "🛡 Safety check now")
    assert "question 1 of 4" in bot.sim.last_text(SUPPORTER)
    with bot.svc.db.transaction() as tx:
        (alert,) = tx.exec(select(Alert)).all()
    assert alert.trigger == "checkin_worried"


async def test_snooze_schedules_another_ping_an_hour_later(bot: Harness) -> None:
    await answer(bot, "⏰ Snooze")
    texts = bot.texts(await bot.sim.press(SUPPORTER, "In an hour"), SUPPORTER)
    assert "remind you again" in texts[0]
    first, second = follow_ups(bot)
    assert first.outcome == "snooze"
    assert second.status == "pending"
    assert second.due_at == bot.clock.now() + timedelta(hours=1)
    assert trigger(bot).next_run_time == second.due_at


async def test_an_answered_ping_and_someone_elses_ping_are_not_active(bot: Harness) -> None:
    await answer(bot, "😊 Doing better")
    (row,) = follow_ups(bot)
    message = bot.api.messages[(SUPPORTER, row.message_id or 0)]
    again = await bot.sim.press_data(SUPPORTER, f"c1:{row.id}:worried", message)
    assert "already been answered" in again[0].params["text"]
    foreign = await bot.sim.press_data(OTHER_SUPPORTER, f"c1:{row.id}:worried", message)
    assert "no longer active" in foreign[0].params["text"]
    assert follow_ups(bot)[0].outcome == "better"


async def test_changing_the_time_replaces_the_pending_ping(bot: Harness) -> None:
    first = await plan(bot)
    await bot.sim.press(SUPPORTER, "Change the time")
    await bot.sim.press(SUPPORTER, "In a week")
    old, new = follow_ups(bot)
    assert old.id == first.id
    assert (old.status, new.status) == ("cancelled", "pending")
    restarted = await bot.restart()
    assert trigger(restarted).next_run_time == new.due_at


async def test_finishing_after_planning_mentions_the_check_in(bot: Harness) -> None:
    await plan(bot)
    await bot.sim.press(SUPPORTER, "Finish session")
    assert "I'll remind you to check in on" in bot.sim.last_text(SUPPORTER)


async def test_a_ping_claimed_by_a_process_that_died_fires_after_restart(bot: Harness) -> None:
    from storage import repos

    row = await plan(bot)
    bot.clock.current = row.due_at
    with bot.svc.db.transaction() as tx:
        assert len(repos.claim_due(tx, bot.clock.now(), 10)) == 1
    restarted = await bot.restart()  # the process died between claiming and sending
    assert trigger(restarted).next_run_time == row.due_at + timedelta(minutes=2)
    restarted.clock.advance(minutes=2, seconds=1)
    await fire(restarted, row)
    assert "Time to check in" in restarted.sim.last_text(SUPPORTER)
    assert follow_ups(restarted)[0].status == "sent"


async def test_a_permanent_send_error_is_not_retried_forever(bot: Harness) -> None:
    row = await plan(bot)
    bot.clock.current = row.due_at

    def chat_gone(method: str, params: dict[str, object]) -> None:
        if method == "sendMessage":
            raise ApiError(400, "Bad Request: chat not found")

    bot.api.fault = chat_gone
    await fire(bot, row)
    assert follow_ups(bot)[0].status == "failed"
    assert bot.svc.followups.scheduler.get_job(TRIGGER) is None  # nothing left to fire

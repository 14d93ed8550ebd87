"""Follow-ups that never get lost: reminders and overdue notices, reconciliation, quiet hours,
cases, and a randomised kill-and-restart run where every ping fires exactly once."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.followups import TRIGGER
from flows.followup import Stage
from storage import repos
from storage.models import FollowUp
from tests.auxil.clock import FakeClock
from tests.auxil.harness import COORDINATOR, SUPPORTER, Harness, settings_for, start_harness

NY = ZoneInfo("America/New_York")
TO_PLAN = ("Next ▶", "Next ▶", "Next ▶", "Continue without it", "Next ▶", "📅 Plan a check-in")


def rows(bot: Harness) -> list[FollowUp]:
    with bot.svc.db.transaction() as tx:
        return list(tx.exec(select(FollowUp).order_by(col(FollowUp.id))).all())


async def tick(bot: Harness, **delta: float) -> None:
    """Move the clock and let the trigger run if it is due, as APScheduler would."""
    bot.clock.advance(**delta)
    job = bot.svc.followups.scheduler.get_job(TRIGGER)
    if job is not None and job.next_run_time <= bot.clock.now():
        await job.func(*job.args)


async def planned(bot: Harness, preset: str = "Tomorrow morning") -> FollowUp:
    await bot.enrol(SUPPORTER)
    await bot.guide_to(SUPPORTER, *TO_PLAN, preset)
    return rows(bot)[-1]


async def due(bot: Harness) -> FollowUp:
    row = await planned(bot)
    bot.clock.current = row.due_at - timedelta(seconds=1)
    await tick(bot, seconds=1)
    return rows(bot)[-1]


async def test_an_unanswered_check_in_gets_one_reminder_then_the_coordinator_is_told(
    bot: Harness,
) -> None:
    row = await due(bot)
    assert row.status == "sent"
    await tick(bot, hours=11, minutes=59)
    assert rows(bot)[-1].status == "sent"
    await tick(bot, minutes=1)
    assert rows(bot)[-1].status == "reminded"
    assert "A gentle reminder" in bot.sim.last_text(SUPPORTER)
    assert bot.api.chat(COORDINATOR) == []
    await tick(bot, hours=24)
    assert rows(bot)[-1].status == "overdue"
    notice = bot.sim.last_text(COORDINATOR)
    assert f"case #{row.session_id}" in notice
    assert "36 hours past its time" in notice
    assert "No alarm" in notice
    await tick(bot, hours=48)
    assert len(bot.api.chat(COORDINATOR)) == 1  # told once


async def test_a_reminder_can_still_be_answered(bot: Harness) -> None:
    await due(bot)
    await tick(bot, hours=12)
    await bot.sim.press(SUPPORTER, "😔 Still struggling")
    assert rows(bot)[-1].outcome == "struggling"
    await tick(bot, hours=30)
    assert bot.api.chat(COORDINATOR) == []


async def test_couldnt_reach_them_is_recorded_and_offers_another_check_in(bot: Harness) -> None:
    await due(bot)
    await bot.sim.press(SUPPORTER, "📵 Couldn't reach them")
    assert rows(bot)[-1].outcome == "unreached"
    await bot.sim.press(SUPPORTER, "📅 Plan another check-in")
    assert "Plan a check-in" in bot.sim.last_text(SUPPORTER)
    await bot.sim.press(SUPPORTER, "In 3 days")
    assert rows(bot)[-1].status == "pending"


async def test_snooze_to_a_typed_time_reopens_the_case_to_type_it(bot: Harness) -> None:
    await due(bot)
    await bot.sim.press(SUPPORTER, "⏰ Snooze")
    await bot.sim.press(SUPPORTER, "Type a time")
    assert "Type a time" in bot.sim.last_text(SUPPORTER)
    await bot.sim.send(SUPPORTER, "in 3 hours")
    latest = rows(bot)[-1]
    assert latest.status == "pending"
    assert latest.exact
    assert latest.due_at == bot.clock.now() + timedelta(hours=3)


async def test_a_preset_in_quiet_hours_moves_to_the_morning_but_an_exact_time_does_not(
    bot: Harness,
) -> None:
    await bot.enrol(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/quiet 18:00-10:00")
    await bot.guide_to(SUPPORTER, *TO_PLAN, "This evening")
    evening = rows(bot)[-1]
    local = evening.due_at.astimezone(NY)
    assert (local.hour, local.minute) == (10, 0)
    assert not evening.exact
    await bot.sim.press(SUPPORTER, "Change the time")
    await bot.sim.press(SUPPORTER, "Type a time")
    await bot.sim.send(SUPPORTER, "tonight at 11pm")
    exact = rows(bot)[-1]
    assert exact.due_at.astimezone(NY).hour == 23


async def test_quiet_hours_can_be_shown_changed_and_turned_off(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    assert "22:00-08:00" in bot.texts(await bot.sim.send(SUPPORTER, "/quiet"))[0]
    assert "Usage" in bot.texts(await bot.sim.send(SUPPORTER, "/quiet late"))[0]
    assert "Quiet hours: off" in bot.texts(await bot.sim.send(SUPPORTER, "/quiet off"))[0]


async def test_reconciliation_repairs_a_missing_or_orphaned_trigger(bot: Harness) -> None:
    row = await planned(bot)
    scheduler = bot.svc.followups.scheduler
    scheduler.remove_job(TRIGGER)
    bot.svc.followups.reconcile()
    assert scheduler.get_job(TRIGGER).next_run_time == row.due_at
    with bot.svc.db.transaction() as tx:
        repos.settle(tx, row.id or 0, Stage.CANCELLED, None)
    bot.svc.followups.reconcile()
    assert scheduler.get_job(TRIGGER) is None


async def test_restart_before_during_and_after_the_due_time(bot: Harness) -> None:
    row = await planned(bot)
    before = await bot.restart()
    assert before.svc.followups.scheduler.get_job(TRIGGER).next_run_time == row.due_at
    before.clock.current = row.due_at
    with before.svc.db.transaction() as tx:  # the process dies mid-send
        repos.claim_due(tx, before.clock.now(), 10)
    during = await before.restart()
    await tick(during, minutes=1)
    assert rows(during)[-1].status == "claimed"  # too young to be sure its sender died
    await tick(during, minutes=1, seconds=1)
    assert rows(during)[-1].status == "sent"
    after = await during.restart()
    await tick(after, minutes=1)
    pings = [m for m in after.api.chat(SUPPORTER) if "Time to check in" in m["text"]]
    assert pings == []  # sent before the restart, not again


async def test_cases_lists_open_cases_and_lets_the_supporter_resume_plan_or_close(
    bot: Harness,
) -> None:
    await bot.enrol(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/guide")
    assert "looks like a name" in bot.texts(await bot.sim.send(SUPPORTER, "/label Jane Doe"))[0]
    await bot.sim.send(SUPPORTER, "/label peer from surgery")
    await bot.guide_to(SUPPORTER, *TO_PLAN, "In a week")
    await bot.sim.press(SUPPORTER, "Finish session")
    await bot.sim.send(SUPPORTER, "/guide")  # a second case
    await bot.sim.send(SUPPORTER, "/label intern on nights")
    listing = bot.texts(await bot.sim.send(SUPPORTER, "/cases"))[0]
    assert "intern on nights" in listing
    assert "Step 1" in listing
    assert "peer from surgery · Step 5 · Follow up · finished" in listing  # its check-in waits
    buttons = bot.sim.buttons(SUPPORTER)
    assert any(b.startswith("▶ #") for b in buttons)
    for _ in range(2):
        close = next(b for b in bot.sim.buttons(SUPPORTER) if b.startswith("✅ Close"))
        await bot.sim.press(SUPPORTER, close)
        await bot.sim.send(SUPPORTER, "/cases")
    assert "No open cases" in bot.sim.last_text(SUPPORTER)


async def test_a_case_can_be_resumed_from_cases_while_another_is_live(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await bot.guide_to(SUPPORTER, "Next ▶")
    await bot.sim.send(SUPPORTER, "/cases")
    first = next(b for b in bot.sim.buttons(SUPPORTER) if b.startswith("📅"))
    await bot.sim.press(SUPPORTER, first)
    assert "Plan a check-in" in bot.sim.last_text(SUPPORTER)


async def test_a_hundred_follow_ups_with_random_kills_each_fire_exactly_once(
    bot: Harness,
) -> None:
    chance = random.Random(7)
    await bot.enrol(SUPPORTER)
    start = bot.clock.now()
    with bot.svc.db.transaction() as tx:
        for _ in range(100):
            session = repos.new_session(tx, SUPPORTER, {"status": "paused"}, start)
            repos.schedule_follow_up(
                tx,
                session.id or 0,
                SUPPORTER,
                start + timedelta(minutes=chance.randint(1, 600)),
                start,
            )
    harness = await bot.restart()
    lives = [harness]
    for _ in range(40):
        harness.clock.advance(minutes=chance.randint(5, 30))
        job = harness.svc.followups.scheduler.get_job(TRIGGER)
        if chance.random() < 0.3:  # the process dies mid-batch: claim, maybe send some, stop
            with harness.svc.db.transaction() as tx:
                claimed = repos.claim_due(tx, harness.clock.now(), chance.randint(1, 5))
            for row in claimed[: chance.randint(0, len(claimed))]:
                await harness.sim.app.bot.send_message(
                    SUPPORTER, f"<b>Time to check in on your peer</b> (case #{row.session_id} )"
                )
                with harness.svc.db.transaction() as tx:
                    repos.settle(tx, row.id or 0, Stage.SENT, None)
            harness = await harness.restart()
            lives.append(harness)
            continue
        if job is not None and job.next_run_time <= harness.clock.now():
            await job.func(*job.args)
    harness.clock.advance(hours=12)
    job = harness.svc.followups.scheduler.get_job(TRIGGER)
    await job.func(*job.args)
    final = rows(harness)
    assert len(final) == 100
    assert {r.status for r in final} <= {"sent", "reminded"}
    pings = [
        m["text"]
        for life in lives
        for m in life.api.chat(SUPPORTER)
        if "Time to check in" in m["text"]
    ]
    for row in final:
        assert sum(f"(case #{row.session_id} " in text for text in pings) == 1, row.id


async def test_two_schedulers_overlapping_send_each_ping_once(bot: Harness) -> None:
    row = await planned(bot)
    twin = await start_harness(bot.settings, bot.clock)  # a second replica on the same database
    bot.clock.current = row.due_at
    await asyncio.gather(bot.svc.followups.fire_due(), twin.svc.followups.fire_due())
    pings = [
        m for h in (bot, twin) for m in h.api.chat(SUPPORTER) if "Time to check in" in m["text"]
    ]
    assert len(pings) == 1
    assert rows(bot)[-1].status == "sent"


async def test_a_replica_leaves_alone_a_claim_another_replica_is_still_sending(
    bot: Harness,
) -> None:
    row = await planned(bot)
    twin = await start_harness(bot.settings, bot.clock)
    bot.clock.current = row.due_at
    with bot.svc.db.transaction() as tx:  # replica one has claimed the ping and is sending it
        repos.claim_due(tx, bot.clock.now(), 10)
    for _ in range(2):
        await twin.svc.followups.fire_due()
    assert [m for m in twin.api.chat(SUPPORTER) if "Time to check in" in m["text"]] == []
    assert rows(twin)[-1].status == "claimed"


async def test_one_blocked_coordinator_does_not_stop_the_overdue_notice(
    database_url: str, clock: FakeClock
) -> None:
    from bot.fake_api import ApiError

    bot = await start_harness(
        settings_for(database_url, coordinator_ids=frozenset({1, 11})), clock
    )

    def blocked(method: str, params: dict[str, object]) -> None:
        if int(str(params.get("chat_id", 0))) == 1:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    await due(bot)
    bot.api.fault = blocked
    await tick(bot, hours=12)
    await tick(bot, hours=24)
    assert rows(bot)[-1].status == "overdue"
    assert "No alarm" in bot.sim.last_text(11)


async def test_closing_a_case_stops_its_check_ins_and_finished_cases_with_one_stay_listed(
    bot: Harness,
) -> None:
    await planned(bot)
    await bot.sim.press(SUPPORTER, "Finish session")
    listing = bot.texts(await bot.sim.send(SUPPORTER, "/cases"))[0]
    assert "next check-in" in listing
    assert "none planned" not in listing
    close = next(b for b in bot.sim.buttons(SUPPORTER) if b.startswith("✅ Close"))
    await bot.sim.press(SUPPORTER, close)
    assert rows(bot)[-1].status == "cancelled"
    await tick(bot, days=2)
    assert [m for m in bot.api.chat(SUPPORTER) if "Time to check in" in m["text"]] == []


async def test_a_preset_shows_the_time_it_was_actually_moved_to(bot: Harness) -> None:
    await bot.enrol(SUPPORTER)
    await bot.sim.send(SUPPORTER, "/quiet 12:00-20:00")
    await bot.guide_to(SUPPORTER, *TO_PLAN, "This evening")
    card = bot.sim.last_text(SUPPORTER)
    due_local = rows(bot)[-1].due_at.astimezone(NY)
    assert f"{due_local:%H:%M}" == "20:00"
    assert "at 20:00" in card


async def test_still_struggling_offers_resources_by_topic(bot: Harness) -> None:
    await due(bot)
    await bot.sim.press(SUPPORTER, "😔 Still struggling")
    await bot.sim.press(SUPPORTER, "Resources")
    assert "What is it mostly about?" in bot.sim.last_text(SUPPORTER)
    await bot.sim.press(SUPPORTER, "Substance use")
    text = bot.sim.last_text(SUPPORTER)
    assert "Resources: Substance use" in text
    assert "Physician Health Program" in text
    assert "1-800-662-4357" in text

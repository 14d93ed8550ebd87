"""Requests for a peer, whole conversations through the offline Bot API fake: intake, offers,
declines and timeouts, hand assignment, the anonymous relay, ending, rating, reach-in links,
deadlines, /forgetme, and what requesters may not do."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from bot.callbacks import offer_data, request_data
from bot.fake_api import ApiError
from bot.handlers import create_invite
from flows.cascade import RequestStatus
from storage import repos
from storage import request_repo as rr
from storage.models import (
    Alert,
    AlertMessage,
    FollowUp,
    GuideSession,
    RelayMessage,
    SupportRequest,
)
from tests.auxil.harness import COORDINATOR, OTHER_SUPPORTER, SUPPORTER, VISITOR, Harness

REQUESTER_2 = 7
THIRD_SUPPORTER = 8
SAFE_ANSWERS = (
    "Yes",
    "Resident / fellow",
    "Surgery",
    "Burnout / workload",
    "English",
    "Anonymous chat through the bot",
    "No preference",
    "This week",
)


async def supporter(
    bot: Harness,
    user_id: int,
    *,
    stage: str = "resident",
    topics: tuple[str, ...] = ("burnout",),
    languages: tuple[str, ...] = ("en",),
    department: str | None = None,
    name: str | None = None,
) -> None:
    """Enrol a supporter through an invite and give them a profile."""
    await bot.enrol(user_id)
    with bot.svc.db.transaction() as tx:
        person = repos.get_person(tx, user_id)
        assert person is not None
        person.stage, person.topics, person.languages = stage, list(topics), list(languages)
        person.department, person.display_name = department, name or f"Supporter{user_id}"
        tx.add(person)


async def intake(bot: Harness, user_id: int, answers: tuple[str, ...] = SAFE_ANSWERS) -> None:
    await bot.sim.send(user_id, "/request")
    for label in answers:
        await bot.sim.press(user_id, label)


def request_of(bot: Harness, user_id: int) -> SupportRequest:
    with bot.svc.db.transaction() as tx:
        rows = tx.exec(select(SupportRequest).where(SupportRequest.requester_id == user_id)).all()
        assert rows, f"no request for {user_id}"
        row = rows[-1]
        tx.expunge(row)
        return row


def alerts(bot: Harness) -> list[Alert]:
    with bot.svc.db.transaction() as tx:
        found = list(tx.exec(select(Alert).order_by(col(Alert.id))).all())
        for row in found:
            tx.expunge(row)
        return found


def chat_text(bot: Harness, user_id: int) -> str:
    return "\n".join(str(m.get("text", "")) for m in bot.api.chat(user_id))


def copies(bot: Harness, user_id: int) -> list[dict[str, Any]]:
    return [m for m in bot.api.chat(user_id) if "copy_of" in m]


async def tick(bot: Harness) -> None:
    await bot.svc.requests.run_once()
    await bot.svc.alerts.run_once()


BLOCKED = "Forbidden: bot was blocked by the user"


def failing_for(
    chat: int, code: int, description: str, methods: tuple[str, ...] = ("sendMessage",)
) -> Any:
    """A fault hook: these Bot API methods fail with this error for one chat."""

    def fault(method: str, params: dict[str, Any]) -> None:
        if method in methods and int(params.get("chat_id", 0)) == chat:
            raise ApiError(code, description)

    return fault


async def connected(bot: Harness) -> SupportRequest:
    """A supporter (SUPPORTER) talking with a requester (VISITOR) after a safe intake."""
    await supporter(bot, SUPPORTER)
    await intake(bot, VISITOR)
    await bot.sim.press(SUPPORTER, "✅ I'll take it")
    return request_of(bot, VISITOR)


async def end_with_checkin(bot: Harness, rating: str) -> None:
    """The requester ends the conversation, rates it and asks for a check-in."""
    await bot.sim.send(VISITOR, "/end")
    await bot.sim.press(VISITOR, rating)
    await bot.sim.press(VISITOR, "Yes, please check in")


async def test_safe_intake_offers_the_best_match_who_accepts_and_both_talk_anonymously(
    bot: Harness,
) -> None:
    await supporter(bot, SUPPORTER, stage="attending", topics=())
    await supporter(bot, OTHER_SUPPORTER, stage="resident", topics=("burnout",))
    calls = await bot.sim.send(VISITOR, "/start")
    assert "💬 I'd like to talk to a peer" in bot.sim.buttons(VISITOR), bot.texts(calls)
    await bot.sim.press(VISITOR, "💬 I'd like to talk to a peer")
    assert "are you safe right now?" in bot.sim.last_text(VISITOR)
    for label in SAFE_ANSWERS:
        await bot.sim.press(VISITOR, label)
    row = request_of(bot, VISITOR)
    assert row.status == RequestStatus.SEARCHING
    assert row.offered_to == OTHER_SUPPORTER  # same stage and ready for burnout beats seniority
    assert "We're finding a peer" in chat_text(bot, VISITOR)
    offer = bot.api.chat(OTHER_SUPPORTER)[-1]["text"]
    assert "Request #" in offer
    assert "Resident / fellow" in offer
    assert "Burnout" in offer
    assert "User3" not in offer
    assert str(VISITOR) not in offer
    assert not alerts(bot)

    await bot.sim.press(OTHER_SUPPORTER, "✅ I'll take it")
    row = request_of(bot, VISITOR)
    assert row.status == RequestStatus.CONNECTED
    assert row.supporter_id == OTHER_SUPPORTER
    assert row.accepted_at is not None
    assert row.session_id is not None
    assert "A peer — Resident / fellow — is here for you" in chat_text(bot, VISITOR)
    with bot.svc.db.transaction() as tx:
        session = tx.get(GuideSession, row.session_id)
        assert session is not None
        assert session.person_id == OTHER_SUPPORTER
        assert session.label == f"request #{row.id}"
    assert "Step 1 of 5" in chat_text(bot, OTHER_SUPPORTER)  # the guided session is open

    # Requester → supporter: a copy, under the case's introduction, with no sender shown.
    await bot.sim.send(VISITOR, "I keep messing up on nights")
    copy = copies(bot, OTHER_SUPPORTER)[-1]
    assert copy["text"] == "I keep messing up on nights"
    assert copy["from"]["is_bot"]
    assert "forward_origin" not in copy
    intro_id = rr_thread(bot, row.id, OTHER_SUPPORTER)
    assert copy["reply_to"] == intro_id
    copy_call = next(c for c in reversed(bot.api.calls) if c.method == "copyMessage")
    assert copy_call.params["protect_content"] is True

    # Supporter → requester: a reply to the peer's message goes back, anonymously.
    await bot.sim.send(
        OTHER_SUPPORTER, "That sounds exhausting. Tell me more?", reply_to=copy["message_id"]
    )
    back = copies(bot, VISITOR)[-1]
    assert back["text"] == "That sounds exhausting. Tell me more?"
    assert "User4" not in chat_text(bot, VISITOR)
    row = request_of(bot, VISITOR)
    assert row.first_contact_at is not None

    # Media goes through as copies too.
    await bot.sim.photo(VISITOR)
    assert "photo" in copies(bot, OTHER_SUPPORTER)[-1]

    # Nothing the two wrote is stored anywhere in the database.
    with bot.svc.db.transaction() as tx:
        stored = repr([r.model_dump() for r in tx.exec(select(SupportRequest)).all()])
        stored += repr([r.model_dump() for r in tx.exec(select(RelayMessage)).all()])
    assert "messing up" not in stored
    assert "exhausting" not in stored


def rr_thread(bot: Harness, request_id: int | None, chat: int) -> int | None:
    assert request_id is not None
    with bot.svc.db.transaction() as tx:
        return rr.thread_start(tx, request_id, chat)


async def test_a_supporter_note_that_is_not_a_reply_stays_private_and_they_are_told_how_to_answer(
    bot: Harness,
) -> None:
    await connected(bot)
    before = len(copies(bot, VISITOR))
    calls = await bot.sim.send(SUPPORTER, "she sounds flat, ask about sleep")
    assert len(copies(bot, VISITOR)) == before
    assert "hi" not in [m.get("text") for m in bot.api.chat(VISITOR)]
    assert any("reply to one of their messages" in t for t in bot.texts(calls, SUPPORTER))


async def test_end_rating_and_a_check_in_the_requester_asks_for(bot: Harness) -> None:
    await connected(bot)
    await bot.sim.send(VISITOR, "/end")
    row = request_of(bot, VISITOR)
    assert row.status == RequestStatus.ENDED
    assert row.ended_at is not None
    assert "Conversation #" in chat_text(bot, SUPPORTER)
    assert bot.sim.buttons(VISITOR) == ["1", "2", "3", "4", "5"]
    await bot.sim.press(VISITOR, "4")
    await bot.sim.press(VISITOR, "Yes, please check in")
    row = request_of(bot, VISITOR)
    assert (row.rating, row.wants_checkin) == (4, True)
    with bot.svc.db.transaction() as tx:
        planned = tx.exec(select(FollowUp).where(FollowUp.session_id == row.session_id)).all()
    assert len(planned) == 1
    assert planned[0].person_id == SUPPORTER
    assert "would like a check-in" in chat_text(bot, SUPPORTER)
    # The relay stays open for the check-in: a reply still reaches the requester.
    intro = rr_thread(bot, row.id, SUPPORTER)
    await bot.sim.send(SUPPORTER, "Checking in — how are you?", reply_to=intro)
    assert copies(bot, VISITOR)[-1]["text"] == "Checking in — how are you?"
    # A second rating is refused.
    calls = await bot.sim.press_data(
        VISITOR,
        request_data(row.id or 0, "rate", "1"),
        {"message_id": 1, "date": 0, "chat": {"id": VISITOR, "type": "private"}},
    )
    assert request_of(bot, VISITOR).rating == 4
    assert any(c.method == "answerCallbackQuery" and c.params.get("text") for c in calls)


async def test_the_supporter_can_end_and_a_reply_after_the_end_is_not_delivered(
    bot: Harness,
) -> None:
    await connected(bot)
    await bot.sim.send(SUPPORTER, "/end")
    row = request_of(bot, VISITOR)
    assert row.status == RequestStatus.ENDED
    await bot.sim.press(VISITOR, "2")
    await bot.sim.press(VISITOR, "No, thanks")
    calls = await bot.sim.send(
        SUPPORTER, "one more thing", reply_to=rr_thread(bot, row.id, SUPPORTER)
    )
    assert "has ended" in " ".join(bot.texts(calls, SUPPORTER))
    assert not copies(bot, VISITOR)


async def test_unsafe_intake_shows_resources_alerts_and_the_request_is_urgent(
    bot: Harness,
) -> None:
    await supporter(bot, SUPPORTER)
    await bot.sim.send(VISITOR, "/request")
    calls = await bot.sim.press(VISITOR, "No")
    texts = bot.texts(calls, VISITOR)
    assert any("988" in t for t in texts)
    assert any("Someone from the programme will reach out" in t for t in texts)
    raised = alerts(bot)
    assert [(a.trigger, a.level) for a in raised] == [("intake_no", "acute")]
    alert_text = bot.api.chat(COORDINATOR)[-1]["text"]
    assert "anonymous requester" in alert_text
    assert "/assign" in alert_text
    assert "User3" not in alert_text
    assert [b for b in bot.sim.buttons(COORDINATOR)] == ["✋ I'm on it"]
    for label in SAFE_ANSWERS[1:]:
        await bot.sim.press(VISITOR, label)
    row = request_of(bot, VISITOR)
    assert row.urgent
    assert row.unsafe
    assert row.status == RequestStatus.SEARCHING
    assert "Urgent request" in bot.api.chat(SUPPORTER)[-1]["text"]


async def test_crisis_language_during_intake_and_while_connected(bot: Harness) -> None:
    await supporter(bot, SUPPORTER)
    await bot.sim.send(VISITOR, "/request")
    calls = await bot.sim.send(VISITOR, "honestly I just want to kill myself")
    assert any("988" in t for t in bot.texts(calls, VISITOR))
    assert alerts(bot)[-1].trigger.startswith("text_")
    for label in SAFE_ANSWERS:
        await bot.sim.press(VISITOR, label)
    await bot.sim.press(SUPPORTER, "✅ I'll take it")
    before = len(alerts(bot))
    calls = await bot.sim.send(VISITOR, "I have the pills counted out tonight")
    assert any("988" in t for t in bot.texts(calls, VISITOR))
    assert copies(bot, SUPPORTER)[-1]["text"] == "I have the pills counted out tonight"
    supporter_texts = " ".join(bot.texts(calls, SUPPORTER))
    assert "may mean they are at risk" in supporter_texts
    assert "🛡 Go to the safety check" in bot.sim.buttons(SUPPORTER)
    new = alerts(bot)[before:]
    assert len(new) == 1
    assert new[0].person_id == SUPPORTER
    assert new[0].request_id is not None


async def test_a_visitor_who_writes_crisis_language_first_gets_resources_an_alert_and_intake(
    bot: Harness,
) -> None:
    calls = await bot.sim.send(VISITOR, "i want to die")
    texts = bot.texts(calls, VISITOR)
    assert "988" in texts[0]  # resources first
    assert any("are you safe right now?" in t for t in texts)
    assert request_of(bot, VISITOR).unsafe
    assert alerts(bot)


async def test_declines_and_timeouts_move_down_the_list_then_coordinators_assign(
    bot: Harness,
) -> None:
    await supporter(bot, SUPPORTER, stage="resident", topics=("burnout",))  # 3 + 3 + 2
    await supporter(bot, OTHER_SUPPORTER, stage="attending", topics=())  # 4 + 2
    await supporter(bot, THIRD_SUPPORTER, stage="clinical", topics=())  # 2
    await intake(bot, VISITOR)
    assert request_of(bot, VISITOR).offered_to == SUPPORTER
    await bot.sim.press(SUPPORTER, "Not now")
    assert "declined" in bot.api.chat(SUPPORTER)[-1]["text"]
    assert request_of(bot, VISITOR).offered_to == OTHER_SUPPORTER
    bot.clock.advance(minutes=9)
    await tick(bot)
    assert request_of(bot, VISITOR).offered_to == OTHER_SUPPORTER  # not yet
    bot.clock.advance(minutes=2)
    await tick(bot)
    assert request_of(bot, VISITOR).offered_to == THIRD_SUPPORTER
    assert "time to answer has passed" in bot.api.chat(OTHER_SUPPORTER)[-1]["text"]
    # The expired offer's button no longer works.
    data, message = (
        offer_data(request_of(bot, VISITOR).id or 0, "accept"),
        bot.api.chat(OTHER_SUPPORTER)[-1],
    )
    await bot.sim.press_data(OTHER_SUPPORTER, data, message)
    assert request_of(bot, VISITOR).status == RequestStatus.SEARCHING
    bot.clock.advance(minutes=11)
    await tick(bot)
    row = request_of(bot, VISITOR)
    assert row.status == RequestStatus.UNASSIGNED
    assert "a coordinator is finding someone" in chat_text(bot, VISITOR)
    assert alerts(bot)[-1].trigger == "request_unassigned"
    # The coordinator sees who fits and why, then assigns.
    listing = bot.texts(await bot.sim.send(COORDINATOR, "/assign"), COORDINATOR)[0]
    assert f"#{row.id}" in listing
    assert "needs assigning" in listing
    why = bot.texts(await bot.sim.send(COORDINATOR, f"/assign {row.id}"), COORDINATOR)[0]
    assert "Supporter2" in why
    assert "same stage +3" in why
    assert "ready for this topic +3" in why
    assert "already asked" in why
    assert "Last 30 days: 1 request(s), 0 reached a supporter" in listing
    await bot.sim.send(COORDINATOR, f"/assign {row.id} {OTHER_SUPPORTER}")
    bot.clock.advance(minutes=2)
    await bot.sim.send(
        OTHER_SUPPORTER, "Hi, I'm here", reply_to=rr_thread(bot, row.id, OTHER_SUPPORTER)
    )
    stats = bot.texts(await bot.sim.send(COORDINATOR, "/assign"), COORDINATOR)[0]
    # Waited 22 minutes for a supporter (9 + 2 + 11 minutes of offers), 24 until the first word.
    assert "1 request(s), 1 reached a supporter" in stats
    assert "median wait for a supporter 22 min · to their first message 24 min" in stats
    row = request_of(bot, VISITOR)
    assert row.status == RequestStatus.CONNECTED
    assert row.supporter_id == OTHER_SUPPORTER
    assert "is yours" in chat_text(bot, OTHER_SUPPORTER)


async def test_an_urgent_offer_times_out_after_three_minutes(bot: Harness) -> None:
    await supporter(bot, SUPPORTER)
    await supporter(bot, OTHER_SUPPORTER)
    await intake(bot, VISITOR, ("I'm not sure", *SAFE_ANSWERS[1:]))
    first = request_of(bot, VISITOR).offered_to
    bot.clock.advance(minutes=3, seconds=1)
    await tick(bot)
    assert request_of(bot, VISITOR).offered_to not in (None, first)


async def test_no_supporter_available_goes_straight_to_coordinators(bot: Harness) -> None:
    await supporter(bot, SUPPORTER, languages=("es",))
    await intake(bot, VISITOR)
    row = request_of(bot, VISITOR)
    assert row.status == RequestStatus.UNASSIGNED
    why = bot.texts(await bot.sim.send(COORDINATOR, f"/assign {row.id}"), COORDINATOR)[0]
    assert "Nobody fits" in why
    assert "doesn't speak the language" in why
    await bot.sim.send(COORDINATOR, f"/assign {row.id} me")
    row = request_of(bot, VISITOR)
    assert row.status == RequestStatus.CONNECTED
    assert row.supporter_id == COORDINATOR


async def test_a_request_still_waiting_past_its_deadline_is_raised_once(bot: Harness) -> None:
    await supporter(bot, SUPPORTER, languages=("es",))
    await intake(bot, VISITOR)  # nobody fits: unassigned, coordinators told
    assert [a.trigger for a in alerts(bot)] == ["request_unassigned"]
    bot.clock.advance(hours=23)
    await tick(bot)
    assert [a.trigger for a in alerts(bot)] == ["request_unassigned"]
    bot.clock.advance(hours=1, seconds=1)
    await tick(bot)
    assert [a.trigger for a in alerts(bot)] == ["request_unassigned", "request_sla"]
    bot.clock.advance(hours=5)
    await tick(bot)
    assert len([a for a in alerts(bot) if a.trigger == "request_sla"]) == 1


async def test_the_requester_can_cancel_while_waiting_and_the_offer_is_withdrawn(
    bot: Harness,
) -> None:
    await supporter(bot, SUPPORTER)
    await intake(bot, VISITOR)
    calls = await bot.sim.send(VISITOR, "/cancel")
    assert "withdrawn" in bot.texts(calls, VISITOR)[0]
    assert request_of(bot, VISITOR).status == RequestStatus.CANCELLED
    assert "withdrawn by the requester" in bot.api.chat(SUPPORTER)[-1]["text"]
    assert not bot.sim.buttons(SUPPORTER) or "✅ I'll take it" not in bot.sim.buttons(SUPPORTER)


async def test_two_requesters_at_once_each_reach_only_their_own_supporter(bot: Harness) -> None:
    await supporter(bot, SUPPORTER)
    await supporter(bot, OTHER_SUPPORTER)
    await intake(bot, VISITOR)
    await intake(bot, REQUESTER_2)
    first, second = request_of(bot, VISITOR), request_of(bot, REQUESTER_2)
    assert {first.offered_to, second.offered_to} == {SUPPORTER, OTHER_SUPPORTER}
    assert first.offered_to is not None
    assert second.offered_to is not None
    await bot.sim.press(first.offered_to, "✅ I'll take it")
    await bot.sim.press(second.offered_to, "✅ I'll take it")
    await bot.sim.send(VISITOR, "from the first")
    await bot.sim.send(REQUESTER_2, "from the second")
    assert [c["text"] for c in copies(bot, first.offered_to)] == ["from the first"]
    assert [c["text"] for c in copies(bot, second.offered_to)] == ["from the second"]
    # A supporter cannot reply into the other's conversation.
    other_copy = copies(bot, second.offered_to)[-1]
    await bot.sim.send(first.offered_to, "wrong thread", reply_to=other_copy["message_id"])
    assert "wrong thread" not in [c["text"] for c in copies(bot, REQUESTER_2)]


async def test_reach_in_link_is_single_use_and_expires(bot: Harness) -> None:
    await supporter(bot, SUPPORTER)
    text = bot.texts(await bot.sim.send(COORDINATOR, "/refer"), COORDINATOR)[0]
    code = text.split("start=")[1].split()[0]
    calls = await bot.sim.send(VISITOR, f"/start {code}")
    assert any("thought you might like someone to talk to" in t for t in bot.texts(calls))
    assert "are you safe right now?" in bot.sim.last_text(VISITOR)
    assert request_of(bot, VISITOR).referral is not None
    for label in SAFE_ANSWERS:
        await bot.sim.press(VISITOR, label)
    await bot.sim.press(SUPPORTER, "✅ I'll take it")
    assert "This is a reach-in" in chat_text(bot, SUPPORTER)
    again = await bot.sim.send(REQUESTER_2, f"/start {code}")
    assert "isn't valid any more" in bot.texts(again)[0]
    text = bot.texts(await bot.sim.send(COORDINATOR, "/refer"), COORDINATOR)[0]
    late = text.split("start=")[1].split()[0]
    bot.clock.advance(days=8)
    assert (
        "isn't valid any more" in bot.texts(await bot.sim.send(REQUESTER_2, f"/start {late}"))[0]
    )


async def test_requesters_cannot_use_supporter_or_coordinator_commands_or_forged_buttons(
    bot: Harness,
) -> None:
    await supporter(bot, SUPPORTER)
    await intake(bot, VISITOR)
    row = request_of(bot, VISITOR)
    for command in ("/assign", f"/assign {row.id} {VISITOR}", "/refer", "/alerts", "/invite"):
        texts = bot.texts(await bot.sim.send(VISITOR, command), VISITOR)
        assert "for programme coordinators" in texts[0], command
    texts = bot.texts(await bot.sim.send(VISITOR, "/guide"), VISITOR)
    assert "enrolled peer supporters" in texts[0]
    message = {"message_id": 1, "date": 0, "chat": {"id": VISITOR, "type": "private"}}
    await bot.sim.press_data(VISITOR, offer_data(row.id or 0, "accept"), message)
    assert request_of(bot, VISITOR).status == RequestStatus.SEARCHING
    # Someone else's intake button, and a made-up answer, change nothing.
    await bot.sim.press_data(REQUESTER_2, request_data(row.id or 0, "stage", "attending"), message)
    await bot.sim.press_data(VISITOR, request_data(row.id or 0, "stage", "astronaut"), message)
    assert request_of(bot, VISITOR).intake == row.intake
    alert_ids = [a.id for a in alerts(bot)]
    assert not alert_ids  # nothing to acknowledge here, and nothing raised by the attempts


async def test_forgetme_ends_the_conversation_and_leaves_only_anonymous_counts(
    bot: Harness,
) -> None:
    await supporter(bot, SUPPORTER)
    await bot.sim.send(VISITOR, "/request")
    await bot.sim.press(VISITOR, "No")  # an alert that names the requester's id
    for label in SAFE_ANSWERS[1:]:
        await bot.sim.press(VISITOR, label)
    await bot.sim.press(SUPPORTER, "✅ I'll take it")
    await bot.sim.send(VISITOR, "hello")
    await bot.sim.send(VISITOR, "/forgetme")
    await bot.sim.press(VISITOR, "Delete my data")
    assert "has been deleted" in bot.sim.last_text(VISITOR)
    assert "asked us to delete their data" in chat_text(bot, SUPPORTER)
    with bot.svc.db.transaction() as tx:
        rows = tx.exec(select(SupportRequest)).all()
        assert len(rows) == 1
        row = rows[0]
        assert row.requester_id is None
        assert row.intake == {}
        assert row.status == "ended"
        assert not tx.exec(select(RelayMessage)).all()
        assert all(a.person_id != VISITOR for a in tx.exec(select(Alert)).all())
        assert all(
            m.recipient_id != VISITOR or m.status != "pending"
            for m in tx.exec(select(AlertMessage)).all()
        )
    # The supporter's reply no longer reaches anyone.
    await bot.sim.send(
        SUPPORTER, "still there?", reply_to=bot.api.chat(SUPPORTER)[0]["message_id"]
    )
    assert "still there?" not in [c["text"] for c in copies(bot, VISITOR)]


async def test_intake_survives_a_restart_mid_way(bot: Harness) -> None:
    await supporter(bot, SUPPORTER)
    await bot.sim.send(VISITOR, "/request")
    await bot.sim.press(VISITOR, "Yes")
    await bot.sim.press(VISITOR, "Resident / fellow")
    bot = await bot.restart()
    await bot.sim.send(VISITOR, "/request")  # shows the question where they left off
    assert "area or department" in bot.sim.last_text(VISITOR)
    for label in SAFE_ANSWERS[2:]:
        await bot.sim.press(VISITOR, label)
    assert request_of(bot, VISITOR).status == RequestStatus.SEARCHING


async def test_stickers_and_typing_during_intake_get_a_clear_reply(bot: Harness) -> None:
    await bot.sim.send(VISITOR, "/request")
    calls = await bot.sim.send(VISITOR, "hello?")
    assert any("use the buttons" in t for t in bot.texts(calls, VISITOR))
    calls = await bot.sim.sticker(VISITOR)
    assert any("use the buttons" in t for t in bot.texts(calls, VISITOR))
    calls = await bot.sim.send(VISITOR, "/nonsense")
    assert any("don't know that command" in t for t in bot.texts(calls, VISITOR))


async def test_an_offer_to_a_supporter_who_blocked_the_bot_goes_to_the_next_at_once(
    bot: Harness,
) -> None:
    await supporter(bot, SUPPORTER, topics=("burnout",))
    await supporter(bot, OTHER_SUPPORTER, topics=())
    bot.api.fault = failing_for(SUPPORTER, 403, BLOCKED)
    await intake(bot, VISITOR)
    row = request_of(bot, VISITOR)
    assert row.offered_to == OTHER_SUPPORTER
    assert row.tried == [SUPPORTER]
    assert "Request #" in bot.api.chat(OTHER_SUPPORTER)[-1]["text"]


async def test_an_offer_lost_to_a_network_error_moves_on_when_it_times_out_even_after_a_restart(
    bot: Harness,
) -> None:
    await supporter(bot, SUPPORTER, topics=("burnout",))
    await supporter(bot, OTHER_SUPPORTER, topics=())
    bot.api.fault = failing_for(SUPPORTER, 502, "Bad Gateway")
    await intake(bot, VISITOR)
    assert request_of(bot, VISITOR).offered_to == SUPPORTER  # written before the send failed
    bot = await bot.restart()
    bot.clock.advance(minutes=10, seconds=1)
    await tick(bot)
    row = request_of(bot, VISITOR)
    assert row.offered_to == OTHER_SUPPORTER
    await bot.sim.press(OTHER_SUPPORTER, "✅ I'll take it")
    assert request_of(bot, VISITOR).status == RequestStatus.CONNECTED


async def test_a_supporter_at_their_case_limit_or_away_gets_no_offer(bot: Harness) -> None:
    await supporter(bot, SUPPORTER, topics=("burnout",))
    await supporter(bot, OTHER_SUPPORTER, topics=())
    await bot.sim.send(SUPPORTER, "/away")
    await intake(bot, VISITOR)
    assert request_of(bot, VISITOR).offered_to == OTHER_SUPPORTER
    with bot.svc.db.transaction() as tx:
        person = repos.get_person(tx, OTHER_SUPPORTER)
        assert person is not None
        person.max_cases = 1
        tx.add(person)
    await bot.sim.press(OTHER_SUPPORTER, "✅ I'll take it")
    await intake(bot, REQUESTER_2)
    assert request_of(bot, REQUESTER_2).status == RequestStatus.UNASSIGNED


async def test_the_check_in_relay_closes_and_its_message_ids_go_after_two_weeks(
    bot: Harness,
) -> None:
    await connected(bot)
    await bot.sim.send(VISITOR, "hi")
    await end_with_checkin(bot, "5")
    thread = rr_thread(bot, request_of(bot, VISITOR).id, SUPPORTER)
    bot.clock.advance(days=13)
    await tick(bot)
    assert rr_thread(bot, request_of(bot, VISITOR).id, SUPPORTER) == thread
    bot.clock.advance(days=2)
    await tick(bot)
    assert rr_thread(bot, request_of(bot, VISITOR).id, SUPPORTER) is None
    await bot.sim.send(SUPPORTER, "are you there?", reply_to=thread)
    assert "are you there?" not in [c["text"] for c in copies(bot, VISITOR)]
    calls = await bot.sim.send(VISITOR, "hello again")
    assert "hello again" not in [c["text"] for c in copies(bot, SUPPORTER)]
    assert "💬 I'd like to talk to a peer" in bot.sim.buttons(VISITOR), bot.texts(calls)


async def test_contacts_are_shared_only_when_both_agree(bot: Harness) -> None:
    await supporter(bot, SUPPORTER)
    answers = tuple("Share contacts" if a.startswith("Anonymous") else a for a in SAFE_ANSWERS)
    await intake(bot, VISITOR, answers)
    await bot.sim.press(SUPPORTER, "✅ I'll take it")
    assert "🤝 Share my contact" in bot.sim.buttons(VISITOR)
    calls = await bot.sim.press(VISITOR, "🤝 Share my contact")
    assert "tg://user" not in " ".join(bot.texts(calls))
    assert any(
        c.params.get("text") == "Noted. Contacts are shared only when you both agree."
        for c in calls
    )
    calls = await bot.sim.press(SUPPORTER, "🤝 Share my contact")
    texts_for_requester = " ".join(bot.texts(calls, VISITOR))
    texts_for_supporter = " ".join(bot.texts(calls, SUPPORTER))
    assert f"tg://user?id={SUPPORTER}" in texts_for_requester
    assert f"tg://user?id={VISITOR}" in texts_for_supporter


async def test_coordinators_see_request_alerts_in_the_alert_list(bot: Harness) -> None:
    await bot.sim.send(VISITOR, "/request")
    await bot.sim.press(VISITOR, "I'm not sure")
    listing = bot.texts(await bot.sim.send(COORDINATOR, "/alerts"), COORDINATOR)[0]
    assert "request #1" in listing
    assert "not sure they are safe" in listing


async def test_supporters_and_coordinators_are_pointed_elsewhere_and_their_notes_stay_private(
    bot: Harness,
) -> None:
    await supporter(bot, SUPPORTER)
    await supporter(bot, OTHER_SUPPORTER)
    for user in (SUPPORTER, COORDINATOR):
        reply = bot.texts(await bot.sim.send(user, "/request"), user)[0]
        assert "you deserve support too" in reply
        assert "Physician Support Line" in reply
        reply = bot.texts(await bot.sim.send(user, "/forgetme"), user)[0]
        assert "kept by the programme" in reply
    with bot.svc.db.transaction() as tx:
        assert not tx.exec(select(SupportRequest)).all()
    # A supporter talking with a requester: a non-reply note goes to their guide, never across.
    await intake(bot, VISITOR)
    taker = request_of(bot, VISITOR).offered_to
    assert taker is not None
    await bot.sim.press(taker, "✅ I'll take it")
    await bot.sim.send(taker, "/cancel")
    assert request_of(bot, VISITOR).status == RequestStatus.CONNECTED
    await bot.sim.send(taker, "my case J.S. in bed 4 is struggling")
    assert not copies(bot, VISITOR)


async def test_high_risk_from_the_requester_after_the_case_is_closed_still_alerts(
    bot: Harness,
) -> None:
    await connected(bot)
    await end_with_checkin(bot, "3")
    row = request_of(bot, VISITOR)
    with bot.svc.db.transaction() as tx:  # the supporter closed the case
        session = tx.get(GuideSession, row.session_id)
        assert session is not None
        session.status = "ended"
        tx.add(session)
    calls = await bot.sim.send(VISITOR, "i am going to kill myself tonight")
    assert "Crisis resources" in bot.texts(calls, VISITOR)[0]  # first, before anything else
    supporter_texts = " ".join(bot.texts(calls, SUPPORTER))
    assert "may mean they are at risk" in supporter_texts
    assert "Crisis resources" in supporter_texts
    (alert,) = alerts(bot)
    assert alert.level == "acute"
    assert alert.person_id == SUPPORTER
    assert alert.request_id == row.id


async def test_a_photo_caption_with_crisis_language_from_a_visitor_gets_resources_and_an_alert(
    bot: Harness,
) -> None:
    calls = await bot.sim.photo(VISITOR, caption="goodbye everyone, i'm going to end it tonight")
    texts = bot.texts(calls, VISITOR)
    assert "Crisis resources" in texts[0]
    assert any("are you safe right now?" in t for t in texts)
    assert alerts(bot)


async def test_acknowledging_alerts_tells_a_requester_only_about_their_safety(
    bot: Harness,
) -> None:
    await bot.sim.send(VISITOR, "/request")
    await bot.sim.press(VISITOR, "No")
    for label in SAFE_ANSWERS[1:]:
        await bot.sim.press(VISITOR, label)  # nobody to offer it to: handed over
    assert [a.trigger for a in alerts(bot)] == ["intake_no", "request_unassigned"]
    for alert in alerts(bot):
        data, message = f"a1:{alert.id}:ack", bot.api.chat(COORDINATOR)[-1]
        await bot.sim.press_data(COORDINATOR, data, message)
    await tick(bot)
    told = [t for t in (m.get("text", "") for m in bot.api.chat(VISITOR)) if "is on it" in t]
    assert len(told) == 1
    assert "will reach out to you here, through this chat" in told[0]


async def test_forgetme_does_not_touch_the_supporters_own_alerts_and_unlinks_every_message(
    bot: Harness,
) -> None:
    await supporter(bot, SUPPORTER)
    await bot.sim.send(VISITOR, "/request")
    await bot.sim.press(VISITOR, "No")
    for label in SAFE_ANSWERS[1:]:
        await bot.sim.press(VISITOR, label)
    await bot.sim.press(SUPPORTER, "✅ I'll take it")
    await bot.sim.send(VISITOR, "i am going to kill myself tonight")  # alert on the case
    await bot.sim.press_data(
        COORDINATOR, f"a1:{alerts(bot)[0].id}:ack", bot.api.chat(COORDINATOR)[-1]
    )
    await tick(bot)
    await bot.sim.send(VISITOR, "/forgetme")
    await bot.sim.press(VISITOR, "Delete my data")
    people = [(a.trigger, a.person_id) for a in alerts(bot)]
    assert ("intake_no", 0) in people
    assert any(person == SUPPORTER for _, person in people)
    with bot.svc.db.transaction() as tx:
        recipients = {m.recipient_id for m in tx.exec(select(AlertMessage)).all()}
    assert VISITOR not in recipients


async def test_a_referral_link_is_not_spent_while_a_request_is_already_going(
    bot: Harness,
) -> None:
    await supporter(bot, SUPPORTER)
    text = bot.texts(await bot.sim.send(COORDINATOR, "/refer"), COORDINATOR)[0]
    code = text.split("start=")[1].split()[0]
    await intake(bot, VISITOR)
    calls = await bot.sim.send(VISITOR, f"/start {code}")
    assert "We're finding a peer for you" in bot.texts(calls, VISITOR)[0]
    await bot.sim.send(VISITOR, "/cancel")
    await bot.sim.send(VISITOR, f"/start {code}")
    assert request_of(bot, VISITOR).referral == code.removeprefix("ref_")


async def test_a_supporter_who_blocks_the_bot_mid_conversation_hands_the_request_back(
    bot: Harness,
) -> None:
    await supporter(bot, SUPPORTER)
    await supporter(bot, OTHER_SUPPORTER, topics=())
    await intake(bot, VISITOR)
    await bot.sim.press(SUPPORTER, "✅ I'll take it")

    bot.api.fault = failing_for(SUPPORTER, 403, BLOCKED, ("copyMessage", "sendMessage"))
    calls = await bot.sim.send(VISITOR, "are you there?")
    assert any("a coordinator is finding someone else" in t for t in bot.texts(calls, VISITOR))
    row = request_of(bot, VISITOR)
    assert row.status == RequestStatus.UNASSIGNED
    assert SUPPORTER in row.tried
    assert alerts(bot)[-1].trigger == "relay_blocked"
    await bot.sim.send(COORDINATOR, f"/assign {row.id} {OTHER_SUPPORTER}")
    await bot.sim.send(VISITOR, "hello?")
    assert copies(bot, OTHER_SUPPORTER)[-1]["text"] == "hello?"


async def test_a_message_that_cannot_be_copied_is_reported_to_its_sender(bot: Harness) -> None:
    await connected(bot)

    bot.api.fault = failing_for(
        SUPPORTER, 400, "Bad Request: message can't be copied", ("copyMessage",)
    )
    calls = await bot.sim.send(VISITOR, "a poll, say")
    assert any("couldn't be passed on" in t for t in bot.texts(calls, VISITOR))
    assert request_of(bot, VISITOR).status == RequestStatus.CONNECTED


async def test_a_requester_in_crisis_is_spoken_to_directly_not_as_a_helper(bot: Harness) -> None:
    await bot.sim.send(VISITOR, "/request")
    calls = await bot.sim.press(VISITOR, "No")
    resources = bot.texts(calls, VISITOR)[0]
    assert "you don't have to carry this alone" in resources
    assert "your peer" not in resources.lower()
    calls = await bot.sim.send(REQUESTER_2, "i have the pills counted out for tonight")
    assert "you don't have to carry this alone" in bot.texts(calls, REQUESTER_2)[0]


async def test_a_coordinator_can_reach_an_unsafe_requester_who_stopped_mid_intake(
    bot: Harness,
) -> None:
    await bot.sim.send(
        VISITOR, "i'm going to end it tonight"
    )  # intake opens at the safety question
    row = request_of(bot, VISITOR)
    assert row.status == RequestStatus.INTAKE
    await bot.sim.send(COORDINATOR, f"/assign {row.id} me")
    row = request_of(bot, VISITOR)
    assert row.status == RequestStatus.CONNECTED
    assert row.supporter_id == COORDINATOR
    assert "someone from the peer-support programme" in chat_text(bot, VISITOR)
    await bot.sim.send(VISITOR, "hello?")
    assert copies(bot, COORDINATOR)[-1]["text"] == "hello?"
    # A safe requester's unfinished intake is not the coordinator's to take.
    await bot.sim.send(REQUESTER_2, "/request")
    other = request_of(bot, REQUESTER_2)
    reply = bot.texts(await bot.sim.send(COORDINATOR, f"/assign {other.id} me"), COORDINATOR)[0]
    assert "isn't waiting" in reply


async def test_an_older_check_in_never_reopens_once_a_newer_request_exists(bot: Harness) -> None:
    await supporter(bot, SUPPORTER)
    await supporter(bot, OTHER_SUPPORTER, topics=())
    await intake(bot, VISITOR)
    await bot.sim.press(SUPPORTER, "✅ I'll take it")
    first = request_of(bot, VISITOR)
    await end_with_checkin(bot, "4")
    with bot.svc.db.transaction() as tx:  # the first supporter is away for the second request
        person = repos.get_person(tx, SUPPORTER)
        assert person is not None
        person.available = False
        tx.add(person)
    await intake(bot, VISITOR)
    await bot.sim.press(OTHER_SUPPORTER, "✅ I'll take it")
    await bot.sim.send(VISITOR, "it's me again")
    assert [c["text"] for c in copies(bot, OTHER_SUPPORTER)] == ["it's me again"]
    assert "it's me again" not in [c["text"] for c in copies(bot, SUPPORTER)]
    calls = await bot.sim.send(
        SUPPORTER, "checking in!", reply_to=rr_thread(bot, first.id, SUPPORTER)
    )
    assert "has ended" in " ".join(bot.texts(calls, SUPPORTER))
    assert "checking in!" not in [c["text"] for c in copies(bot, VISITOR)]


async def test_contact_consent_does_not_carry_over_to_a_new_supporter(bot: Harness) -> None:
    await supporter(bot, SUPPORTER)
    await supporter(bot, OTHER_SUPPORTER, topics=())
    answers = tuple("Share contacts" if a.startswith("Anonymous") else a for a in SAFE_ANSWERS)
    await intake(bot, VISITOR, answers)
    await bot.sim.press(SUPPORTER, "✅ I'll take it")
    await bot.sim.press(VISITOR, "🤝 Share my contact")

    bot.api.fault = failing_for(SUPPORTER, 403, BLOCKED, ("copyMessage",))
    await bot.sim.send(VISITOR, "hello?")  # the supporter blocked the bot: back to coordinators
    bot.api.fault = None
    row = request_of(bot, VISITOR)
    await bot.sim.send(COORDINATOR, f"/assign {row.id} {OTHER_SUPPORTER}")
    calls = await bot.sim.press(OTHER_SUPPORTER, "🤝 Share my contact")
    assert f"tg://user?id={VISITOR}" not in " ".join(bot.texts(calls))


async def test_an_invite_is_not_spent_while_its_opener_has_a_request_going(bot: Harness) -> None:
    await intake(bot, VISITOR)
    invite = create_invite(bot.svc, COORDINATOR)
    assert invite is not None
    reply = bot.texts(await bot.sim.send(VISITOR, f"/start {invite.code}"), VISITOR)[0]
    assert "request for a peer in progress" in reply
    await bot.sim.send(VISITOR, "/cancel")
    reply = bot.texts(await bot.sim.send(VISITOR, f"/start {invite.code}"), VISITOR)[0]
    assert "enrolled as a peer supporter" in reply


async def test_a_check_in_to_a_supporter_who_blocked_the_bot_tells_the_requester(
    bot: Harness,
) -> None:
    await connected(bot)
    await end_with_checkin(bot, "5")

    bot.api.fault = failing_for(SUPPORTER, 403, BLOCKED, ("copyMessage",))
    calls = await bot.sim.send(VISITOR, "feeling a bit better today")
    assert any("the check-in won't happen" in t for t in bot.texts(calls, VISITOR))
    assert request_of(bot, VISITOR).wants_checkin is False


async def test_rating_and_check_in_buttons_expire_with_the_relay(bot: Harness) -> None:
    await connected(bot)
    await bot.sim.send(VISITOR, "/end")
    bot.clock.advance(days=15)
    await bot.sim.press(VISITOR, "4")
    assert request_of(bot, VISITOR).rating is None


async def test_a_supporters_own_distress_in_a_reply_gets_them_resources_but_no_alert(
    bot: Harness,
) -> None:
    await connected(bot)
    thread = rr_thread(bot, request_of(bot, VISITOR).id, SUPPORTER)
    calls = await bot.sim.send(
        SUPPORTER, "Do you have access to pills or a gun at home?", reply_to=thread
    )
    assert not any("look after yourself" in t for t in bot.texts(calls, SUPPORTER))
    calls = await bot.sim.send(SUPPORTER, "honestly I want to kill myself too", reply_to=thread)
    texts = bot.texts(calls, SUPPORTER)
    assert any("look after yourself too" in t for t in texts)
    assert any(
        "you don't have to carry this alone" in t or "You deserve support" in t for t in texts
    )
    assert copies(bot, VISITOR)[-1]["text"] == "honestly I want to kill myself too"
    assert not alerts(bot)

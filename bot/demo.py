"""The terminal demo: the real application, offline, with buttons shown as numbered choices."""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from bot.app import build_application, start_services
from bot.fake_api import FakeBotApi
from bot.handlers import create_invite
from bot.services import Services
from bot.settings import Settings
from bot.simulator import Simulator
from flows.intake import CHOICES, Field
from storage import repos
from storage.db import upgrade
from storage.models import RelayMessage

DEMO_DATABASE_URL = "sqlite:///data/demo.sqlite3"
PEOPLE = {"coordinator": 1, "supporter": 2, "requester": 3}
ALIASES = {"visitor": "requester"}
NAMES = {1: "coordinator", 2: "supporter", 3: "requester"}
INTRO = """\
Peer Guide — terminal demo (offline; nothing is sent to Telegram).
You are the SUPPORTER. Type /guide to start a guided session, /help for commands.
Type a number to press that button. Demo commands:
  :as supporter | :as coordinator | :as requester   switch who you are
  :reply <text>   as the supporter, reply to your peer's newest message (Telegram's "reply")
  :sticker   send a sticker      :quit   leave
Try it: `:as requester`, /request and tap through; `:as supporter`, accept the offer; talk.
"""
_TAG = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    """Message HTML as terminal text."""
    return html.unescape(_TAG.sub("", text))


class Screen:
    """Prints the bot's messages as they are sent or edited, and numbers their buttons."""

    def __init__(self, out: Callable[[str], None]) -> None:
        self.out = out
        self.viewer = PEOPLE["supporter"]
        self.choices: dict[int, list[dict[str, Any]]] = {}

    def toast(self, text: str) -> None:
        """Print the short notice Telegram shows over a pressed button."""
        self.out(f"\n💬 {plain(text)}")

    def show(self, method: str, params: dict[str, Any], message: dict[str, Any]) -> None:
        """Print one message sent or edited by the bot."""
        chat = int(message["chat"]["id"])
        if method == "editMessageReplyMarkup" and not message.get("reply_markup"):
            # An old card lost its buttons: its numbers no longer press anything.
            current = self.choices.get(chat, [])
            if current and current[0]["message"]["message_id"] == message["message_id"]:
                self.choices.pop(chat, None)
            return
        who = "" if chat == self.viewer else f" → to {NAMES.get(chat, chat)}"
        edited = " (updated)" if method.startswith("edit") else ""
        lines = [f"\n🤖 bot{who}{edited}:", plain(message.get("text", ""))]
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        pressable = [b for row in rows for b in row if "callback_data" in b]
        lines += [f"  [{i}] {b['text']}" for i, b in enumerate(pressable, 1)]
        lines += [f"  🔗 {b['text']}: {b['url']}" for row in rows for b in row if "url" in b]
        current = self.choices.get(chat, [])
        if pressable:
            self.choices[chat] = [dict(b, message=message) for b in pressable]
        elif current and current[0]["message"]["message_id"] == message["message_id"]:
            self.choices.pop(chat, None)  # this card lost its buttons
        self.out("\n".join(lines))


class ObservedApi(FakeBotApi):
    """The offline Bot API, telling the screen about every message."""

    screen: Screen | None = None

    def _answer(self, name: str, params: dict[str, Any]) -> Any:
        result = super()._answer(name, params)
        if self.screen is not None and name in (
            "sendMessage",
            "editMessageText",
            "editMessageReplyMarkup",
        ):
            self.screen.show(name, params, result)
        if self.screen is not None and name == "copyMessage":
            copied = self.messages[(int(params["chat_id"]), int(result["message_id"]))]
            shown = dict(copied, text="💬 " + str(copied.get("text") or "[photo or file]"))
            self.screen.show(name, params, shown)
        return result


async def run_demo(
    settings: Settings,
    *,
    database_url: str = DEMO_DATABASE_URL,
    read: Callable[[str], str] = input,
    out: Callable[[str], None] = print,
) -> None:
    """Run the demo until :quit or end of input."""
    settings = replace(
        settings,
        database_url=database_url,
        token=None,
        coordinator_ids=frozenset({PEOPLE["coordinator"]}),
    )
    upgrade(settings.database_url)
    api = ObservedApi()
    app = build_application(settings, request=api, rate_limit=False)
    await app.initialize()
    await start_services(app)
    screen = Screen(out)
    api.screen = screen
    sim = Simulator(
        app, api, strict=False, first_update_id=_first_update_id(app.bot_data["services"])
    )
    try:
        out(INTRO)
        await _enrol_supporter(app.bot_data["services"], sim)
        await _loop(sim, screen, read, out)
    finally:
        await app.shutdown()
        await app.post_shutdown(app)  # type: ignore[misc]


def log_to_file() -> None:
    """Keep log lines (ids and event types only) out of the chat: they go to data/demo.log."""
    path = Path("data") / "demo.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    root.handlers[:] = [logging.FileHandler(path, encoding="utf-8")]
    root.setLevel(logging.INFO)
    for noisy in ("httpx", "httpcore", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _first_update_id(svc: Services) -> int:
    with svc.db.transaction() as tx:
        return repos.next_update_id(tx)


async def _enrol_supporter(svc: Services, sim: Simulator) -> None:
    if svc.role_of(PEOPLE["supporter"]).value == "supporter":
        return
    invite = create_invite(svc, PEOPLE["coordinator"])
    assert invite is not None
    screen_out = sim.api.screen if isinstance(sim.api, ObservedApi) else None
    if screen_out:
        screen_out.out(f"(demo: the supporter opens an invite link: /start {invite.code})")
    await sim.send(PEOPLE["supporter"], f"/start {invite.code}")
    with svc.db.transaction() as tx:  # a profile that fits most requests, as /profile would set
        person = repos.get_person(tx, PEOPLE["supporter"])
        if person is not None:
            person.stage, person.display_name = "resident", "Demo supporter"
            person.topics = list(CHOICES[Field.TOPIC])
            tx.add(person)


def _newest_relayed(sim: Simulator, chat_id: int) -> int | None:
    """The newest message in this chat that belongs to a conversation with a peer."""
    svc: Services = sim.app.bot_data["services"]
    with svc.db.transaction() as tx:
        query = select(RelayMessage.message_id).where(RelayMessage.chat_id == chat_id)
        found = tx.exec(query.order_by(col(RelayMessage.id).desc())).first()
    return int(found) if found is not None else None


async def _loop(
    sim: Simulator, screen: Screen, read: Callable[[str], str], out: Callable[[str], None]
) -> None:
    while True:
        try:
            line = (await asyncio.to_thread(read, f"\n[{NAMES[screen.viewer]}] > ")).strip()
        except EOFError:
            return
        if line in (":quit", ":q", ":exit"):
            return
        if line.startswith(":as"):
            name = ALIASES.get(line[3:].strip(), line[3:].strip())
            if name in PEOPLE:
                screen.viewer = PEOPLE[name]
                out(f"(you are now the {name})")
            else:
                out("(try :as supporter, :as coordinator or :as requester)")
        elif line.startswith(":reply"):
            target = _newest_relayed(sim, screen.viewer)
            if target is None:
                out("(nothing to reply to: no conversation with a peer in this chat)")
            else:
                await sim.send(screen.viewer, line[6:].strip() or "…", reply_to=target)
        elif line == ":sticker":
            await sim.sticker(screen.viewer)
        elif line.isdigit():
            await _press(sim, screen, int(line), out)
        elif line:
            await sim.send(screen.viewer, line)


async def _press(sim: Simulator, screen: Screen, number: int, out: Callable[[str], None]) -> None:
    choices = screen.choices.get(screen.viewer, [])
    if not 1 <= number <= len(choices):
        out(f"(no button {number} here; the newest message has {len(choices)})")
        return
    chosen = choices[number - 1]
    message = sim.api.messages.get(
        (screen.viewer, chosen["message"]["message_id"]), chosen["message"]
    )
    await sim.press_data(screen.viewer, chosen["callback_data"], message)

"""A running bot on the offline Bot API fake, with users to drive it and a way to restart it."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from bot.app import App, build_application, start_services, stop_services
from bot.fake_api import Call, FakeBotApi
from bot.handlers import create_invite
from bot.services import Services
from bot.settings import Settings
from bot.simulator import Simulator
from storage import repos
from tests.auxil.clock import FakeClock

COORDINATOR, SUPPORTER, OTHER_SUPPORTER, VISITOR = 1, 2, 4, 3
RUNNING: list[Harness] = []


@dataclass
class Harness:
    """One running application and the means to talk to it."""

    settings: Settings
    clock: FakeClock
    app: App
    api: FakeBotApi
    sim: Simulator

    @property
    def svc(self) -> Services:
        """The application's services."""
        found: Services = self.app.bot_data["services"]
        return found

    async def stop(self) -> None:
        """Shut the application down as a process exit would."""
        if self in RUNNING:
            RUNNING.remove(self)
            await self.app.shutdown()
            await stop_services(self.app)

    async def restart(self, **api_options: Any) -> Harness:
        """Stop this application and start a new one on the same database."""
        await self.stop()
        return await start_harness(self.settings, self.clock, **api_options)

    async def enrol(self, user_id: int) -> None:
        """Enrol a supporter through an invite link, as a coordinator would."""
        invite = create_invite(self.svc, COORDINATOR)
        assert invite is not None
        await self.sim.send(user_id, f"/start {invite.code}")

    def texts(self, calls: list[Call], chat: int | None = None) -> list[str]:
        """Texts the bot sent or edited in these calls (to one chat, if given), in order."""
        return [
            c.params["text"]
            for c in calls
            if "text" in c.params
            and "chat_id" in c.params
            and (chat is None or int(c.params["chat_id"]) == chat)
        ]

    async def guide_to(self, user_id: int, *labels: str) -> list[Call]:
        """Open /guide and press these buttons in order; returns the last press's calls."""
        calls = await self.sim.send(user_id, "/guide")
        for label in labels:
            calls = await self.sim.press(user_id, label)
        return calls


async def start_harness(settings: Settings, clock: FakeClock, **api_options: Any) -> Harness:
    """Build, initialise and start an application over a fresh offline Bot API fake."""
    api = FakeBotApi(**api_options)
    app = build_application(
        settings, request=api, clock=clock, scheduler_paused=True, rate_limit=False
    )
    await app.initialize()
    await start_services(app)
    svc: Services = app.bot_data["services"]
    with svc.db.transaction() as tx:
        first = repos.next_update_id(tx)
    sim = Simulator(app, api, first_update_id=first)
    harness = Harness(settings, clock, app, api, sim)
    RUNNING.append(harness)
    return harness


def settings_for(database_url: str, **changes: Any) -> Settings:
    """Settings for a test: one coordinator, New York time."""
    base = Settings(
        token=None,
        base_url=None,
        database_url=database_url,
        coordinator_ids=frozenset({COORDINATOR}),
        timezone="America/New_York",
    )
    return replace(base, **changes)


def invite_code(text: str) -> str:
    """The start code in an invite message."""
    found = re.search(r"start=([A-Za-z0-9_-]+)", text)
    assert found, text
    return found[1]

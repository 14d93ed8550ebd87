"""The update processor: one user's updates in order, different users' updates concurrently."""

from __future__ import annotations

import asyncio

from telegram import Update, User

from bot.processor import PerUserUpdateProcessor


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []

    async def work(self, name: str, gate: asyncio.Event | None = None) -> None:
        self.events.append(f"start {name}")
        if gate is not None:
            await gate.wait()
        await asyncio.sleep(0)
        self.events.append(f"end {name}")


class FakeUpdate(Update):
    """An update whose effective user is set directly."""

    def __init__(self, update_id: int, user_id: int) -> None:
        super().__init__(update_id)
        self._user = User(user_id, "U", is_bot=False)

    @property
    def effective_user(self) -> User:
        return self._user


async def test_one_users_updates_run_in_order() -> None:
    processor, rec = PerUserUpdateProcessor(), Recorder()
    gate = asyncio.Event()
    first = asyncio.create_task(processor.do_process_update(FakeUpdate(1, 7), rec.work("a", gate)))
    second = asyncio.create_task(processor.do_process_update(FakeUpdate(2, 7), rec.work("b")))
    await asyncio.sleep(0.01)
    assert rec.events == ["start a"]
    gate.set()
    await asyncio.gather(first, second)
    assert rec.events == ["start a", "end a", "start b", "end b"]
    assert processor._locks == {}


async def test_different_users_run_concurrently() -> None:
    processor, rec = PerUserUpdateProcessor(), Recorder()
    gate = asyncio.Event()
    first = asyncio.create_task(processor.do_process_update(FakeUpdate(1, 7), rec.work("a", gate)))
    second = asyncio.create_task(processor.do_process_update(FakeUpdate(2, 8), rec.work("b")))
    await asyncio.wait_for(second, timeout=5)
    assert rec.events == ["start a", "start b", "end b"]
    gate.set()
    await first

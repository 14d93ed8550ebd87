"""Shared fixtures: a database per test (SQLite, and PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from storage.db import upgrade
from tests.auxil.clock import FakeClock
from tests.auxil.harness import RUNNING, Harness, settings_for, start_harness

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database: a SQLite file, or the PostgreSQL test database."""
    if request.param == "postgresql":
        assert PG_URL is not None
        _reset_postgres(PG_URL)
        url = PG_URL
    else:
        url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture
def clock() -> FakeClock:
    """A clock that only moves when the test says so."""
    return FakeClock()


@pytest.fixture(autouse=True)
async def _stop_running_bots() -> AsyncIterator[None]:
    """Every bot a test started (restarts included) is shut down when the test ends."""
    yield
    for harness in list(RUNNING):
        await harness.stop()


@pytest.fixture
async def bot(database_url: str, clock: FakeClock) -> Harness:
    """A running bot on the offline Bot API fake, with a coordinator and nobody enrolled."""
    return await start_harness(settings_for(database_url), clock)

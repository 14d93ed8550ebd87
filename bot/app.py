"""The composition root: wires settings, the Application, database, scheduler and handlers."""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import UTC, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from telegram import BotCommand
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder
from telegram.request import BaseRequest

from bot import handlers
from bot.alerts import AlertDesk
from bot.clock import Clock, SystemClock
from bot.content import load_catalog
from bot.followups import FollowUps
from bot.processor import PerUserUpdateProcessor
from bot.render import Renderer
from bot.requests import RequestDesk
from bot.services import Services, TimeParser
from bot.settings import Settings
from bot.timeparse import parse_when
from flows.crisis import assess_text
from storage import repos
from storage.db import Database

log = logging.getLogger(__name__)

# PTB 22 warns on every RetryAfter unless this opt-in to its future timedelta API is set.
os.environ.setdefault("PTB_TIMEDELTA", "1")

UPDATE_MEMORY = timedelta(days=7)
OFFLINE_TOKEN = "0:offline-demo-token"
COMMANDS = ("request", "guide", "status", "end", "cancel", "help")

App = Application[Any, Any, Any, Any, Any, Any]


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    clock: Clock | None = None,
    parse_time: TimeParser = parse_when,
    scheduler_paused: bool = False,
    rate_limit: bool = True,
) -> App:
    """The whole bot, ready to initialise; `request` replaces the network (tests, demo)."""
    clock = clock or SystemClock()
    renderer = Renderer(load_catalog(override=settings.content_dir))
    db = Database(settings.database_url)
    builder = (
        ApplicationBuilder()
        .token(settings.token or OFFLINE_TOKEN)
        .concurrent_updates(PerUserUpdateProcessor())
        .post_init(start_services)
        .post_shutdown(stop_services)
    )
    if rate_limit:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))  # type: ignore[arg-type]
    if settings.base_url:
        builder = builder.base_url(settings.base_url)
        if settings.base_url.rstrip("/").endswith("/bot"):
            builder = builder.base_file_url(settings.base_url.rstrip("/")[:-4] + "/file/bot")
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    app = builder.build()
    scheduler = AsyncIOScheduler(timezone=UTC)
    desk = AlertDesk(db, clock, renderer, settings)
    followups = FollowUps(db, scheduler, clock, renderer, settings, desk.policy)
    followups.start_paused = scheduler_paused
    requests = RequestDesk(db, clock, renderer, settings, desk, followups)
    app.bot_data["services"] = Services(
        settings, db, renderer, clock, parse_time, followups, desk, requests
    )
    handlers.register(app)
    return app


async def start_services(app: App) -> None:
    """After initialize: best-effort start-up calls, then the scheduler with every pending job."""
    svc: Services = app.bot_data["services"]
    assess_text("")  # read the crisis lexicon and model now, not on someone's first message
    svc.followups.bot = app.bot
    text = svc.renderer.text
    try:
        await app.bot.set_my_commands(
            [BotCommand(name, text(f"commands.{name}")) for name in COMMANDS]
        )
    except TelegramError as exc:
        log.warning("startup_call_unsupported method=setMyCommands error=%s", type(exc).__name__)
    with svc.db.transaction() as tx:
        pruned = repos.prune_updates(tx, svc.clock.now() - UPDATE_MEMORY)
    log.info("startup pruned_update_ids=%s", pruned)
    svc.followups.scheduler.start(paused=svc.followups.start_paused)
    svc.followups.reconcile()
    svc.alerts.bot = app.bot
    svc.requests.bot = app.bot
    svc.alerts.recover()
    if not svc.followups.start_paused:
        # Background delivery: retries, escalation, and anything pending from before a restart.
        app.bot_data["alert_loop"] = asyncio.create_task(svc.alerts.run_forever())
        # Offers that time out and requests waiting past their deadline.
        app.bot_data["request_loop"] = asyncio.create_task(svc.requests.run_forever())


async def stop_services(app: App) -> None:
    """Stop the scheduler and release the database."""
    svc: Services = app.bot_data["services"]
    for name in ("alert_loop", "request_loop"):
        loop = app.bot_data.pop(name, None)
        if loop is not None:
            loop.cancel()
    if svc.followups.scheduler.running:
        svc.followups.scheduler.shutdown(wait=False)
    svc.db.dispose()

"""Command line: run the bot, the terminal demo, database upgrades and invite links."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from dotenv import load_dotenv

from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger("bot")


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    # httpx logs request URLs, and a Bot API URL contains the token.
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _fail(message: str) -> None:
    print(f"configuration error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _upgrade(settings: Settings) -> None:
    """Migrate the schema, or stop with one line naming DATABASE_URL."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.db import upgrade

    try:
        upgrade(settings.database_url)
    except (SQLAlchemyError, ModuleNotFoundError) as exc:
        _fail(f"DATABASE_URL: cannot open the database ({type(exc).__name__})")


def _settings() -> Settings:
    load_dotenv(override=False)
    try:
        return load_settings(os.environ)
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_run(settings: Settings) -> None:
    """Poll Telegram; without a token, start the terminal demo instead."""
    if settings.token is None:
        print("TELEGRAM_BOT_TOKEN is not set: starting the terminal demo instead.\n")
        cmd_demo(settings)
        return
    from telegram.error import InvalidToken, NetworkError, TelegramError

    from bot.app import build_application

    _configure_logging()
    _upgrade(settings)
    app = build_application(settings)
    log.info("polling_start")
    try:
        app.run_polling(allowed_updates=["message", "callback_query"])
    except InvalidToken:
        _fail("TELEGRAM_BOT_TOKEN: the Bot API server rejected it (or lacks a method we need)")
    except NetworkError:
        _fail("TELEGRAM_BASE_URL: cannot reach the Bot API server")
    except TelegramError as exc:
        _fail(f"the Bot API server refused to start polling ({type(exc).__name__})")


def cmd_demo(settings: Settings) -> None:
    """A terminal chat with the real application through the offline Bot API fake."""
    from bot.demo import log_to_file, run_demo

    log_to_file()
    asyncio.run(run_demo(settings))


def cmd_invite(settings: Settings, role: str, uses: int, days: int) -> None:
    """Create an invite and print its link on a line of its own."""
    from bot.app import build_application
    from bot.handlers import create_invite, invite_link
    from bot.services import Services

    _upgrade(settings)
    username = settings.bot_username
    if username is None and settings.token is not None:
        username = asyncio.run(_username(settings))
    if username is None:
        print(
            "configuration error: TELEGRAM_BOT_USERNAME: set it (or a reachable token) "
            "to build the link",
            file=sys.stderr,
        )
        raise SystemExit(2)
    svc: Services = build_application(settings, rate_limit=False).bot_data["services"]
    invite = create_invite(svc, None, uses, days)
    assert invite is not None
    print(f"Invite for a {role}: {uses} use(s), valid {days} day(s).", file=sys.stderr)
    print(invite_link(username, invite.code))


async def _username(settings: Settings) -> str | None:
    from telegram import Bot
    from telegram.error import TelegramError

    base_url = settings.base_url or "https://api.telegram.org/bot"
    try:
        async with Bot(settings.token or "", base_url=base_url) as bot:
            return bot.username
    except TelegramError:
        return None


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run it."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="poll Telegram (the demo when no token is set)")
    sub.add_parser("demo", help="terminal chat with the real bot, offline")
    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade"])
    sub.add_parser("diagram", help="print the guide's Mermaid state diagram")
    invite = sub.add_parser("invite", help="print an invite link")
    invite.add_argument("role", choices=["supporter"])
    invite.add_argument("--uses", type=int, default=1, choices=range(1, 101), metavar="1-100")
    invite.add_argument("--days", type=int, default=7, choices=range(1, 91), metavar="1-90")
    args = parser.parse_args(argv)
    if args.command == "diagram":
        from flows.diagram import mermaid

        print(mermaid(), end="")
        return
    settings = _settings()
    if args.command == "run":
        cmd_run(settings)
    elif args.command == "demo":
        cmd_demo(settings)
    elif args.command == "db":
        _upgrade(settings)
        print("database is up to date")
    else:
        cmd_invite(settings, args.role, args.uses, args.days)


if __name__ == "__main__":
    main()

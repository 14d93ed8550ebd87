"""Settings from the environment, validated so a bad value fails at start with one clear line."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from flows.followup import parse_quiet_hours

DEFAULT_DATABASE_URL = "sqlite:///data/peer-guide.sqlite3"
_TOKEN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    """Everything the composition root needs to wire the bot."""

    token: str | None
    base_url: str | None
    database_url: str
    coordinator_ids: frozenset[int]
    timezone: str
    bot_username: str | None = None
    content_dir: Path | None = None
    escalation_ids: frozenset[int] = frozenset()
    ack_minutes_acute: int = 5
    ack_minutes_non_acute: int = 30
    emergency_number: str = "911"
    remind_after_hours: int = 12
    overdue_after_hours: int = 24
    quiet_hours: str = "22:00-08:00"
    offer_minutes: int = 10
    urgent_offer_minutes: int = 3
    sla_hours: int = 24
    urgent_sla_hours: int = 1


def _ids(name: str, raw: str) -> frozenset[int]:
    try:
        return frozenset(int(part) for part in raw.replace(" ", "").split(",") if part)
    except ValueError:
        raise SettingsError(
            f"{name}: expected Telegram user ids separated by commas, e.g. 12345,67890"
        ) from None


def _minutes(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number of minutes (or hours) between 1 and 1440."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 24 * 60:
        raise SettingsError(f"{name}: expected a whole number between 1 and 1440, got {raw!r}")
    return int(raw)


def load_settings(env: Mapping[str, str]) -> Settings:
    """Read and check every setting; raises SettingsError naming the first bad one."""
    token = env.get("TELEGRAM_BOT_TOKEN", "").strip() or None
    if token is not None and not _TOKEN.match(token):
        raise SettingsError("TELEGRAM_BOT_TOKEN: does not look like a bot token (123456:ABC-…)")
    base_url = env.get("TELEGRAM_BASE_URL", "").strip() or None
    if base_url is not None and not re.match(r"^https?://[^/\s]+", base_url):
        raise SettingsError(
            "TELEGRAM_BASE_URL: expected an http(s) URL such as http://127.0.0.1:8081/bot"
        )
    database_url = env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    try:
        make_url(database_url)
    except ArgumentError:
        raise SettingsError(
            "DATABASE_URL: not a database URL (e.g. sqlite:///data/peer-guide.sqlite3)"
        ) from None
    timezone = env.get("TIMEZONE", "").strip() or "America/New_York"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"TIMEZONE: unknown time zone {timezone!r} (use a name like America/Chicago)"
        ) from None
    content_dir = env.get("CONTENT_DIR", "").strip() or None
    if content_dir is not None and not Path(content_dir).is_dir():
        raise SettingsError(f"CONTENT_DIR: {content_dir!r} is not a folder")
    username = env.get("TELEGRAM_BOT_USERNAME", "").strip().lstrip("@") or None
    return Settings(
        token=token,
        base_url=base_url,
        database_url=database_url,
        coordinator_ids=_ids("COORDINATOR_IDS", env.get("COORDINATOR_IDS", "")),
        timezone=timezone,
        bot_username=username,
        content_dir=Path(content_dir) if content_dir else None,
        escalation_ids=_ids("ESCALATION_IDS", env.get("ESCALATION_IDS", "")),
        ack_minutes_acute=_minutes(env, "ALERT_ACK_MINUTES_ACUTE", 5),
        ack_minutes_non_acute=_minutes(env, "ALERT_ACK_MINUTES_NON_ACUTE", 30),
        emergency_number=_emergency(env.get("PROGRAM_EMERGENCY_NUMBER", "")),
        remind_after_hours=_minutes(env, "FOLLOWUP_REMIND_HOURS", 12),
        overdue_after_hours=_minutes(env, "FOLLOWUP_OVERDUE_HOURS", 24),
        quiet_hours=_quiet(env.get("QUIET_HOURS", "")),
        offer_minutes=_minutes(env, "OFFER_MINUTES", 10),
        urgent_offer_minutes=_minutes(env, "URGENT_OFFER_MINUTES", 3),
        sla_hours=_minutes(env, "REQUEST_SLA_HOURS", 24),
        urgent_sla_hours=_minutes(env, "URGENT_REQUEST_SLA_HOURS", 1),
    )


def _quiet(raw: str) -> str:
    value = raw.strip() or "22:00-08:00"
    if parse_quiet_hours(value) is None:
        raise SettingsError(f"QUIET_HOURS: expected a range like 22:00-08:00, got {value!r}")
    return value


def _emergency(raw: str) -> str:
    number = raw.strip() or "911"
    if not re.fullmatch(r"[+()\d][\d\s()+\-.]{1,30}", number):
        raise SettingsError(
            "PROGRAM_EMERGENCY_NUMBER: expected a phone number such as +1 555 010 0100"
        )
    return number

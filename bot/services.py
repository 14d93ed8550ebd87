"""The services a handler needs, wired once by the composition root and kept in bot_data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from telegram.ext import ContextTypes

from bot.clock import Clock
from bot.render import Renderer
from bot.settings import Settings
from flows.enrolment import Role
from storage import repos
from storage.db import Database

if TYPE_CHECKING:
    from bot.alerts import AlertDesk
    from bot.followups import FollowUps
    from bot.requests import RequestDesk

TimeParser = Callable[[str, datetime, str], datetime | None]


@dataclass
class Services:
    """Settings, database, content, clock, time parser; the follow-up, alert and request desks."""

    settings: Settings
    db: Database
    renderer: Renderer
    clock: Clock
    parse_time: TimeParser
    followups: FollowUps
    alerts: AlertDesk
    requests: RequestDesk

    def role_of(self, user_id: int) -> Role:
        """A person's role: coordinators come from settings, supporters from enrolment."""
        if user_id in self.settings.coordinator_ids | self.settings.escalation_ids:
            return Role.COORDINATOR
        with self.db.transaction() as tx:
            person = repos.get_person(tx, user_id)
            return Role(person.role) if person else Role.VISITOR

    def timezone_of(self, user_id: int) -> str:
        """A person's time zone, or the programme's default."""
        with self.db.transaction() as tx:
            return repos.timezone_of(tx, user_id, self.settings.timezone)


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    """The services stored in the application's bot_data."""
    found: Services = context.application.bot_data["services"]
    return found

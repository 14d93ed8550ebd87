"""Turns message intents into Telegram text and inline keyboards, using the content catalog."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.content import Catalog
from flows.guide import STAGES
from flows.intents import (
    Button,
    Intent,
    Keyboard,
    Say,
    ShowResources,
    ShowStep,
    ShowTopicResources,
    Urgency,
)

DataFor = Callable[[Button], str]


@dataclass(frozen=True)
class Outgoing:
    """One message to send (or to edit in place when `replace` and there is a card to edit)."""

    text: str
    markup: InlineKeyboardMarkup | None = None
    replace: bool = False
    is_card: bool = False


def format_time(at: datetime, tz: str, pattern: str) -> str:
    """A check-in time as the supporter reads it, in their zone, by a content-defined pattern."""
    return at.astimezone(ZoneInfo(tz)).strftime(pattern).replace("{tz}", tz)


class Renderer:
    """Renders intents for one catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def text(self, key: str, **params: object) -> str:
        """A plain message by key."""
        return self.catalog.text(key, **params)

    def keyboard(self, rows: Keyboard, data_for: DataFor) -> InlineKeyboardMarkup | None:
        """Inline buttons with labels from the catalog and callback data from `data_for`."""
        if not rows:
            return None
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(self.text(b.label), callback_data=data_for(b)) for b in row]
                for row in rows
            ]
        )

    def _params(self, params: Mapping[str, object], tz: str) -> dict[str, object]:
        out: dict[str, object] = {}
        for name, value in params.items():
            if isinstance(value, datetime):
                value = format_time(value, tz, self.catalog.messages["format.when"])
            out[name] = html.escape(value) if isinstance(value, str) else value
        return out

    def step(self, intent: ShowStep, data_for: DataFor) -> Outgoing:
        """A step card: progress title, then the chosen section as bullets."""
        content = self.catalog.steps[intent.stage]
        number = [s.value for s in STAGES].index(intent.stage) + 1
        lines = []
        if intent.notice:
            lines += [self.text(intent.notice), ""]
        lines.append(self.text("step.header", step=number, total=len(STAGES), title=content.title))
        if intent.section == "more":
            lines.append(self.text("step.more_header"))
            items = content.more[intent.page % len(content.more)]
        elif intent.section == "phrases":
            lines.append(self.text("step.phrases_header"))
            items = content.phrases
        else:
            items = content.tips
        lines += [self.text("step.bullet", text=html.escape(item)) for item in items]
        markup = self.keyboard(intent.buttons, data_for)
        return Outgoing("\n".join(lines), markup, intent.replace, is_card=True)

    def say(self, intent: Say, data_for: DataFor, tz: str) -> Outgoing:
        """A message by key, with optional notice and header lines above it."""
        params = self._params(intent.params, tz)
        parts = []
        if intent.notice:
            parts.append(self.text(intent.notice))
        if intent.header:
            parts.append(self.text(intent.header, **params))
        parts.append(self.text(intent.key, **params))
        markup = self.keyboard(intent.buttons, data_for)
        return Outgoing("\n\n".join(parts), markup, intent.replace, is_card=bool(intent.buttons))

    def resources(self, level: Urgency, *, for_self: bool = False) -> Outgoing:
        """What to do now for this level (for a helper, or for the person themselves), then every
        resource; https targets become buttons."""
        key = f"resources.self.{level}" if for_self else f"resources.{level}"
        lines = [self.text(key), "", self.text("resources.list_header")]
        buttons = []
        for res in self.catalog.resources:
            lines.append(
                self.text(
                    "resources.entry", name=html.escape(res.name), detail=html.escape(res.detail)
                )
            )
            buttons += [[InlineKeyboardButton(res.name, url=link)] for link in res.links]
        return Outgoing("\n".join(lines), InlineKeyboardMarkup(buttons) if buttons else None)

    def topic_resources(self, topic: str) -> Outgoing:
        """The resources for one topic; https targets become link buttons."""
        lines = [self.text("resources.topic_header", topic=self.text(f"btn.topic.{topic}"))]
        buttons = []
        for res in self.catalog.topic_resources.get(topic, ()):
            lines.append(
                self.text(
                    "resources.entry", name=html.escape(res.name), detail=html.escape(res.detail)
                )
            )
            buttons += [[InlineKeyboardButton(res.name, url=link)] for link in res.links]
        return Outgoing("\n".join(lines), InlineKeyboardMarkup(buttons) if buttons else None)

    def render(self, intent: Intent, data_for: DataFor, tz: str) -> Outgoing | None:
        """The message for a message intent; None for intents that send nothing."""
        if isinstance(intent, ShowStep):
            return self.step(intent, data_for)
        if isinstance(intent, Say):
            return self.say(intent, data_for, tz)
        if isinstance(intent, ShowResources):
            return self.resources(intent.level, for_self=intent.for_self)
        if isinstance(intent, ShowTopicResources):
            return self.topic_resources(intent.topic)
        return None

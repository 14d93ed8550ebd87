"""Drives the real Application as Telegram users would: messages, stickers and button presses."""

from __future__ import annotations

import itertools
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes

from bot.fake_api import Call, FakeBotApi


class HandlerError(AssertionError):
    """A handler raised while the simulator drove an update."""


class Simulator:
    """Sends updates for several users through `app` and reads what the bot answered."""

    def __init__(
        self,
        app: Application[Any, Any, Any, Any, Any, Any],
        api: FakeBotApi,
        *,
        strict: bool = True,
        first_update_id: int = 1,
    ) -> None:
        self.app, self.api, self.strict = app, api, strict
        self._update_ids = itertools.count(first_update_id)
        self.errors: list[BaseException] = []
        self.last_update: dict[str, Any] = {}
        app.add_error_handler(self._record)

    async def _record(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.error is not None:
            self.errors.append(context.error)

    @staticmethod
    def user(user_id: int) -> dict[str, Any]:
        """The Telegram user object for a simulated person."""
        return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}

    async def deliver(self, payload: dict[str, Any]) -> list[Call]:
        """Process one raw update; returns the Bot API calls it caused."""
        self.last_update = payload
        before = len(self.api.calls)
        await self.app.process_update(Update.de_json(payload, self.app.bot))
        if self.strict and self.errors:
            raise HandlerError(f"handler raised {self.errors[-1]!r}") from self.errors[-1]
        return self.api.calls[before:]

    def _message(
        self, user_id: int, reply_to: int | None = None, **content: Any
    ) -> dict[str, Any]:
        message = {
            "message_id": self.api.next_message_id(),
            "date": self.api.clock(),
            "chat": {"id": user_id, "type": "private"},
            "from": self.user(user_id),
            **content,
        }
        if reply_to is not None:
            replied = self.api.messages.get((user_id, reply_to)) or {
                "message_id": reply_to,
                "date": self.api.clock(),
                "chat": {"id": user_id, "type": "private"},
            }
            message["reply_to_message"] = replied
        self.api.receive(message)
        return {"update_id": next(self._update_ids), "message": message}

    async def send(self, user_id: int, text: str, reply_to: int | None = None) -> list[Call]:
        """The user sends text (a leading /word is a command), optionally as a reply."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return await self.deliver(self._message(user_id, reply_to, **content))

    async def photo(self, user_id: int, caption: str | None = None) -> list[Call]:
        """The user sends a photo (with an optional caption)."""
        size = {"file_id": "p1", "file_unique_id": "p1", "width": 10, "height": 10}
        content: dict[str, Any] = {"photo": [size]}
        if caption is not None:
            content["caption"] = caption
        return await self.deliver(self._message(user_id, **content))

    async def sticker(self, user_id: int) -> list[Call]:
        """The user sends a sticker."""
        sticker = {
            "file_id": "s1",
            "file_unique_id": "s1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return await self.deliver(self._message(user_id, None, sticker=sticker))

    async def press_data(self, user_id: int, data: str, message: dict[str, Any]) -> list[Call]:
        """The user presses a button with this callback data on `message`."""
        update_id = next(self._update_ids)
        return await self.deliver(
            {
                "update_id": update_id,
                "callback_query": {
                    "id": str(update_id),
                    "from": self.user(user_id),
                    "chat_instance": str(user_id),
                    "data": data,
                    "message": message,
                },
            }
        )

    def find_button(self, user_id: int, label: str) -> tuple[str, dict[str, Any]]:
        """The callback data and message of the newest button with this label in the chat."""
        for message in reversed(self.api.chat(user_id)):
            for row in message.get("reply_markup", {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label and "callback_data" in button:
                        return button["callback_data"], message
        raise LookupError(f"no button {label!r} in chat {user_id}")

    async def press(self, user_id: int, label: str) -> list[Call]:
        """The user presses the newest button with this label."""
        data, message = self.find_button(user_id, label)
        return await self.press_data(user_id, data, message)

    def buttons(self, user_id: int) -> list[str]:
        """Labels of the newest message in the chat that has buttons."""
        for message in reversed(self.api.chat(user_id)):
            rows = message.get("reply_markup", {}).get("inline_keyboard", [])
            if rows:
                return [button["text"] for row in rows for button in row]
        return []

    def last_text(self, user_id: int) -> str:
        """The text of the bot's newest message in the chat."""
        chat = self.api.chat(user_id)
        return str(chat[-1]["text"]) if chat else ""

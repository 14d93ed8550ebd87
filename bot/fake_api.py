"""An offline Bot API at PTB's request layer: answers locally and records every call."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT_USER = {
    "id": 1000,
    "is_bot": True,
    "first_name": "Peer Guide",
    "username": "PeerGuideBot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
ALWAYS_TRUE = {
    "answerCallbackQuery",
    "setMyCommands",
    "deleteMyCommands",
    "setChatMenuButton",
    "deleteWebhook",
    "setWebhook",
    "close",
    "logOut",
    "deleteMessage",
}


@dataclass
class Call:
    """One Bot API call the bot made."""

    method: str
    params: dict[str, Any]


class ApiError(Exception):
    """Raise from a fault hook to answer a call with a Bot API error."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


FaultHook = Callable[[str, dict[str, Any]], None]


@dataclass
class FakeBotApi(BaseRequest):
    """Keeps the chats' messages, so edits and button presses behave as on Telegram."""

    unsupported: set[str] = field(default_factory=set)
    fault: FaultHook | None = None
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    inbox: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    clock: Callable[[], int] = field(default=lambda: 1_780_000_000)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def read_timeout(self) -> float | None:
        """No real I/O, so no timeout."""
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def next_message_id(self) -> int:
        """Message ids are shared by the bot's and the users' messages, as in a chat."""
        return next(self._ids)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:
        """Answer one Bot API call locally."""
        name = url.rstrip("/").rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        self.calls.append(Call(name, params))
        try:
            if self.fault is not None:
                self.fault(name, params)
            result = self._answer(name, params)
        except ApiError as exc:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": exc.code,
                "description": exc.description,
            }
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
            return exc.code, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _answer(self, name: str, params: dict[str, Any]) -> Any:
        if name in self.unsupported:
            raise ApiError(404, "Not Found: method not found")
        if name == "getMe":
            return BOT_USER
        if name in ALWAYS_TRUE:
            return True
        if name == "getUpdates":
            return []
        if name == "sendMessage":
            return self._store(int(params["chat_id"]), self.next_message_id(), params)
        if name in ("editMessageText", "editMessageReplyMarkup"):
            return self._edit(name, params)
        if name == "copyMessage":
            return self._copy(params)
        raise ApiError(404, f"Not Found: method {name} not supported by the fake")

    def _store(self, chat_id: int, message_id: int, params: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": self.clock(),
            "from": BOT_USER,
            "chat": {"id": chat_id, "type": "private"},
            "text": params.get("text", ""),
        }
        if params.get("reply_markup"):
            message["reply_markup"] = _markup(params["reply_markup"])
        self.messages[(chat_id, message_id)] = message
        return message

    def receive(self, message: dict[str, Any]) -> None:
        """Keep a message a user sent, so the bot can copy it as Telegram would."""
        self.inbox[(int(message["chat"]["id"]), int(message["message_id"]))] = message

    def _copy(self, params: dict[str, Any]) -> dict[str, Any]:
        source = (int(params["from_chat_id"]), int(params["message_id"]))
        original = self.inbox.get(source) or self.messages.get(source)
        if original is None:
            raise ApiError(400, "Bad Request: message to copy not found")
        chat_id, message_id = int(params["chat_id"]), self.next_message_id()
        copy = {
            key: value
            for key, value in original.items()
            if key not in ("message_id", "chat", "from", "date", "reply_to_message", "entities")
        }
        copy |= {
            "message_id": message_id,
            "date": self.clock(),
            "from": BOT_USER,
            "chat": {"id": chat_id, "type": "private"},
            "copy_of": list(source),
        }
        if params.get("reply_parameters"):
            reply = _markup(params["reply_parameters"])
            copy["reply_to"] = reply.get("message_id")
        copy.setdefault("text", "")
        self.messages[(chat_id, message_id)] = copy
        return {"message_id": message_id}

    def _edit(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        old = self.messages.get(key)
        if old is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        new = dict(old)
        if name == "editMessageText":
            new["text"] = params["text"]
        new.pop("reply_markup", None)
        if params.get("reply_markup"):
            new["reply_markup"] = _markup(params["reply_markup"])
        if new == old:
            raise ApiError(400, "Bad Request: message is not modified")
        self.messages[key] = new
        return new

    def chat(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages in a chat, oldest first, as they stand now."""
        return [m for (c, _), m in sorted(self.messages.items()) if c == chat_id]


def _markup(raw: Any) -> dict[str, Any]:
    return json.loads(raw) if isinstance(raw, str) else dict(raw)

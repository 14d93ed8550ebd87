"""Sends rendered messages: edits the live card in place where that keeps the chat calm."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Bot, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.render import Outgoing

log = logging.getLogger(__name__)


async def _edit(bot: Bot, chat_id: int, message_id: int, out: Outgoing) -> bool:
    try:
        await bot.edit_message_text(
            out.text,
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=out.markup,
            disable_web_page_preview=True,
        )
    except BadRequest as exc:
        if "not modified" in exc.message.lower():
            return True
        log.info("edit_failed chat=%s message=%s; sending anew", chat_id, message_id)
        return False
    return True


async def strip_buttons(bot: Bot, chat_id: int, message_id: int) -> None:
    """Remove an old card's buttons; best effort, since they are stale anyway."""
    try:
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
    except TelegramError:
        log.debug("strip_failed chat=%s message=%s", chat_id, message_id)


async def send(bot: Bot, chat_id: int, out: Outgoing) -> Message:
    """Send one message as HTML."""
    return await bot.send_message(
        chat_id,
        out.text,
        parse_mode=ParseMode.HTML,
        reply_markup=out.markup,
        disable_web_page_preview=True,
    )


async def deliver(
    bot: Bot,
    chat_id: int,
    outs: Sequence[Outgoing],
    *,
    edit_id: int | None = None,
    old_card_id: int | None = None,
) -> int | None:
    """Send `outs` in order; the first replaceable one edits `edit_id`. Returns the card's id."""
    card_id: int | None = None
    for out in outs:
        if out.replace and edit_id is not None and await _edit(bot, chat_id, edit_id, out):
            message_id = edit_id
        else:
            message_id = (await send(bot, chat_id, out)).message_id
        edit_id = None
        if out.is_card:
            card_id = message_id
    if card_id is not None and old_card_id is not None and old_card_id != card_id:
        await strip_buttons(bot, chat_id, old_card_id)
    return card_id

"""Supporter profiles (`/profile`, `/available`, `/away`): what matching needs, set with taps."""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot import messenger
from bot.render import Outgoing
from bot.services import Services, services
from flows.enrolment import may_guide
from flows.followup import parse_quiet_hours
from flows.intake import CHOICES, Field
from flows.matching import TrainingStage
from storage import repos
from storage.models import Person

DATA = re.compile(
    r"^p1:(home|stage|department|topics|languages|max_cases)(?::([a-z_0-9]{1,16}))?$"
)
MULTI = {"topics": CHOICES[Field.TOPIC], "languages": CHOICES[Field.LANGUAGE]}
SINGLE = {
    "stage": tuple(TrainingStage),
    "department": CHOICES[Field.DEPARTMENT][:-1],
    "max_cases": ("1", "2", "3", "4", "5"),
}
LABELS = {
    "stage": "btn.intake.stage.",
    "department": "btn.intake.department.",
    "topics": "btn.intake.topic.",
    "languages": "btn.intake.language.",
}


def _label(svc: Services, field: str, value: str) -> str:
    prefix = LABELS.get(field)
    return svc.renderer.text(prefix + value) if prefix else value


def summary(svc: Services, person: Person) -> str:
    """The profile as the supporter reads it."""
    text = svc.renderer.text
    none = text("profile.unset")
    return text(
        "profile.summary",
        stage=_label(svc, "stage", person.stage) if person.stage else none,
        department=_label(svc, "department", person.department) if person.department else none,
        topics=", ".join(_label(svc, "topics", t) for t in person.topics) or none,
        languages=", ".join(_label(svc, "languages", lang) for lang in person.languages) or none,
        max_cases=person.max_cases,
        hours=person.hours or text("profile.any_time"),
        tz=person.timezone or svc.settings.timezone,
        available=text("profile.available" if person.available else "profile.away"),
    )


def keyboard(svc: Services, person: Person, field: str = "home") -> InlineKeyboardMarkup:
    """The home buttons, or the choices for one field (ticks on what is chosen)."""
    text = svc.renderer.text
    if field == "home":
        return InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(text(f"btn.profile.{f}"), callback_data=f"p1:{f}")]
                for f in ("stage", "department", "topics", "languages", "max_cases")
            ]
        )
    chosen = {str(getattr(person, field))} if field in SINGLE else set(getattr(person, field))
    values = SINGLE.get(field) or MULTI[field]
    rows = [
        [
            InlineKeyboardButton(
                ("✓ " if v in chosen else "") + _label(svc, field, v),
                callback_data=f"p1:{field}:{v}",
            )
        ]
        for v in values
    ]
    rows.append([InlineKeyboardButton(text("btn.profile.done"), callback_data="p1:home")])
    return InlineKeyboardMarkup(rows)


def apply(person: Person, field: str, value: str) -> bool:
    """Set a single choice or toggle a multiple one; False for a value not offered."""
    if field in SINGLE:
        if value not in SINGLE[field]:
            return False
        setattr(person, field, int(value) if field == "max_cases" else value)
        return True
    if value not in MULTI[field]:
        return False
    current = list(getattr(person, field))
    if value in current:
        if field == "languages" and len(current) == 1:
            return True  # at least one language stays
        current.remove(value)
    else:
        current.append(value)
    setattr(person, field, current)
    return True


async def on_profile(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/profile: show the profile with buttons to change each part."""
    svc, user = services(context), update.effective_user
    if user is None or not may_guide(svc.role_of(user.id)) or update.effective_message is None:
        return await _forbidden(svc, update)
    with svc.db.transaction() as tx:
        person = repos.ensure_staff(
            tx, user.id, svc.role_of(user.id), user.first_name, svc.clock.now()
        )
        text, markup = summary(svc, person), keyboard(svc, person)
    await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def on_availability(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/available and /away."""
    svc, user = services(context), update.effective_user
    message = update.effective_message
    if user is None or message is None or not may_guide(svc.role_of(user.id)):
        return await _forbidden(svc, update)
    available = bool(message.text and message.text.startswith("/available"))
    with svc.db.transaction() as tx:
        person = repos.ensure_staff(
            tx, user.id, svc.role_of(user.id), user.first_name, svc.clock.now()
        )
        person.available = available
        tx.add(person)
    await message.reply_text(
        svc.renderer.text("profile.available_set" if available else "profile.away_set")
    )


async def on_hours(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/hours 08:00-20:00 or /hours any: when this supporter prefers new requests."""
    svc, user = services(context), update.effective_user
    message = update.effective_message
    if user is None or message is None or not may_guide(svc.role_of(user.id)):
        return await _forbidden(svc, update)
    arg = "".join(context.args or []).strip().lower()
    text = svc.renderer.text
    if arg != "any" and parse_quiet_hours(arg) is None:
        await message.reply_text(text("hours.usage"))
        return
    with svc.db.transaction() as tx:
        person = repos.ensure_staff(
            tx, user.id, svc.role_of(user.id), user.first_name, svc.clock.now()
        )
        person.hours = None if arg == "any" else arg
        tx.add(person)
        tz = person.timezone or svc.settings.timezone
    shown = text("profile.any_time") if arg == "any" else arg
    await message.reply_text(text("hours.set", hours=shown, tz=tz))


async def on_profile_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """A profile button; False when the data is not a profile button."""
    query, user = update.callback_query, update.effective_user
    assert query is not None
    m = DATA.match(query.data or "")
    if m is None or user is None:
        return False
    svc = services(context)
    if not may_guide(svc.role_of(user.id)):
        await query.answer(svc.renderer.text("button.stale"))
        return True
    field, value = m[1], m[2]
    with svc.db.transaction() as tx:
        person = repos.ensure_staff(
            tx, user.id, svc.role_of(user.id), user.first_name, svc.clock.now()
        )
        ok = field == "home" or value is None or apply(person, field, value)
        tx.add(person)
        shown = "home" if field == "home" else field
        text, markup = summary(svc, person), keyboard(svc, person, shown)
    await query.answer(None if ok else svc.renderer.text("button.stale"))
    if query.message is not None:
        await messenger.deliver(
            context.bot,
            user.id,
            [Outgoing(text, markup, replace=True)],
            edit_id=query.message.message_id,
        )
    return True


async def _forbidden(svc: Services, update: Update) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(svc.renderer.text("guide.forbidden"))

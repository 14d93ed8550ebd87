"""Roles and invite rules: who may use which part of the bot, and when an invite code is valid."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    """What a person is to the programme."""

    SUPPORTER = "supporter"
    COORDINATOR = "coordinator"
    VISITOR = "visitor"


class InviteProblem(StrEnum):
    """Why an invite code cannot enrol someone."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED_UP = "used_up"


def check_invite(
    exists: bool, expires_at: datetime | None, uses_left: int, now: datetime
) -> InviteProblem | None:
    """Whether an invite may be redeemed now; None when it may."""
    if not exists:
        return InviteProblem.UNKNOWN
    if expires_at is not None and now >= expires_at:
        return InviteProblem.EXPIRED
    if uses_left <= 0:
        return InviteProblem.USED_UP
    return None


def may_guide(role: Role) -> bool:
    """Supporters and coordinators may run guided sessions."""
    return role in (Role.SUPPORTER, Role.COORDINATOR)

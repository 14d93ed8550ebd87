"""Callback data: short, versioned strings that name what a button acts on; never trusted."""

from __future__ import annotations

import re
from dataclasses import dataclass

_GUIDE = re.compile(r"^g1:(\d{1,12}):(\d{1,9}):([a-z]):([a-z0-9_]{0,12})$")
_CHECKIN = re.compile(r"^c1:(\d{1,12}):([a-z0-9_]{1,12})$")
_CASE = re.compile(r"^k1:(\d{1,12}):(resume|close|plan)$")
_ALERT = re.compile(r"^a1:(\d{1,12}):(ack|call)$")
_REQUEST = re.compile(r"^q1:(\d{1,12}):([a-z_]{1,12}):([a-z0-9_]{1,16})$")
_OFFER = re.compile(r"^o1:(\d{1,12}):(accept|decline)$")


@dataclass(frozen=True)
class GuideButton:
    """A button on a guide card: which session, which card version, which action."""

    session_id: int
    version: int
    action: str
    arg: str


@dataclass(frozen=True)
class CheckInButton:
    """A button on a check-in ping."""

    follow_up_id: int
    answer: str


@dataclass(frozen=True)
class AlertButton:
    """A button on a coordinator alert."""

    alert_id: int
    action: str


@dataclass(frozen=True)
class CaseButton:
    """A button in the /cases list."""

    session_id: int
    action: str


@dataclass(frozen=True)
class RequestButton:
    """A requester's button: an intake answer, a rating, a check-in wish, a consent."""

    request_id: int
    field: str
    value: str


@dataclass(frozen=True)
class OfferButton:
    """A supporter's answer to an offer."""

    request_id: int
    action: str


def request_data(request_id: int, field: str, value: str) -> str:
    """Encode a requester's button."""
    return f"q1:{request_id}:{field}:{value}"


def offer_data(request_id: int, action: str) -> str:
    """Encode an offer button."""
    return f"o1:{request_id}:{action}"


def case_data(session_id: int, action: str) -> str:
    """Encode a /cases button."""
    return f"k1:{session_id}:{action}"


def guide_data(session_id: int, version: int, action: str, arg: str) -> str:
    """Encode a guide button."""
    return f"g1:{session_id}:{version}:{action}:{arg}"


def checkin_data(follow_up_id: int, answer: str) -> str:
    """Encode a check-in button."""
    return f"c1:{follow_up_id}:{answer}"


def alert_data(alert_id: int, action: str) -> str:
    """Encode an alert button."""
    return f"a1:{alert_id}:{action}"


Press = GuideButton | CheckInButton | AlertButton | CaseButton | RequestButton | OfferButton


def parse(data: str | None) -> Press | None:
    """Decode callback data; None for anything malformed or unknown."""
    if not data:
        return None
    if m := _GUIDE.match(data):
        return GuideButton(int(m[1]), int(m[2]), m[3], m[4])
    if m := _CHECKIN.match(data):
        return CheckInButton(int(m[1]), m[2])
    if m := _ALERT.match(data):
        return AlertButton(int(m[1]), m[2])
    if m := _CASE.match(data):
        return CaseButton(int(m[1]), m[2])
    if m := _REQUEST.match(data):
        return RequestButton(int(m[1]), m[2], m[3])
    if m := _OFFER.match(data):
        return OfferButton(int(m[1]), m[2])
    return None

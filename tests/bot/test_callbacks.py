"""Callback data round-trips and anything malformed is refused."""

from __future__ import annotations

import pytest

from bot.callbacks import CheckInButton, GuideButton, checkin_data, guide_data, parse


def test_guide_and_checkin_data_round_trip_within_telegrams_64_bytes() -> None:
    data = guide_data(123456789012, 999999999, "a", "declined")
    assert len(data.encode()) <= 64
    assert parse(data) == GuideButton(123456789012, 999999999, "a", "declined")
    assert parse(checkin_data(7, "worried")) == CheckInButton(7, "worried")


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "g1:1:1",
        "g2:1:1:n:",
        "g1:x:1:n:",
        "g1:1:1:N:",
        "c1:1:",
        "c1::x",
        "g1:1:1:n:" + "a" * 40,
        "c1:1:worried;drop",
    ],
)
def test_malformed_data_is_refused(data: str | None) -> None:
    assert parse(data) is None

"""The terminal demo drives the real application: a whole session with the safety check."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from bot.demo import run_demo
from bot.settings import load_settings


def scripted(lines: list[str]) -> tuple[Callable[[str], str], list[str]]:
    feed: Iterator[str] = iter(lines)
    out: list[str] = []

    def read(prompt: str) -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    return read, out


async def demo(tmp_path: Path, lines: list[str]) -> str:
    """Run the demo on a database in tmp_path with scripted input; everything it printed."""
    read, out = scripted(lines)
    await run_demo(
        load_settings({}),
        database_url=f"sqlite:///{tmp_path / 'demo.db'}",
        read=read,
        out=out.append,
    )
    return "\n".join(out)


async def test_a_guided_session_in_the_demo_reaches_the_acute_result(tmp_path: Path) -> None:
    text = await demo(
        tmp_path,
        [
            "/guide",
            "1",
            "2",
            "1",  # next, next, safety check
            "1",
            "2",
            "2",
            "2",
            "1",  # yes, no, no, no; acuity yes
            "2",
            "2",
            "1",  # continue, next, plan a check-in
            "2",  # tomorrow morning
            "3",  # no such button
            ":as coordinator",
            "/invite",
            ":quit",
        ],
    )
    assert "Step 3 of 5 · Safety check — question 1 of 4" in text
    assert text.index("Act now") < text.index("positive — immediate risk")
    assert "Step 5 of 5 · Check-in planned" in text
    assert "(no button 3 here" in text
    assert "https://t.me/PeerGuideBot?start=" in text


async def test_the_demo_remembers_the_session_between_runs(tmp_path: Path) -> None:
    await demo(tmp_path, ["/guide", "1"])
    text = await demo(tmp_path, ["/guide"])
    assert "Welcome back" in text
    assert "Step 2 of 5" in text


async def test_numbers_only_press_buttons_that_are_still_on_screen(tmp_path: Path) -> None:
    text = await demo(tmp_path, ["/guide", "4", "1", ":quit"])  # pause, then an old number
    assert "Paused" in text
    assert "(no button 1 here; the newest message has 0)" in text


async def test_a_requester_and_the_supporter_are_matched_and_talk_anonymously_in_the_demo(
    tmp_path: Path,
) -> None:
    text = await demo(
        tmp_path,
        [
            ":as requester",
            "/request",
            "1",  # safe: yes
            "3",  # resident / fellow
            "8",  # skip the department
            "3",  # burnout
            "1",  # English
            "1",  # anonymous chat
            "2",  # no preference
            "2",  # this week
            ":as supporter",
            "1",  # I'll take it
            ":as requester",
            "I can't switch off after nights",
            ":as supporter",
            ":reply That sounds hard. What helps, usually?",
            ":as requester",
            "/end",
            "5",
            ":quit",
        ],
    )
    assert "are you safe right now?" in text
    assert "Request #1 — someone would like to talk" in text
    assert "is yours" in text
    assert "💬 I can't switch off after nights" in text
    assert "💬 That sounds hard. What helps, usually?" in text
    assert "How helpful was it" in text
    assert "Would you like your peer to check in" in text

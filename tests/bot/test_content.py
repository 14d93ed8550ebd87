"""Content files: complete, valid, overridable by a programme, and every reachable card renders."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.content import ContentError, load_catalog, required_keys, validate
from bot.render import Renderer
from flows import checkin, guide
from flows.checkin import CheckInAnswer
from flows.guide import GuideState
from flows.intents import ShowStep, Urgency

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_the_shipped_content_is_complete_and_valid() -> None:
    catalog = load_catalog()
    assert validate(catalog) == []
    assert required_keys() <= set(catalog.messages)


def test_a_missing_message_or_a_bad_resource_target_is_reported() -> None:
    catalog = load_catalog()
    messages = {k: v for k, v in catalog.messages.items() if k != "button.stale"}
    bad = replace(catalog.resources[0], targets=("ftp://nope",))
    broken = replace(catalog, messages=messages, resources=(bad,))
    problems = validate(broken)
    assert "missing message 'button.stale'" in problems
    assert any("needs tel:, sms: or https: targets" in p for p in problems)


def test_the_resources_include_the_national_lines() -> None:
    targets = {t for r in load_catalog().resources for t in r.targets}
    assert {
        "tel:988",
        "sms:988",
        "sms:741741?body=HOME",
        "tel:+18884090141",
        "tel:+18006624357",
        "tel:911",
    } <= targets


def test_a_programme_adds_its_own_resource_and_overrides_a_message(tmp_path: Path) -> None:
    (tmp_path / "resources").mkdir()
    (tmp_path / "resources" / "program.yaml").write_text(
        "entries:\n  - id: campus\n    name: Campus Wellness\n    detail: 555-0100, 24/7\n"
        "    targets: ['tel:5550100']\n",
        encoding="utf-8",
    )
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "messages.yaml").write_text(
        'guide.paused: "Paused (campus)."\n', encoding="utf-8"
    )
    catalog = load_catalog(override=tmp_path)
    assert catalog.resources[-1].name == "Campus Wellness"
    assert catalog.text("guide.paused") == "Paused (campus)."
    assert "Campus Wellness" in Renderer(catalog).resources(Urgency.ACUTE).text


def test_an_override_with_a_broken_resource_fails_at_start(tmp_path: Path) -> None:
    (tmp_path / "resources").mkdir()
    (tmp_path / "resources" / "bad.yaml").write_text(
        "entries:\n  - {id: x, name: X, detail: y, targets: ['call me']}\n", encoding="utf-8"
    )
    with pytest.raises(ContentError, match="resource 'x'"):
        load_catalog(override=tmp_path)


def reachable_states() -> list[GuideState]:
    """Every distinct card reachable by buttons, as the flow's own explorer finds them."""
    return list({nxt for _, _, nxt in guide.explore(NOW)} | {guide.start().state})


def test_every_reachable_card_and_notice_renders_without_missing_text() -> None:
    renderer = Renderer(load_catalog())
    states = reachable_states()
    assert len(states) > 30
    rendered = 0
    for state in states:
        for event in (
            guide.StatusAsked(NOW),
            guide.Typed(NOW),
            guide.Cancelled(NOW),
            guide.Opened(NOW),
            guide.Unrecognised(NOW),
        ):
            for intent in guide.advance(state, event).intents:
                out = renderer.render(intent, lambda b: "x", "America/Chicago")
                if out is not None:
                    assert "{" not in out.text
                    rendered += 1
    for choice in CheckInAnswer:
        for intent in checkin.answer(choice, NOW):
            renderer.render(intent, lambda b: "x", "UTC")
    for ping in (checkin.ping(late=True), checkin.ping(late=False, reminder=True)):
        renderer.render(replace(ping, params={"case": 7, "label": "peer"}), lambda b: "x", "UTC")
    assert rendered > 100


def test_an_override_cannot_use_a_placeholder_the_bot_does_not_fill(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "messages.yaml").write_text(
        'guide.paused: "Paused {who}"\n', encoding="utf-8"
    )
    with pytest.raises(ContentError, match="placeholder"):
        load_catalog(override=tmp_path)


def test_a_resource_without_its_fields_is_reported_clearly(tmp_path: Path) -> None:
    (tmp_path / "resources").mkdir()
    (tmp_path / "resources" / "bad.yaml").write_text(
        "entries:\n  - {id: x, name: X}\n", encoding="utf-8"
    )
    with pytest.raises(ContentError, match="needs a name, detail and targets"):
        load_catalog(override=tmp_path)


def test_every_button_label_the_flows_can_show_is_required_content() -> None:
    labels = {b.label for _, b, _ in guide.explore(NOW)}
    assert {"btn.next", "btn.check_now", "btn.declined"} <= labels
    assert labels <= required_keys()


def test_tips_are_escaped_for_telegram_html() -> None:
    catalog = load_catalog()
    steps = dict(catalog.steps)
    steps["connect"] = replace(steps["connect"], tips=("Use <b> & ask", "second tip"))
    card = guide.card(guide.start().state)
    assert isinstance(card, ShowStep)
    rendered = Renderer(replace(catalog, steps=steps)).step(card, lambda b: "x")
    assert "Use &lt;b&gt; &amp; ask" in rendered.text


def test_every_topic_has_resources_and_a_programme_can_replace_them(tmp_path: Path) -> None:
    assert set(load_catalog().topic_resources) >= {"exams", "burnout", "substance"}
    (tmp_path / "resources").mkdir()
    (tmp_path / "resources" / "topics.yaml").write_text(
        "topics:\n  exams:\n    - {name: Campus tutoring, detail: room 101, "
        "targets: ['tel:5550101']}\n",
        encoding="utf-8",
    )
    catalog = load_catalog(override=tmp_path)
    assert [r.name for r in catalog.topic_resources["exams"]] == ["Campus tutoring"]
    assert catalog.topic_resources["burnout"]  # other topics keep the shipped entries


def test_every_message_key_the_shell_names_is_required_content() -> None:
    """A key written out in the shell's code must be in the required set, so a programme's
    content folder that lacks it fails at start, not in front of a person."""
    source = "\n".join(p.read_text() for p in Path("bot").glob("*.py"))
    named = set(re.findall(r"""text\(\s*"([a-z_][a-z0-9_.]*)\"""", source))
    named |= set(re.findall(r"""_retire_offer\(\w+, "([a-z_.]+)"\)""", source))
    assert len(named) > 80
    assert named - required_keys() == set()

"""The learned half of the crisis detector: the stored regressions score as scikit-learn did when
they were trained, the stored encoder as it did when it was exported, the two are averaged; the
model raises a text the lexicon found nothing in (with a higher bar where a rule cleared part of
it, and in long messages), confirms HIGH where the lexicon read POSSIBLE, and may temper the
lexicon in long messages."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from flows import crisis, crisis_model
from flows.crisis import RiskLevel, assess_text, model_text
from tests.auxil.crisis_eval import load, training_sets


def test_the_stored_regressions_reproduce_the_probabilities_they_were_trained_with() -> None:
    found = crisis_model.model("en")
    assert found is not None
    assert len(found.checks) >= 50
    for text, p_any, p_high in found.checks:
        got_any, got_high = found.linear_scores(model_text(text))
        assert got_any == pytest.approx(p_any, abs=1e-4), text
        assert got_high == pytest.approx(p_high, abs=1e-4), text


def test_the_stored_encoder_reproduces_the_probabilities_it_was_exported_with() -> None:
    found = crisis_model.model("en")
    assert found is not None
    assert isinstance(found.encoder, crisis_model.Encoder)
    assert len(found.encoder.checks) >= 50
    for text, none, possible, high in found.encoder.checks:  # stored model-ready
        got = found.encoder.probabilities(text)
        assert got == pytest.approx((none, possible, high), abs=1e-4), text
        assert sum(got) == pytest.approx(1.0, abs=1e-4)


class Fixed:
    """An encoder that reads every text the same way."""

    def __init__(self, none: float, possible: float, high: float) -> None:
        self.reading = (none, possible, high)

    def probabilities(self, text: str) -> tuple[float, float, float]:
        return self.reading


def test_the_model_averages_the_regressions_and_the_encoder() -> None:
    unsure = always("none")  # regressions: any ≈ 0, high ≈ 0
    assert unsure.scores("x") == pytest.approx((0.0, 0.0), abs=1e-6)
    both = replace(unsure, encoder=Fixed(0.2, 0.3, 0.5))
    assert both.scores("x") == pytest.approx((0.4, 0.25), abs=1e-6)
    sure = replace(always("high"), encoder=Fixed(0.2, 0.3, 0.5))
    assert sure.scores("x") == pytest.approx((0.9, 0.75), abs=1e-6)
    # The regressions' high risk never counts for more than their any risk.
    odd = replace(always("none"), high=replace(always("high").high), encoder=Fixed(1, 0, 0))
    assert odd.scores("x") == pytest.approx((0.0, 0.0), abs=1e-6)


def test_the_shipped_model_does_not_page_on_ordinary_plans() -> None:
    found = crisis_model.model("en")
    assert found is not None
    assert found.threshold_high is not None
    for text in (
        "I'm going to the gym after my shift tonight",
        "after my shift I'm going to call my grandma, she's been asking after me",
        "tonight I'm going to make my mum's curry recipe",
        "I've decided to switch to a standing desk, my back will thank me",
    ):
        assert assess_text(text).level is not RiskLevel.HIGH, text


def test_a_language_without_a_model_uses_the_lexicon_alone() -> None:
    assert crisis_model.model("xx") is None


def always(level: str) -> crisis_model.Model:
    """A model that says `level` ("high", "any" or "none") about everything."""
    raw: dict[str, Any] = {
        "thresholds": {"any": 0.5, "high": 0.5},
        "word": {"analyzer": "word", "ngram_range": [1, 2], "terms": [], "idf": [], "offset": 0},
        "char": {
            "analyzer": "char_wb",
            "ngram_range": [2, 5],
            "terms": [],
            "idf": [],
            "offset": 0,
        },
        "any": {"coef": [], "intercept": -20.0 if level == "none" else 20.0},
        "high": {"coef": [], "intercept": 20.0 if level == "high" else -20.0},
    }
    return crisis_model.parse(raw)


@pytest.fixture
def eager_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace the packaged model with one that calls everything high risk."""
    monkeypatch.setattr(crisis_model, "model", lambda language="en": always("high"))


@pytest.mark.usefixtures("eager_model")
@pytest.mark.parametrize(
    "text",
    [
        "I'm not going to kill myself",  # negated
        "I would never hurt myself",
        "denies SI/HI",
        "pt took 30 tabs of APAP, on NAC",  # clinical
        "the patient overdosed on tylenol, we started NAC",
        "ibuprofen 800 mg q8h",
        "lol i want to die after that exam",  # joking
    ],
)
def test_what_the_lexicon_cleared_stays_clear_whatever_the_model_says(text: str) -> None:
    assert assess_text(text).level is RiskLevel.NONE


@pytest.mark.usefixtures("eager_model")
def test_the_model_speaks_only_where_the_lexicon_found_nothing() -> None:
    unknown = assess_text("I've sorted out who gets my cat")
    assert unknown.level is RiskLevel.HIGH
    assert unknown.trigger == "learned_high"
    known = assess_text("💊💊💊")  # the lexicon reads this as possible: its reading stands
    assert known.level is RiskLevel.POSSIBLE
    assert known.trigger != "learned_high"
    assert assess_text("", use_model=False).level is RiskLevel.NONE


def test_the_model_thresholds_come_from_the_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crisis_model, "model", lambda language="en": always("any"))
    assert assess_text("my shift was fine").level is RiskLevel.POSSIBLE
    high_only = always("high")
    high_only = replace(high_only, any_risk=replace(high_only.any_risk, intercept=-20.0))
    monkeypatch.setattr(crisis_model, "model", lambda language="en": high_only)
    assert assess_text("my shift was fine").level is RiskLevel.NONE  # high needs any-risk too
    monkeypatch.setattr(crisis_model, "model", lambda language="en": always("none"))
    assert assess_text("my shift was fine").level is RiskLevel.NONE
    assert crisis.assess_text("my shift was fine", use_model=False).level is RiskLevel.NONE


def test_on_the_labelled_sets_what_the_model_adds_is_mostly_right() -> None:
    """Where the model raised a text the lexicon left alone, the text was usually at risk (the
    model was trained on these sets, so this checks the wiring and the stored weights)."""
    added = right = 0
    for path in training_sets():
        for text, label, _ in load(path):
            lexicon_only = assess_text(text, use_model=False).level
            if lexicon_only is RiskLevel.NONE and assess_text(text).level is not RiskLevel.NONE:
                added += 1
                right += label is not RiskLevel.NONE
    assert added >= 20
    assert right / added >= 0.9


STORY = (
    "Rounds ran late again and the attending quizzed us on heart failure for an hour. The "
    "cafeteria was closed so I ate crackers from the nurses station. My co-intern covered my "
    "pages while I finished the discharge summaries. "
)
WISH = "I wish I could go to sleep and not wake up."  # the lexicon reads POSSIBLE
PLAN = "I have saved up my pills and I am taking them all tonight."  # the lexicon reads HIGH


class Reads:
    """An encoder that sees risk only in `marker`, and like the real one reads only the first
    `limit` words of a text."""

    def __init__(self, marker: str, limit: int = 1000) -> None:
        self.marker, self.limit = marker, limit

    def probabilities(self, text: str) -> tuple[float, float, float]:
        seen = " ".join(text.split()[: self.limit])
        return (0.0, 0.0, 1.0) if self.marker in seen else (1.0, 0.0, 0.0)


def tempering(encoder: crisis_model.ThreeWay) -> crisis_model.Model:
    """Regressions that find no risk, this encoder, and long-message settings (a bar of 0.4: with
    regressions that find nothing, the averaged reading peaks at 0.5)."""
    return replace(always("none"), encoder=encoder, long_words=30, overrule_below=0.4)


def test_in_a_long_message_the_model_tempers_a_lexicon_reading_it_finds_no_risk_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(crisis_model, "model", lambda language="en": tempering(Reads("zzz")))
    assert assess_text(STORY + WISH).level is RiskLevel.NONE  # POSSIBLE set aside
    tempered = assess_text(STORY + PLAN)
    assert tempered.level is RiskLevel.POSSIBLE  # HIGH becomes POSSIBLE: resources, no page
    assert tempered.trigger == assess_text(STORY + PLAN, use_model=False).trigger
    # Short messages keep the lexicon's reading whatever the model says.
    assert assess_text(WISH).level is RiskLevel.POSSIBLE
    assert assess_text(PLAN).level is RiskLevel.HIGH


def test_the_model_tempers_nothing_when_it_sees_risk_anywhere_in_the_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = tempering(Reads("pills", limit=30))  # sees only the first 30 words of a text
    monkeypatch.setattr(crisis_model, "model", lambda language="en": model)
    long_story = STORY * 3 + PLAN  # the plan comes after word 100
    assert model.scores(model_text(long_story))[0] < 0.4  # the whole text, truncated: no risk
    assert model.any_risk_anywhere(model_text(long_story)) >= 0.4  # a window at the end: risk
    assert assess_text(long_story).level is RiskLevel.HIGH
    monkeypatch.setattr(crisis_model, "model", lambda language="en": always("high"))
    assert assess_text(STORY + PLAN).level is RiskLevel.HIGH  # no long-message settings: as read


class ReadsAlone(Reads):
    """An encoder that sees risk in `marker` only in a text of at most `limit` words: a sentence
    read alone, never the message or a window around it."""

    def probabilities(self, text: str) -> tuple[float, float, float]:
        alone = self.marker in text and len(text.split()) <= self.limit
        return (0.0, 0.0, 1.0) if alone else (1.0, 0.0, 0.0)


def test_a_sentence_read_alone_must_reach_its_own_bar_to_stop_the_tempering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The wish sentence alone reads 0.5 (regressions 0, encoder 1): above the message bar of 0.4,
    so by default it stops the tempering; with a sentence bar of 0.6 it no longer does."""
    model = tempering(ReadsAlone("wake", limit=12))
    monkeypatch.setattr(crisis_model, "model", lambda language="en": model)
    prepared = model_text(STORY + WISH)
    assert model.any_risk_anywhere(prepared) < 0.4  # the message and its windows: no risk
    assert model.sees_risk_in(prepared, [model_text(WISH)])  # the sentence at the same bar: risk
    assert assess_text(STORY + WISH).level is RiskLevel.POSSIBLE  # so the lexicon's reading holds
    stricter = replace(model, overrule_sentences_below=0.6)
    monkeypatch.setattr(crisis_model, "model", lambda language="en": stricter)
    assert not stricter.sees_risk_in(prepared, [model_text(WISH)])
    assert assess_text(STORY + WISH).level is RiskLevel.NONE  # tempered
    assert assess_text(WISH).level is RiskLevel.POSSIBLE  # short: the lexicon's reading holds


@pytest.mark.parametrize(
    "risk",
    [
        "I'm going to kill myself tonight.",
        "tonight i end it.",
        "I wrote the notes for my family and I know which bridge.",
    ],
)
@pytest.mark.parametrize("where", ["end", "start"])
def test_one_risky_sentence_in_a_long_ordinary_message_keeps_its_high_reading(
    risk: str, where: str
) -> None:
    """The shipped model, reading the whole message, finds little risk in it; read alone, the
    sentence the lexicon flagged is plainly risky, so nothing is tempered."""
    text = STORY + risk if where == "end" else f"{risk} {STORY}"
    assert assess_text(text, use_model=False).level is RiskLevel.HIGH
    assert assess_text(text).level is RiskLevel.HIGH


def test_a_failing_model_leaves_the_lexicon_reading_standing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(language: str = "en") -> crisis_model.Model:
        raise RuntimeError("onnxruntime could not load the encoder")

    monkeypatch.setattr(crisis_model, "model", broken)
    assert assess_text(STORY + PLAN).level is RiskLevel.HIGH
    assert assess_text(WISH).level is RiskLevel.POSSIBLE
    assert assess_text(PLAN).level is RiskLevel.HIGH
    assert assess_text("my shift was long and the coffee was cold").level is RiskLevel.NONE


def test_windows_of_any_size_are_read_without_error() -> None:
    for size in (0, 1, 2, 7, 50):
        model = replace(always("high"), window_words=size)
        assert model.any_risk_anywhere("one two three " * 40) > 0.99
        assert model.any_risk_anywhere("   ") == 0.0  # nothing to read: no risk found


def confident(none: float, high: float, **settings: Any) -> crisis_model.Model:
    """Regressions sure of high risk, averaged with an encoder reading (none, 0, high): any risk
    is 1 - none / 2 and high risk (1 + high) / 2; with these threshold settings."""
    return replace(always("high"), encoder=Fixed(none, 1.0 - none - high, high), **settings)


def test_in_a_long_message_the_model_needs_its_higher_bar_to_speak_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Any risk 0.75: above the model's usual bar (0.5 here), below its bar for long messages."""
    assert assess_text(STORY, use_model=False).level is RiskLevel.NONE  # no rule fires
    assert len(model_text(STORY).split()) > 30
    short = "my shift was long and the coffee was cold"
    unsure = confident(0.5, 0.5, long_words=30, any_when_long=0.8)
    monkeypatch.setattr(crisis_model, "model", lambda language="en": unsure)
    assert assess_text(STORY).level is RiskLevel.NONE
    assert assess_text(short).level is not RiskLevel.NONE  # short: the usual bar
    sure = confident(0.2, 0.5, long_words=30, any_when_long=0.8)  # any risk 0.9
    monkeypatch.setattr(crisis_model, "model", lambda language="en": sure)
    assert assess_text(STORY).level is not RiskLevel.NONE
    no_bar = confident(0.5, 0.5, long_words=30)
    monkeypatch.setattr(crisis_model, "model", lambda language="en": no_bar)
    assert assess_text(STORY).level is not RiskLevel.NONE


@pytest.mark.parametrize("text", ["I'm not going to kill myself", "denies SI/HI"])
def test_where_a_rule_cleared_the_text_the_model_needs_its_higher_bar(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    assert assess_text(text, use_model=False).level is RiskLevel.NONE
    unsure = confident(0.3, 0.7, any_when_cleared=0.9)  # any risk 0.85: above "any", below the bar
    monkeypatch.setattr(crisis_model, "model", lambda language="en": unsure)
    assert assess_text(text).level is RiskLevel.NONE
    nothing_cleared = "I've sorted out who gets my cat"
    assert assess_text(nothing_cleared).level is RiskLevel.HIGH
    sure = confident(0.0, 1.0, any_when_cleared=0.9)  # any risk 1.0
    monkeypatch.setattr(crisis_model, "model", lambda language="en": sure)
    assert assess_text(text).trigger == "learned_high"
    no_bar = confident(0.0, 1.0)  # no bar in the data: what a rule cleared stays clear
    monkeypatch.setattr(crisis_model, "model", lambda language="en": no_bar)
    assert assess_text(text).level is RiskLevel.NONE


@pytest.mark.parametrize(
    "text",
    [
        "I'm not going to kill myself",
        "I would never hurt myself",
        "denies SI/HI",
        "no thoughts of hurting herself, sleeping better since the rota changed",
        "I'm not suicidal, just exhausted after nights",
        "pt took 30 tabs of APAP, on NAC",
        "the patient overdosed on tylenol, we started NAC",
    ],
)
def test_the_shipped_model_leaves_plain_denials_and_clinical_talk_clear(text: str) -> None:
    assert assess_text(text).level is RiskLevel.NONE


def test_the_model_confirms_high_where_the_lexicon_read_possible(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert assess_text(WISH, use_model=False).level is RiskLevel.POSSIBLE
    sure = confident(0.0, 1.0, upgrade_high=0.8)  # high risk 1.0
    monkeypatch.setattr(crisis_model, "model", lambda language="en": sure)
    confirmed = assess_text(WISH)
    assert confirmed.level is RiskLevel.HIGH
    assert confirmed.trigger == "learned_confirms_high"
    assert any(m.level is RiskLevel.POSSIBLE for m in confirmed.matches)  # the rule still shows
    unsure = confident(0.0, 0.5, upgrade_high=0.8)  # high risk 0.75
    monkeypatch.setattr(crisis_model, "model", lambda language="en": unsure)
    assert assess_text(WISH).level is RiskLevel.POSSIBLE
    no_setting = confident(0.0, 1.0)
    monkeypatch.setattr(crisis_model, "model", lambda language="en": no_setting)
    assert assess_text(WISH).level is RiskLevel.POSSIBLE


def test_the_shipped_model_confirms_high_and_clears_its_higher_bar_where_sure() -> None:
    """The README's examples, read by the shipped model."""
    confirmed = assess_text("gonna sewerslide fr this time, got the pills n everything")
    assert confirmed.level is RiskLevel.HIGH
    assert confirmed.trigger == "learned_confirms_high"
    denied_but_risky = "Peer states would not mind if i got hit by a bus, denies plan/intent"
    assert assess_text(denied_but_risky, use_model=False).level is RiskLevel.NONE
    assert assess_text(denied_but_risky).trigger == "learned_any"

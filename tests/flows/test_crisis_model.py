"""The learned half of the crisis detector: the stored model scores as scikit-learn did when it
was trained, and it only ever speaks where the lexicon found nothing and cleared nothing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from flows import crisis, crisis_model
from flows.crisis import RiskLevel, assess_text, model_text
from tests.auxil.crisis_eval import DATA, load


def test_the_stored_model_reproduces_the_probabilities_it_was_trained_with() -> None:
    found = crisis_model.model("en")
    assert found is not None
    assert len(found.checks) >= 50
    for text, p_any, p_high in found.checks:
        got_any, got_high = found.scores(model_text(text))
        assert got_any == pytest.approx(p_any, abs=1e-4), text
        assert got_high == pytest.approx(p_high, abs=1e-4), text


def test_the_shipped_model_never_pages_coordinators_on_its_own() -> None:
    found = crisis_model.model("en")
    assert found is not None
    assert found.threshold_high is None
    assert assess_text("I'm going to the gym after my shift tonight").level is not RiskLevel.HIGH


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
    for path in sorted(DATA.glob("crisis_en*.tsv")):
        for text, label, _ in load(path):
            lexicon_only = assess_text(text, use_model=False).level
            if lexicon_only is RiskLevel.NONE and assess_text(text).level is not RiskLevel.NONE:
                added += 1
                right += label is not RiskLevel.NONE
    assert added >= 20
    assert right / added >= 0.9

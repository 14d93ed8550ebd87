"""Trains the learned half of the crisis detector on the labelled sets and writes it as data.

Run (needs the `train` extra: `.venv/bin/pip install -e '.[train]'`):
    .venv/bin/python -m tests.auxil.train_crisis_model [--report [extra.tsv ...]]

Model: TF-IDF over word 1-2-grams and character 2-5-grams (within words) of the text as the
lexicon normalises it (emoji named, slang expanded, idioms removed), and two logistic regressions
— any risk, and high risk — with balanced class weights. scikit-learn trains; the result is
written to flows/content/en/crisis_model.json (vocabularies, idf weights, coefficients, thresholds
and a few reference probabilities), which flows/crisis_model.py scores in pure Python.

`--report` first measures leave-one-set-out: train on all sets but one, score the one left out
(the lexicon, having been tuned on every set, is not blind there; the model is); sets named on
the command line are scored by a model trained on every set, never trained on.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from unittest.mock import patch

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from flows import crisis_model
from flows.crisis import RiskLevel, model_text
from tests.auxil.crisis_eval import load, measure, training_sets

OUT = Path(__file__).resolve().parents[2] / "flows" / "content" / "en" / "crisis_model.json"
# Thresholds on the average of these regressions and the fine-tuned encoder
# (train_crisis_encoder.py). `any` and `high`: where no rule fired, POSSIBLE at any risk >= `any`,
# HIGH when high risk >= `high` too (first chosen on sets 10-13, which neither half had seen: HIGH
# recall 0.87 where the lexicon alone had 0.61; `any` 0.8 -> 0.75 on sets 34-35, recall 0.955 ->
# 0.977 with no new false positive; after the retrain with sets 34-35, 41-42 and the risky
# look-alikes, `any` 0.75 -> 0.7 and `high` 0.6 -> 0.5 on sets 45-48, which it had not seen:
# recall 0.954 -> 0.962, HIGH 0.935 -> 0.951, false positives 0.080 -> 0.085, pages 20 -> 21).
# `any_when_cleared`: the bar where a rule cleared part of the text; `upgrade_high`: high risk at
# which a lexicon POSSIBLE becomes HIGH (both chosen on sets 28-33 before training on them: HIGH
# recall 0.849 -> 0.894, no new false positive). `any_when_long`: the bar where no rule fired in a
# message of more than `long_words` words (0.8 on the seven long sets, none trained on: false
# positives 0.152 -> 0.137, pages 61 -> 54; the one risky message it lost is now a rule).
# In messages of more than `long_words` words the pair may temper the lexicon: if any risk stays
# below `overrule_below` over the whole message, every window of `window_words` and every
# sentence read alone, a lexicon POSSIBLE is set aside and a HIGH becomes POSSIBLE (0.4 chosen on
# long messages of sets 18, 20-25: no risky message lost in 408; 0.6 on the five long sets never
# trained on: false positives 0.155 -> 0.142, no risky message lost). A sentence read alone must
# reach `overrule_sentences_below` to count (0.8, on those five sets and set 43: false positives
# 0.141 -> 0.129, pages 49 -> 40, no risky message lost).
THRESHOLDS: dict[str, float | None] = {
    "any": 0.7,
    "high": 0.5,
    "min_words": 4,
    "long_words": 30,
    "overrule_below": 0.6,
    "overrule_sentences_below": 0.8,
    "window_words": 50,
    "upgrade_high": 0.8,
    "any_when_cleared": 0.9,
    "any_when_long": 0.8,
}
# The regressions on their own (the leave-one-set-out report scores them without the encoder).
LINEAR_THRESHOLDS: dict[str, float | None] = {"any": 0.7, "high": None, "min_words": 4}
WORD = {"analyzer": "word", "ngram_range": (1, 2), "min_df": 2, "sublinear_tf": False}
CHAR = {"analyzer": "char_wb", "ngram_range": (2, 5), "min_df": 2, "sublinear_tf": False}
DIGITS = 6
LINEAR = {"thresholds": LINEAR_THRESHOLDS, "encoder": False}


def _rows(paths: list[Path]) -> list[tuple[str, RiskLevel, str]]:
    return [row for path in paths for row in load(path)]


def fit(rows: list[tuple[str, RiskLevel, str]]) -> tuple[Any, Any, Any]:
    """The feature union and the two regressions, trained on these rows."""
    texts = [model_text(text) for text, _, _ in rows]
    features = FeatureUnion([("word", TfidfVectorizer(**WORD)), ("char", TfidfVectorizer(**CHAR))])
    matrix = features.fit_transform(texts)
    any_risk = [label is not RiskLevel.NONE for _, label, _ in rows]
    high = [label is RiskLevel.HIGH for _, label, _ in rows]
    models = []
    for target in (any_risk, high):
        model = LogisticRegression(class_weight="balanced", max_iter=2000)
        model.fit(matrix, target)
        models.append(model)
    return features, models[0], models[1]


def _round(value: float) -> float:
    return float(f"{value:.{DIGITS}g}")


def export(features: Any, any_model: Any, high_model: Any, checks: list[str]) -> dict[str, Any]:
    """The model as plain data: per vectorizer its terms and idf, then both regressions."""
    data: dict[str, Any] = {"version": 1, "thresholds": THRESHOLDS, "encoder": True}
    offset = 0
    for name, vectorizer in features.transformer_list:
        terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
        data[name] = {
            "analyzer": vectorizer.analyzer,
            "ngram_range": list(vectorizer.ngram_range),
            "terms": terms,
            "idf": [_round(v) for v in vectorizer.idf_],
            "offset": offset,
        }
        offset += len(terms)
    for name, model in (("any", any_model), ("high", high_model)):
        data[name] = {
            "coef": [_round(v) for v in model.coef_[0]],
            "intercept": _round(float(model.intercept_[0])),
        }
    data["checks"] = []
    if checks:
        matrix = features.transform([model_text(t) for t in checks])
        p_any = any_model.predict_proba(matrix)[:, 1]
        p_high = high_model.predict_proba(matrix)[:, 1]
        data["checks"] = [
            [text, round(float(a), 6), round(float(h), 6)]
            for text, a, h in zip(checks, p_any, p_high, strict=True)
        ]
    return data


def report(paths: list[Path], extra: list[Path]) -> None:
    """Leave one set out: train on the others, then run the detector as the bot does (lexicon,
    then the model where the lexicon is silent) on the set left out. `extra` sets are only ever
    scored, never trained on."""
    print(f"{'scored set':32} {'system':8} {'any':>6} {'high':>6} {'FP':>6}")
    folds = [(held, [p for p in paths if p != held]) for held in paths]
    folds += [(held, paths) for held in extra]
    for held, training in folds:
        stored = crisis_model.parse(export(*fit(_rows(training)), []) | LINEAR)
        with patch.object(crisis_model, "model", lambda language="en", m=stored: m):
            for use_model in (False, True):
                figures = measure(load(held), use_model=use_model)
                print(
                    f"{held.name:32} {'both' if use_model else 'lexicon':8}"
                    f" {figures.recall_any:6.3f} {figures.recall_high:6.3f}"
                    f" {figures.false_positive_rate:6.3f}"
                )


def main(argv: list[str]) -> None:
    """Train on the training sets, write the model; optionally report first."""
    paths = training_sets()
    if "--report" in argv:
        report(paths, [Path(a) for a in argv if a.endswith(".tsv")])
    rows = _rows(paths)
    features, any_model, high_model = fit(rows)
    checks = [text for text, _, _ in rows[::25]]
    OUT.write_text(json.dumps(export(features, any_model, high_model, checks)), encoding="utf-8")
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB) from {len(rows)} labelled texts")


if __name__ == "__main__":
    main(sys.argv[1:])

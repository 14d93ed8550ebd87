"""The learned half of the crisis detector: a linear model over word and character n-grams,
stored as data (flows/content/<language>/crisis_model.json, written by
tests/auxil/train_crisis_model.py) and scored here in plain Python — the same arithmetic as
scikit-learn's TfidfVectorizer (l2-normalised tf-idf) and LogisticRegression, without it."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_SPACES = re.compile(r"\s\s+")


@dataclass(frozen=True)
class Vectorizer:
    """One tf-idf block: how it cuts text into n-grams, its terms and their idf."""

    analyzer: str
    low: int
    high: int
    index: dict[str, int]
    idf: tuple[float, ...]
    offset: int

    def grams(self, text: str) -> list[str]:
        """The n-grams of an already lower-cased text."""
        if self.analyzer == "word":
            tokens = _TOKEN.findall(text)
            return [
                " ".join(tokens[i : i + n])
                for n in range(self.low, self.high + 1)
                for i in range(len(tokens) - n + 1)
            ]
        grams = []
        for word in _SPACES.sub(" ", text).split():
            padded = f" {word} "
            for n in range(self.low, self.high + 1):
                offset = 0
                grams.append(padded[offset : offset + n])
                while offset + n < len(padded):
                    offset += 1
                    grams.append(padded[offset : offset + n])
                if offset == 0:  # a word shorter than n counts once
                    break
        return grams

    def features(self, text: str) -> dict[int, float]:
        """Column → l2-normalised tf-idf weight, for the terms of this block found in `text`."""
        counts = Counter(self.index[g] for g in self.grams(text) if g in self.index)
        weights = {column: count * self.idf[column] for column, count in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        if norm == 0:
            return {}
        return {self.offset + column: w / norm for column, w in weights.items()}


@dataclass(frozen=True)
class Linear:
    """A logistic regression: one weight per column and an intercept."""

    coef: tuple[float, ...]
    intercept: float

    def probability(self, features: dict[int, float]) -> float:
        """The model's probability for these features."""
        z = self.intercept + sum(self.coef[c] * w for c, w in features.items())
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


@dataclass(frozen=True)
class Model:
    """Both blocks, both regressions (any risk, high risk) and their thresholds."""

    blocks: tuple[Vectorizer, ...]
    any_risk: Linear
    high: Linear
    threshold_any: float
    threshold_high: float | None  # None: the model never calls HIGH on its own
    min_words: int
    checks: tuple[tuple[str, float, float], ...]

    def scores(self, text: str) -> tuple[float, float]:
        """(probability of any risk, probability of high risk) for a model-ready text."""
        lowered = text.lower()
        features: dict[int, float] = {}
        for block in self.blocks:
            features.update(block.features(lowered))
        return self.any_risk.probability(features), self.high.probability(features)


def _block(raw: dict[str, Any]) -> Vectorizer:
    low, high = raw["ngram_range"]
    return Vectorizer(
        analyzer=raw["analyzer"],
        low=int(low),
        high=int(high),
        index={term: i for i, term in enumerate(raw["terms"])},
        idf=tuple(float(v) for v in raw["idf"]),
        offset=int(raw["offset"]),
    )


def parse(raw: dict[str, Any]) -> Model:
    """A model from its stored form."""
    return Model(
        blocks=(_block(raw["word"]), _block(raw["char"])),
        any_risk=Linear(
            tuple(float(v) for v in raw["any"]["coef"]), float(raw["any"]["intercept"])
        ),
        high=Linear(tuple(float(v) for v in raw["high"]["coef"]), float(raw["high"]["intercept"])),
        threshold_any=float(raw["thresholds"]["any"]),
        threshold_high=None
        if raw["thresholds"].get("high") is None
        else float(raw["thresholds"]["high"]),
        min_words=int(raw["thresholds"].get("min_words", 0)),
        checks=tuple((str(t), float(a), float(h)) for t, a, h in raw.get("checks", ())),
    )


@lru_cache(maxsize=4)
def model(language: str = "en") -> Model | None:
    """The packaged model for a language, read once; None when the language has none."""
    source = resources.files("flows") / "content" / language / "crisis_model.json"
    if not source.is_file():
        return None
    return parse(json.loads(source.read_text(encoding="utf-8")))

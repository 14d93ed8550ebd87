"""The learned half of the crisis detector, stored as data in flows/content/<language>/:
- a linear model over word and character n-grams (crisis_model.json, written by
  tests/auxil/train_crisis_model.py), scored here in plain Python — the same arithmetic as
  scikit-learn's TfidfVectorizer (l2-normalised tf-idf) and LogisticRegression, without it;
- where the data names one, a fine-tuned sentence encoder (crisis_encoder.*, written by
  tests/auxil/train_crisis_encoder.py), scored with onnxruntime.
The two are averaged: the encoder reads new wording better, the n-grams keep it honest."""

from __future__ import annotations

import json
import math
import re
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Protocol

import numpy as np
import onnxruntime
from tokenizers import Tokenizer

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_SPACES = re.compile(r"\s\s+")


@dataclass(frozen=True)
class Vectorizer:
    """One tf-idf block: how it cuts text into n-grams, its terms and their idf."""

    analyzer: str
    low: int
    high: int
    index: dict[str, int]
    idf: Sequence[float]  # array('d'): 8 bytes a weight, not a float object
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

    coef: Sequence[float]
    intercept: float

    def probability(self, features: dict[int, float]) -> float:
        """The model's probability for these features."""
        z = self.intercept + sum(self.coef[c] * w for c, w in features.items())
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


class ThreeWay(Protocol):
    """Anything that reads a model-ready text as (none, possible, high) probabilities."""

    def probabilities(self, text: str) -> tuple[float, float, float]: ...


@dataclass(frozen=True)
class Encoder:
    """A fine-tuned sentence encoder with a three-way head (none, possible, high), in ONNX."""

    session: onnxruntime.InferenceSession
    tokenizer: Tokenizer
    checks: tuple[tuple[str, float, float, float], ...]

    def probabilities(self, text: str) -> tuple[float, float, float]:
        """(none, possible, high) for a model-ready text."""
        encoded = self.tokenizer.encode(text)
        feed = {
            "input_ids": np.array([encoded.ids], dtype=np.int64),
            "attention_mask": np.array([encoded.attention_mask], dtype=np.int64),
        }
        none, possible, high = self.session.run(None, feed)[0][0]
        return float(none), float(possible), float(high)


def load_encoder(folder: Traversable) -> Encoder:
    """The encoder stored in a folder (crisis_encoder.onnx, its tokenizer and its metadata)."""
    meta = json.loads((folder / "crisis_encoder.json").read_text(encoding="utf-8"))
    if meta["labels"] != ["none", "possible", "high"]:
        raise ValueError(f"unexpected encoder labels {meta['labels']}")
    tokenizer = Tokenizer.from_str((folder / "crisis_encoder_tokenizer.json").read_text("utf-8"))
    tokenizer.enable_truncation(int(meta["max_length"]))
    tokenizer.no_padding()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # one message at a time; the bot's other work goes on
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = False  # single short inputs: an arena only holds memory
    with resources.as_file(folder / "crisis_encoder.onnx") as path:  # a path: no copy in memory
        session = onnxruntime.InferenceSession(str(path), options, ["CPUExecutionProvider"])
    checks = tuple((str(t), float(n), float(p), float(h)) for t, n, p, h in meta["checks"])
    return Encoder(session, tokenizer, checks)


@dataclass(frozen=True)
class Model:
    """Both blocks, both regressions (any risk, high risk), the encoder if any, and thresholds."""

    blocks: tuple[Vectorizer, ...]
    any_risk: Linear
    high: Linear
    threshold_any: float
    threshold_high: float | None  # None: the model never calls HIGH on its own
    min_words: int
    checks: tuple[tuple[str, float, float], ...]
    encoder: ThreeWay | None = None
    long_words: int | None = None  # longer messages: the model may temper the lexicon
    overrule_below: float | None = None  # … when any risk is below this in every window
    overrule_sentences_below: float | None = None  # … and below this in every sentence alone
    window_words: int = 50
    upgrade_high: float | None = None  # a lexicon POSSIBLE becomes HIGH when p_high reaches this
    any_when_cleared: float | None = None  # the bar for any risk when a rule cleared the text
    any_when_long: float | None = None  # the bar for any risk in a message over `long_words`

    def bar_for_any(self, *, cleared: bool, long: bool = False) -> float:
        """The probability of any risk the model needs before it speaks where the lexicon is
        silent: higher where a rule cleared part of the text as negated, joking or clinical
        (never, when the data sets no such bar), and in a long message (`any_when_long`: a long
        sad or busy story reads riskier to it than it is)."""
        bar = self.threshold_any
        if long and self.any_when_long is not None:
            bar = max(bar, self.any_when_long)
        if not cleared:
            return bar
        if self.any_when_cleared is None:
            return math.inf
        return max(bar, self.any_when_cleared)

    def sees_risk_in(self, text: str, sentences: Sequence[str]) -> bool:
        """Whether a long message holds risk anywhere: the whole text or any window at
        `overrule_below`, or any sentence read alone at `overrule_sentences_below` (a sentence
        taken out of its story reads riskier than it is, so it may need more; `overrule_below`
        when unset). Without `overrule_below` the model tempers nothing: it always sees risk."""
        if self.overrule_below is None:
            return True
        if self.any_risk_anywhere(text) >= self.overrule_below:
            return True
        bar = self.overrule_sentences_below
        bar = self.overrule_below if bar is None else bar
        return any(self.scores(s)[0] >= bar for s in dict.fromkeys(sentences) if s.strip())

    def any_risk_anywhere(self, text: str) -> float:
        """The highest probability of any risk over the whole text and over overlapping windows
        of `window_words` words (the encoder reads only its first ~96 tokens, so windows make it
        see the end of a long message). Sentences read alone are `sees_risk_in`'s."""
        words = text.split()
        size = max(2, self.window_words)
        step = size // 2
        windows = [" ".join(words[i : i + size]) for i in range(0, len(words) - step, step)]
        pieces = dict.fromkeys(p for p in [text, *windows] if p.strip())
        return max((self.scores(piece)[0] for piece in pieces), default=0.0)

    def linear_scores(self, text: str) -> tuple[float, float]:
        """The n-gram regressions' (any risk, high risk) for a model-ready text."""
        lowered = text.lower()
        features: dict[int, float] = {}
        for block in self.blocks:
            features.update(block.features(lowered))
        return self.any_risk.probability(features), self.high.probability(features)

    def scores(self, text: str) -> tuple[float, float]:
        """(probability of any risk, probability of high risk) for a model-ready text: the
        regressions', averaged with the encoder's when there is one."""
        p_any, p_high = self.linear_scores(text)
        if self.encoder is None:
            return p_any, p_high
        none, _, high = self.encoder.probabilities(text)
        return (p_any + 1.0 - none) / 2, (min(p_any, p_high) + high) / 2


def _block(raw: dict[str, Any]) -> Vectorizer:
    low, high = raw["ngram_range"]
    return Vectorizer(
        analyzer=raw["analyzer"],
        low=int(low),
        high=int(high),
        index={term: i for i, term in enumerate(raw["terms"])},
        idf=array("d", raw["idf"]),
        offset=int(raw["offset"]),
    )


def _optional(thresholds: dict[str, Any], key: str) -> float | None:
    value = thresholds.get(key)
    return None if value is None else float(value)


def parse(raw: dict[str, Any], encoder: ThreeWay | None = None) -> Model:
    """A model from its stored form (and the encoder it names, loaded by the caller)."""
    thresholds = raw["thresholds"]
    long_words = _optional(thresholds, "long_words")
    return Model(
        blocks=(_block(raw["word"]), _block(raw["char"])),
        any_risk=Linear(array("d", raw["any"]["coef"]), float(raw["any"]["intercept"])),
        high=Linear(array("d", raw["high"]["coef"]), float(raw["high"]["intercept"])),
        threshold_any=float(thresholds["any"]),
        threshold_high=_optional(thresholds, "high"),
        min_words=int(thresholds.get("min_words", 0)),
        checks=tuple((str(t), float(a), float(h)) for t, a, h in raw.get("checks", ())),
        encoder=encoder,
        long_words=None if long_words is None else int(long_words),
        overrule_below=_optional(thresholds, "overrule_below"),
        overrule_sentences_below=_optional(thresholds, "overrule_sentences_below"),
        window_words=int(thresholds.get("window_words", 50)),
        upgrade_high=_optional(thresholds, "upgrade_high"),
        any_when_cleared=_optional(thresholds, "any_when_cleared"),
        any_when_long=_optional(thresholds, "any_when_long"),
    )


@lru_cache(maxsize=4)
def model(language: str = "en") -> Model | None:
    """The packaged model for a language, read once; None when the language has none."""
    folder = resources.files("flows") / "content" / language
    source = folder / "crisis_model.json"
    if not source.is_file():
        return None
    raw = json.loads(source.read_text(encoding="utf-8"))
    return parse(raw, load_encoder(folder) if raw.get("encoder") else None)

"""Free-text crisis detection: a small engine over per-language lexicons in flows/content.

The lexicon (patterns, cues, idioms, typo and emoji maps) is data; this module only normalises the
text, splits it into clauses, removes idioms, and applies each rule with its negation and context
checks. Text is assessed in memory and never kept.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from flows import crisis_model

MAX_CHARS = 4000


class RiskLevel(StrEnum):
    """How much a text suggests the writer or their peer is at risk."""

    NONE = "none"
    POSSIBLE = "possible"
    HIGH = "high"


_ORDER = {RiskLevel.NONE: 0, RiskLevel.POSSIBLE: 1, RiskLevel.HIGH: 2}


@dataclass(frozen=True)
class Match:
    """One rule that fired: its id, category and level, and the fragment it matched."""

    rule: str
    category: str
    level: RiskLevel
    fragment: str


@dataclass(frozen=True)
class TextSignal:
    """The overall level of a text and the matches that explain it (strongest first)."""

    level: RiskLevel
    matches: tuple[Match, ...] = ()

    @property
    def trigger(self) -> str | None:
        """The rule id that decided the level, for alerts (never the text)."""
        return self.matches[0].rule if self.matches else None


@dataclass(frozen=True)
class Rule:
    """A compiled lexicon rule."""

    id: str
    category: str
    level: RiskLevel
    pattern: re.Pattern[str]
    needs: tuple[str, ...]
    clinical_ok: bool
    negatable: bool
    person: bool
    sentence: bool
    unless: tuple[str, ...]
    playful: bool
    firm: bool = False  # keeps its level when the model tempers a long message


@dataclass(frozen=True)
class Lexicon:
    """Everything the engine needs for one language."""

    rules: tuple[Rule, ...]
    cues: dict[str, re.Pattern[str]]
    idioms: tuple[re.Pattern[str], ...]
    replacements: tuple[tuple[re.Pattern[str], str], ...]
    emoji: dict[str, str]
    negators: re.Pattern[str]
    pseudo_negations: re.Pattern[str]
    post_negation: re.Pattern[str]
    clause_breaks: re.Pattern[str]
    sentence_breaks: re.Pattern[str]
    shorthand: tuple[tuple[re.Pattern[str], str], ...]
    keywords: tuple[str, ...]
    negation_window: int
    negated_list: re.Pattern[str] | None
    screens: tuple[Screen, ...]
    screen_of_patient: re.Pattern[str] | None
    stories: Stories | None
    # rules and screens that keep their level when the model tempers a long message
    firm: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Stories:
    """What the engine needs to read a long message as a story (see `_story_reading`)."""

    min_words: int
    clinical_frame: re.Pattern[str]
    peer_referent: re.Pattern[str]
    patient_referent: re.Pattern[str]
    peer_named: re.Pattern[str]
    own_role: re.Pattern[str]
    subject_noun: re.Pattern[str]
    self_too: re.Pattern[str]
    first_subject: re.Pattern[str]
    third_subject: re.Pattern[str]
    past_time: re.Pattern[str]
    past_tense: re.Pattern[str]
    present_tense: re.Pattern[str]
    recovered: re.Pattern[str]
    present_again: re.Pattern[str]
    teaching_list: re.Pattern[str]


@dataclass(frozen=True)
class Screen:
    """A screening tool whose items a note may answer one by one ("ASQ q1-2 yes, acuity neg"):
    its name, the level of each item answered yes, how many items "all" covers, and whether it
    counts only where the sentence speaks of the writer or their peer (a screen supporters rarely
    run on a peer, but clinicians run on patients every day: "my PHQ-9 q9 was positive")."""

    id: str
    name: re.Pattern[str]
    items: dict[str, RiskLevel]
    all: int
    answer: re.Pattern[str]
    yes: re.Pattern[str]
    every: re.Pattern[str]
    about_writer_only: bool = False


def _alternation(items: list[str]) -> str:
    bad = [item for item in items if not isinstance(item, str)]
    if bad:
        raise ValueError(f"lexicon entries must be text (quote yes/no/on/off in YAML): {bad}")
    return "|".join(f"(?:{item})" for item in items)


def _compile(raw: dict[str, Any]) -> Lexicon:
    cues = {name: re.compile(_alternation(patterns)) for name, patterns in raw["cues"].items()}
    rules = []
    for item in raw["rules"]:
        rules.append(
            Rule(
                id=item["id"],
                category=item["category"],
                level=RiskLevel(item["level"]),
                pattern=re.compile(_alternation(item["patterns"])),
                needs=tuple(item.get("needs", ())),
                clinical_ok=bool(item.get("clinical_ok", False)),
                negatable=bool(item.get("negatable", True)),
                person=bool(item.get("person", False)),
                sentence=item.get("scope", "clause") == "sentence",
                unless=tuple(item.get("unless", ())),
                playful=bool(item.get("playful", False)),
                firm=bool(item.get("firm", False)),
            )
        )
    screens = _compile_screens(raw)
    return Lexicon(
        rules=tuple(rules),
        cues=cues,
        idioms=tuple(re.compile(p) for p in raw["idioms"]),
        replacements=tuple(
            (re.compile(rf"\b(?:{k})\b"), v) for k, v in raw["replacements"].items()
        ),
        emoji=dict(raw["emoji"]),
        negators=re.compile(rf"\b(?:{_alternation(raw['negators'])})\b"),
        pseudo_negations=re.compile(_alternation(raw["pseudo_negations"])),
        post_negation=re.compile(_alternation(raw["post_negation"])),
        clause_breaks=re.compile(_alternation(raw["clause_breaks"])),
        sentence_breaks=re.compile(_alternation(raw["sentence_breaks"])),
        shorthand=tuple((re.compile(k), v) for k, v in raw["shorthand"].items()),
        keywords=tuple(raw["keywords"]),
        negation_window=int(raw.get("negation_window", 5)),
        negated_list=(
            re.compile(raw["negated_list_words"]) if raw.get("negated_list_words") else None
        ),
        screens=screens,
        firm=frozenset([s.id for s in screens] + [r.id for r in rules if r.firm]),
        stories=_compile_stories(raw.get("stories")),
        screen_of_patient=(
            re.compile(raw["screen_of_patient"]) if raw.get("screen_of_patient") else None
        ),
    )


def _compile_stories(raw: dict[str, Any] | None) -> Stories | None:
    if not raw:
        return None
    patterns = {k: re.compile(v) for k, v in raw.items() if k != "min_words"}
    return Stories(min_words=int(raw["min_words"]), **patterns)


def _compile_screens(raw: dict[str, Any]) -> tuple[Screen, ...]:
    """Each screen's item answers as one pattern: "q1-2 yes", "yes to all 4", "acuity q yes",
    "all yes incl acuity q", "yes Q1-4" and "+Q1" (`items_next`)."""
    if not raw.get("screens"):
        return ()
    words = raw["screen_answers"]
    yes, no, every = words["yes"], words["no"], words["every"]
    next_items = f"|{words['items_next']}" if words.get("items_next") else ""
    items = rf"(?:{every}|{words['item']}(?:{words['joiner']}{words['item']})*)"
    answer = re.compile(
        rf"(?<![\w-])(?:(?P<items>{items}){words['filler']}(?P<verdict>{yes}|{no})(?![\w+-])"
        rf"(?:{words['to']}(?P<items_also>{items}))?"
        rf"|(?P<verdict_first>{yes}|{no})(?:{words['to']}| ?(?={every}){next_items})"
        rf"(?P<items_after>{items}))"
        r"(?![\w])"
    )
    return tuple(
        Screen(
            id=spec["id"],
            name=re.compile(spec["name"]),
            items={str(k): RiskLevel(v) for k, v in spec["items"].items()},
            all=int(spec["all"]),
            answer=answer,
            yes=re.compile(yes),
            every=re.compile(every),
            about_writer_only=bool(spec.get("about_writer_only", False)),
        )
        for spec in raw["screens"]
    )


@lru_cache(maxsize=8)
def lexicon(language: str = "en") -> Lexicon:
    """The compiled lexicon for a language, read once from the packaged content."""
    source = resources.files("flows") / "content" / language / "crisis.yaml"
    return _compile(yaml.safe_load(source.read_text(encoding="utf-8")))


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether two words differ by one insertion, deletion, substitution or swap."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _fix_typos(text: str, keywords: tuple[str, ...]) -> str:
    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        if len(word) < 6 or word in keywords:
            return word
        return next((k for k in keywords if _one_edit_apart(word, k)), word)

    return re.sub(r"[a-z]+", fix, text)


def normalise(text: str, lex: Lexicon) -> str:
    """Lower-case, straighten quotes, name emoji, expand slang and fix common typos."""
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS]).replace("\u2019", "'")
    text = text.replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    for symbol, name in lex.emoji.items():
        text = text.replace(symbol, f" {name} ")
    for pattern, token in lex.shorthand:  # case matters here: "SI" is shorthand, "si" is not
        text = pattern.sub(f" {token} ", text)
    text = text.replace("\ufe0f", "").lower()
    text = re.sub(r"([a-z])\1{2,}", r"\1\1", text)
    for pattern, replacement in lex.replacements:
        text = pattern.sub(replacement, text)
    return _fix_typos(text, lex.keywords)


def _split(text: str, breaks: re.Pattern[str]) -> list[str]:
    return [part.strip() for part in breaks.split(text) if part and part.strip()]


def _clause_start(scope: str, position: int, lex: Lexicon) -> int:
    """Where the clause of `scope` that contains `position` begins."""
    return max(
        (b.end() for b in lex.clause_breaks.finditer(scope) if b.end() <= position), default=0
    )


def _clause_at(scope: str, position: int, lex: Lexicon) -> str:
    """The clause of `scope` that contains `position`."""
    start = _clause_start(scope, position, lex)
    following = [b.start() for b in lex.clause_breaks.finditer(scope) if b.start() >= position]
    return scope[start : min(following, default=len(scope))]


def _negated(scope: str, start: int, end: int, lex: Lexicon) -> bool:
    """A negator just before the match (in its own clause) or before a list of what it denies
    that ends in the match, or a "no"/"denies" right after."""
    before = lex.pseudo_negations.sub(" ", scope[_clause_start(scope, start, lex) : start])
    window = " ".join(before.split()[-lex.negation_window :])
    if lex.negators.search(window):
        return True
    if _denied_in_a_list(before, lex):
        return True
    return bool(lex.post_negation.match(scope[end:]))


def _denied_in_a_list(before: str, lex: Lexicon) -> bool:
    """The last negator before a match reaches it over a list of what it denies: every word
    between them is one of `negated_list_words` ("denies any thoughts of self-harm or suicide")."""
    negators = list(lex.negators.finditer(before))
    if not negators or lex.negated_list is None:
        return False
    words = re.findall(r"[\w'-]+|[/,&]", before[negators[-1].end() :])
    return all(lex.negated_list.fullmatch(word) for word in words)


def _negated_span(scope: str, found: re.Match[str], start: int, end: int, lex: Lexicon) -> bool:
    """Negation of a match whose span (`start`-`end`) may reach back to a cue it needs. Read
    before the whole span; and where that cue lies in an earlier clause, also before the rule's own
    words ("before you panic, no, I don't have thoughts about hurting myself": the "you" of the
    first clause must not hide the "don't" of the last)."""
    if _negated(scope, start, end, lex):
        return True
    cue_elsewhere = start < _clause_start(scope, found.start(), lex)
    return cue_elsewhere and _negated(scope, found.start(), found.end(), lex)


@dataclass(frozen=True)
class Cleared:
    """A rule's words were there, but the lexicon judged them harmless (negated, joking,
    clinical, or an exception): the learned model may not overrule that."""

    rule: str


def _about_writer(scope: str, lex: Lexicon) -> bool:
    """Whether a scope speaks of the writer (or their peer), leaving out the words that only make
    the writer the listener of a patient ("my patient told me she ...")."""
    reported = lex.cues.get("reported_to_me")
    if reported is not None:
        scope = reported.sub(" ", scope)
    return lex.cues["self"].search(scope) is not None


def _apply(rule: Rule, scope: str, lex: Lexicon) -> Match | Cleared | None:
    found = rule.pattern.search(scope)
    if found is None:
        return None
    start, end = found.span()
    for need in rule.needs:
        # The cue occurrence nearest the match anchors negation, not the first in the text.
        cues = list(lex.cues[need].finditer(scope))
        if not cues:
            return None
        cue = min(
            cues, key=lambda c: min(abs(c.start() - found.end()), abs(found.start() - c.end()))
        )
        start, end = min(start, cue.start()), max(end, cue.end())
    if any(lex.cues[name].search(scope) for name in rule.unless):
        return Cleared(rule.id)
    if (
        rule.playful
        and lex.cues["humour"].search(_clause_at(scope, found.start(), lex))
        and not lex.cues["serious"].search(scope)
    ):
        return Cleared(rule.id)
    personal = _about_writer(scope, lex)
    if rule.person and not personal and lex.cues["third"].search(scope) is None:
        return None
    if not rule.clinical_ok and not personal and lex.cues["clinical"].search(scope):
        return Cleared(rule.id)
    if rule.negatable and _negated_span(scope, found, start, end, lex):
        return Cleared(rule.id)
    return Match(rule.id, rule.category, rule.level, found.group(0))


def _screen_items(items: str, screen: Screen) -> list[str]:
    """The items an answer covers: "all 4", "x4", "q1-2", "4 and 5", "acuity q" (an item the
    screen names in words is covered where its name appears)."""
    if screen.every.fullmatch(items):
        return [str(n) for n in range(1, screen.all + 1)]
    covered = [name for name in screen.items if not name.isdigit() and name in items]
    for first, last in re.findall(r"(\d)(?:\s?(?:-|to|through)\s?q?(\d))?", items):
        covered += [str(n) for n in range(int(first), int(last or first) + 1)]
    return covered


def _answered_yes(answer: re.Match[str], screen: Screen) -> bool:
    """Whether an answer's verdict is yes, read in place ("item 9 = 2", "scored 2")."""
    group = "verdict" if answer.group("verdict") else "verdict_first"
    return bool(screen.yes.fullmatch(answer.string, answer.start(group), answer.end(group)))


def _read_screen(sentence: str, lex: Lexicon) -> Match | Cleared | None:
    """A screen answered item by item in a note: the level of the highest item answered yes
    ("ASQ q1-2 yes, q3-4 no, acuity neg" is POSSIBLE, "C-SSRS q6 yes" HIGH); cleared when every
    answer is no; clinical talk when the screen was run on a patient (`screen_of_patient`)."""
    for screen in lex.screens:
        named = screen.name.search(sentence)
        if named is None or (screen.about_writer_only and not _about_writer(sentence, lex)):
            continue
        answers = list(screen.answer.finditer(sentence))
        if not answers:
            continue
        if lex.screen_of_patient is not None and lex.screen_of_patient.search(sentence):
            return Cleared(screen.id)
        answered_yes = [
            item
            for answer in answers
            if _answered_yes(answer, screen)
            for items in answer.group("items", "items_also", "items_after")
            if items
            for item in _screen_items(items, screen)
        ]
        levels = [screen.items[item] for item in answered_yes if item in screen.items]
        if not levels:
            return Cleared(screen.id)
        return Match(screen.id, "shorthand", max(levels, key=_ORDER.__getitem__), named.group(0))
    return None


_QUOTE_MARKS = re.compile(
    r"(?:(?<=^)|(?<=[\s(\[:,]))(?P<open>['\"])(?=\S)|(?<=\S)(?P<close>['\"])(?=[\s.,!?;:)]|$)"
)


def _quote_opening(sentence: str, position: int) -> int | None:
    """Where the quotation that holds `position` opens, or None when it is not quoted."""
    opened: int | None = None
    for mark in _QUOTE_MARKS.finditer(sentence[:position]):
        if mark.group("open") and opened is None:
            opened = mark.start()
        elif mark.group("close") and opened is not None:
            opened = None
    return opened


def _speaker(sentence: str, cutoff: int, stories: Stories) -> str:
    """Whose words follow `sentence[:cutoff]`: "self" when the writer is the nearest person named,
    "third" when someone else is (he, she, who, "the patient told me"), "" when nobody is."""
    first = max(
        (m.start() for m in stories.first_subject.finditer(sentence, 0, cutoff)), default=-1
    )
    third = max(
        (
            m.start()
            for pattern in (stories.third_subject, stories.subject_noun)
            for m in pattern.finditer(sentence)
            if m.start() < cutoff
        ),
        default=-1,
    )
    if first == third:
        return ""
    return "self" if first > third else "third"


def _subject(sentence: str, start: int, end: int, stories: Stories) -> str:
    """Whose words a match reports: inside a quotation, its speaker's ("the actor's line was 'I
    just want to kill myself'"); otherwise "self" when the writer's own pronoun is in the match,
    else the nearest person named before it ("he said he'd thought about the sea")."""
    quote = _quote_opening(sentence, start)
    if quote is not None:
        return _speaker(sentence, quote, stories)
    if stories.first_subject.search(sentence[start:end]) or stories.self_too.search(
        sentence[end:]
    ):
        return "self"
    return _speaker(sentence, start, stories)


def _referent(before: str, stories: Stories) -> str:
    """Who the last person named in `before` is: "patient", "peer" or "" (the writer's own role,
    "I'm an intern", is not a person named)."""
    before = stories.own_role.sub(" ", before)
    patient = max((m.start() for m in stories.patient_referent.finditer(before)), default=-1)
    peer = max((m.start() for m in stories.peer_referent.finditer(before)), default=-1)
    if patient == peer:
        return ""
    return "patient" if patient > peer else "peer"


@dataclass(frozen=True)
class _Found:
    """A match with where it came from: its sentence, and the rule and scope that fired (none for
    a screen read by item)."""

    match: Match
    sentence: int
    rule: Rule | None = None
    scope: str = ""


def _whose(found: _Found, sentence: str, stories: Stories) -> tuple[str, int]:
    """Whose words a match reports, and where in its sentence it starts; where the rule's words
    come more than once ("a patient who cut herself ... and cut myself"), the writer's own win."""
    if found.rule is None:
        return "", 0
    offset = max(sentence.find(found.scope), 0)
    placed = [
        (_subject(sentence, offset + f.start(), offset + f.end(), stories), offset + f.start())
        for f in found.rule.pattern.finditer(found.scope)
    ]
    rank = {"self": 0, "": 1, "third": 2}
    return min(placed, key=lambda p: rank[p[0]], default=("", 0))


def _in_the_past(sentence: str, stories: Stories) -> bool:
    """A sentence set in the past: a time in the past ("six years ago", "as a teen"), or told in
    the past tense with nothing in the present ("I swallowed a bottle of pills and woke up in
    HDU"), and nothing saying it is back ("again", "last night")."""
    if stories.present_again.search(sentence):
        return False
    return bool(stories.past_time.search(sentence)) or (
        bool(stories.past_tense.search(sentence)) and not stories.present_tense.search(sentence)
    )


def _a_listed_sign(item: _Found, sentences: list[str], list_end: int, stories: Stories) -> bool:
    """A match among the items of a teaching list: after the list opens, with no word of the
    writer's, and no peer of theirs named, between the opening and the match."""
    sentence = sentences[item.sentence]
    _, position = _whose(item, sentence, stories)
    sentence_start = len(" ".join(sentences[: item.sentence])) + (1 if item.sentence else 0)
    if sentence_start + position < list_end:
        return False
    since_list = sentence[max(list_end - sentence_start, 0) : position + len(item.match.fragment)]
    return not stories.first_subject.search(since_list) and not stories.peer_named.search(
        since_list
    )


def _story_reading(
    found: list[_Found], text: str, sentences: list[str], lex: Lexicon
) -> list[Match]:
    """The matches of a message read as a story. A clinical story (a long message that frames a
    clinical encounter and names nobody who could be the writer's peer) drops the matches that are
    a patient's words (someone else's, the last person named before them a patient); a recovered
    history (a message of any length in which the writer says they are well now) drops the
    matches of sentences set in the past, unless that sentence says it is back; a teaching list
    ("warning signs to look for: talking about being a burden, giving things away") drops the
    items that follow it, unless they are the writer's own or name the writer's peer."""
    stories = lex.stories
    if stories is None:
        return [item.match for item in found]
    clinical_frame = (
        len(text.split()) > stories.min_words
        and bool(stories.clinical_frame.search(text))
        and not stories.peer_named.search(text)
    )
    recovered = bool(stories.recovered.search(text))
    # offsets in the sentences as read (idioms removed), joined as `_a_listed_sign` counts them
    listed = stories.teaching_list.search(" ".join(sentences))
    kept = []
    for item in found:
        sentence = sentences[item.sentence]
        if listed and _a_listed_sign(item, sentences, listed.end(), stories):
            continue
        if clinical_frame:
            subject, position = _whose(item, sentence, stories)
            before = " ".join([*sentences[: item.sentence], sentence[:position]])
            if subject == "third" and _referent(before, stories) == "patient":
                continue
        if recovered and _in_the_past(sentence, stories):
            continue
        kept.append(item.match)
    return kept


def _without_idioms(normalised: str, lex: Lexicon) -> str:
    for idiom in lex.idioms:
        normalised = idiom.sub(" ~ ", normalised)
    return normalised


def model_text(text: str, language: str = "en") -> str:
    """The text as the learned model reads it: normalised like the lexicon, idioms removed."""
    lex = lexicon(language)
    return _without_idioms(normalise(text, lex), lex)


def _long(prepared: str, found: crisis_model.Model) -> bool:
    """More words than the model reads as a short message."""
    words = len(prepared.replace("~", " ").split())
    return found.long_words is not None and words > found.long_words


def _learned(found: crisis_model.Model, prepared: str, *, cleared: bool) -> list[Match]:
    """The model's reading of a text the lexicon left alone: nothing below its thresholds. Where a
    rule cleared part of the text, or the text is long, the model needs more confidence
    (`Model.bar_for_any`)."""
    p_any, p_high = found.scores(prepared)
    bar = found.bar_for_any(cleared=cleared, long=_long(prepared, found))
    if p_any < bar:  # both halves must agree before it calls any risk
        return []
    if found.threshold_high is not None and p_high >= found.threshold_high:
        return [Match("learned_high", "learned", RiskLevel.HIGH, "")]
    return [Match("learned_any", "learned", RiskLevel.POSSIBLE, "")]


def _confirmed_high(found: crisis_model.Model, prepared: str) -> list[Match]:
    """Where the lexicon read POSSIBLE: HIGH when the model is confident of high risk (a plan,
    means or an attempt said in words the rules do not know, beside ideation they do)."""
    if found.upgrade_high is None:
        return []
    p_any, p_high = found.scores(prepared)
    if p_any >= found.threshold_any and p_high >= found.upgrade_high:
        return [Match("learned_confirms_high", "learned", RiskLevel.HIGH, "")]
    return []


def _in_context(
    found: crisis_model.Model,
    matches: list[Match],
    prepared: str,
    sentences: list[str],
    firm: frozenset[str],
) -> list[Match]:
    """The lexicon's matches in a long message, weighed against the model's reading of the whole
    message. The rules read one sentence at a time, so a clinical story or a sad but safe letter
    can trip them; when the model finds no risk in any part of the message (the whole, every
    window and every sentence: `Model.sees_risk_in`), a POSSIBLE reading is set aside and a HIGH
    one becomes POSSIBLE — resources still shown, but nobody paged. A screen answered item by item
    ("ASQ +ve on q1 and q2") is the writer's own clinical reading, not a sentence the rules may
    have misread, and keeps its level; so does a rule marked `firm` in the lexicon (an attempt
    under way: "states cut both wrists in the bath just now"). Short messages, and long ones
    where the model sees any risk anywhere, keep the lexicon's reading."""
    if not _long(prepared, found) or found.sees_risk_in(prepared, sentences):
        return matches
    return [
        m if m.rule in firm else replace(m, level=RiskLevel.POSSIBLE)
        for m in matches
        if m.level is RiskLevel.HIGH or m.rule in firm
    ]


def _with_model(
    matches: list[Match], prepared: str, sentences: list[str], language: str, *, cleared: bool
) -> list[Match]:
    """The lexicon's matches with the learned model's reading. Where no rule fired it may raise
    the level (`_learned`); in long messages it may temper the rules (`_in_context`); where the
    rules read POSSIBLE it may confirm HIGH (`_confirmed_high`). A model that is missing, fails
    to load or fails to run leaves the lexicon's reading standing."""
    try:
        found = crisis_model.model(language)
        if found is None or len(prepared.split()) < found.min_words:
            return matches  # too short to judge from wording alone ("got it", "2nite 10pm")
        if not matches:
            return _learned(found, prepared, cleared=cleared)
        read = _in_context(found, matches, prepared, sentences, lexicon(language).firm)
        if read and all(m.level is RiskLevel.POSSIBLE for m in read):
            read = read + _confirmed_high(found, prepared)
        return read
    except Exception:  # a failing model must never cost the lexicon's reading
        return matches


def _clinical_only(normalised: str, lex: Lexicon) -> bool:
    """Clinical talk with nothing about the writer."""
    clinical = lex.cues["clinical"].search(normalised)
    return bool(clinical) and not lex.cues["self"].search(normalised)


def assess_text(text: str, language: str = "en", *, use_model: bool = True) -> TextSignal:
    """Assess one message: HIGH, POSSIBLE or NONE, with the matches that explain it. The
    lexicon's rules come first; the learned model (`use_model`) then weighs in (`_with_model`)."""
    lex = lexicon(language)
    normalised = normalise(text, lex)
    found: list[_Found] = []
    cleared = False
    sentences = [_without_idioms(s, lex) for s in _split(normalised, lex.sentence_breaks)]
    for index, sentence in enumerate(sentences):
        screen = _read_screen(sentence, lex)
        cleared |= isinstance(screen, Cleared)
        if isinstance(screen, Match):
            found.append(_Found(screen, index))
        clauses = _split(sentence, lex.clause_breaks)
        for rule in lex.rules:
            for scope in [sentence] if rule.sentence else clauses:
                verdict = _apply(rule, scope, lex)
                cleared |= isinstance(verdict, Cleared)
                if isinstance(verdict, Match):
                    found.append(_Found(verdict, index, rule, scope))
                    break
    matches = _story_reading(found, normalised, sentences, lex)
    cleared |= len(matches) < len(found)
    # The model is a safety net for wording the lexicon does not know; it never reads clinical
    # talk with nothing about the writer that no rule fired on.
    if use_model and (matches or not _clinical_only(normalised, lex)):
        prepared = _without_idioms(normalised, lex)
        matches = _with_model(matches, prepared, sentences, language, cleared=cleared)
    matches.sort(key=lambda m: -_ORDER[m.level])  # stable: at equal level a rule explains first
    level = matches[0].level if matches else RiskLevel.NONE
    return TextSignal(level, tuple(matches))

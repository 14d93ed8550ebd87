"""Free-text crisis detection: tables of crisis, idiom, clinical and negated text, and measured
recall / false-positive rates on the labelled sets in tests/flows/data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from flows.crisis import RiskLevel, TextSignal, assess_text, lexicon
from tests.auxil.crisis_eval import DATA, load, measure

HIGH, POSSIBLE, NONE = RiskLevel.HIGH, RiskLevel.POSSIBLE, RiskLevel.NONE

CLINICAL_STORY = (
    "I'm an FY1 and today a patient on the ward told me he wanted to end it all. He's 58, admitted"
    " with pancreatitis. I asked him directly whether he had a plan and he said he'd thought about"
    " driving into the sea. I stayed with him and called psych liaison. "
)
WARD = (
    " Ward was chaos all day, two admissions from ED, a discharge that fell through and a family"
    " meeting that ran over. "
)
RECOVERED = "Six years ago, in my F2 year, I took an overdose after a run of nights. "

TABLE = [
    # the issue's own examples
    ("this exam is killing me", NONE),
    ("I could kill for a coffee", NONE),
    ("dying to see my match results", NONE),
    ("I'd rather die than present again haha", NONE),
    ("killing time before rounds", NONE),
    ("the patient overdosed on tylenol, we started NAC", NONE),
    ("ibuprofen 800 mg q8h", NONE),
    ("I took 20 ibuprofen", HIGH),
    ("how much acetaminophen would it take", HIGH),
    ("💊💊💊", POSSIBLE),
    ("I'm not suicidal", NONE),
    ("no thoughts of hurting herself", NONE),
    ("denies SI", NONE),
    ("no SI/HI", NONE),
    ("passive SI", POSSIBLE),
    ("+SI", POSSIBLE),
    ("active SI with plan", HIGH),
    ("SI", POSSIBLE),
    ("kms", POSSIBLE),
    ("unalive", POSSIBLE),
    ("i wanna die", POSSIBLE),
    # casing, typos, slang, emoji
    ("I WANT TO DIE", POSSIBLE),
    ("i wnat to die", POSSIBLE),
    ("thinking about sucide again", POSSIBLE),
    ("gonna kms tonight after call", HIGH),
    ("🪦 soon", POSSIBLE),
    # intent, plan, means, preparation, attempt, others
    ("I'm going to kill myself tonight", HIGH),
    ("she has a plan to overdose on her insulin", HIGH),
    ("I've been saving up my oxycodone", HIGH),
    ("wrote goodbye letters to my family", HIGH),
    ("I just swallowed the whole bottle", HIGH),
    ("I'm going to hurt my attending", HIGH),
    ("HI toward my program director", HIGH),
    # ideation, burden, self-harm, hopelessness, impairment
    ("sometimes I wish I wouldn't wake up", POSSIBLE),
    ("everyone would be better off without me", POSSIBLE),
    ("she's been cutting her arms again", POSSIBLE),
    ("there's no way out of this", POSSIBLE),
    ("he's been drinking before his shifts", POSSIBLE),
    # negation that is not negation
    ("I don't want to live anymore", POSSIBLE),
    ("I no longer want to be alive", POSSIBLE),
    ("I'm fine but I want to die", POSSIBLE),
    ("I'm not going to kill myself", NONE),
    ("I would never hurt myself", NONE),
    # clinical and teaching talk, everyday words
    ("pt admitted for SI, on 1:1 sitter", NONE),
    ("lethal dose of colchicine came up on the pharm shelf", NONE),
    ("my phone is about to die", NONE),
    ("we had a lecture on physician suicide rates", NONE),
    ("I'm exhausted and behind on notes", NONE),
    ("gonna kill it on my boards", NONE),
    ("she's going to kill it in residency", NONE),
    # a patient's words reported to the writer are clinical; the writer's own words are not
    ("my patient told me he wants to kill his boss. duty to warn applies?", NONE),
    ("my patient told me she wants to die, and honestly so do I", POSSIBLE),
    ("my patient told me he wants to kill his boss and I want to kill mine", HIGH),
    ("today a patient told me, very calmly, that he was going to kill himself at home", NONE),
    # a supporter's note about "peer" is about the person they support, unless a patient is named
    (
        "Peer (nurse, nights): active SI, plan to jump from the car park, has scoped the level",
        HIGH,
    ),
    ("pt in bed 4 has active SI with plan, peer asked how to get a sitter faster", NONE),
    ("peer support session on overdose management for the nurses", NONE),
    # negation read where it is, not hidden by a cue in an earlier clause; surprise is no denial
    ("before you panic, no, I don't have thoughts about hurting myself", NONE),
    ("before you say anything, I can not stop having thoughts of hurting my attending", POSSIBLE),
    (
        "honestly you know what, I never thought I would have thoughts of hurting my husband",
        POSSIBLE,
    ),
    ("I never thought I would want to die", POSSIBLE),
    # a denial reaches over a list of what it denies, not over a new predicate
    ("peer denies any thoughts of self-harm or suicide, past or present", NONE),
    ("denies SI and has been stockpiling her pills", HIGH),
    ("I don't have any plans and I want to die", POSSIBLE),
    # wordings two fresh sets found silent
    ("stepped in front of a car yesterday but the driver stopped", HIGH),
    ("calculated the beta blocker dose I'd need to stop my own heart", HIGH),
    ("SI/HI both positive, wants to kill himself and his consultant", HIGH),
    ("she keeps a kit in her bag that isn't for patients, potassium and a syringe", HIGH),
    ("going to sleep and never waking up sounds really nice rn", POSSIBLE),
    ("the world wouldn't miss one more useless intern", POSSIBLE),
    ("IMG here. No match, no money, can't go home. Only dead ends.", POSSIBLE),
    ("came in hungover to clinic for the 3rd time this week", POSSIBLE),
    ("a couple of shots in the car before evening shifts", POSSIBLE),
    ("had two energy drinks before my shift", NONE),
    ("C-SSRS: yes to Q1-6. Actual attempt last night (OD), intends to try again.", HIGH),
    ("every shift I pocket one more ampoule. nearly at the number i need", HIGH),
    ("researching which drugs a post-mortem tox screen misses. For me, not a patient.", HIGH),
    ("im so done im offing myself this weekend no cap", HIGH),
    ("Did a line in the staff toilet before my ED shift", POSSIBLE),
    ("Hx of cutting in undergrad, resumed last month (thighs, superficial per peer)", POSSIBLE),
    ("HI", POSSIBLE),
    ("peer endorses HI", POSSIBLE),
    ("I'm scared of what I might do tonight", POSSIBLE),
    # screens answered item by item in a supporter's note
    ("ASQ q1-2 yes, q3-4 no, acuity neg. f/u tomorrow", POSSIBLE),
    ("C-SSRS q6 yes, she wrote notes last week", HIGH),
    ("ASQ yes x4, acuity q yes", HIGH),
    ("C-SSRS all no, just wanted to vent about nights", NONE),
    ("pt screened in triage, ASQ yes to Q4, BSSA done", NONE),
    # long messages read as stories: a patient's words are the patient's, the writer's their own
    (CLINICAL_STORY + "I'm fine, just shaken.", NONE),
    (CLINICAL_STORY + "Honestly, after that shift I want to die too.", POSSIBLE),
    (CLINICAL_STORY + "The worst part is I have a plan too, I have been saving my tablets.", HIGH),
    (
        "Notes after the call. Peer is an F1 on the surgical ward, she likes the patients and the"
        " ward sister, talked mostly about her rota and her dad's scan. At the end she said she's"
        " given her cat away for good and won't need her phone after next week.",
        HIGH,
    ),
    (
        "OSCE practice tonight with my study group, the suicide risk station. The actor's opening"
        " line was 'I just want to kill myself, doctor', and I completely froze even though I knew"
        " it was coming. Does anyone have a framework for that station? Finals are in five weeks.",
        NONE,
    ),
    # a recovered history is history, unless it is back
    (
        RECOVERED
        + "I'm genuinely well now, no thoughts like that for years. I've signed up to train"
        " as a peer supporter.",
        NONE,
    ),
    (
        RECOVERED + "I was well for years. This week the thoughts came back again and I've started"
        " counting my tablets.",
        HIGH,
    ),
    # a question answered no is a denial; an answer that goes on is not
    (
        "Am I suicidal? No, just exhausted, and I needed to type that out. I cried at a birthday"
        " dinner and it threw me. I've thought about it properly today and I have things I'm"
        " looking forward to, like a trip to Lisbon in June.",
        NONE,
    ),
    ("Any SI? No... honestly yes, every day.", POSSIBLE),
    ("SI? No plan, but the thoughts are constant and getting louder.", POSSIBLE),
    # UK slang, and its idiom; hyperbole that wears risk words
    ("honestly gonna top myself tonight, had enough", HIGH),
    ("topping myself up with a flat white before the ward round", NONE),
    ("was killing myself laughing at the registrar's leaving speech", NONE),
    ("drowning myself in discharge summaries till 9, send snacks", NONE),
    ("I need to cut myself off from the group chat during revision", NONE),
    ("might overdose on true crime podcasts this weekend", NONE),
    ("I'll shoot the consultant an email about the rota", NONE),
    ("clocking out for good after tonight's shift, sorry everyone", HIGH),
    # screens answered in other words: "+ve for q5", "positive through q6", "incl acuity"
    ("C-SSRS with my peer: +ve for q5, she says she has the tablets", HIGH),
    ("peer's ASQ was all yes incl acuity q", HIGH),
    ("my PHQ-9 item 9 came back positive and I'm scared", POSSIBLE),
    ("PHQ-9 of 14 with item 9 positive, referred to the crisis team", NONE),
    # a denial between the shorthand and its target
    ("HI denied, anger at the rota coordinator talked through", NONE),
    # indirect risk
    ("been cutting again, anyway how was your weekend", POSSIBLE),
    ("had a couple of drinks before my shift, can't face it sober", POSSIBLE),
    ("I'm just a burden my family has to carry", POSSIBLE),
    ("my brother's rifle is at mine this week and I keep thinking about it", HIGH),
    ("the peer said she's chosen friday night, while her husband is away", HIGH),
    # a recovered history in a short message; a return is not history
    ("self-harmed as a teenager, years ago now, I'm well and it's behind me", NONE),
    ("I used to cut, I'm well now, but I cut again last night", POSSIBLE),
    # a teaching list of warning signs is nobody's words; the writer's own are
    (
        "Red flags to look out for in a colleague: talk of being a burden, giving belongings"
        " away, searching for methods, saying goodbye. Ask directly and stay with them.",
        NONE,
    ),
    ("Warning signs I've been showing: I've given my things away and I want to die.", HIGH),
    ("warning signs to ask about — talk of being a burden, giving things away, stockpiling", NONE),
    # a note typed between patients is not about a patient; shorthand for self-harm
    ("supporter note btw pts: peer ASQ +ve incl Q5, heading to her now", HIGH),
    ("supporter note: peer FY2, NSSH (burning), denies SI", POSSIBLE),
    ("my colleague says she injected something from the drug cupboard ten minutes ago", HIGH),
    ("throwing myself off the multi-storey tonight", HIGH),
    ("still going through with it on saturday, nothing's changed", HIGH),
    ("last day ever 🪦 thanks for everything", HIGH),
    ("I attempted suicide yesterday and I'm still shaking", HIGH),
    # someone's death is not the writer's thoughts; a threat or a phrase taken back
    ("I watched an autopsy today, a suicide by hanging, and it stayed with me", NONE),
    ("the printer on ward 4 wants me dead", NONE),
    ("going to murder him. not literally, he just ate my lunch", NONE),
    ("when I said I was done I meant the rota, not life", NONE),
    ("If I see one more discharge summary today I'm going to walk into the sea", NONE),
    ("if there's another rejection I'll walk into the sea", HIGH),
    # a screen answered item by item keeps its level inside a long, ordinary message
    (WARD + "Peer note: ASQ +ve on q1 and q2, neg on q3-4, acuity neg." + WARD, POSSIBLE),
    # quiet risk; and overwork, treatment and a recovered history in the same words
    ("picked up a pack at three different pharmacies today", HIGH),
    ("logging off tonight. not the app.", HIGH),
    ("supporter note: recurrent SH (burning) per peer, no SI", POSSIBLE),
    ("I'd be better off not existing tbh", POSSIBLE),
    ("I'm killing myself trying to finish these discharge letters", NONE),
    ("beta blocker overdose in resus this morning, glucagon running", NONE),
    (
        "the old me would have thought about ending it, but now I've got a therapist and a dog",
        NONE,
    ),
    # a quiz named early no longer hides the rest of the sentence; quiet plans; shorthand to self
    ("pub quiz was rubbish, lost again, been thinking about dying a lot lately", POSSIBLE),
    ("already picked the place and the date, anyway how was your shift", HIGH),
    ("booked a hotel for friday and i'm not planning to check out", HIGH),
    ("self check: SI yes, passive, no plan", POSSIBLE),
    ("ending it with him tonight, we've been done for ages", NONE),
    ("my laptop just committed suicide, lost the whole essay", NONE),
    ("", NONE),
]


@pytest.mark.parametrize(("text", "level"), TABLE, ids=[t[:40] or "empty" for t, _ in TABLE])
def test_the_detector_reads_each_example_right(text: str, level: RiskLevel) -> None:
    assert assess_text(text).level is level


@pytest.mark.parametrize(
    "text",
    [
        "My patient keeps saying she wants to die and honestly so do I.",
        "I stitched up a patient who cut herself and went home and cut myself.",
        "I did the risk assessment on a patient and I'm the one who wants to die.",
        "I'm an intern, lost a patient today, and honestly want to be dead too.",
    ],
)
def test_a_story_keeps_the_writers_own_words_beside_a_patients(text: str) -> None:
    # The rules' reading (the story logic), before the model weighs the long message as a whole.
    assert assess_text(WARD + text + WARD, use_model=False).level is POSSIBLE
    clinical = "My patient keeps saying she wants to die."
    assert assess_text(WARD + clinical + WARD, use_model=False).level is NONE


def test_a_signal_explains_itself_by_rule_and_never_needs_the_text_later() -> None:
    signal = assess_text("I have a plan to jump off the parking garage tonight")
    assert signal.level is HIGH
    assert signal.trigger is not None
    assert signal.matches[0].level is HIGH
    assert {m.category for m in signal.matches} & {"plan", "method"}
    assert assess_text("hello").trigger is None


def test_the_levels_have_the_issue_values() -> None:
    assert [level.value for level in RiskLevel] == ["none", "possible", "high"]


def test_very_long_text_is_handled_without_error() -> None:
    text = "I am tired. " * 2000 + "I want to die"
    assert isinstance(assess_text(text), TextSignal)


@given(st.text(max_size=300))
def test_any_text_gets_a_level_and_matches_agree_with_it(text: str) -> None:
    signal = assess_text(text)
    assert signal.level in RiskLevel
    assert (signal.level is NONE) == (not signal.matches)


def test_the_lexicon_is_compiled_once_per_language() -> None:
    assert lexicon("en") is lexicon("en")


# Measured on our own labelled sets, lexicon and learned model together. Each set was first
# measured blind (figures in the README), then used to tune the lexicon and train the model;
# these floors keep the tuned figures from sliding.
DATA_FLOORS = [
    ("crisis_en.tsv", 0.97, 0.95, 0.05),
    ("crisis_en_holdout.tsv", 0.97, 0.95, 0.05),
    ("crisis_en_fresh.tsv", 0.93, 0.90, 0.05),
    ("crisis_en_final.tsv", 0.93, 0.90, 0.05),
    ("crisis_en_extra.tsv", 0.90, 0.93, 0.05),
    ("crisis_en_sixth.tsv", 0.93, 0.93, 0.05),
    ("crisis_en_seventh.tsv", 0.93, 0.90, 0.05),
    ("crisis_en_eighth.tsv", 0.93, 0.90, 0.05),
    ("crisis_en_ninth.tsv", 0.93, 0.90, 0.05),
    ("crisis_en_tenth.tsv", 0.97, 0.95, 0.02),
    ("crisis_en_eleventh.tsv", 0.97, 0.95, 0.02),
    ("crisis_en_twelfth.tsv", 0.97, 0.95, 0.02),
    ("crisis_en_thirteenth.tsv", 0.97, 0.95, 0.02),
    ("crisis_en_fourteenth.tsv", 0.95, 0.90, 0.02),
    ("crisis_en_fifteenth.tsv", 0.95, 0.90, 0.02),
    ("crisis_en_sixteenth.tsv", 0.95, 0.90, 0.02),
    ("crisis_en_seventeenth.tsv", 0.95, 0.90, 0.02),
    ("crisis_en_eighteenth.tsv", 0.95, 0.90, 0.02),
    ("crisis_en_nineteenth.tsv", 0.95, 0.90, 0.02),
    # Long messages (40-160 words): the lexicon was tuned on their false alarms; the model
    # has not been trained on them (a retrain that had was less sensitive on new text).
    ("crisis_en_twentysecond.tsv", 0.90, 0.85, 0.16),
    ("crisis_en_twentythird.tsv", 0.90, 0.85, 0.10),
    ("crisis_en_twentyfourth.tsv", 0.90, 0.85, 0.07),
    ("crisis_en_twentysixth.tsv", 0.90, 0.85, 0.13),
    ("crisis_en_thirtysecond.tsv", 0.95, 0.95, 0.26),
    ("crisis_en_twentyeighth.tsv", 0.97, 0.95, 0.06),
    ("crisis_en_twentyninth.tsv", 0.95, 0.93, 0.12),
    ("crisis_en_thirtieth.tsv", 0.95, 0.93, 0.12),
    ("crisis_en_thirtyfirst.tsv", 0.97, 0.95, 0.04),
    ("crisis_en_thirtythird.tsv", 0.97, 0.95, 0.06),
    ("crisis_en_thirtyfourth.tsv", 0.97, 0.97, 0.04),
    ("crisis_en_thirtyfifth.tsv", 0.97, 0.97, 0.09),
    # Risky messages worded like jokes, clinical talk or ordinary preparation (a safety review's
    # probes); their five ambiguous "none" rows are flagged, and should be.
    ("crisis_en_riskylookalikes.tsv", 0.95, 0.93, 1.0),
    ("crisis_en_fortyfirst.tsv", 0.97, 0.97, 0.05),  # a day of traffic
    ("crisis_en_fortysecond.tsv", 0.97, 0.97, 0.06),  # acceptance-style
    ("crisis_en_fortythird.tsv", 0.97, 0.95, 0.12),  # long; not trained on
    ("crisis_en_fortyfourth.tsv", 0.97, 0.95, 0.14),  # long; not trained on
    # Came after the last training run and chose its thresholds (not trained on):
    ("crisis_en_fortyfifth.tsv", 0.97, 0.97, 0.15),  # first-person clinical talk, notes
    ("crisis_en_fortysixth.tsv", 0.95, 0.93, 0.05),  # many voices
    ("crisis_en_fortyseventh.tsv", 0.97, 0.97, 0.04),  # a week at a teaching hospital
    ("crisis_en_fortyeighth.tsv", 0.97, 0.97, 0.14),  # supporters' notes beside patient notes
    # Four fresh sets (never trained on): 51-53 shaped the screen reading and story reading
    # (51 and 53 long, 52 short traffic); 54 was only measured.
    ("crisis_en_fiftyfirst.tsv", 0.97, 0.95, 0.25),  # long: stories, quotes, history
    ("crisis_en_fiftysecond.tsv", 0.97, 0.95, 0.07),  # short traffic, indirect risk
    ("crisis_en_fiftythird.tsv", 0.97, 0.90, 0.19),  # long, outside the US, case notes
    ("crisis_en_fiftyfourth.tsv", 0.93, 0.90, 0.10),  # short, night shifts and notes
    # Four more (never trained on), all used to shape this release's lexicon and story reading:
    ("crisis_en_fiftyninth.tsv", 0.97, 0.95, 0.05),  # short, indirect risk, risky idioms
    ("crisis_en_sixtieth.tsv", 0.97, 0.95, 0.14),  # long: he/she stories, histories, lists
    ("crisis_en_sixtyfirst.tsv", 0.97, 0.95, 0.04),  # short traffic
    ("crisis_en_sixtysecond.tsv", 0.97, 0.97, 0.19),  # long traffic
    # and four more, written after those changes (never trained on), which shaped the next round:
    ("crisis_en_sixtyfifth.tsv", 0.97, 0.97, 0.02),  # short, many Englishes, phone notes
    ("crisis_en_sixtysixth.tsv", 0.97, 0.95, 0.13),  # long: denials, relatives at risk
    ("crisis_en_sixtyseventh.tsv", 0.97, 0.95, 0.04),  # short traffic
    ("crisis_en_sixtyeighth.tsv", 0.97, 0.97, 0.09),  # long traffic
    # and four written after the second round's changes (never trained on), which shaped the third:
    ("crisis_en_seventyfirst.tsv", 0.97, 0.97, 0.13),  # long: the hardest look-alikes
    ("crisis_en_seventysecond.tsv", 0.97, 0.97, 0.04),  # long: late-night phone register
    ("crisis_en_seventythird.tsv", 0.97, 0.90, 0.02),  # short: quiet, indirect risk
    ("crisis_en_seventyfourth.tsv", 0.97, 0.97, 0.02),  # short traffic
    # and three written after the third round's changes (not trained on), which shaped the fourth:
    ("crisis_en_seventyseventh.tsv", 0.95, 0.90, 0.02),  # short: quiet, indirect risk
    ("crisis_en_seventyeighth.tsv", 0.97, 0.97, 0.12),  # long traffic
    ("crisis_en_seventyninth.tsv", 0.97, 0.95, 0.02),  # short traffic
    ("crisis_en_everyday.tsv", 1.0, 1.0, 0.01),  # ordinary traffic: times, notes, thanks
    ("crisis_en_lookalikes.tsv", 1.0, 1.0, 0.01),  # ordinary, with crisis-like words
]


@pytest.mark.parametrize(("name", "recall_any", "recall_high", "false_positives"), DATA_FLOORS)
def test_measured_recall_and_false_positives_stay_within_targets(
    name: str, recall_any: float, recall_high: float, false_positives: float
) -> None:
    figures = measure(load(DATA / name))
    assert figures.rows >= 200
    assert figures.recall_any >= recall_any, figures.misses[:10]
    assert figures.recall_high >= recall_high, figures.misses[:10]
    assert figures.false_positive_rate <= false_positives, figures.misses[:10]


BLIND = Path(__file__).resolve().parent / "blind"


# Shipped figures (recall any / HIGH / false positives), measured after this release's last
# change, with the previous release's in brackets where they differ:
#   twentieth      1.000 / 0.988 / 0.053
#   twentyfirst    0.960 / 0.938 / 0.033  (0.953 / 0.925 / 0.033)
#   twentyfifth    0.993 / 0.960 / 0.073  (0.993 / 0.960 / 0.080)
#   twentyseventh  0.960 / 0.940 / 0.107  (0.950 / 0.920 / 0.129)  long messages
#   thirtysixth    0.987 / 0.987 / 0.027
#   thirtyseventh  0.953 / 0.929 / 0.027  (0.947 / 0.929 / 0.027)
#   thirtyeighth   1.000 / 1.000 / 0.155  (1.000 / 1.000 / 0.173)  long messages
#   thirtyninth    0.967 / 1.000 / 0.060  (0.960 / 0.986 / 0.060)
#   fortieth       0.927 / 0.920 / 0.053
#   fortyninth     0.973 / 0.947 / 0.067  (0.973 / 0.947 / 0.093)
#   fiftieth       0.944 / 0.933 / 0.155  (0.944 / 0.933 / 0.173)  long messages
#   fiftyfifth     0.978 / 0.956 / 0.236  (0.978 / 0.933 / 0.236)  long messages
#   fiftysixth     0.973 / 0.933 / 0.060  (0.973 / 0.933 / 0.067)
# and eight written during this release, two at the start of each of its four rounds, never looked
# at, each measured once at its round's end (then as shipped, where it differs):
#   fiftyseventh   0.944 / 0.956 / 0.155, shipped 0.956 / 0.956 / 0.118  long messages
#   fiftyeighth    0.993 / 0.973 / 0.040, shipped 0.993 / 0.973 / 0.033
#   sixtythird     0.978 / 0.978 / 0.155, shipped 0.978 / 0.978 / 0.136  long messages
#   sixtyfourth    0.960 / 0.933 / 0.027
#   sixtyninth     0.967 / 0.956 / 0.136  long messages
#   seventieth     0.947 / 0.893 / 0.020
#   seventyfifth   0.967 / 0.978 / 0.155  long messages
#   seventysixth   0.920 / 0.920 / 0.033
BLIND_FLOORS = [
    ("crisis_en_twentieth.tsv", 0.97, 0.95, 0.07),
    ("crisis_en_twentyfirst.tsv", 0.93, 0.90, 0.05),
    ("crisis_en_twentyfifth.tsv", 0.97, 0.93, 0.09),
    ("crisis_en_twentyseventh.tsv", 0.93, 0.90, 0.15),
    ("crisis_en_thirtysixth.tsv", 0.97, 0.97, 0.04),
    ("crisis_en_thirtyseventh.tsv", 0.93, 0.90, 0.04),
    ("crisis_en_thirtyeighth.tsv", 0.97, 0.97, 0.19),
    ("crisis_en_thirtyninth.tsv", 0.93, 0.95, 0.07),
    ("crisis_en_fortieth.tsv", 0.90, 0.90, 0.07),
    ("crisis_en_fortyninth.tsv", 0.95, 0.93, 0.09),
    ("crisis_en_fiftieth.tsv", 0.92, 0.90, 0.19),
    ("crisis_en_fiftyfifth.tsv", 0.95, 0.90, 0.26),  # long
    ("crisis_en_fiftysixth.tsv", 0.95, 0.90, 0.09),
    ("crisis_en_fiftyseventh.tsv", 0.93, 0.93, 0.14),  # long
    ("crisis_en_fiftyeighth.tsv", 0.97, 0.95, 0.06),
    ("crisis_en_sixtythird.tsv", 0.95, 0.95, 0.18),  # long
    ("crisis_en_sixtyfourth.tsv", 0.93, 0.90, 0.05),
    ("crisis_en_sixtyninth.tsv", 0.95, 0.93, 0.16),  # long
    ("crisis_en_seventieth.tsv", 0.93, 0.87, 0.04),
    ("crisis_en_seventyfifth.tsv", 0.95, 0.95, 0.18),  # long
    ("crisis_en_seventysixth.tsv", 0.90, 0.90, 0.05),
]


@pytest.mark.parametrize(("name", "recall_any", "recall_high", "false_positives"), BLIND_FLOORS)
def test_on_sets_it_never_learned_from_the_detector_stays_near_its_measured_figures(
    name: str, recall_any: float, recall_high: float, false_positives: float
) -> None:
    """Sets in tests/flows/blind/ are never used to tune the lexicon or train the model (their
    figures as shipped are in the README). This catches a change that generalises worse; fix such
    a failure in the labelled sets or the engine, never by tuning on these rows."""
    figures = measure(load(BLIND / name))
    assert figures.rows >= 200
    assert figures.recall_any >= recall_any
    assert figures.recall_high >= recall_high
    assert figures.false_positive_rate <= false_positives


def test_every_labelled_set_is_measured() -> None:
    assert {p.name for p in Path(DATA).glob("crisis_en*.tsv")} == {n for n, *_ in DATA_FLOORS}


def test_every_blind_set_is_measured() -> None:
    assert {p.name for p in BLIND.glob("crisis_en*.tsv")} == {name for name, *_ in BLIND_FLOORS}


def test_the_labelled_sets_are_well_formed() -> None:
    for path in sorted([*Path(DATA).glob("crisis_*.tsv"), *BLIND.glob("crisis_*.tsv")]):
        rows = load(path)
        levels = {level for _, level, _ in rows}
        everyday = path.name in ("crisis_en_everyday.tsv", "crisis_en_lookalikes.tsv")
        assert levels == ({RiskLevel.NONE} if everyday else set(RiskLevel)), path.name


def test_the_lexicon_file_has_no_repeated_keys() -> None:
    """YAML keeps only the last of two equal keys, so a repeated `unless:` silently drops rules."""

    class Strict(yaml.SafeLoader):
        pass

    def mapping(loader: Strict, node: yaml.MappingNode) -> dict[Any, Any]:
        keys = [loader.construct_object(key) for key, _ in node.value]
        repeated = {k for k in keys if keys.count(k) > 1}
        assert not repeated, f"repeated keys {repeated} at line {node.start_mark.line + 1}"
        return loader.construct_mapping(node)

    Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    path = Path(__file__).resolve().parents[2] / "flows" / "content" / "en" / "crisis.yaml"
    assert yaml.load(path.read_text(encoding="utf-8"), Loader=Strict)["rules"]  # noqa: S506

"""Citation check: answer sentences + the evidence they cite -> a verdict per sentence.

A sentence is *supported* when, against the passages its ``[n]`` markers point at:

* every number it states is in them (``$48 million`` needs 48; ``18,000`` needs 18000);
* every month and every name (a capitalised word that is not a common sentence
  opener) is in them, their titles or outlets, or in the question;
* at least ``min_overlap`` of its content words (stemmed; a stem also matches a
  longer one it starts: "injur" ~ "injuri") occur in them;
* it bears on the question: its own words and those of what it cites hold at least
  ``min_relevance`` of the question's idf mass, or (a supporting sentence) it shares
  enough content words with the direct answer it supports.

The check never looks at how a sentence was produced: a model-written sentence and a
sentence quoted from a passage go through the same tests, and a quote that answers a
different question fails the last one. Markers that point at no shown passage are
dropped and counted. This module composes nothing and calls no model.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from rag.evidence import long_date
from rag.forms import asks_duration
from rag.lexical import (
    NAME_RUN,
    about,
    last_word_names,
    mentioned,
    question_terms,
    subject_terms,
    synonym_terms,
    terms,
    with_synonyms,
)
from rag.types import AnswerSentence, Evidence
from rag.words import COMMON_CAPS, IRREGULAR, MONTH_ABBR, MONTH_NAMES, MONTH_RE, MONTHS, ROLE_WORDS, WEEKDAY_NAMES

MARKER = re.compile(r"\s*\[(\d{1,3})\]")
NUMBER = re.compile(r"(?<![\w.])\$?\d[\d,]*(?:\.\d+)?%?")
CAPWORD = re.compile(r"\b[A-Z][a-zA-Z'’\-]+\b")
SMALL_NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
NUMBER_WORDS = set(SMALL_NUMBERS)
# a count written as a word is a figure too: "the strike lasted two weeks" needs "two" or "2" in the
# passage. Not "one", which is as often a pronoun ("one owner said", "one of the")
COUNT_WORD = re.compile(r"\b(" + "|".join(SMALL_NUMBERS[1:]) + r")\b", re.I)
COUNT_VALUE = {w: str(i) for i, w in enumerate(SMALL_NUMBERS, 1)}
_COUNT_SPAN = re.compile(r"\b(" + "|".join(SMALL_NUMBERS[1:]) + r")(?:[\s-]+[a-z]+)?[\s-]+(day|week|month|year)s?\b", re.I)


@dataclass(frozen=True)
class CheckResult:
    sentences: tuple[AnswerSentence, ...]  # every sentence with its verdict, in order
    dropped_markers: int

    @property
    def supported(self) -> tuple[AnswerSentence, ...]:
        return tuple(s for s in self.sentences if s.supported)


def strip_markers(text: str) -> str:
    return re.sub(r"\s+([.,;:!?])", r"\1", MARKER.sub("", text)).strip()


def markers(text: str) -> list[int]:
    return [int(x) for x in MARKER.findall(text)]


def norm_num(s: str) -> str:
    return s.replace(",", "").replace("$", "").rstrip("%").rstrip(".")


_ORDINAL = re.compile(
    r"\b(second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|\d+(?:st|nd|rd|th))\b", re.I
)


def without_name_numbers(text: str) -> str:
    """``text`` with the numbers that are part of a name dropped ("Arro 2", "Steam Deck 2",
    "Series 9"), dates kept ("October 2")."""
    return _MODEL_NUMBER.sub(lambda m: m.group(0) if m.group(1) in _CALENDAR else m.group(1), text)


def stated_facts(sentence: str) -> tuple[set[str], list[str], set[str]]:
    """(numbers, names, months) stated in a sentence."""
    nums = {norm_num(n) for n in NUMBER.findall(sentence)}
    nums = {n for n in nums if n}
    months = set(MONTH_RE.findall(sentence))
    # a possessive is its name ("Beeper Mini's servers" states "Mini", which the passage may hold bare)
    words = [re.sub(r"['’]s?$", "", w) for w in CAPWORD.findall(sentence)]
    names = list(dict.fromkeys(w for w in words if len(w) > 1 and w not in COMMON_CAPS and w not in months))
    # the first word of a sentence is capitalised anyway; it is a name only if it is not plain prose
    first = re.match(r"\W*([A-Z][a-zA-Z'’\-]+)", sentence)
    if first and first.group(1) in names and first.group(1).lower() in _PROSE_OPENERS:
        names.remove(first.group(1))
    return nums, names, months


_PROSE_OPENERS = {"because", "after", "since", "following", "owners", "shares", "prosecutors", "analysts", "police"}


def stem_match(a: str, pool: set[str]) -> bool:
    if a in pool:
        return True
    if len(a) < 4:
        return False
    return any((b.startswith(a) or a.startswith(b)) for b in pool if len(b) >= 4 and b[:4] == a[:4])


def _share(t: set[str], pool: set[str]) -> float:
    """Share of the terms ``t`` found in ``pool`` (stem-prefix match); 1.0 for no terms."""
    return sum(stem_match(x, pool) for x in t) / len(t) if t else 1.0


def overlap(text: str, pool_text: str) -> float:
    """Share of ``text``'s content terms found among ``pool_text``'s (stem-prefix match)."""
    return _share(set(terms(text)), set(terms(pool_text)))


_NUMBER_WORD = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|"
    r"billion|trillion|dozens?|half|twice|double|triple)\b",
    re.I,
)
_DATE_DIGITS = re.compile(
    rf"\b(?:{MONTHS}|{MONTH_ABBR})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,\s*(?:19|20)\d\d)?\b|"
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{MONTHS})\b|(?<![$\d.,])\b(?:19|20)\d\d\b(?![\d,.]\d)",
)
# a small number right after a capitalised word is part of a name ("Arro 2", "Steam Deck 2", "Windows 11"),
# but not the first figure of a score ("beat Calder City 2-1")
_CALENDAR = frozenset(MONTH_NAMES) | frozenset(MONTH_ABBR.split("|")) | frozenset(WEEKDAY_NAMES)
_MODEL_NUMBER = re.compile(
    r"\b([A-Z][\w-]*)\s+\d{1,2}\b(?![\d,%]|\.\d|\s?[-–]\s?\d|\s*(?:million|billion|thousand|percent|per\s?cent|years?|months?|weeks?|"
    r"days?|hours?|points?|goals?|votes?|people|times)\b)"
)
_PRONOUN_LED = re.compile(r"\W*(?:he|she|they|it|his|her|their|its|him|them)\b", re.I)
_PERCENT = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?\s*(?:%|percent\b|per\s?cent\b)", re.I)
_TIME_WORDS = re.compile(
    rf"\b(?:{MONTHS}|{MONTH_ABBR}|{'|'.join(WEEKDAY_NAMES)})\b|\b(?:19|20)\d\d\b|"
    r"\b(?:yesterday|today|tonight|tomorrow|ago|(?:last|next|this|that|same|following|previous)\s+(?:week|month|year|"
    r"season|weekend|morning|night|day|spring|summer|autumn|fall|winter|quarter)|(?:early|mid|late|end\s+of)\s*-?\s*\w+|"
    r"spring|summer|autumn|winter|quarter|\d{1,2}(?::\d\d)?\s*(?:a\.?m\.?|p\.?m\.?)|o'clock|noon|midnight|"
    r"(?:19|20)\d0s|century|decade)\b",
    re.I,
)


# the evidence headers give dates as 2023-12-12; an answer writes "December 12, 2023", so a
# sentence with such a date copied a header line ("The Independent, 2023-12-12, \"Erik ten Hag ...\"")
_HEADER_COPY = re.compile(r"\b(?:19|20)\d\d-\d\d-\d\d\b")
ASKED = {
    "amount": "the figure the question asks for",
    "count": "the number the question asks for",
    "time": "the time the question asks for",
    "person": "who the question asks about",
    "name": "the name the question asks for",
}
# "who was hurt?" may be answered without a name ("a worker"), and a "which company" question over
# passages that name no other company keeps the model's answer: preferred, not required
SOFT_ASKS = {"person", "name"}


def states(kind: str, text: str, question: str = "", outright_only: bool = True) -> bool:
    """Does ``text`` state what a question asks for (``rag.forms.asks_for``)? An "amount" is a
    number or a number word that is not a date and not one the question itself gives; a
    "count" is such an amount that is not a percentage; a "time" is a date, month, weekday,
    year or a relative time ("last week", "in the spring"); a "person" is a name the question
    does not already give, or a description of someone, not a bare pronoun. An amount or a
    count given only as a possibility, a demand or a ceiling (``outright``) does not count
    unless the question asks for one ("How much could ...") or ``outright_only`` is off: a
    passage quoted in place of an answer must state what happened, while the model's own
    sentence may say what it is ("He faces up to 50 years"; the check has already failed one
    that states a hedged figure as fact)."""
    if kind == "time":
        return bool(_TIME_WORDS.search(text))
    if kind == "name":  # "Which company supplied Kestrel's batteries?" is not answered by "Kestrel Mobility"
        asked = set(_name_tokens(question))
        bare = strip_markers(text)
        names = set(stated_facts(bare)[1])
        for run in re.finditer(r"[A-Z][\w&.-]*(?:['’]s?|(?:\s+[A-Z][\w&.-]*)*(?:['’]s?)?)", bare):  # "Amazon's" ends a name
            words = [w for w in run.group(0).split() if re.sub(r"['’]s?$", "", w) in names]
            if words and not any(t in asked for w in words for t in _name_tokens(w)):
                return True
        return False
    if kind == "person":  # a name, or a description ("an owner"), but not only a pronoun ("She replaces ...")
        asked = {w.lower() for w in re.findall(r"[\w'’-]+", question)}
        bare = strip_markers(text)
        return any(n.lower() not in asked for n in stated_facts(bare)[1]) or not _PRONOUN_LED.match(bare)
    if kind in ("amount", "count"):
        bare = strip_markers(text)
        if outright_only and not _HEDGE_SAID.search(question):  # "How many years did she get?" is not "faces up to 15 years"
            bare = outright(bare)
        bare = _MODEL_NUMBER.sub(r"\1", _DATE_DIGITS.sub(" ", bare))
        if kind == "count":  # a share is not a count ("how many went on strike?" is not "30%")
            bare = _PERCENT.sub(" ", bare)
        given = {norm_num(n) for n in NUMBER.findall(question)}
        given_words = {w.lower() for w in _NUMBER_WORD.findall(question)}
        nums = {norm_num(n) for n in NUMBER.findall(bare)} - given - {""}
        words = {w.lower() for w in _NUMBER_WORD.findall(bare)} - given_words
        if asks_duration(question) and re.search(r"\b(?:for|to|with|got|get|gets)\s+life\b", bare, re.I):
            return True  # "jailed for life"
        if not (nums or words):
            return False
        per = re.search(r"\b(?:per|each|every)\s+([a-z][\w-]*(?:\s+[a-z][\w-]*)?)", question, re.I)
        if per and terms(per.group(1)):  # "how much per battery cell": only a figure given per cell
            want = set(terms(per.group(1)))
            return any(any(stem_match(t, want) for t in terms(u)) for _, u in rates(bare))
        unit = _asked_unit(question)
        if unit is None or (kind == "count" and _BARE_FIGURE.fullmatch(bare)):
            return True  # "How many customers were affected?" -> "About 2.4 million.": the question names what is counted
        for m in _AMOUNT.finditer(bare):
            if norm_num(m.group(0)) in given or m.group(0).lower() in given_words:
                continue
            end = m.start() + len(m.group(0).rstrip(","))  # "54," in "Onyango, 54, takes over"
            lead = "$" if m.group(0).startswith("$") else ""  # the sign is part of the number's match
            if unit(bare[: m.start()] + lead, bare[end:]):
                return True
        return False
    return True


# what a "how long / how old / how far / how many X" question counts: the number must be of that
_AMOUNT = re.compile(NUMBER.pattern + "|" + _NUMBER_WORD.pattern, re.I)
# an answer that is only a figure ("2.4 million", "about 1,900."), nothing counted named after it
_BARE_FIGURE = re.compile(
    r"\s*(?:(?:about|around|roughly|nearly|almost|some|approximately|over|under|more\s+than|fewer\s+than|less\s+than|"
    r"at\s+least|up\s+to)\s+)?(?:" + NUMBER.pattern + "|" + _NUMBER_WORD.pattern + r")(?:\s+(?:million|billion|thousand|m|bn))?\s*[.!]?\s*",
    re.I,
)
_LENGTH_UNIT = re.compile(
    r"^[\s-]*(?:\w+[\s-]+)?(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|centur(?:y|ies)|"
    r"miles?|kilomet(?:re|er)s?|km|met(?:re|er)s?|feet|foot|yards?|innings|games|matches|seasons?)\b(?!\s+(?:later|ago|"
    r"earlier|after|before|into|on)\b)",
    re.I,
)
_AGE = re.compile(r"^[\s-]*(?:years?[\s-]+old|-?year-old)\b|^\s*\)", re.I)
_PEOPLE = frozenset(
    "people person persons workers employees staff members residents customers users passengers fans students children "
    "adults patients victims voters drivers officers soldiers troops civilians players families households".split()
)
_AGENT_NOUN = re.compile(r"^[a-z]+(?:ers|ors|ists|ians|ants|ents)$")
# a unit of measure right after a number makes it a size, a weight or a speed, not a count
_MEASURE = re.compile(r"^(?:[KMGTP]B|[kc]m|mm|kg|mg|lbs?|oz|mph|kph|GHz|MHz|Hz|mAh|Wh|kWh|kW|inch(?:es)?|ft)$")
_NOT_COUNTED = frozenset(
    "did do does has have had was were is are will would can could should may might been be of in the a an more".split()
)


# "how much was she paid", "what salary", "what was the fine": a sum of money, not "four counts";
# a rise, a cut, an offer or a share may be a percentage
_MONEY_ASKED = re.compile(
    r"\b(?:salar(?:y|ies)|prices?|priced|costs?|costing|fines?|fined|fees?|paid|pay|pays|paying|spend|spent|spending|"
    r"charged?|worth|valuation|valued|bail|compensation|damages|settle|settlement)\b",
    re.I,
)
_NOT_MONEY = re.compile(r"\b(?:rise|raise|increase|cut|offer|percent|percentage|share|stake|per\s*cent)\b", re.I)
_CURRENCY_BEFORE = re.compile(r"(?:[$€£¥]|\b(?:US|USD|EUR|GBP|A|C|HK|NZ|S)\$?\s?)$")
_CURRENCY_AFTER = re.compile(
    r"^\s*(?:(?:million|billion|thousand|trillion|m|bn|k|crore|lakh)\s+)?(?:dollars|euros?|pounds|sterling|yen|yuan|rupees|francs|cents|"
    r"usd|eur|gbp)\b",
    re.I,
)


def _asked_unit(question: str) -> Callable[[str, str], bool] | None:
    """For a question that names what it measures, a test of a number in an answer (the text
    before and after it): "how long" wants a duration or length ("six years", not "three weeks
    later"), "how old" an age, "how many goals" a count of goals ("15 goals", not "three
    models"; a count of people may name them "drivers" or "workers"). None: any number does."""
    q = " ".join(question.split())
    m = re.search(r"\bhow\s+(long|old|far|many)\b(.*)", q, re.I)
    if m is not None:
        kind = m.group(1).lower()
    elif asks_duration(q):
        kind = "long"  # "what prison sentence did he get?" asks how long
    elif _MONEY_ASKED.search(q) and not _NOT_MONEY.search(q):
        return lambda before, after: bool(_CURRENCY_BEFORE.search(before) or _CURRENCY_AFTER.match(after))
    else:
        return None
    if kind in ("long", "far"):
        return lambda before, after: bool(_LENGTH_UNIT.match(after)) or (
            kind == "long" and bool(re.match(r"^\s*life\b", after, re.I))
        )
    if kind == "old":
        return lambda before, after: (
            bool(_AGE.match(after))
            or bool(re.search(r"\b(?:aged?|at)\s*$", before, re.I))
            or (bool(re.search(r"[A-Za-z],\s*$", before)) and bool(re.match(r"^\s*,", after)))  # "Onyango, 54, ..."
        )
    counted: list[str] = []
    for w in re.findall(r"[\w'’-]+", m.group(2) if m else "")[:4]:
        if w.lower() in _NOT_COUNTED:
            break
        counted.append(w)
    if not counted or counted[0].lower() in ("times", "time"):
        return None  # "how many did ...", "how many times": any count
    people = any(w.lower() in _PEOPLE for w in counted)
    want = set(terms(" ".join(counted))) - set(terms(" ".join(w for w in counted if w[:1].isdigit())))

    def counts(before: str, after: str) -> bool:
        m = re.match(r"^[\s-]*([A-Za-z][\w’'-]*)(?:[\s-]+([A-Za-z][\w’'-]*))?", after)  # "15 goals", "1,900 transit workers"
        for w in m.groups() if m else ():
            if not w:
                continue
            if _MEASURE.match(w):
                return False  # "1 TB OLED" is a size, not one OLED
            low = w.lower()
            if people and (low in _PEOPLE or _AGENT_NOUN.match(low)):
                return True
            if any(stem_match(t, want) for t in terms(w.replace("-", " "))):
                return True
        return False

    return counts


def relevance(question: str, text: str, idf: Callable[[list[str]], dict[str, float]] | None = None) -> float:
    """Share of the question's idf mass (uniform weights without ``idf``) that ``text`` holds,
    over the terms of what the question is about (``question_terms``). A name of several words
    is held whole where its last word is written as a name: "Ferrand returned from injury" is
    about Mateo Ferrand as much as "Mateo Ferrand marked his return from injury"."""
    return term_share(question_terms(question), text + "".join(f" {n}" for n in last_word_names(question, text)), idf)


def term_share(q: list[str], text: str, idf: Callable[[list[str]], dict[str, float]] | None = None) -> float:
    """Share of the idf mass of the terms ``q`` that ``text`` holds (stem-prefix match); 1.0 for no terms."""
    if not q:
        return 1.0
    w = idf(q) if idf is not None else {x: 1.0 for x in q}
    total = sum(w.get(x, 0.0) for x in q) or 1.0
    pool = with_synonyms({IRREGULAR.get(t, t) for t in terms(text)})  # "paid" holds "pay", "price" holds "cost"
    same = synonym_terms()
    return sum(w.get(x, 0.0) for x in q if stem_match(IRREGULAR.get(x, x), pool) or same.get(x) in pool) / total


def _cited_text(cited: Sequence[Evidence]) -> str:
    return " ".join(f"{e.model_text} {e.title} {e.source} {_long_date(e.published_at)}" for e in cited)


def _long_date(iso: str) -> str:
    """A publication date as an answer writes it: "2023-10-16" supports "October 16, 2023", not a 10."""
    try:
        return long_date(date.fromisoformat(iso[:10]))
    except ValueError:
        return iso


_RATE = re.compile(
    r"(?<![\w.])(\$?\d[\d,]*(?:\.\d+)?%?)(?:\s+(?:million|billion|thousand|trillion|m|bn|k)\b)?(?:\s+[a-z]+){0,2}?"
    r"\s+(per|each|every|an?)\s+([a-z][\w-]*(?:\s+[a-z][\w-]*)?)",
)


def rates(text: str) -> list[tuple[str, str]]:
    """(number, what it is per) for each figure given as a rate in ``text``: "$3 per share",
    "$31 million per battery cell", "$5 a month", "12 goals each season". After "a"/"an" only
    a sum of money is a rate ("in 2023 a jury ..." is not)."""
    out = []
    for m in _RATE.finditer(text):
        if (m.group(2) in ("a", "an") and not m.group(1).startswith("$")) or not terms(m.group(3)):
            continue
        out.append((norm_num(m.group(1)), m.group(3)))
    return out


_UNIT_WORDS = {"bn": "billion", "m": "million", "tn": "trillion", "k": "thousand", "mln": "million"}
_UNIT_AFTER_DIGIT = re.compile(r"(?<=\d)\s?(bn|tn|mln|m|k)\b")


def _spell_figures(text: str) -> str:
    """``text`` with "$69bn" written "$69 billion", so a figure spelled out matches its abbreviation."""
    return _UNIT_AFTER_DIGIT.sub(lambda m: " " + _UNIT_WORDS[m.group(1)], text)


def _figure_text(text: str) -> str:
    """``text`` as figures are looked up in it: name numbers dropped, lower case, no thousands commas."""
    return without_name_numbers(text).lower().replace(",", "")


def _holds_figure(n: str, fig_text: str) -> bool:
    """Is the normalised figure ``n`` in ``fig_text`` (``_figure_text``) as a whole number, not
    digits inside a date or a longer number ("48" is not in "480", nor "10" in "2023-10-16")?"""
    return re.search(rf"(?<![\d.]){re.escape(n)}(?![\d]|\.\d)", fig_text) is not None


# where one claim of a sentence ends and the next begins ("A was 24,800, while B was 31,400")
# A third, idf-weighted: "the OLED model costs $549" keeps 0.43 of its mass in "512GB Steam Deck OLED
# ($549)"; "the Boxing Day game had a record crowd of 24,800" keeps 0.13 in the opening-day passage
CLAUSE_SHARE = 1 / 3
_CLAUSE = re.compile(r",\s*(?:while|whereas|but|and|compared with|followed by|then)\b|;|\s(?:while|whereas)\s", re.I)
# a day named as a holiday: it dates what the clause says as much as "December 26" would
_HOLIDAY = re.compile(
    r"\b(?:christmas(?:\s+(?:eve|day))?|boxing\s+day|new\s+year['’]?s\s+(?:eve|day)|halloween|thanksgiving(?:\s+day)?|"
    r"independence\s+day|fourth\s+of\s+july)\b",
    re.I,
)


# a figure a passage gives only as a possibility, a demand or a ceiling ("guidelines suggest a
# sentence of 12 to 18 months", "faces up to 20 years", "the union asked for 9%") is not what
# happened: a sentence stating it must say so too ("could", "faces", "asked for", ...)
# ("up to" and "as much as" only before a figure: "woke up to empty stops" hedges nothing)
_HEDGE_WORDS = (
    r"suggest\w*|could|might|(?-i:may)(?!\s+\d)|(?:up\s+to|as\s+much\s+as)(?=\s+(?:[$€£]?\d|an?\s|"
    + "|".join(SMALL_NUMBERS[1:])
    + r"))|fac(?:e|es|ing)|guideline\w*|propos\w*|"
    r"potential\w*|possibl\w*|seek\w*|sought|demand\w*|ask(?:s|ed|ing)? for|recommend\w*|maximum|punishable|"
    r"carr(?:y|ies|ied|ying)\s+(?:an?\s+)?(?:\w+\s+)?(?:sentence|penalty|penalties|term|fine)s?"
)
# a sentence may also say it is hedged in words a passage uses for plans and estimates
_HEDGE_SAID_WORDS = r"would|expect\w*|likely|plan\w*|want\w*|estimat\w*|request\w*|offer\w*|if|unless|call\w* for"
_HEDGE_SOURCE = re.compile(rf"\b(?:{_HEDGE_WORDS})\b", re.I)
_HEDGE_SAID = re.compile(rf"\b(?:{_HEDGE_WORDS}|{_HEDGE_SAID_WORDS})\b", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[A-Z0-9\"“])")
_CONDITION = re.compile(r"\W*(?:if|unless|should)\b", re.I)
_FIGURE_CLAUSE = re.compile(r"[,;:()—–]|\.\s|\s(?:while|whereas|but)\s")
_OUTRIGHT_CLAUSE = re.compile(r"([,:](?=\s)|[;()—–]|\.\s|\s(?:while|whereas|but)\s)")  # "$1,199" stays whole


def outright(text: str) -> str:
    """``text`` without the clauses that give a figure only as a possibility, a demand or a
    ceiling ("Each charge carries a sentence of one to 15 years", "prosecutors sought 10 years")
    and without sentences that open with a condition: what it states as having happened."""
    kept = []
    for sentence in _SENTENCE_END.split(text):
        if _CONDITION.match(sentence):
            continue
        parts = _OUTRIGHT_CLAUSE.split(sentence)  # clauses, with the marks between them kept
        kept.append("".join(" " if i % 2 == 0 and _HEDGE_SOURCE.search(p) else p for i, p in enumerate(parts)))
    return " ".join(kept)


def _hedged_figure(n: str, cited: Sequence[Evidence]) -> str:
    """The clause of the cited passages that gives the figure ``n`` only hedged, when every clause
    that gives it is hedged; '' when one states it outright (or none gives it as digits)."""
    found = []
    for e in cited:
        for sentence in _SENTENCE_END.split(e.model_text):
            # "If he fails to pay within two years, another 18 months will be added": every clause
            # of a sentence that opens with a condition is conditional
            conditional = bool(_CONDITION.match(sentence))
            for clause in _FIGURE_CLAUSE.split(sentence):
                if any(norm_num(x) == n for x in NUMBER.findall(without_name_numbers(clause))):
                    found.append((clause.strip(), conditional))
    if found and all(cond or _HEDGE_SOURCE.search(c) for c, cond in found):
        return found[0][0]
    return ""


# a name is its words in their order: "Tessaro Energy" is not in passages that name "Tessaro Cells"
# and "Norvik Energy", nor "Northfield Rovers" in one that says "Rovers" under the outlet
# "Northfield Courier"; one word may come between ("Jack “Jacksfilms” Douglass")
_NOT_NAME_PART = COMMON_CAPS | ROLE_WORDS | frozenset(MONTH_NAMES) | frozenset(WEEKDAY_NAMES)
_INITIALS = re.compile(r"\b([A-Za-z])\.\s?(?=[A-Za-z]\b\.?)")  # "U. S." and "U.S." are "US"


def _name_tokens(text: str) -> list[str]:
    """Lower-case word tokens, a possessive's "'s" and a plural's "s" dropped ("Apple Watches")."""
    words = re.findall(r"[a-z0-9]+", re.sub(r"['’]s\b", "", _INITIALS.sub(r"\1", text).lower()))
    return [w[:-2] if w.endswith("es") and len(w) > 4 else w[:-1] if w.endswith("s") and len(w) > 3 else w for w in words]


def _split_name(body: str, cited: Sequence[Evidence], question: str) -> str:
    """Two adjacent words of a name in ``body`` that the cited passages (with their titles and
    outlets) both hold but never together (at most one word apart), nor the question, where a
    passage or outlet writes one of them in another name ("Tessaro Cells", "Northfield Courier");
    '' when there are none. "Sam" in a headline's "Sam and I" and "Altman" in the text are Sam
    Altman; a word they do not hold at all is the plain name check's business."""
    fields = [f for e in cited for f in (e.model_text, e.title, e.source)]
    seqs = [_name_tokens(f) for f in [*fields, question]]
    held = {t for seq in seqs[:-1] for t in seq}
    prose = set(re.findall(r"\b[a-z]{2,}\b", " ".join(fields)))
    after: dict[str, set[str]] = {}  # the words that follow / precede a word inside the passages' names
    before: dict[str, set[str]] = {}
    for f in (f for e in cited for f in (e.model_text, e.source)):
        for run in NAME_RUN.finditer(_INITIALS.sub(r"\1", f)):
            parts = [_name_tokens(w) for w in run.group(0).split() if w.rstrip(".") not in _NOT_NAME_PART]
            for x, y in itertools.pairwise(p for p in parts if p):
                after.setdefault(x[-1], set()).add(y[0])
                before.setdefault(y[0], set()).add(x[-1])

    def together(a: str, b: str) -> bool:
        return any(t == a and b in seq[i + 1 : i + 3] for seq in seqs for i, t in enumerate(seq))

    body = _INITIALS.sub(r"\1", body.strip())
    for m in NAME_RUN.finditer(body):
        words = m.group(0).split()
        for i, (a, b) in enumerate(itertools.pairwise(words)):
            if re.search(r"['’]s?$", a):
                continue  # a possessive ends a name: "Kestrel's Arro 2"
            a, b = a.rstrip("."), b.rstrip(".")
            ta, tb = _name_tokens(a), _name_tokens(b)
            if a in _NOT_NAME_PART or b in _NOT_NAME_PART or not ta or not tb:
                continue
            if m.start() == 0 and i == 0 and a.lower() in prose:
                continue  # the sentence's first word, written in lower case in the passage: prose
            x, y = ta[-1], tb[0]
            if x in held and y in held and not together(x, y) and (after.get(x, set()) - {y} or before.get(y, set()) - {x}):
                return f"{a} {b}"
    return ""


def _borrowed_figure(
    body: str, cited: Sequence[Evidence], q_nums: set[str], idf: Callable[[list[str]], dict[str, float]] | None = None
) -> str:
    """A clause whose figures all come from one cited passage must also say what that passage
    says (``CLAUSE_SHARE`` of its words' idf mass, the question's words included), not borrow the number for something else
    ("the Boxing Day game had a record crowd of 24,800", where 24,800 was opening day's crowd
    and the record crowd was in another passage). Returns the reason, or ''."""
    for clause in _CLAUSE.split(body):
        nums = stated_facts(without_name_numbers(clause))[0] - q_nums
        if not nums:
            continue
        holders = [e for e in cited if all(_holds_figure(n, _figure_text(e.model_text)) for n in nums)]
        # the clause's own words, the question's included: in a comparison they say which side it is about
        own = [t for t in dict.fromkeys(terms(_spell_figures(clause))) if not t[0].isdigit()]
        if holders and own and not any(term_share(own, _spell_figures(e.model_text), idf) >= CLAUSE_SHARE for e in holders):
            return f"the figure {sorted(nums)[0]} is from a passage about something else"
        # nor date it by another passage's day: "a 3-1 win over Ashby Town on New Year's Day" where the
        # 3-1 was opening day's and New Year's Day the date of a game still to be played
        days = {" ".join(d.lower().replace("’", "'").split()): d for d in _HOLIDAY.findall(clause)}
        said = [" ".join(e.model_text.lower().replace("’", "'").split()) for e in holders]
        if holders and days and not any(all(d in t for d in days) for t in said):
            return f"the figure {sorted(nums)[0]} is from a passage that does not give {next(iter(days.values()))} as its day"
    return ""


# --------------------------------------------------------------------- who won
# a result is credited to the side the passage says won: "Rovers played Calder City on October 21,
# winning 2-0" over "Northfield Rovers lost their unbeaten record ... as Calder City won 2-0" has
# every word and figure of the passage and says the opposite
_SIDE = r"[A-Z][\w'’.&-]*(?:\s+[A-Z][\w'’.&-]*)*"
_WIN_VERB = r"(?:won|wins|beat|beats|defeated|defeats|edged|edges|thrashed|thrashes|routed|routs|downed|overcame)"
_SCORE = re.compile(r"(?<![\w.$£€-])\d{1,2}\s?[-–]\s?\d{1,2}(?![\w%-]|\.\d)")
_NOT_SIDE = frozenset("The A An In On At After Before During When While As But And Then No".split())


def _side_words(name: str) -> set[str]:
    return {w.lower() for w in name.split() if w not in _NOT_SIDE}


def _winner(text: str, at: int) -> str:
    """Who ``text`` says won by the score at ``at``: the name before a win verb shortly before
    it ("Calder City won 2-0", "Rovers beat league leaders Calder City 2-1"), or, for ", winning
    2-0", the name its sentence opens with; '' when it does not say."""
    start = text.rfind(". ", 0, at)
    before = text[start + 2 if start >= 0 else 0 : at]
    last = next(reversed(list(re.finditer(rf"({_SIDE})\s+{_WIN_VERB}\b", before))), None)
    if last is not None and not re.search(r"[.;]", before[last.end() :]) and len(before[last.end() :].split()) <= 6:
        return last.group(1)
    if re.search(r",\s*(?:winning|beating|defeating)\b[^,.;]{0,40}$", before):
        first = re.match(rf"\s*({_SIDE})", before)
        return first.group(1) if first else ""
    return ""


def swapped_winner(body: str, cited: Sequence[Evidence]) -> str:
    """The reason ``body`` fails when it credits a score to one side and a cited passage credits
    the same score to another side that ``body`` also names; else ''. A side the passage calls by
    a name ``body`` does not use ("Arizona" for "the Wildcats") is not judged."""
    def key(score: str) -> str:
        return re.sub(r"\s", "", score).replace("–", "-")

    for s in _SCORE.finditer(body):
        said = _winner(body, s.start())
        if not said:
            continue
        rest = _side_words(body[: s.start()] + " " + body[s.end() :])
        for e in cited:
            for t in _SCORE.finditer(e.model_text):
                if key(t.group(0)) != key(s.group(0)):
                    continue
                won = _winner(e.model_text, t.start())
                if won and not (_side_words(won) & _side_words(said)) and _side_words(won) & rest:
                    return f"the cited passage says {won} won {t.group(0)}"
    return ""


# what the direct answer gives as the reason, the occasion or the means ("because …", "after …",
# "by having …")
_CAUSE = re.compile(
    r"\b(?:because(?:\s+of)?|due\s+to|as\s+a\s+result\s+of|owing\s+to|in\s+response\s+to|after|since|following"
    r"|by\s+(?=\w+ing\b))",
    re.I,
)


def naming_articles(names: Sequence[str], evidence: Sequence[Evidence], outlet: bool = False) -> set[str]:
    """The articles of ``evidence`` with a passage found (or title; with ``outlet``, its outlet)
    that names one of the name terms ``names``."""
    return {e.article_id for e in evidence if mentioned(names, f"{e.source if outlet else ''} {e.title} {e.model_text}")}


def borrowed_reason(
    body: str,
    cited: Sequence[Evidence],
    evidence: Sequence[Evidence],
    question: str,
    idf: Callable[[list[str]], dict[str, float]] | None = None,
) -> str:
    """A reason the direct answer gives for what the question is about must come from an article
    about it: "YouTube pulled SSSniperwolf's ad money because the October US Copyright Office
    filing from Google has definitely put the cat amongst the pigeons at Sony Music HQ" joins a
    sentence of an article on Sony Music to the question's subject. What follows "because", "due
    to", "after", "by" + a verb's -ing form … is looked for in the cited passages
    (``CLAUSE_SHARE`` of its words beyond the question's); when the passages holding it are all
    from articles none of whose passages found name the question's most specific name (the one
    the fewest of the articles found name, at least one: an outlet named only as a source is
    skipped), the reason is borrowed. Returns the reason, or ''."""
    m = _CAUSE.search(body)
    names = subject_terms(question)
    if not m or not names:
        return ""
    q_terms = set(terms(question))
    own = [t for t in dict.fromkeys(terms(_spell_figures(body[m.end() :]))) if not t[0].isdigit() and not stem_match(t, q_terms)]
    holders = [e for e in cited if own and term_share(own, _spell_figures(e.model_text), idf) >= CLAUSE_SHARE]
    if not holders:
        return ""
    # the most specific name: the one the fewest of the articles found name (at least one does)
    naming_of = {t: naming_articles([t], evidence) for t in names}
    weight = idf(names) if idf is not None else {}
    named = sorted((t for t in names if naming_of[t]), key=lambda t: (len(naming_of[t]), -weight.get(t, 0.0)))
    if not named:
        return ""
    key, naming = named[0], naming_of[named[0]]
    if any(e.article_id in naming for e in holders):
        return ""
    word = next((re.sub(r"['’]s?$", "", w) for w in re.findall(r"[\w'’-]+", question) if key in terms(w)), key)
    return f"the reason it gives is from a passage about something else (its article does not name {word})"


# a passage that says the reason is not known ("In October, ElectraMeccanica inexplicably pulled the
# plug on that exit", "declined to say why", "for undisclosed reasons"): a reason an answer gives
# resting on it is made up, and the honest answer to "why?" is that the articles do not say
_UNEXPLAINED = re.compile(
    r"\b(?:inexplicabl[ey]|unexplained|for\s+(?:undisclosed|unknown|unspecified)\s+reasons|"
    r"(?:gave|gives|giving|give|offered|offering|provided|providing)\s+no\s+(?:reason|explanation)|"
    r"without\s+(?:giving\s+|offering\s+|providing\s+)?(?:a\s+|any\s+)?(?:reason|explanation)|"
    r"(?:did|does|do|would)\s+not\s+(?:say|explain)\s+why|declined\s+to\s+(?:say|explain)\s+why|"
    r"(?:it\s+is|it['’]s|it\s+was|it\s+remains|remains)\s+(?:unclear|not\s+clear)\s+why|"
    r"no\s+(?:reason|explanation)\s+(?:was|has\s+been)\s+given)\b",
    re.I,
)
NO_REASON = "the passage it rests on says no reason is known"


def unexplained(
    body: str, cited: Sequence[Evidence], question: str = "", idf: Callable[[list[str]], dict[str, float]] | None = None
) -> Evidence | None:
    """The cited passage that says the reason is not known, when the reason ``body`` gives
    ("… because it inexplicably pulled the plug on that exit in October") says so itself, or
    rests only on such passages (those holding ``CLAUSE_SHARE`` of its words beyond the
    question's) that name what the question names: "observation balloons … had stopped
    working for unknown reasons" does not make "Why did Israel's defences fail?" unexplained.
    Else None."""
    m = _CAUSE.search(body)
    if not m:
        return None
    said = [e for e in cited if _UNEXPLAINED.search(e.model_text)]
    if not said:
        return None
    clause = body[m.end() :]
    if _UNEXPLAINED.search(clause):
        return said[0]
    q_terms = set(terms(question))
    own = [t for t in dict.fromkeys(terms(clause)) if not stem_match(t, q_terms)]
    holders = [e for e in cited if own and term_share(own, e.model_text, idf) >= CLAUSE_SHARE]
    names = subject_terms(question)
    if holders and all(e in said for e in holders) and names and all(mentioned(names, e.model_text) for e in holders):
        return holders[0]
    return None


def _first_clause(sentence: str) -> str:
    """The sentence's first clause as a sentence of its own (no markers), when it has more than
    one clause and the first says something (four words or more); else ''."""
    parts = _CLAUSE.split(strip_markers(sentence).strip(), maxsplit=1)
    if len(parts) < 2 or len(parts[0].split()) < 4:
        return ""
    return parts[0].rstrip(" ,;") + "."


def check_sentence(
    sentence: str,
    cited: Sequence[Evidence],
    question: str = "",
    idf: Callable[[list[str]], dict[str, float]] | None = None,
    min_overlap: float = 0.5,
    min_relevance: float = 0.25,
    answer: str = "",
    headline: bool = False,
) -> tuple[bool, str]:
    """Is ``sentence`` supported by the evidence it cites, and does it bear on the question?
    ``answer``: for a supporting sentence, the direct answer it supports. ``headline``: the cited
    passages bear on the question through their articles' headlines too (for the model's direct
    answer; a quote must bear on it by its own words). Returns (ok, reason)."""
    body = strip_markers(sentence)
    if not cited:
        return False, "cites no passage"
    ev_text = _cited_text(cited)
    ev_low = ev_text.lower()
    ev_figures = without_name_numbers(ev_text)  # "Arro 2" is a name: it does not support "from 14 to 2"
    ev_nums = {norm_num(n) for n in NUMBER.findall(ev_figures)}
    ev_fig_low = _figure_text(ev_text)
    q_low = question.lower()
    nums = stated_facts(without_name_numbers(body))[0]
    _, names, months = stated_facts(body)
    q_nums = {norm_num(n) for n in NUMBER.findall(question)}
    # a figure is not supported by the digits of a date ("got 15 years" by "Friday (December 15,
    # 2023)"), unless the sentence gives it as a date too
    in_dates = {norm_num(x) for d in _DATE_DIGITS.findall(without_name_numbers(body)) for x in NUMBER.findall(d)}
    undated = _DATE_DIGITS.sub(" ", ev_text)
    undated_nums = {norm_num(n) for n in NUMBER.findall(without_name_numbers(undated))}
    undated_low = _figure_text(undated)
    for n in sorted(nums - q_nums):  # a figure the question itself gives is the asker's premise
        pool, low = (ev_nums, ev_fig_low) if n in in_dates else (undated_nums, undated_low)
        if n not in pool and not _holds_figure(n, low):
            return False, f"the number {n} is not in the cited passage"
    for m in sorted(months):
        if m.lower() not in ev_low:  # the publication date is in ev_text written out
            return False, f"the date {m} is not in the cited passage"
    for o in sorted({w.lower() for w in _ORDINAL.findall(body)}):  # "second in the table" is a figure too
        if not re.search(rf"\b{o}\b", ev_low) and not re.search(rf"\b{o}\b", q_low):
            return False, f"'{o}' is not in the cited passage"
    count_text = undated_low  # "October 2" does not say "two"
    for w in sorted({w.lower() for w in COUNT_WORD.findall(body)}):
        if not re.search(rf"\b{w}\b", ev_low) and not re.search(rf"\b{w}\b", q_low) and not _holds_figure(COUNT_VALUE[w], count_text):
            return False, f"'{w}' is not in the cited passage"
    # a count of days, weeks, months or years is that count of that unit: "lasted for two weeks" is
    # not in "5.5% over two years ... now in its second week"
    for w, unit in sorted({(w.lower(), u.lower()) for w, u in _COUNT_SPAN.findall(body)}):
        said = rf"\b(?:{w}|{COUNT_VALUE[w]})(?:[\s-]+[a-z]+)?[\s-]+{unit}s?\b"
        if not re.search(said, count_text) and not re.search(said, q_low):
            return False, f"'{w} {unit}s' is not in the cited passage"
    if not _HEDGE_SAID.search(body):
        for n in sorted(nums - q_nums):
            if hedged := _hedged_figure(n, cited):
                return False, f"the cited passage gives {n} only as a possibility (“{hedged}”)"
    if clash := _borrowed_figure(body, cited, q_nums, idf):
        return False, clash
    if swapped := swapped_winner(body, cited):
        return False, swapped
    given = rates(ev_text)
    for n, unit in rates(body):  # "$31 million per battery cell" needs the passage's figure to be per cell too
        if not any(m == n and any(stem_match(t, set(terms(u))) for t in terms(unit)) for m, u in given):
            return False, f"the cited passage does not give {n} per {unit}"
    missing = [w for w in names if w.lower() not in ev_low and w.lower() not in q_low]
    if missing:
        return False, f"the name {missing[0]} is not in the cited passage"
    if split := _split_name(body, cited, question):
        return False, f"the name {split} is not in the cited passage (its words are, apart)"
    # what the sentence adds to the question must be in the passage: a sentence that restates a
    # long question around its answer ("Apple is known for its stance on privacy and ...") is
    # judged on the answer, the question's words being the asker's premises
    q_terms = set(terms(question))
    own = set(terms(_spell_figures(body)))
    added = {t for t in own if not stem_match(t, q_terms)} if q_terms else own
    if own and not added:
        return False, "it only restates the question"
    ov = _share(added, set(terms(_spell_figures(ev_text))))
    if ov < min_overlap:
        return False, f"too different from the cited passage (word overlap {ov:.2f})"
    if question and about(question):  # "Summarize the article." names nothing a passage could bear on
        # the passage of a direct answer bears on the question through its article's headline too:
        # "The price has been cut to $1,199 ..." is about the Arro 2 because it is in "Kestrel restarts
        # Arro 2 sales ..."; a quote shown under the answer must bear on it by its own words
        rel = relevance(question, body + " " + " ".join(f"{e.model_text} {e.title}" if headline else e.model_text for e in cited), idf)
        if rel < min_relevance:
            if answer and overlap(strip_markers(answer), body) >= 0.5 and len(set(terms(strip_markers(answer)))) >= 1:
                return True, ""
            return False, f"the cited passage does not bear on the question (relevance {rel:.2f})"
    return True, ""


def check_answer(
    sentences: Sequence[AnswerSentence],
    evidence: Sequence[Evidence],
    question: str,
    idf: Callable[[list[str]], dict[str, float]] | None = None,
    min_overlap: float = 0.5,
    min_relevance: float = 0.25,
    asks: str = "",
) -> CheckResult:
    """Check every sentence against the passages it cites; markers outside ``evidence`` are
    dropped. Supporting sentences are also accepted when they bear on the direct answer.
    ``asks`` (``rag.forms.asks_for``): a direct answer must also state what the question asks
    for, an amount or a time ("Zhao's sentencing is set for February" does not say how long)."""
    by_n = {e.n: e for e in evidence}
    out: list[AnswerSentence] = []
    dropped = 0
    direct = next((s.text for s in sentences if s.role == "answer"), "")
    for s in sentences:
        valid = tuple(dict.fromkeys(n for n in s.cites if n in by_n))
        dropped += len([n for n in s.cites if n not in by_n])
        if s.role == "conflict":  # a statement about the passages themselves: checked when made
            out.append(replace(s, cites=valid, supported=bool(valid), reason="" if valid else "cites no passage"))
            continue
        ok, why = check_sentence(
            s.text, [by_n[n] for n in valid], question, idf, min_overlap, min_relevance,
            answer=direct if s.role == "support" else "", headline=s.role == "answer",
        )  # fmt: skip
        if s.role == "answer" and _HEADER_COPY.search(s.text):
            ok, why = False, "it copies a passage's header (outlet, date, title), not what the passage says"
        elif (
            ok
            and s.role == "answer"
            and (borrowed := borrowed_reason(strip_markers(s.text), [by_n[n] for n in valid], evidence, question, idf))
        ):
            ok, why = False, borrowed
        elif ok and s.role == "answer" and unexplained(strip_markers(s.text), [by_n[n] for n in valid], question, idf) is not None:
            ok, why = False, NO_REASON
        elif ok and asks and s.role == "answer" and not states(asks, s.text, question, outright_only=False):
            ok, why = False, f"it does not state {ASKED[asks]}"
        if not ok and s.role == "answer" and valid and (head := _first_clause(s.text)):
            # "A was 24,800, while B was 24,800": the first claim may stand without the unsupported
            # second, citing the one passage that supports it if one does
            for use in [(n,) for n in valid] + ([valid] if len(valid) > 1 else []):
                text = head + " " + " ".join(f"[{n}]" for n in use)
                h_ok, _ = check_sentence(text, [by_n[n] for n in use], question, idf, min_overlap, min_relevance, headline=True)
                if h_ok and not _HEADER_COPY.search(text) and (not asks or states(asks, text, question, outright_only=False)):
                    s, valid, ok, why = replace(s, text=text), use, True, ""
                    break
        out.append(replace(s, cites=valid, supported=ok, reason=why))
    return CheckResult(tuple(out), dropped)

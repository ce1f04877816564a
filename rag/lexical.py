"""Lexical analysis shared by the BM25 index, query parsing and evidence selection.

One tokenizer for everything lexical (bm25s's tokenizer with English stop words and the
Snowball English stemmer from PyStemmer), so index-time and query-time terms always agree.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from rag.words import COMMON_CAPS, FRAME_WORDS, ROLE_WORDS

TOKEN_PATTERN = r"(?u)\b\w\w+\b"
_WORD = re.compile(TOKEN_PATTERN)


@functools.lru_cache(maxsize=1)
def stemmer() -> Any:
    import Stemmer  # PyStemmer

    return Stemmer.Stemmer("english")


@functools.lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def terms(text: str) -> list[str]:
    """Lower-cased, stop-word-free, stemmed terms of ``text`` (the BM25 vocabulary)."""
    sw = stopwords()
    words = [w for w in _WORD.findall(text.lower()) if w not in sw]
    return list(stemmer().stemWords(words)) if words else []


def import_bm25s() -> Any:
    """``bm25s``, imported lazily. Its import pins its logger to DEBUG, which printed a debug
    line on every build; the logger is put back to following the application's logging."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.NOTSET)
    return bm25s


def tokenize_many(texts: list[str], show_progress: bool = False) -> list[list[str]]:
    """``terms`` for many texts (bm25s's own tokenizer, same settings)."""
    bm25s = import_bm25s()

    out = bm25s.tokenize(
        texts,
        lower=True,
        token_pattern=TOKEN_PATTERN,
        stopwords="en",
        stemmer=stemmer(),
        return_ids=False,
        show_progress=show_progress,
    )
    return out  # type: ignore[return-value]


@functools.lru_cache(maxsize=1)
def question_words() -> frozenset[str]:
    """Terms of the words that only shape a question (who, what, did, does, ...): BM25's
    English stop-word list keeps them, but they say nothing about what is asked."""
    from rag.words import AUXILIARIES, WH_WORDS

    return frozenset(terms(" ".join(w for w in (*WH_WORDS, *AUXILIARIES) if "'" not in w)))


@functools.lru_cache(maxsize=1)
def frame_terms() -> frozenset[str]:
    """Terms of the words that frame a question ("what happened", "how many", "summarize"):
    they say what shape the answer takes, not what it is about."""
    return frozenset(terms(" ".join(sorted(FRAME_WORDS))))


@functools.lru_cache(maxsize=1)
def request_terms() -> frozenset[str]:
    """Terms of ``REQUEST_WORDS``."""
    from rag.words import REQUEST_WORDS

    return frozenset(terms(" ".join(sorted(REQUEST_WORDS))))


@functools.lru_cache(maxsize=1)
def synonym_terms() -> dict[str, str]:
    """Each term of a ``SYNONYMS`` group mapped to its group's first term."""
    from rag.words import SYNONYMS

    out: dict[str, str] = {}
    for line in SYNONYMS:
        group = list(dict.fromkeys(terms(line)))
        for t in group:
            out.setdefault(t, group[0])
    return out


def with_synonyms(present: set[str]) -> set[str]:
    """``present`` with the group term (``synonym_terms``) of each term it holds: a question's
    term ``x`` is held when ``x`` or ``synonym_terms().get(x)`` is in the result."""
    same = synonym_terms()
    return present | {same[t] for t in present if t in same}


def query_terms(query: str) -> list[str]:
    """Distinct terms of a question without its question words (all of them if nothing else is left)."""
    q = list(dict.fromkeys(terms(query)))
    qw = question_words()
    return [t for t in q if t not in qw] or q


def about(question: str) -> list[str]:
    """The terms of what a question is about, none when only words that frame it are left
    ("Summarize the article.", "What happened?"), unlike ``question_terms``."""
    frame = frame_terms()
    if not _FARE_VERB.search(question):  # "bus fares", "did fares go up?": the noun is what is asked
        frame = frame - {"fare"}
    return [t for t in query_terms(question) if t not in frame]


# "How did Ireland fare?" frames the question; "Are bus fares going up?" asks about fares
_FARE_VERB = re.compile(r"\bhow\b.*\bfar(?:e|ed|ing)\b(?!\s+(?:rise|increase|hike|freeze|cut|price)s?\b)", re.I)


def question_terms(question: str) -> list[str]:
    """The terms of what a question is about: its terms minus the words that frame it (all of
    its terms when nothing else is left)."""
    return about(question) or query_terms(question)


_CAP_WORD = re.compile(r"(?<![\w'’])[A-Z][\w'’&.-]*")
_FIRST_WORD = re.compile(r"\s*\S+")


def subject_terms(question: str, outlet_spans: Sequence[tuple[int, int]] = ()) -> list[str]:
    """Terms of the names a question is about: its capitalised words after its first word (a
    question's opener is capitalised for being first: "What's", "Sum up", "Kestrel's" alike),
    outside the outlet mentions ``outlet_spans``, leaving out words capitalised for other reasons
    (``COMMON_CAPS``: months, "The", question words)."""
    first = _FIRST_WORD.match(question)
    skip = first.end() if first else 0
    inside = sorted(outlet_spans)
    words = [
        m.group(0)
        for m in _CAP_WORD.finditer(question)
        if m.start() >= skip and m.group(0) not in COMMON_CAPS and not any(a <= m.start() < b for a, b in inside)
    ]
    return list(dict.fromkeys(t for w in words for t in terms(w)))


# offices and bodies a style guide may write in lower case ("House speaker", "the senate")
OFFICES = frozenset("Speaker House Senate Congress Parliament Court Cabinet Committee Council Government Party".split())


def lone_names(question: str) -> dict[str, Callable[[str], bool]]:
    """The one-word names of a question (a capitalised word after its first word whose
    neighbours are not capitalised, not an office: "Cruise", "Meta", "the Fed"), each term with
    a test of whether a text writes the word capitalised. Such a name written in lower case is
    another word ("cruised", "a dinner cruise", "fed up"). A word of a longer name of the
    question is left out ("the trust" still means the Glenmoor Housing Trust), and a longer name
    in the text passes ("Marcus Delane" is Delane, so "Tom Cruise" passes for Cruise too)."""
    first = _FIRST_WORD.match(question)
    skip = first.end() if first else 0
    caps = [m for m in _CAP_WORD.finditer(question) if m.start() >= skip]
    out: dict[str, Callable[[str], bool]] = {}
    for i, m in enumerate(caps):
        word = m.group(0)
        if word in COMMON_CAPS or word in ROLE_WORDS or word in OFFICES or (not word[1:].islower() and not word.isupper()):
            continue  # "iPhone", "McDonald's" are kept whole by their own capitals; "the Senate" is "the senate" too
        prev = caps[i - 1] if i else None
        joined = prev is not None and not question[prev.end() : m.start()].strip()
        joined = joined or bool(re.match(r"\s*[A-Z0-9]", question[m.end() :]))
        ts = terms(word)
        if joined or len(ts) != 1:
            continue
        stem = _bare(word)[: max(3, len(ts[0]))]
        out[ts[0]] = re.compile(rf"(?<![\w'’]){re.escape(stem[0])}(?i:{re.escape(stem[1:])})").search  # "Nobel", "NOBEL"
    return out


def _bare(word: str) -> str:
    """A name's word without its possessive: "Ferrand's" -> "Ferrand"."""
    return re.sub(r"(?:['’]s|['’])$", "", word)


NAME_RUN = re.compile(r"\b[A-Z][\w'’&.-]*(?:\s+[A-Z][\w'’&.-]*)+")  # "Mateo Ferrand", "AT&T Mobility"


def last_word_names(question: str, text: str) -> list[str]:
    """The names of two or more capitalised words of ``question`` (after its first word) whose last
    word ``text`` writes capitalised on its own: "Ferrand returned" names Mateo Ferrand, "watch
    the game" does not name the Apple Watch."""
    first = _FIRST_WORD.match(question)
    out = []
    for m in NAME_RUN.finditer(question, first.end() if first else 0):
        last = _bare(m.group(0).split()[-1])
        if len(last) > 2 and re.search(rf"(?<![\w'’]){re.escape(last)}(?![\w-])", text):
            out.append(m.group(0))
    return out


def claim_terms(question: str) -> list[str]:
    """What a question asks about its subject: its terms (``question_terms``) minus those of
    the names it is about ("What new controls has the Glenmoor Housing Trust brought in?" ->
    new, control, brought). A passage that holds only the names is about the subject, not
    about what was asked."""
    names = set(subject_terms(question))
    question = re.sub(r"\b(?:end|ends|ended|ending)\s+up\b", " ", question, flags=re.I)  # "did it end up paying": framing
    return [t for t in question_terms(question) if t not in names]


# a post written either way: "CEO" or "chief executive" ("What did Kestrel's CEO say?" over "Chief
# executive Maren Solberg apologised"); a text holding one holds the other's terms too
_POSTS = (("ceo", ("chief", "execut")), ("cfo", ("chief", "financi")), ("coo", ("chief", "oper")), ("cto", ("chief", "technolog")))


def with_posts(present: set[str]) -> set[str]:
    """``present`` with the terms of each post it holds written the other way."""
    out = present
    for short, long in _POSTS:
        if short in present and not present.issuperset(long):
            out = out | set(long)
        elif short not in present and present.issuperset(long):
            out = out | {short}
    return out


_DEMONYM = ("ian", "an", "n", "ese", "ish", "i")
# demonyms that are not their place's name plus an ending
_PLACE_OF = (
    "Chinese China, Israeli Israel, British Britain, French France, Spanish Spain, Turkish Turkey, "
    "Polish Poland, Dutch Netherlands, Swedish Sweden, Danish Denmark, Greek Greece, Filipino Philippines, "
    "Swiss Switzerland, Welsh Wales, Irish Ireland, Scottish Scotland, English England, Thai Thailand"
)


@functools.lru_cache(maxsize=1)
def _places() -> dict[str, str]:
    pairs = (p.split() for p in _PLACE_OF.split(", "))
    return {terms(a)[0]: terms(b)[0] for a, b in pairs}


def with_places(present: set[str]) -> set[str]:
    """``present`` with the place each demonym of it names: "russian" holds "russia",
    "ukrainian" "ukrain", "korean" "korea" ("Did Russia comment?" is spoken to by "the Russian
    embassy ... declined to comment")."""
    out = set(present)
    places = _places()
    for t in present:
        if t in places:
            out.add(places[t])
        for end in _DEMONYM:
            if t.endswith(end) and len(t) - len(end) >= 4:
                out.add(t[: -len(end)])
    return out


def mentioned(names: Iterable[str], text: str) -> set[str]:
    """Those of the name terms ``names`` that ``text`` mentions, a place by its demonym too."""
    return set(names) & with_places(set(terms(text)))


def lexical_scores(
    query: str,
    texts: Sequence[str],
    idf: Callable[[list[str]], dict[str, float]],
    term_sets: Sequence[set[str]] | None = None,
    requests: bool = True,
) -> np.ndarray:
    """Share of the question's idf mass (question words left out) that each text contains
    (``term_sets``: the texts' terms, when the caller already has them). With ``requests``
    False the words that only ask for an answer's shape are left out too (``REQUEST_WORDS``:
    "sum up the story of ..." is not answered by a sentence that "neatly sums her up")."""
    q = query_terms(query)
    if not requests:
        q = [t for t in q if t not in request_terms()] or q
    if not q:
        return np.zeros(len(texts))
    w = idf(q)
    total = sum(w.values()) or 1.0
    sets = term_sets if term_sets is not None else [set(terms(t)) for t in texts]
    if any(short in q or set(long) <= set(q) for short, long in _POSTS):
        sets = [with_posts(s) for s in sets]
    same = synonym_terms()
    if any(x in same for x in q):  # "cost" is found as "price" too
        sets = [with_synonyms(s) for s in sets]
    return np.array([sum(w[x] for x in q if x in present or same.get(x) in present) / total for present in sets], dtype=float)

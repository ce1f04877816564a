"""Evidence selection: retrieved hits in, the few numbered sentences the model reads out.

Each retrieved chunk is split into sentences (same splitter as chunking, offsets kept
relative to the article body). Sentences are scored against the question by idf-weighted
term overlap (idf from the index's own BM25 statistics), against an outlet's own part of
the question for sentences from an outlet the question names, minus a small penalty per
retrieval rank; the best sentences overall are kept, a few per article, until a token
budget measured with the generator's tokenizer is spent. They are numbered [1]..[n]
grouped by article under a short header (outlet, date, first words of the title). Every
``Evidence`` keeps its chunk id and exact character span, so a citation can always be
traced and highlighted. (Scoring sentences with the embedder as well was measured: +1
point of gold-fact recall for ~0.5 s per question, so it is not done.)

The budget and the shape depend on the question's form (``budget_for``): a fact
needs a few sentences from the best articles, a summary or a timeline one or two
sentences from each of many articles, shown in date order. Relative days in a
sentence ("on Monday", "yesterday") are resolved from its article's publication date
in ``Evidence.context``, the text the model reads, so an answer can state the date.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np

from rag.chunk import split_sentences
from rag.lexical import claim_terms, lexical_scores, lone_names, question_terms, subject_terms, terms
from rag.query import DateRange
from rag.types import Evidence, Hit
from rag.words import COMMON_CAPS, FUNCTION_WORDS, MONTH_ABBR, MONTHS, ROLE_WORDS, WEEKDAY_NAMES

MIN_SENTENCE_CHARS = 25
MIN_STORY_SENTENCES = 4  # a summary or a timeline reads at least this many sentences when there are any


@dataclass(frozen=True)
class Candidate:
    hit: Hit
    start: int  # offsets in the article body
    end: int
    text: str
    score: float = 0.0
    ordinal: int = 0  # its place among the sentences of its chunk (0: the chunk's first)


def candidates(hits: Sequence[Hit]) -> list[Candidate]:
    """Every distinct sentence of the hits, in hit order (a sentence in two overlapping chunks
    once, and a sentence whose words repeat one already taken, in this article or another, once:
    "U2 perform at the Sphere in Las Vegas." is a caption twice in one article). A sentence that
    leans on the one before it ("She put it out ... and was not hurt") is a candidate on its own: it was meant to carry that sentence with it, but the two were
    keyed by the first one's start, so every such sentence was silently left out; kept with
    its lead-in, evidence recall on the tune splits fell (MultiHop natural 0.72 -> 0.69, sample
    0.85 -> 0.83: two sentences spend the budget of one), on its own 0.72 -> 0.75 and 0.85 -> 0.83.
    A web page's template left in the text (a newsletter box's "{{ /verifyErrors }}", in 34 of
    the MultiHop-RAG articles) is page furniture: a sentence starts after its last tag."""
    seen: set[tuple[str, int]] = set()
    said: set[str] = set()  # a sentence written twice (a picture caption repeated, a syndicated paragraph) is read once
    out = []
    for h in hits:
        spans = split_sentences(h.text)
        for i, (a, b) in enumerate(spans):
            tag = h.text.rfind("}}", a, b)
            if tag >= 0:  # a web page's unrendered template ("… try again later {{ /verifyErrors }} Sarah …")
                a = tag + 2
                while a < b and h.text[a].isspace():
                    a += 1
            if "{{" in h.text[a:b] or a >= b:
                continue
            key = (h.article_id, h.start + a)
            text = " ".join(h.text[a:b].split()).lower()
            if key in seen or text in said:
                continue
            seen.add(key)
            said.add(text)
            out.append(Candidate(h, h.start + a, h.start + b, h.text[a:b], ordinal=i))
    return out


TITLE_WORDS = 8


def header(source: str, published_at: str, title: str) -> str:
    """The line above an article's sentences: outlet, date and the first words of the title."""
    words = title.split()
    short = " ".join(words[:TITLE_WORDS]) + ("…" if len(words) > TITLE_WORDS else "")
    meta = ", ".join(x for x in (source, published_at) if x) or "unknown outlet"
    return f'{meta}: "{short}"'


def format_evidence(evidence: Sequence[Evidence]) -> str:
    """The evidence block of the prompt: a header per article, then its numbered sentences."""
    lines: list[str] = []
    current = None
    for e in evidence:
        if e.article_id != current:
            current = e.article_id
            lines.append(header(e.source, e.published_at, e.title))
        lines.append(f"[{e.n}] {_clean(e.model_text)}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Budget:
    """How much evidence a form gets: tokens, articles, sentences per article, order."""

    tokens: int
    max_articles: int = 6
    per_article: int = 3
    by_date: bool = False
    newest_first: bool = False  # "the latest": the newest articles are read first, whatever their retrieval rank


# tokens per form at evidence_tokens = 200. Half as much again was measured (runs/nm-i vs
# runs/nm-base, MultiHop natural): held-out evidence recall 0.64 -> 0.72 and key facts 0.44 ->
# 0.47, but over all 101 key facts stayed 0.47 (facts 0.69 -> 0.62) and the checked answer took
# 43% longer (8.1 -> 11.6 s p50 on a slow 2-vCPU machine), so the budgets stay
BUDGETS = {
    "fact": Budget(260, 6, 3),
    "yesno": Budget(260, 6, 3),
    "explanation": Budget(320, 5, 4),
    "event": Budget(320, 5, 4),
    "open": Budget(320, 5, 4),
    "comparison": Budget(340, 6, 3),
    "list": Budget(400, 8, 3),
    "summary": Budget(420, 8, 2, by_date=True),
    "timeline": Budget(420, 8, 2, by_date=True),
    "latest": Budget(360, 5, 3, by_date=True, newest_first=True),
}


def budget_for(form: str, base_tokens: int = 200) -> Budget:
    """The evidence budget of a form, scaled by the ``evidence_tokens`` setting (200 = 1.0)."""
    b = BUDGETS.get(form, BUDGETS["open"])
    return replace(b, tokens=max(50, round(b.tokens * base_tokens / 200)))


# a weekday the text dates itself ("on Thursday, October 26", "Friday 3 November") is left as it is
_DATED_AFTER = rf"(?!\s*[(\[])(?!,?\s+(?:(?:{MONTHS}|{MONTH_ABBR})\.?\s+\d|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{MONTHS}|{MONTH_ABBR})))"
_WEEKDAY = re.compile(r"\b(?:(last|next|this|on|by|since|until|from)\s+)?(" + "|".join(WEEKDAY_NAMES) + r")\b" + _DATED_AFTER)
_RELDAY = re.compile(r"\b(yesterday|today|tonight|this morning|this afternoon|this evening)\b(?!\s*[(\[])", re.I)


def long_date(d: date) -> str:
    return f"{d.strftime('%B')} {d.day}, {d.year}"


def resolve_days(text: str, published_at: str, fmt: str = "({})") -> str:
    """``text`` with each weekday or "yesterday"/"today" followed by the date it means,
    read against the publication date: a weekday is the latest such day on or before it
    ("next Monday", or a weekday after "will", the first one after it)."""
    try:
        pub = date.fromisoformat(published_at[:10])
    except ValueError:
        return text

    def weekday(m: re.Match[str]) -> str:
        qual = (m.group(1) or "").lower()
        target = WEEKDAY_NAMES.index(m.group(2))
        before = text[max(0, m.start() - 60) : m.start()].lower()
        # what someone is quoted as saying is not the tense of the weekday's own clause:
        # '"Jim Jordan will be a great speaker," Trump had said Tuesday' is a past Tuesday
        before = re.sub(r"^[^“”\"]*[”\"](?=[^“”\"]*$)", " ", re.sub(r"[“\"][^”\"]*[”\"]", " ", before))
        future = qual == "next" or bool(re.search(r"\b(?:will|would|is due|are due|expected|plans? to|set to)\b[^.]*$", before))
        if future:
            delta = (target - pub.weekday()) % 7 or 7
            d = pub + timedelta(days=delta)
        else:
            delta = (pub.weekday() - target) % 7
            if qual == "last" and delta == 0:
                delta = 7
            d = pub - timedelta(days=delta)
        return f"{m.group(0)} {fmt.format(long_date(d))}"

    def relday(m: re.Match[str]) -> str:
        w = m.group(1).lower()
        d = pub - timedelta(days=1) if w == "yesterday" else pub
        return f"{m.group(0)} {fmt.format(long_date(d))}"

    return _RELDAY.sub(relday, _WEEKDAY.sub(weekday, text))


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# "the latest" is read newest first among the hits scoring at least this share of the best one's retrieval
# score (on the topic). Evidence recall on every set's tune and test split unchanged at 0.5; at 0.6
# the second set's tune split lost a fact (0.42 -> 0.38; bench/evidence_recall.py)
LATEST_GATE = 0.5
NEWEST_PENALTY = 0.08  # per step down the date order, for "the latest"
LEDE_GATE = 0.25  # ... of the best chunk's share of the question's idf mass: the article is about what is asked
LEDE_SENTENCES = 3  # the opening sentences of a news article that state its main facts


WINDOW_GRACE = timedelta(days=7)  # a report of a day's events may come out days later


def up_to(hits: Sequence[Hit], dates: Sequence[DateRange]) -> list[Hit]:
    """The hits the latest news as of a day or a month the question names is read from: those
    published by its end, with ``WINDOW_GRACE`` ("What happened to the Rovers in their October
    game against Calder City?" is the newest news by the end of October, not December's, when
    they beat Calder City again); all of them when the question names no such date or none is."""
    ends = [d.end for d in dates if d.kind in ("day", "month")]
    if not ends:
        return list(hits)
    last = (max(ends) + WINDOW_GRACE).isoformat()
    kept = [h for h in hits if not h.published_at or h.published_at[:10] <= last]
    return kept or list(hits)


def _lede_weight(c: Candidate) -> float:
    """1 for an article's first sentence, falling to 0 after ``LEDE_SENTENCES``."""
    return max(0.0, 1 - c.ordinal / LEDE_SENTENCES) if c.hit.start == 0 else 0.0


def _unnamed(lone: dict[str, Callable[[str], bool]], text: str) -> set[str]:
    """The one-word names of the question (``lone_names``) that ``text`` holds only as another
    word: "cruise" in "Buffalo is likely to cruise" is not Cruise."""
    return {t for t, written in lone.items() if not written(text)}


def _naming(query: str, hits: Sequence[Hit], lone: dict[str, Callable[[str], bool]]) -> set[str]:
    """The articles whose retrieved chunks hold a term of what the question is about
    (``question_terms``), a one-word name counting only where it is written as a name."""
    asked = set(question_terms(query))
    out: set[str] = set()
    for h in hits:
        text = f"{h.title}\n{h.text}"
        if asked & (set(terms(text)) - _unnamed(lone, text)):
            out.add(h.article_id)
    return out


def select_evidence(
    query: str,
    hits: Sequence[Hit],
    count_tokens: Callable[[str], int],
    budget: int,
    idf: Callable[[list[str]], dict[str, float]],
    segments: Sequence[tuple[Sequence[str], str]] = (),
    max_articles: int = 8,
    per_article: int = 3,
    rank_penalty: float = 0.02,
    by_date: bool = False,
    bonus: Callable[[str], float] | None = None,
    follow: float = 0.0,
    floor: float = 0.0,
    spill: float = 0.0,
    chain: bool = False,
    lede: float = 0.0,
    newest_first: bool = False,
    names_only: float = 0.0,
) -> list[Evidence]:
    """Choose and number the sentences the model will read, within ``budget`` tokens.

    A sentence scores the share of the question's idf mass it contains; a sentence from
    an outlet the question names scores at least its share of that outlet's segment of
    the question (``segments``: (outlets, words) pairs); each step down the retrieval
    ranking costs ``rank_penalty``; with ``follow`` a sentence right after another of the
    same chunk adds ``follow`` times that one's score to its own (``chain``: that one's
    raised score, so the bonus runs on down a list). The best sentences overall are taken
    (at most ``per_article`` per article, from the first ``max_articles`` articles, none
    below ``floor`` times the best score) until the budget, counted with the model's
    tokenizer on the formatted block, is spent; what is left then goes to sentences of at
    least ``spill`` times the best score, up to twice ``per_article`` per article. With
    ``names_only`` a sentence that holds the names the question is about (``subject_terms``)
    but none of its other words loses that share of its score.
    """
    # for the latest news, read newest first, a one-word name of the question matches only where
    # it is written as a name: "What's the latest on Cruise?" is not told by "Buffalo is likely to
    # cruise" a month later (other forms keep the lower-case word: "House speaker", "the senator")
    lone = lone_names(query) if newest_first else {}
    if newest_first:  # stable: among articles of one day, the retrieval order stands
        # the newest of the articles on the topic, not the newest that shares a word with it ("What
        # happened to Cruise's driverless taxis?" is not told by "a cruise director" a day later); an
        # article is on the topic by its best chunk, so all of its chunks are read in date order
        best: dict[str, float] = {}
        for h in hits:
            best[h.article_id] = max(best.get(h.article_id, h.score), h.score)
        top = max(best.values(), default=0.0)
        gate = LATEST_GATE * top if top > 0 else -np.inf
        # and, when some article names what is asked about, only those that do: a sports report
        # that "cruised" to a win is near "Cruise" for the embedder, not about it
        named = _naming(query, hits, lone)
        on = [h for h in hits if best[h.article_id] >= gate and (not named or h.article_id in named)]
        hits = sorted(on, key=lambda h: h.published_at or "", reverse=True) + [h for h in hits if best[h.article_id] < gate]
    cands = [c for c in candidates(hits) if len(c.text) >= MIN_SENTENCE_CHARS]
    if not cands:
        return []
    texts = [c.text for c in cands]
    sets = [set(terms(t)) - _unnamed(lone, t) for t in texts]
    score = lexical_scores(query, texts, idf, sets, requests=False)
    for sources, words in segments:
        inside = np.array([c.hit.source in sources for c in cands])
        if inside.any() and words.strip():
            score = np.where(inside, np.maximum(score, lexical_scores(words, texts, idf, sets)), score)
    rank = {h.chunk_id: i for i, h in enumerate(hits)}
    if newest_first:
        rank_penalty = max(rank_penalty, NEWEST_PENALTY)
    score = score - rank_penalty * np.array([rank[c.hit.chunk_id] for c in cands])
    if bonus is not None:
        score = score + np.array([bonus(t) for t in texts])
    # a results table or a team sheet matches every name it lists, so it outranks the report of the
    # match it lists ("What happened in Chelsea's Carabao Cup game with Blackburn?" read ". 30 Chelsea
    # (PL) 2-1 AFC Wimbledon (L2) Highlights ... 0-8 Blackburn (Ch) ..." first); a question an article
    # asks states nothing ("Who is Sam Bankman-Fried, the former CEO of crypto exchange FTX?" was
    # quoted as part of "Give me a summary of the case against Sam Bankman-Fried")
    weight = np.array([TABLE_WEIGHT if tabular(t) else QUESTION_WEIGHT if _asks(t) else 1.0 for t in texts])
    score = score - (1 - weight) * np.maximum(score, 0.0)  # a score below 0 (far down the ranking) stays
    if lede > 0:  # an article's opening sentences, when the article is about what is asked
        on_topic = lexical_scores(query, [h.text for h in hits], idf)
        gate = {h.chunk_id for h, sc in zip(hits, on_topic.tolist(), strict=True) if sc >= LEDE_GATE * on_topic.max() > 0}
        score = score + lede * np.array([_lede_weight(c) if c.hit.chunk_id in gate else 0.0 for c in cands])
    if names_only > 0:
        # "How many speakers are inside the Sphere in Las Vegas?": a picture caption that names
        # the Sphere and Las Vegas says nothing about speakers, however many names it matches
        names = set(subject_terms(query))
        asked = set(claim_terms(query))
        if names and asked:
            only = np.array([1.0 if names & ts and not asked & ts else 0.0 for ts in sets])
            score = score - names_only * only * np.maximum(score, 0.0)
    if follow > 0:
        # a reason or an event is often told in the sentence after the one that names the subject
        base = score.copy()
        for i in range(1, len(cands)):
            a, b = cands[i - 1], cands[i]
            if a.hit.chunk_id == b.hit.chunk_id:
                score[i] = max(score[i], follow * (score[i - 1] if chain else base[i - 1]) + base[i])

    order: list[str] = list(dict.fromkeys(c.hit.article_id for c in cands))[:max_articles]
    allowed = set(order)
    pool = sorted(
        (x for x in zip(score.tolist(), range(len(cands)), strict=True) if cands[x[1]].hit.article_id in allowed),
        key=lambda x: -x[0],
    )
    chosen: list[tuple[float, Candidate]] = []
    per: dict[str, int] = {}
    used = 0
    top = max((sc for sc, _ in pool), default=0.0)
    taken: set[int] = set()

    def take(min_score: float, cap: int, only: set[str] | None = None) -> None:
        nonlocal used
        for sc, i in pool:
            if i in taken or sc < min_score:
                continue
            c = cands[i]
            aid = c.hit.article_id
            if only is not None and aid not in only:
                continue
            if per.get(aid, 0) >= cap:
                continue
            if any(o.hit.article_id == aid and o.start < c.end and c.start < o.end for _, o in chosen):
                continue  # overlaps a sentence already chosen (a sentence kept with the one before it)
            cost = count_tokens(f"[{len(chosen) + 1}] {_clean(c.text)}\n")
            if aid not in per:
                cost += count_tokens(header(c.hit.source, c.hit.published_at, c.hit.title) + "\n")
            if used + cost > budget:
                continue
            used += cost
            per[aid] = per.get(aid, 0) + 1
            taken.add(i)
            chosen.append((sc, c))

    # first the best few per article, skipping sentences far below the best one; then what is
    # left of the budget goes to the next best sentences of any article, so a long article that
    # holds the answer is read further instead of filling up with stray sentences of others
    take(floor * top if floor > 0 and top > 0 else -np.inf, per_article)
    if spill > 0 and top > 0:
        take(spill * top, per_article * 2)
    if by_date and len(chosen) < MIN_STORY_SENTENCES:
        # "Can you summarize the article?" names nothing a sentence can match: a story is still told
        # by its passages, in retrieval order and, within a chunk, from its first sentence; when some
        # sentences did match, it reads on in their articles, not in articles about something else
        take(-np.inf, per_article * 2, {c.hit.article_id for _, c in chosen} or None)
    article_rank = {aid: i for i, aid in enumerate(order)}
    if by_date and newest_first:  # the latest news: newest article first, each read from its start
        chosen.sort(key=lambda x: (x[1].hit.published_at or "", -article_rank[x[1].hit.article_id], -x[1].start), reverse=True)
    elif by_date:  # a story told in order: oldest article first
        chosen.sort(key=lambda x: (x[1].hit.published_at or "9999", article_rank[x[1].hit.article_id], x[1].start))
    else:
        chosen.sort(key=lambda x: (article_rank[x[1].hit.article_id], x[1].start))
    out = []
    for i, (sc, c) in enumerate(chosen, 1):
        ctx = resolve_days(resolve_pronoun(c.text, c.hit.text[: max(0, c.start - c.hit.start)]), c.hit.published_at)
        out.append(
            Evidence(
                n=i, chunk_id=c.hit.chunk_id, article_id=c.hit.article_id, title=c.hit.title, source=c.hit.source,
                published_at=c.hit.published_at, text=c.text, start=c.start, end=c.end, score=round(sc, 4),
                context=ctx if ctx != c.text else "",
            )  # fmt: skip
        )
    return out


_LEAD_PRONOUN = re.compile(r"^(He|She)\b(?!\s*[(\[])")
_NAME = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)?(?:[-'][A-Z]?[a-z]+)?(?:\s+(?:[A-Z]\.\s+)?[A-Z][a-z]+(?:[A-Z][a-z]+)?(?:-[A-Z][a-z]+)?)*")
_ROLE_ROOM = 40  # characters of role words ("Chief financial officer") a subject's name may follow
# capitalised words that end the name of an organisation or a place, not a person's
_NOT_PERSON_END = frozenset(
    "Trust Systems Board Court Council Company Corp Corporation Inc Ltd Group Union Bank Party Department Ministry "
    "Agency Authority Commission Association University Mobility Review Daily News Times Post Wire Ledger Courier "
    "District City County State House Office Committee Fund Institute Club Hospital School Police Street Square "
    "Hall Center Centre Transit Cells Motors Labs Technologies Airlines Partners Capital Network Federation League "
    "Senate Congress Parliament Government Republic Kingdom States Nations Europe America Africa Asia".split()
)
_INTRO = re.compile(
    r"(?:Under|In|At|After|Before|During|Following|According\s+to|With|Despite|By|For|From|On|Asked\s+by|"
    r"Speaking\s+(?:to|with)|Recalling|Asked|Later|Earlier|Meanwhile|Still|However|Instead)\b[^,.]*,"
)
_PLACE_BEFORE = re.compile(r"\b(?:in|at|from|to|near|of|across|into|outside)\s+(?:the\s+)?$")


def _people(text: str) -> list[tuple[int, str, int]]:
    """(start, name, end) of the person names in ``text``: a first and last name ("Beatrice
    Onyango"), or a lone surname met earlier in full ("Onyango" after "Beatrice Onyango")."""
    full: dict[str, set[str]] = {}
    lower = set(re.findall(r"\b[a-z][a-z'-]+\b", text))
    out: list[tuple[int, str, int]] = []
    for m in _NAME.finditer(text):
        if _PLACE_BEFORE.search(text, 0, m.start()):
            continue  # "the summer signing from Port Elling": a place
        words = m.group(0).split()
        # "The", "Judge Harold Fenwick", and ordinary words capitalised by a sentence or a heading
        # ("Start: TE Jake Ferguson", "Advertisement"): a word the text also writes in lower case
        while words and (words[0] in COMMON_CAPS or words[0] in ROLE_WORDS or words[0].lower() in lower):
            words = words[1:]
        if not words or words[-1] in _NOT_PERSON_END or any(w in COMMON_CAPS or w.lower() in lower for w in words):
            continue
        if len(words) >= 2:
            name = " ".join(words)
            full.setdefault(words[-1], set()).add(name)
            out.append((m.start(), name, m.end()))
        elif len(full.get(words[0], ())) == 1:  # "Onyango" after "Beatrice Onyango"; not one of two Scorseses
            out.append((m.start(), next(iter(full[words[0]])), m.end()))
    return out


def resolve_pronoun(text: str, before: str) -> str:
    """``text`` with a leading "He"/"She" followed by the person it stands for, when the text
    before it in the same chunk names one: the first person named in the sentence before (its
    subject, as a rule: "Judge Harold Fenwick said Delane would be sentenced ... He warned"), so
    "She replaces an interim leadership team" reads "She [Beatrice Onyango] replaces ..."
    after "Onyango, who currently runs a housing association in Calder, will start in January"
    (and "Beatrice Onyango" earlier). Without a person there it is left as it is."""
    m = _LEAD_PRONOUN.match(text)
    if not m or not before.strip():
        return text
    spans = split_sentences(before)
    if not spans:
        return text
    a = spans[-1][0]
    last = before[a:]
    intro = _INTRO.match(last)  # "Under cross-examination by lawyer Simon Okafor, Liu agreed ...": Liu
    rest = last[intro.end() :] if intro else last
    subject = a + len(last) - len(rest.lstrip())  # where the sentence's subject starts
    named = [(off, n, end) for off, n, end in _people(before) if subject <= off <= subject + _ROLE_ROOM]
    if not named:
        return text
    off, name, end = named[0]
    if not re.fullmatch(r"(?:[A-Za-z][\w.'’-]*\s+){0,4}", before[subject:off]):
        return text  # only a few role words may come before the name ("Chief financial officer Peter Lund")
    if re.match(r"['’]", before[end : end + 1]):
        return text  # "Fields' counterpart, Joe Flacco, ...": the subject is someone else
    return f"{m.group(1)} [{name}]{text[m.end():]}"


CAUSAL = re.compile(
    r"\b(?:because|after|due to|owing to|over|as a result|since|reason|caused|causing|following|amid|citing|"
    r"led to|so that|in order to|blamed|traced|found that|failed to|for failing)\b",
    re.I,
)


_SCORE = re.compile(r"(?<![\d.$£€])\d{1,3}-\d{1,3}(?![\d%])")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
_NUMBER = re.compile(r"(?<![\w.,$£€-])\d+(?![\w.,%-])")
TABLE_LOWER = 0.25  # a sentence of at least TABLE_WORDS words with under this share in lower case is a list of names
TABLE_WORDS = 15
TABLE_FUNCTION = 0.1  # ... or, under twice that share, with under this share of function words
TABLE_NUMBERS = 8  # ... or one of at least this many bare numbers, no fewer than its words
TABLE_SCORES = 3  # ... and one with this many scores and under twice that share is a results table
TABLE_WEIGHT = 0.5  # a table's score is halved
QUESTION_WEIGHT = 0.5  # and so is a question's


def _asks(text: str) -> bool:
    return text.rstrip(" \"'”’)").endswith("?")


def tabular(text: str) -> bool:
    """Whether a "sentence" is a table, a list of names or a team sheet rather than prose: "Results
    Date Fixture/Result Sept. 19 Feyenoord 2-0 Celtic Sept. 19 Lazio 1-1 Atletico ...", "Argentina
    subs (12): Armani (GK), Musso (GK), ..." (227 of the 47,228 sentences of the MultiHop-RAG
    articles). A sentence reporting one score in words is prose ("Spurs had rebounded ... with a
    stirring 3-3 draw ...")."""
    words = _WORD.findall(text)
    if len(words) < 6:
        return False
    lower = sum(w[0].islower() for w in words) / len(words)
    if lower < TABLE_LOWER and len(words) >= TABLE_WORDS:
        return True
    if len(words) >= TABLE_WORDS and lower < 2 * TABLE_LOWER:
        # "Raiders vs. Lions final score 1 2 3 4 Final Raiders 0 7 7 0 14 Lions 3 13 7 3 26 ...",
        # "Semifinal first leg Date Match W/C Jan. 8, 2024 Middlesbrough vs. Chelsea ...": prose
        # of that length has its "the", "of" and "was"
        if sum(w.lower() in FUNCTION_WORDS for w in words) / len(words) < TABLE_FUNCTION:
            return True
    if len(_NUMBER.findall(text)) >= max(TABLE_NUMBERS, len(words)):
        return True  # a line score: "F Rangers 0 0 3 0 0 0 0 0 0 3 Diamondbacks 0 0 0 0 0 0 0 1 0 1 ..."
    return len(_SCORE.findall(text)) >= TABLE_SCORES and lower < 2 * TABLE_LOWER


def causal_bonus(text: str, weight: float = 0.08) -> float:
    """A small bonus for sentences that state a cause (for why / how questions)."""
    return weight if CAUSAL.search(text) else 0.0

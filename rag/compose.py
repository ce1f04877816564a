"""Answer composition: the model's direct answer + the evidence -> the sentences of an answer.

An answer has the shape its question asks for (``rag.forms``):

1. the **direct answer**: the one or two sentences the model wrote (a fact, a reason, an
   event, an overview), or for a Yes/No question "Yes, ..." / "No, ..." with its reason;
2. the **supporting sentences**: passages quoted with their ``[n]`` — for a fact, an
   explanation or an event the passages the direct answer cites, then the next best
   from another article (up to ``SUPPORT[form]``); for a summary, a timeline or the
   latest news the best sentence of each article, one per article, 3 to 6, each
   stating its date, in date order (newest first for "latest"); for a comparison the
   best sentence for each side;
3. a **disagreement note** when passages used in the answer and other shown passages
   state different numbers for the same thing ("31 reports" vs "40 reports"), citing
   both sides.

When the model gave no usable direct answer, the best supporting sentence stands in
for it (a quote, never a name picked from the passages). Checking is ``rag.cite``'s
job; this module does not call the model.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from datetime import date

from rag.chunk import split_sentences
from rag.cite import (
    COUNT_VALUE,
    COUNT_WORD,
    MARKER,
    NUMBER_WORDS,
    norm_num,
    overlap,
    relevance,
    stated_facts,
    states,
    strip_markers,
    term_share,
    without_name_numbers,
)
from rag.evidence import long_date, resolve_days
from rag.forms import HAPPENED, QuestionForm
from rag.lexical import claim_terms, mentioned, subject_terms, terms
from rag.types import AnswerSentence, Evidence
from rag.words import CLAIM_FILLER

SUPPORT = {"fact": 2, "yesno": 2, "explanation": 3, "event": 3, "open": 3, "comparison": 2, "list": 5,
           "summary": 5, "timeline": 6, "latest": 4}  # fmt: skip
MIN_STORY = 3  # a summary or timeline tries to show at least this many articles
QUOTE_WORDS = 45
# a passage up to this long is quoted whole: cut to 45 words around the question's words, "... blowing
# out No. 22 Utah, 42-18, extending their winning streak to five games,…" lost "as well as marking
# their first win over the Utes since 2015", the answer to "When had Arizona last beaten Utah?"
QUOTE_WHOLE = 60
DATED = {"summary", "timeline", "latest"}
# forms whose stand-in quote must speak to what is asked, not only to whom it is asked about
BEARING = {"fact", "explanation", "open", "list"}
_PRESENT = re.compile(r"^(?:is|are|has|have|does|do)\b(?!.*\b(?:yesterday|last\s+(?:week|month|year))\b)", re.I)
# "Did he end up going back?", "Did they eventually agree?" ask how things turned out: as for the
# present tense, the newest passage that bears on the question settles it
_OUTCOME = re.compile(r"\b(?:end(?:ed|s)?\s+up|in\s+the\s+end|eventually|ultimately|finally|so\s+far|by\s+now)\b", re.I)
# a passage the model did not cite is quoted under a fact, reason, event or list only when it holds
# at least this share of the idf mass of what the question asks (``claim_terms``), not only its
# names. On the tune splits this removed 17 of 232 quotes (sample) and 19 of 126 (MultiHop natural)
# with no key fact lost; under a Yes/No answer it dropped the passage that settles "Is the original
# Arro part of the recall too?" ("which uses a different battery, is not affected"), so Yes/No
# answers keep their bearing passages as before
CLAIM_SHARE = 0.3
YESNO_BEARING = 0.75  # a passage "bears on" a Yes/No question as much as the best one above this share of its relevance


def parse_direct(raw: str, max_sentences: int = 2) -> list[tuple[str, tuple[int, ...]]]:
    """The model's output as (sentence, cited numbers) pairs, at most ``max_sentences``;
    marker-only pieces are glued to the sentence before them, and a sentence that
    repeats an earlier one is dropped."""
    raw = " ".join(raw.split())
    if not raw:
        return []
    pieces = [raw[a:b] for a, b in split_sentences(raw)] or [raw]
    merged: list[str] = []
    for p in pieces:
        if merged and not re.search(r"\w", MARKER.sub("", p)):
            merged[-1] += p if p.startswith(" ") else " " + p
        else:
            merged.append(p)
    out: list[tuple[str, tuple[int, ...]]] = []
    for s in merged:
        cites = tuple(dict.fromkeys(int(x) for x in MARKER.findall(s)))
        text = strip_markers(s)
        if not re.search(r"\w", text) or any(overlap(text, t) >= 0.8 for t, _ in out):
            continue
        out.append((text, cites))
        if len(out) >= max_sentences:
            break
    return out


def _facts(text: str) -> list[str]:
    """The figures, names and counts written as words ("three years") a sentence states, lower case."""
    nums, names, _ = stated_facts(text)
    return [*nums, *(w.lower() for w in names), *(w.lower() for w in COUNT_WORD.findall(text))]


def _holds(fact: str, e: Evidence) -> bool:
    hay = f"{e.model_text} {e.title} {e.source}".lower().replace(",", "")
    if fact in COUNT_VALUE:  # a count word is held as the word or its digits
        return re.search(rf"\b(?:{fact}|{COUNT_VALUE[fact]})\b", hay) is not None
    return fact in hay


def _support_score(text: str, e: Evidence) -> float:
    """How well passage ``e`` carries ``text``: word overlap plus the share of its numbers and names."""
    facts = _facts(text)
    got = sum(1 for f in facts if _holds(f, e)) / len(facts) if facts else 1.0
    return overlap(text, f"{e.model_text} {e.title}") + got


MAX_ATTRIBUTED = 3  # passages one sentence of the answer may rest on
ATTRIBUTE_GAIN = 0.1  # ... each further one adding at least this share of its words


def attribute(text: str, cites: Sequence[int], evidence: Sequence[Evidence]) -> tuple[int, ...]:
    """The passages a sentence rests on: those the model cited that carry it, else the one
    that carries it best; plus up to two more when they add numbers, names or counts the first
    lack ("for more than three years", cited to the passage on the warnings, not the one
    that says it). (Whether they truly support it is ``rag.cite``'s verdict, not this function's.)"""
    if not evidence:
        return ()
    by_n = {e.n: e for e in evidence}
    ranked = sorted(evidence, key=lambda e: (-_support_score(text, e), e.n))
    out = [n for n in cites if n in by_n and _support_score(text, by_n[n]) >= 1.5] or [ranked[0].n]
    for _ in range(MAX_ATTRIBUTED - 1):  # at most two more, each the one holding most of what is still missing
        missing = [f for f in _facts(text) if not any(_holds(f, by_n[n]) for n in out)]
        gain = {e.n: sum(_holds(f, e) for f in missing) for e in ranked if e.n not in out}
        extra = max(gain, key=lambda n: gain[n], default=None)  # ties: the better carrier (ranked order)
        if extra is None or not gain[extra]:
            break
        out.append(extra)
    # a sentence the model wrote from two sentences of one article ("… losing money because of too
    # much supply", its frame from one sentence and its reason from another) rests on both: while a
    # passage of the same article adds a good share of its words, it is cited too (another
    # article's words are not glued on: that would pass a reason borrowed from elsewhere)
    while len(out) < MAX_ATTRIBUTED:
        have = " ".join(f"{by_n[n].model_text} {by_n[n].title}" for n in out)
        now = overlap(text, have)
        arts = {by_n[n].article_id for n in out}
        gain = {e.n: overlap(text, f"{have} {e.model_text}") - now for e in ranked if e.n not in out and e.article_id in arts}
        extra = max(gain, key=lambda n: gain[n], default=None)
        if extra is None or gain[extra] < ATTRIBUTE_GAIN:
            break
        out.append(extra)
    return tuple(out)


def _date(e: Evidence) -> str:
    try:
        return long_date(date.fromisoformat(e.published_at[:10]))
    except ValueError:
        return "undated"


def quote(e: Evidence, focus: str = "", max_words: int = QUOTE_WORDS) -> str:
    """The passage as shown to a reader: relative days resolved in brackets; one longer than
    ``QUOTE_WHOLE`` words cut to ``max_words`` words around the words of ``focus``."""
    text = " ".join(resolve_days(e.text, e.published_at, "[{}]").split())
    words = text.split(" ")
    if len(words) <= max(max_words, QUOTE_WHOLE):
        return text
    focus_terms = set(terms(focus))
    best, at = -1, 0
    for i in range(0, len(words) - max_words + 1):
        window = set(terms(" ".join(words[i : i + max_words])))
        sc = len(window & focus_terms)
        if sc > best:
            best, at = sc, i
    piece = " ".join(words[at : at + max_words])
    return ("…" if at > 0 else "") + piece + ("…" if at + max_words < len(words) else "")


def support_text(e: Evidence, form: str, focus: str = "") -> str:
    """A supporting sentence: who said it and when, then the quote, then its marker."""
    src = e.source or "An article"
    q = quote(e, focus)
    lead = f"{_date(e)} ({src})" if form in DATED else f"{src}, {_date(e)}"
    return f"{lead}: “{q}” [{e.n}]"


def _article_texts(evidence: Sequence[Evidence], outlet: bool = False) -> dict[str, str]:
    """Each article's title (with ``outlet``, its outlet first) and passages found, as one text."""
    text: dict[str, str] = {}
    for e in evidence:
        text[e.article_id] = text.get(e.article_id, f"{e.source} {e.title}" if outlet else e.title) + " " + e.model_text
    return text


def _near_best(share: dict[str, float], ratio: float) -> set[str]:
    """The articles whose ``share`` is above 0 and at least ``ratio`` times the best one's."""
    best = max(share.values(), default=0.0)
    return {a for a, v in share.items() if v > 0 and v >= ratio * best}


# an article naming less than this share of the question's names (idf-weighted), against the article
# that names the most, is about something else: "What happened with Beeper Mini between its launch
# and Apple's crackdown?" is not told by a Black Friday deal on Apple's Mac Mini (0.55 of the
# names' weight); on the tune splits the articles below 0.6 were all on other stories but one that
# names Binance and not CZ (0.57)
NAME_SHARE = 0.6


def on_subject(
    question: str,
    evidence: Sequence[Evidence],
    sources: Sequence[Sequence[str]] = (),
    idf: Callable[[list[str]], dict[str, float]] | None = None,
) -> set[str] | None:
    """The articles of ``evidence`` that name what the question is about (its names,
    ``subject_terms``, in the passages found of that article, its title or its outlet: at least
    ``NAME_SHARE`` of the idf weight of those the best article names), or None when the question
    names nothing or no article found names any of it. A passage of an article that names none of
    them does not answer the question, however many of its other words it shares: "When had
    Arizona last beaten Utah?" is not answered by "The Bears haven't beaten the Vikings since 2020".
    An article from an outlet the question names (``sources``: the outlets found in it, "… reported
    by 'TechCrunch'") is about what it asks too."""
    names = subject_terms(question)
    if not names:
        return None
    named = {s for group in sources for s in group}
    text = _article_texts(evidence, outlet=True)
    weight = idf(names) if idf is not None else dict.fromkeys(names, 1.0)
    total = sum(weight.values()) or 1.0
    share = {a: sum(weight.get(t, 0.0) for t in mentioned(names, t_)) / total for a, t_ in text.items()}
    arts = {e.article_id for e in evidence if e.source in named} | _near_best(share, NAME_SHARE)
    return arts or None


# an article whose passages found (with its title) hold less than this share of the question's idf
# mass, against the article that holds the most, is not about what the question asks (below)
TOPIC_SHARE = 0.7


def on_topic(
    question: str,
    evidence: Sequence[Evidence],
    sources: Sequence[Sequence[str]] = (),
    idf: Callable[[list[str]], dict[str, float]] | None = None,
) -> set[str] | None:
    """The articles a quote may come from: those ``on_subject`` keeps, or, when the question
    names nothing ("why are container shipping companies going from record profits back to
    losing money?"), those whose title and passages found hold at least ``TOPIC_SHARE`` of
    what the best one holds of the question's words: a Discogs story that shares "shipping"
    is not about container lines. None when every article may be quoted."""
    arts = on_subject(question, evidence, sources, idf)
    if arts is not None or not evidence:
        return arts
    share = {a: relevance(question, t, idf) for a, t in _article_texts(evidence).items()}
    return _near_best(share, TOPIC_SHARE) or None


def _best_per_article(ranked: Sequence[Evidence]) -> list[Evidence]:
    seen: set[str] = set()
    out = []
    for e in ranked:
        if e.article_id not in seen:
            seen.add(e.article_id)
            out.append(e)
    return out


def choose_support(
    form: QuestionForm,
    question: str,
    evidence: Sequence[Evidence],
    cited: Sequence[int] = (),
    focus_sources: Sequence[Sequence[str]] = (),
    idf: Callable[[list[str]], dict[str, float]] | None = None,
    answer: str = "",
) -> list[Evidence]:
    """The passages quoted under the direct answer (see the module docstring). With the
    direct ``answer`` given, a passage it does not cite is quoted only when it states
    what the answer says (half its content words) for a fact; for a reason or an event any
    passage that bears on the question adds context."""
    kind = form.kind
    limit = SUPPORT.get(kind, 3)
    by_n = {e.n: e for e in evidence}
    rel = {e.n: relevance(question, e.model_text, idf) for e in evidence}
    ranked = sorted(evidence, key=lambda e: (-(e.score + 0.5 * rel[e.n]), e.n))
    arts = on_topic(question, evidence, focus_sources, idf) if kind != "comparison" else on_subject(question, evidence, focus_sources, idf)
    if arts is not None:
        ranked = [e for e in ranked if e.article_id in arts]
    if kind == "yesno" and ranked and (_PRESENT.match(form.request) or _OUTCOME.search(form.request)):
        # "Has the fine been upheld?", "Is he injured?" ask how things stand now: of the passages
        # that bear on the question about as much as the best one, the newest settles it
        top = max(rel[e.n] for e in ranked)
        bearing = [e for e in ranked if rel[e.n] >= YESNO_BEARING * top]
        newest = max(bearing, key=lambda e: e.published_at or "")
        ranked = [newest] + [e for e in ranked if e is not newest]
    claim = claim_terms(question)

    def bears(e: Evidence) -> bool:  # holds what is asked, not only the names it is asked about
        return term_share(claim, e.model_text, idf) >= CLAIM_SHARE

    if kind in DATED or kind == "list":
        picked = _best_per_article(ranked)[: max(limit, MIN_STORY)]
        if kind in ("summary", "timeline") and len(picked) < MIN_STORY:
            # a story told by one or two articles: their next best sentences tell the rest of it
            picked += [e for e in ranked if e not in picked][: MIN_STORY - len(picked)]
        picked = [e for i, e in enumerate(picked) if i < MIN_STORY or rel[e.n] >= 0.2 or e.n in cited]
        if kind == "list":  # the items of a list are things of the kind asked for
            picked = [e for i, e in enumerate(picked) if i == 0 or e.n in cited or bears(e)]
        if kind == "latest":
            picked.sort(key=lambda e: (e.published_at, e.n), reverse=True)
            # the latest news is what the newest article says: its next sentence is read too
            more = next((e for e in evidence if picked and e.article_id == picked[0].article_id and e not in picked), None)
            if more is not None:
                picked = [picked[0], more, *picked[1:]][: max(limit, MIN_STORY)]
        elif kind != "list":
            picked.sort(key=lambda e: (e.published_at or "9999", e.n))
        return picked
    picked: list[Evidence] = []
    if kind == "comparison" or (kind == "yesno" and focus_sources):
        groups: list[list[Evidence]] = []
        if focus_sources:
            groups = [[e for e in ranked if e.source in srcs] for srcs in focus_sources]
        elif form.sides:
            for side in form.sides:
                groups.append(sorted(evidence, key=lambda e: -relevance(side, e.model_text + " " + e.title, idf)))
        for g in groups:
            best = next((e for e in g if e not in picked and all(e.article_id != p.article_id for p in picked)), None)
            best = best or next((e for e in g if e not in picked), None)
            if best is not None:
                picked.append(best)
        if picked:
            return picked[: max(limit, len(groups))]
    for n in cited:  # what the direct answer cites, unless its article names nothing the question names
        if n in by_n and by_n[n] not in picked and len(picked) < limit and (arts is None or by_n[n].article_id in arts):
            picked.append(by_n[n])
    for e in ranked:
        if len(picked) >= limit:
            break
        if e in picked:
            continue
        if picked and (rel[e.n] < 0.25 or (kind != "yesno" and not bears(e))):  # a Yes/No's passages are settled above
            continue
        if kind == "fact" and answer and overlap(answer, e.model_text) < 0.5:
            continue  # a fact's second source must state it; a reason or an event may take context
        # a second sentence of the same article only when it says something else that bears on the question
        picked.append(e)
    return picked


# --------------------------------------------------------------------- unsettled Yes/No
# a Yes/No question is not settled by passages that never speak of its claim ("Is he going to
# appeal his conviction?" over passages on the verdict alone), nor, when it asks whether
# something happened, by a newest passage that says it is still to come ("the appeal will be
# heard by a different panel", "the company is seeking compensation"): either way the honest
# answer is "Insufficient information." with what the passages do say. "Never speak of" means none
# of the claim's words in any passage: a share was tried, but the MultiHop-RAG dev set's long Yes/No
# questions about two reports ("Between the report from The Age ... published on ..., and ...") hold
# as little as 0.06 of their claim's idf mass in evidence that does answer them (10 of the 54 Yes/No
# questions of its 100-question sample were below 0.2; bench/yesno_unsettled.py --share 0.2)
# "are seeking", "are now seeking", "has been scrutinizing": still under way
_BE = r"(?:is|are|was|were|has been|have been)(?: (?:now|still|currently|also))?"
_PENDING = re.compile(
    rf"\b(?:will be \w+|{_BE} (?:expected|due|set|scheduled|likely) to|plans? to|planned to|"
    rf"intends? to|{_BE} (?:seeking|reviewing|considering|weighing|preparing|scrutini[sz]ing|investigating|probing|"
    r"examining)|yet to|not yet|pending|awaiting|awaits)\b"
    # a clause that opens with a condition speaks of what has not happened: "If Judge Amit Mehta
    # rules against Google, ..."
    r"|^\s*(?:if|unless)\b",
    re.I,
)
_CLAUSE_SPLIT = re.compile(r",|;|\s(?:and|but|while|whereas|although)\s")
# a contest's result is not known before it is played: "Will Canada beat Trinidad and Tobago in the
# playoff?" is not settled by "Canada will now have to defeat Trinidad and Tobago in a one-off playoff
# in March", only by a passage that reports the result; a prediction is not a result
_WILL = re.compile(r"^(?:will\b|(?:is|are)\b.*\bgoing to\b)", re.I)
_CONTEST = re.compile(r"\b(?:win|beat|defeat|lose|qualify|advance|clinch|knock\s+out|eliminate)\b", re.I)
_TO_COME = re.compile(
    r"\bwill\b|\b(?:has|have|had) to (?:beat|win|defeat|get past|overcome)\b|\b(?:set|due|scheduled|poised|tipped|favou?red) to\b|"
    r"\b(?:next|upcoming|coming|could|would|should|might|may)\b|\bto (?:face|meet|play|host|visit)\b",
    re.I,
)
# a result reported, not a record recalled ("Hayes, who previously won six WSL titles, will ...")
_RESULT = re.compile(
    r"(?<!\bwho )(?<!previously )(?<!\bhas )(?<!\bhave )(?<!\bhad )"
    r"\b(?:won|defeated|lost to|qualified|advanced|clinched|eliminated|knocked out|was beaten|were beaten)\b",
    re.I,
)


def words_for(question: str, stems: Sequence[str]) -> list[str]:
    """The question's own words for some of its terms, in order, once each: "appeal", "conviction"
    for the stems "appeal", "convict"; "Everton" for "everton"."""
    wanted = set(stems)
    return list(dict.fromkeys(w for w in re.findall(r"[A-Za-z][\w'’-]*", question) if wanted & set(terms(w))))


def _speaks_of_it_as(pattern: re.Pattern[str], e: Evidence, claim: Sequence[str]) -> bool:
    """Whether a clause of the passage that holds one of the claim's terms matches ``pattern``."""
    return any(pattern.search(c) for c in _CLAUSE_SPLIT.split(e.model_text) if term_share(list(claim), c) > 0)


def unsettled(
    form: QuestionForm,
    question: str,
    evidence: Sequence[Evidence],
    idf: Callable[[list[str]], dict[str, float]] | None = None,
    settling: Evidence | None = None,
) -> str:
    """Why the passages cannot settle a Yes/No question ("" when they may), quoting the passage
    that shows it where one does. Four cases: the passages together hold none of the claim's terms
    (the question's terms beyond its names and fillers); the question asks whether something
    happened and a passage of the newest day on the claim's rarest term says, in the clause that
    holds it, that it is still to come; or ``settling``, the passage that would be shown as
    settling it, says so, or only supposes it ("If Judge Amit Mehta rules against Google, ..."); or
    the question asks whether a contest will be won ("Will Canada beat ...?") and the newest
    passage on the claim (``settling`` or a later one) speaks of the contest as still to come.
    For the pending case ``settling`` speaks for the passages only when no later one holds as
    much of the claim."""
    claim = [t for t in claim_terms(question) if t not in _filler_terms()]
    if not claim or not evidence:
        return ""
    # all the passages together: a question about two reports ("Does A suggest X, while B says Y?")
    # is spoken to by two passages, each holding its half
    if not term_share(claim, " ".join(e.model_text for e in evidence), idf):
        said = list(dict.fromkeys(w.lower() for w in words_for(question, claim)))[:3]
        return f"no passage found says anything about {' or '.join(f'“{w}”' for w in said)}"
    if settling is not None and _WILL.match(form.request) and _CONTEST.search(form.request):
        # the newest passage on it says how things stand: "Rovers will go into the new year second"
        # in December, not September's opening win. Read by sentence, not by clause: "Canada will
        # now have to defeat Trinidad and Tobago in a one-off playoff" is one clause, whatever its "and"
        holding = [e for e in evidence if term_share(claim, e.model_text) > 0]
        settling = max([settling, *holding], key=lambda e: e.published_at or "")
        text = settling.model_text
        said = [text[a:b] for a, b in split_sentences(text) if term_share(claim, text[a:b]) > 0]
        if any((_TO_COME.search(x) or _PENDING.search(x)) and not _RESULT.search(x) for x in said):
            return (
                f"the newest passage on it ({settling.source or 'an article'}, {_date(settling)}) speaks of it as "
                f"still to come, and no passage found reports the result: “{quote(settling, question)}”"
            )
        return ""
    if not HAPPENED.match(form.request):
        return ""
    w = idf(claim) if idf is not None else {t: 1.0 for t in claim}
    held = [t for t in claim if any(term_share([t], e.model_text) > 0 for e in evidence)]
    rarest = max(held, key=lambda t: w.get(t, 0.0))
    # the newest day's passages holding the claim's rarest term, each read in the clause that holds
    # it: one that says it is still to come speaks for the day ("Everton's appeal against the
    # 10-point deduction will be heard ..." beside "He described the deduction as unjust")
    on_it = [e for e in evidence if term_share([rarest], e.model_text) > 0]
    day = max(e.published_at or "" for e in on_it)
    for e in sorted((e for e in on_it if (e.published_at or "") == day), key=lambda e: (-term_share(claim, e.model_text, idf), e.n)):
        if _speaks_of_it_as(_PENDING, e, [rarest]):
            return f"the newest passage on it ({e.source or 'an article'}, {_date(e)}) says it is still pending: “{quote(e, question)}”"
    # the settling passage speaks for the claim unless a later one holds as much of it ("… has been
    # found guilty on seven counts" after September's "whether he is found guilty")
    if settling is not None and not any(
        (e.published_at or "") > (settling.published_at or "")
        and term_share(claim, e.model_text, idf) >= term_share(claim, settling.model_text, idf)
        for e in evidence
    ) and _speaks_of_it_as(_PENDING, settling, claim):
        return (
            f"the passage that bears on it most ({settling.source or 'an article'}, {_date(settling)}) speaks of it as "
            f"still to come or only supposes it: “{quote(settling, question)}”"
        )
    return ""


@functools.cache
def _filler_terms() -> frozenset[str]:
    return frozenset(terms(" ".join(sorted(CLAIM_FILLER))))


# --------------------------------------------------------------------- disagreement
_QTY = re.compile(
    r"(?<![\w.$])(\$?\d(?:[\d,]*\d)?(?:\.\d+)?)(%|\s?(?:per ?cent|percent))?(?:\s+(million|billion|thousand|bn|m)\b)?"
    r"((?:\s+[A-Za-z][\w-]*){0,3})"
)
_MULT = {"thousand": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9}
# words after a figure that do not say what it counts: "9% over two years" and "5.5% over two
# years" are a raise asked for and an offer made, not one figure told two ways
_NOT_A_THING = frozenset(
    terms("percent dollar year month week day hour minute over under about around per than more less nearly "
          "almost up down " + " ".join(sorted(NUMBER_WORDS)))
)
_YEAR = re.compile(r"^(?:19|20)\d\d$")


def _quantities(text: str) -> list[tuple[float, str, set[str]]]:
    """(value, as written, unit stems) for the numbers a sentence states, years and days left out."""
    out = []
    text = without_name_numbers(text)  # "Arro 2" is a name, not a figure
    for m in _QTY.finditer(text):
        raw = m.group(1)
        if re.search(r"\d\s?[-–]\s?$", text[: m.start()]) or re.match(r"\s?[-–]\s?\d", text[m.end(1) :]):
            continue  # one side of a score or a range ("a 3-1 win", "10-12 weeks"), not a quantity of its own
        digits = raw.replace(",", "").replace("$", "")
        if _YEAR.match(digits) or re.search(r"(?:January|February|March|April|May|June|July|August|September|October|"
                                             r"November|December)\s*$", text[: m.start()]):
            continue
        try:
            v = float(digits)
        except ValueError:
            continue
        v *= _MULT.get((m.group(3) or "").lower(), 1.0)
        unit = set(terms(m.group(4) or ""))
        if m.group(2):
            unit.add("percent")
        if "$" in raw:
            unit.add("dollar")
        if unit:
            shown = (raw + (m.group(2) or "") + (" " + m.group(3) if m.group(3) else "")).strip()
            out.append((v, shown, unit))
    return out


def _same_topic(a: str, b: str) -> bool:
    ta, tb = set(terms(a)), set(terms(b))
    if not ta or not tb:
        return False
    return len(ta & tb) / min(len(ta), len(tb)) >= 0.35


def _window(text: str, shown: str, width: int = 8) -> set[str]:
    i = text.find(shown)
    if i < 0:
        return set(terms(text))
    words_before = text[:i].split()[-width:]
    words_after = text[i + len(shown) :].split()[:width]
    return set(terms(" ".join(words_before + words_after)))


def disagreements(
    direct: Sequence[tuple[str, tuple[int, ...]]], evidence: Sequence[Evidence], question: str
) -> list[AnswerSentence]:
    """Notes for a number the direct answer states that another shown passage, from another
    article, states differently for the same thing (same unit, same surrounding words),
    each note citing both sides."""
    by_n = {e.n: e for e in evidence}
    out: list[AnswerSentence] = []
    for text, cites in direct:
        for va, sa, ua in _quantities(text):
            src = next((by_n[n] for n in cites if n in by_n and norm_num(sa.split()[0]) in by_n[n].text.replace(",", "")), None)
            if src is None:
                continue
            ctx_a = _window(src.text, sa.split()[0])
            for b in evidence:
                if b.article_id == src.article_id or relevance(question, b.text) < 0.3:
                    continue
                for vb, sb, ub in _quantities(b.text):
                    if vb == va or not (ub & ua) - _NOT_A_THING:
                        continue  # a disagreement is about the same thing counted ("31 reports" / "40 reports")
                    ctx_b = _window(b.text, sb.split()[0])
                    if not ctx_a or len(ctx_a & ctx_b) / max(1, min(len(ctx_a), len(ctx_b))) < 0.4:
                        continue
                    out.append(
                        AnswerSentence(
                            text=f"The sources disagree on this figure: {src.source or 'one article'} ({_date(src)}) "
                            f"says {sa} [{src.n}], while {b.source or 'another article'} ({_date(b)}) says {sb} [{b.n}].",
                            cites=(src.n, b.n), supported=True, role="conflict",
                            reason=f"differing numbers ({' '.join(sorted(ua & ub))})",
                        )  # fmt: skip
                    )
                    break
                if out:
                    return out
    return out


def compose(
    form: QuestionForm,
    question: str,
    evidence: Sequence[Evidence],
    direct: Sequence[tuple[str, tuple[int, ...]]],
    focus_sources: Sequence[Sequence[str]] = (),
    idf: Callable[[list[str]], dict[str, float]] | None = None,
    settled: Sequence[int] = (),
) -> list[AnswerSentence]:
    """The unchecked sentences of an answer: direct answer, supporting quotes, disagreements.
    A Yes/No claim decided part by part (``rag.claims``) quotes the passages it was decided
    over, ``settled``, in that order."""
    direct = [(t, attribute(t, cs, evidence)) for t, cs in direct]
    by_n = {e.n: e for e in evidence}
    if form.kind == "latest" and direct:
        # "What's the latest?" is not answered from older news than the newest passage on it: when
        # the model's sentences rest only on older ones, the newest passages lead the answer instead
        on_topic = [e for e in choose_support(form, question, evidence, (), focus_sources, idf) if relevance(question, e.model_text, idf) > 0]
        newest = max((e.published_at for e in on_topic), default="")
        if newest and all(by_n[n].published_at < newest for _, cs in direct for n in cs if n in by_n):
            direct = []
    cited = [n for _, cs in direct for n in cs]
    sentences = [
        AnswerSentence(text=t + "".join(f" [{n}]" for n in cs), cites=cs, supported=False, role="answer") for t, cs in direct
    ]
    focus = " ".join(t for t, _ in direct) + " " + question
    if settled:
        support = [by_n[n] for n in dict.fromkeys(settled) if n in by_n]
    else:
        support = choose_support(form, question, evidence, cited, focus_sources, idf, " ".join(t for t, _ in direct))
    if form.kind == "latest" and len(support) >= 2 and _adjacent(support[0], support[1]):
        # the newest article read on: its next sentence ("The relaunched bike uses a redesigned battery
        # pack ...") is quoted with the one before it, as the article has it, so it is judged with it
        a, b = support[0], support[1]
        text = support_text(a, form.kind, focus).rsplit("” [", 1)[0] + " " + quote(b, focus) + f"” [{a.n}] [{b.n}]"
        sentences.append(AnswerSentence(text=text, cites=(a.n, b.n), supported=False, role="support"))
        support = support[2:]
    for e in support:
        sentences.append(AnswerSentence(text=support_text(e, form.kind, focus), cites=(e.n,), supported=False, role="support"))
    sentences.extend(disagreements(direct, evidence, question))
    return sentences


def _adjacent(a: Evidence, b: Evidence) -> bool:
    """Is ``b`` the sentence right after ``a`` in the same article (only white space between)?"""
    return a.article_id == b.article_id and 0 <= b.start - a.end <= 3


def figure_of_claim(asks: str, question: str, text: str, idf: Callable[[list[str]], dict[str, float]] | None = None) -> bool:
    """May ``text``'s figure stand for the amount or count a question asks for? It must hold
    ``CLAIM_SHARE`` of what the question asks, not only its names: "What salary will Onyango be
    paid?" is not answered by "$3.2 million of the charity's money", nor "How much did Quillon pay
    its chief executive?" by its $48 million fine. A name or a time is judged by the question's
    names ("appointed Onyango" answers "Who replaced Delane?"), so other asks always pass."""
    return asks not in ("amount", "count") or term_share(claim_terms(question), text, idf) >= CLAIM_SHARE


def fallback_direct(
    sentences: Sequence[AnswerSentence],
    asks: str = "",
    question: str = "",
    idf: Callable[[list[str]], dict[str, float]] | None = None,
    kind: str = "",
) -> list[AnswerSentence]:
    """When no direct answer survived the check: the best supported supporting sentence
    becomes the direct answer (a quote; never a substituted name). For a question that asks
    for an amount or a time (``asks``) only a quote that states one can stand in; with none,
    nothing does (the answer is then a refusal); for an amount or a count the quote must also
    hold ``CLAIM_SHARE`` of what the question asks, as in ``stating_passages``. For any other
    reason or fact (``BEARING``) the quote must hold some of what the question asks beyond its names:
    "Why did Ferrand leave Port Elling?" is not answered by "The summer signing from Port
    Elling needed just 11 minutes to open his account"."""
    sup = [s for s in sentences if s.supported and s.role == "support"]
    claim = claim_terms(question) if kind in BEARING and not asks else []  # what is asked for has its own test
    if claim:
        sup = [s for s in sup if term_share(claim, _quoted(s.text), idf) > 0]
        if not sup:
            return []
    if asks:
        sup = [s for s in sup if states(asks, _quoted(s.text), question) and figure_of_claim(asks, question, _quoted(s.text), idf)]
        if not sup:
            return []
    if not sup:
        return [s for s in sentences if s.supported]
    first = AnswerSentence(sup[0].text, sup[0].cites, True, sup[0].reason, role="answer")
    return [first] + [s for s in sentences if s.supported and s is not sup[0] and s.role != "answer"]


def possible_only(
    asks: str,
    question: str,
    evidence: Sequence[Evidence],
    idf: Callable[[list[str]], dict[str, float]] | None = None,
) -> Evidence | None:
    """The passage most relevant to the question that gives the amount or count it asks for
    only as a possibility, a demand or a ceiling ("Each charge carries a sentence of one to 15
    years" for "How many years did she get?"): a refusal names it, so that the reader knows
    what the collection does say."""
    if asks not in ("amount", "count"):
        return None
    found = [
        e
        for e in evidence
        if states(asks, e.model_text, question, outright_only=False)
        and not states(asks, e.model_text, question)
        and figure_of_claim(asks, question, e.model_text, idf)
    ]
    return max(found, key=lambda e: (relevance(question, e.model_text, idf), -e.n), default=None)


def stating_passages(
    form: QuestionForm,
    question: str,
    evidence: Sequence[Evidence],
    asks: str,
    idf: Callable[[list[str]], dict[str, float]] | None = None,
    exclude: Sequence[int] = (),
    limit: int = 2,
    focus_sources: Sequence[Sequence[str]] = (),
) -> list[AnswerSentence]:
    """Quotes of the passages that state what the question asks for (``asks``: an amount or a
    time), most relevant to the question first: candidates to stand in for a direct answer
    that did not state it ("When did the strike start?" -> the passage saying the workers
    walked out on Monday [October 2, 2023]). For a figure, like a supporting quote, it must hold
    at least ``CLAIM_SHARE`` of what the question asks, not only the names it asks about."""
    rel = {e.n: relevance(question, e.model_text, idf) for e in evidence}
    arts = on_topic(question, evidence, focus_sources, idf)
    ranked = sorted(
        (
            e
            for e in evidence
            if e.n not in exclude and (arts is None or e.article_id in arts) and states(asks, quote(e), question) and figure_of_claim(asks, question, e.model_text, idf)
        ),
        key=lambda e: (-rel[e.n], e.n),
    )
    return [
        AnswerSentence(text=support_text(e, form.kind, question), cites=(e.n,), supported=False, role="support")
        for e in ranked[:limit]
    ]


def _quoted(text: str) -> str:
    """The quote of a supporting sentence (what is inside its quotation marks), else the text."""
    m = re.search(r"“(.*)”", text)
    return m.group(1) if m else text


def direct_text(sentences: Sequence[AnswerSentence]) -> str:
    """The direct answer without its markers (``Answer.short``)."""
    return " ".join(strip_markers(s.text) for s in sentences if s.role == "answer")

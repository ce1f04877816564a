"""Query understanding without an LLM: outlets and dates named in a question.

* Outlets: the set comes from the index itself. Each outlet gets variants (the full
  name, without a leading "The", the part before " | ", " - " or ": "), matched
  case-sensitively (as written, Title Case or UPPER) on word boundaries, so "the age
  of AI" is not The Age. Phrases that *attribute* the question to a publication
  ("an article from X", "a Bloomberg report", "reported by X") but name no outlet in
  the index are returned as ``unknown_outlets``.
* Dates: absolute days ("October 7, 2023", "2023-10-07", "7 Oct 2023"), months
  ("in October 2023", "the October article") and relative phrases ("last week",
  "yesterday", "3 days ago") resolved against ``as_of`` (the newest article by
  default), parsed with dateparser. "before"/"after"/"since"/"until" qualifiers turn a
  date into an open range.

The result only *biases* retrieval (boosts); it never filters, so a misparse cannot
leave the user with nothing.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from rag.lexical import question_words, terms
from rag.words import COMMON_CAPS, MONTH_NAMES, MONTHS, WEEKDAY_NAMES
from rag.words import MONTH_ABBR as MON_ABBR

_MON = rf"(?:{MONTHS}|(?:{MON_ABBR})\.?)"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
DATE_PATTERNS = [
    ("day", re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")),
    ("day", re.compile(rf"\b({_MON}\s+{_DAY}(?:\s*,\s*|\s+)\d{{4}})\b")),
    ("day", re.compile(rf"\b({_DAY}\s+{_MON},?\s+\d{{4}})\b")),
    ("day_noyear", re.compile(rf"\b({_MON}\s+{_DAY})\b(?!\s*,?\s*\d{{4}})")),
    # a holiday named as a day ("on Christmas night", "Boxing Day"), not as a season ("Christmas shopping")
    (
        "holiday",
        re.compile(
            r"\b((?:christmas\s+(?:eve|day|night|morning|afternoon)|(?<=\bon\s)(?:christmas|thanksgiving|halloween)|"
            r"boxing\s+day|new\s+year'?s\s+(?:eve|day)|thanksgiving\s+(?:day|night)|halloween\s+night|valentine'?s\s+day|"
            r"fourth\s+of\s+july|independence\s+day)(?:,?\s+(?:19|20)\d\d)?)\b",
            re.I,
        ),
    ),
    ("month", re.compile(rf"\b((?:{MONTHS})(?:\s+(?:of\s+)?\d{{4}})?)\b(?!\s+\d)")),
    (
        "relative",
        re.compile(
            r"\b(yesterday|today|last\s+(?:week|month)|this\s+(?:week|month)|past\s+(?:week|month)|\d+\s+days?\s+ago)\b", re.I
        ),
    ),
    (
        "recent",
        re.compile(
            r"\b(latest|most\s+recent(?:ly)?|newest|recent(?:ly)?|lately|these\s+days|currently|right\s+now|"
            r"(?:what'?s|what\s+is)\s+new|up\s+to\s+date)\b",
            re.I,
        ),
    ),
]
RECENT_DAYS = 30  # "recently", "the latest": the month up to the as-of date, newest first
_QUAL = re.compile(r"\b(before|prior to|until|by|after|since|following|from)\s+(?:the\s+)?(?:\w+\s+){0,2}$", re.I)

_PUB_NAME = r"((?:[A-Z][\w&.'-]*)(?:\s+(?:of\s+|&\s+)?[A-Z][\w&.'-]*){0,4})"
ATTRIBUTION = re.compile(
    r"(?:(?:article|piece|report|review|story|coverage|post|column|feature|analysis|another)s?\s+(?:from|by|in)\s+|"
    r"(?:reported|published|written|covered|highlighted|detailed)\s+(?:by|in)\s+|"
    # "according to Reuters", "according to the Financial Times"; not "according to Eddy Cue" (a person)
    r"[Aa]ccording\s+to\s+(?=(?:the|The)\s|[A-Z][\w&.'-]*(?![\w&.'-]*\s+[A-Z]))|"
    r"\b(?:a|an|the)\s+(?=[A-Z][\w&.'-]*(?:\s+[A-Z][\w&.'-]*)*\s+(?:article|piece|report|review|story|coverage)))"
    r"(?:the\s+|The\s+)?" + _PUB_NAME
)
# "What did Bloomberg report about ...", "Has Reuters written about ...", "Bloomberg's report on ...",
# "Summarize what Reuters wrote about ...", "how the Guardian covered ...", "Reuters' story"
ATTRIBUTION_VERB = re.compile(
    r"\b(?:[Dd]id|[Dd]oes|[Dd]o|[Hh]as|[Hh]ave|[Hh]ad)\s+(?:the\s+|The\s+)?" + _PUB_NAME
    + r"\s+(?:report|write|publish|cover|say|claim|reveal)\w*\b"
    r"|\b(?:[Ww]hat|[Hh]ow)\s+(?:the\s+|The\s+)?" + _PUB_NAME
    + r"\s+(?:(?:has|have|had)\s+)?(?:reported|wrote|written|published|covered|said|claimed|revealed)\b"
    r"|" + _PUB_NAME + r"(?:'s|’s|(?<=s)'|(?<=s)’)\s+(?:article|report|reporting|piece|story|coverage|investigation)\b"
)
_NOT_OUTLET = set(MONTH_NAMES) | set(WEEKDAY_NAMES) | {"I", "It", "This", "That", "These", "Those", "Both", "Which", "What"}


# the last word of a person named by their post ("the Kestrel CEO"), never of a publication's name
_ROLE_WORDS = frozenset(
    "CEO CFO COO CTO Chief Chairman Chairwoman Chair President Spokesperson Spokesman Spokeswoman Minister Secretary "
    "Director Manager Coach Founder Owner Mayor Governor Senator Lawyer Lawyers Attorney Attorneys Prosecutor "
    "Prosecutors Judge Board Boss Executive Executives".split()
)
_BOUNDARY = re.compile(r"[,;]|\b(?:while|whereas|and|but|or|compared to|in contrast to|versus|than)\b", re.I)


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date
    text: str
    kind: str  # day | month | relative | recent | before | after

    def contains(self, iso: str) -> bool:
        if not iso:
            return False
        d = date.fromisoformat(iso[:10])
        return self.start <= d <= self.end


@dataclass(frozen=True)
class OutletMention:
    text: str
    start: int
    end: int
    sources: tuple[str, ...]  # index outlets this mention may mean


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    outlets: tuple[OutletMention, ...] = ()
    dates: tuple[DateRange, ...] = ()
    unknown_outlets: tuple[str, ...] = ()
    unknown_names: tuple[str, ...] = ()  # multi-word names with a word found in no indexed article

    def segments(self) -> list[tuple[OutletMention, str]]:
        """Each outlet mention with the words of the question that belong to it.

        The text between two mentions is cut at its last clause boundary (a comma,
        "while", "and", "but", ...): what comes before belongs to the earlier outlet,
        what follows to the later one; text before the first mention goes to the first,
        text after the last to the last. "Does the Age article say X, while the Verge
        article says Y?" gives The Age "... say X" and The Verge "the ... article says Y?",
        so each outlet is searched for its own claim."""
        ms = list(self.outlets)
        if not ms:
            return []
        parts = [[""] for _ in ms]
        parts[0][0] = self.text[: ms[0].start]
        for i in range(len(ms) - 1):
            between = self.text[ms[i].end : ms[i + 1].start]
            cuts = list(_BOUNDARY.finditer(between))
            if cuts:
                parts[i].append(between[: cuts[-1].start()])
                parts[i + 1].append(between[cuts[-1].end() :])
            else:
                parts[i].append(between)
        parts[-1].append(self.text[ms[-1].end :])
        return [(m, " ".join(" ".join(p).split())) for m, p in zip(ms, parts, strict=True)]

    @property
    def sources(self) -> tuple[str, ...]:
        out: list[str] = []
        for m in self.outlets:
            out.extend(s for s in m.sources if s not in out)
        return tuple(out)


def _variants(source: str) -> set[str]:
    base = {source.strip()}
    for sep in (" | ", " - ", ": "):
        if sep in source:
            base.add(source.split(sep)[0].strip())
    for v in list(base):
        if v.lower().startswith("the ") and len(v) > 8:
            base.add(v[4:])
    out = set()
    for v in base:
        if len(v) < 3:
            continue
        out.update({v, v.upper(), v.title()} if len(v.split()) > 1 or len(v) > 4 else {v, v.upper()})
    return out


@dataclass
class OutletMatcher:
    """Finds the index's outlets in a question; built once per index."""

    sources: Iterable[str]
    _pattern: re.Pattern[str] | None = field(default=None, init=False)
    _map: dict[str, set[str]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for s in self.sources:
            for v in _variants(s):
                self._map.setdefault(v, set()).add(s)
        if self._map:
            alts = sorted(self._map, key=len, reverse=True)
            self._pattern = re.compile(r"(?<![\w])(" + "|".join(re.escape(a) for a in alts) + r")(?![\w])")

    def find(self, text: str) -> list[OutletMention]:
        if self._pattern is None:
            return []
        out = []
        for m in self._pattern.finditer(text):
            out.append(OutletMention(m.group(1), m.start(), m.end(), tuple(sorted(self._map[m.group(1)]))))
        return out

    def unknown(self, text: str, known: list[OutletMention]) -> list[str]:
        """Publication names the question attributes claims to that match no indexed outlet."""
        spans = [(m.start, m.end) for m in known]
        out: list[str] = []
        found = [(m.group(1), m.start(1), m.end(1)) for m in ATTRIBUTION.finditer(text)]
        for m in ATTRIBUTION_VERB.finditer(text):
            g = next(i for i in range(1, len(m.groups()) + 1) if m.group(i))
            found.append((m.group(g), m.start(g), m.end(g)))
        for name, a, b in found:
            name = re.sub(r"(?:['’]s|(?<=s)['’])$", "", name)  # "Did Bloomberg's coverage say ...": the outlet is Bloomberg
            if any(a < e and s < b for s, e in spans) or name in _NOT_OUTLET:
                continue
            if re.search(r"\w['’]s\s", name):
                continue  # "What did Kestrel's CEO say ...": someone of Kestrel's, not a publication
            if name.split()[-1] in _ROLE_WORDS:
                continue  # "What did the Kestrel CEO say ...", "Has the Northfield Mayor said ..."
            if name not in out:
                out.append(name)
        return out


_HOLIDAY_DAYS = {
    "christmas eve": (12, 24), "christmas": (12, 25), "boxing": (12, 26), "new years eve": (12, 31),
    "new years day": (1, 1), "halloween": (10, 31), "valentines": (2, 14), "fourth of july": (7, 4),
    "independence": (7, 4),
}  # fmt: skip


def holiday(text: str, year: int) -> date | None:
    """The day a holiday's name stands for in ``year``, or in the year it names ("Christmas Day
    2022"); Thanksgiving is the fourth Thursday of November, as in the United States. None for
    a name that is no holiday."""
    low = text.lower().replace("'", "").strip()
    named = re.search(r"((?:19|20)\d\d)$", low)
    if named:
        year = int(named.group(1))
    if low.startswith("thanksgiving"):
        first = date(year, 11, 1)
        return first + timedelta(days=(3 - first.weekday()) % 7 + 21)
    for name, (m, d) in _HOLIDAY_DAYS.items():
        if low.startswith(name):
            return date(year, m, d)
    return None


def _parse_one(text: str, kind: str, as_of: date) -> tuple[date, date] | None:
    import dateparser

    if kind == "holiday":  # without its year, the latest one up to the as-of date, as for "December 25"
        d = holiday(text, as_of.year)
        if d is not None and d > as_of and not re.search(r"\d{4}$", text):
            d = holiday(text, as_of.year - 1)
        return (d, d) if d is not None else None

    settings = {"RELATIVE_BASE": _dt(as_of), "PREFER_DATES_FROM": "past", "PREFER_DAY_OF_MONTH": "first"}
    clean = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
    if kind == "recent":
        return as_of - timedelta(days=RECENT_DAYS), as_of
    if kind == "relative":
        low = text.lower()
        if "week" in low:
            end = as_of - timedelta(days=7) if low.startswith("last") else as_of
            return (end - timedelta(days=6), end) if low.startswith("last") else (as_of - timedelta(days=7), as_of)
        if "month" in low:
            first = as_of.replace(day=1)
            if low.startswith("last"):
                prev_end = first - timedelta(days=1)
                return prev_end.replace(day=1), prev_end
            return (as_of - timedelta(days=30), as_of) if low.startswith("past") else (first, as_of)
    try:
        parsed = dateparser.parse(clean, languages=["en"], settings=settings)  # type: ignore[arg-type]
    except (ValueError, OverflowError):  # a date dateparser cannot represent reads as no date
        return None
    if parsed is None:
        return None
    d = parsed.date()
    if kind == "month":
        if not re.search(r"\d{4}", text):
            d = _latest_month(d.month, as_of)
        last = calendar.monthrange(d.year, d.month)[1]
        return d.replace(day=1), d.replace(day=last)
    if kind == "day_noyear":
        d = _latest_day(d.month, d.day, as_of)
    return d, d


def _dt(d: date):
    from datetime import datetime

    return datetime(d.year, d.month, d.day)


def _latest_month(month: int, as_of: date) -> date:
    year = as_of.year if month <= as_of.month else as_of.year - 1
    return date(year, month, 1)


def _latest_day(month: int, day: int, as_of: date) -> date:
    try:
        d = date(as_of.year, month, day)
    except ValueError:
        return date(as_of.year, month, 1)
    return d if d <= as_of else date(as_of.year - 1, month, min(day, 28))


def parse_dates(text: str, as_of: date) -> list[DateRange]:
    taken: list[tuple[int, int]] = []
    out: list[DateRange] = []
    for kind, pat in DATE_PATTERNS:
        for m in pat.finditer(text):
            a, b = m.span(1)
            if any(a < e and s < b for s, e in taken):
                continue
            if kind == "month" and m.group(1) == "May" and not re.search(r"\d{4}", m.group(1)):
                continue  # "may" the verb
            try:
                rng = _parse_one(m.group(1), kind, as_of)
            except (ValueError, OverflowError):  # "9999-12-31", "0001-01-01" and other calendar ends
                rng = None
            if rng is None:
                continue
            taken.append((a, b))
            k = "day" if kind in ("day_noyear", "holiday") else kind
            q = _QUAL.search(text[max(0, a - 40) : a])
            if q:
                word = q.group(1).lower()
                if word in {"before", "prior to", "until", "by"}:
                    end = rng[0] - timedelta(days=1) if rng[0] > date.min else date.min
                    out.append(DateRange(min(date(1900, 1, 1), end), end, m.group(1), "before"))
                    continue
                if word in {"after", "since", "following"}:
                    start = rng[1] + timedelta(days=1) if rng[1] < date.max else date.max
                    out.append(DateRange(start, max(date(2999, 12, 31), start), m.group(1), "after"))
                    continue
            out.append(DateRange(rng[0], rng[1], m.group(1), k))
    return out


_NAME_WORD = r"[A-Z][\w.-]*\w"
_NAME = re.compile(rf"(?<![\w'’])({_NAME_WORD}(?:[ ](?:of |de |van |von |the )?{_NAME_WORD})+)(?!\w)")
_NAME_STOP = {"The", "A", "An", "In", "On", "Considering", "Which", "What", "Who", "Does", "Did", "Is", "Was",
              "After", "Before", "Between", "Has", "Have", "Were", "Do", "Are", "Both", "According"}  # fmt: skip


def names(text: str, outlets: list[OutletMention]) -> list[str]:
    """Multi-word proper names in ``text`` (outlet mentions, possessives and quotes end a name)."""
    for m in sorted(outlets, key=lambda m: -m.start):
        text = text[: m.start] + " , " + text[m.end :]
    text = re.sub(r"[’']s?\b", " , ", text)
    text = re.sub(r"[\"“”‘]|\band\b|&", " , ", text)
    out = []
    for m in _NAME.finditer(text):
        words = m.group(1).split()
        while words and (words[0] in _NAME_STOP or words[0] in COMMON_CAPS or words[0].islower()):
            words = words[1:]
        if len(words) >= 2:
            out.append(" ".join(words))
    return list(dict.fromkeys(out))


def parse_query(text: str, matcher: OutletMatcher, as_of: date, known_word: Callable[[str], bool] | None = None) -> ParsedQuery:
    """Outlets, dates, unknown outlets and (given ``known_word``, which says whether a word
    occurs anywhere in the index) names with a word that no indexed article contains."""
    outlets = matcher.find(text)
    unknown_names: list[str] = []
    if known_word is not None:
        for n in names(text, outlets):
            if any(len(w) >= 4 and not known_word(w) for w in re.findall(r"\w+", n)):
                unknown_names.append(n)
    return ParsedQuery(
        text=text,
        outlets=tuple(outlets),
        dates=tuple(parse_dates(text, as_of)),
        unknown_outlets=tuple(matcher.unknown(text, outlets)),
        unknown_names=tuple(unknown_names),
    )


def topic_text(query: str, parsed: ParsedQuery) -> str:
    """The question without its relative-time phrases ("the latest", "this week", "recently"),
    for matching words: the date boosts read those phrases, and as words they match any article
    that happens to say "latest" ("Their latest win ..." came first for "What's the latest on the
    Arro 2?"). The question itself when nothing else would be left."""
    out = query
    for r in parsed.dates:
        if r.kind in ("recent", "relative") and r.text:
            out = re.sub(rf"(?<!\w){re.escape(r.text)}(?!\w)", " ", out, flags=re.I)
    out = " ".join(out.split())
    return out if any(t not in question_words() for t in terms(out)) else query

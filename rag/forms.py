"""Question forms: what shape of answer a question asks for.

``classify(question)`` reads the question's grammar (its opening words, the verb it asks
about, a polite frame around it) and returns a ``QuestionForm`` whose ``kind`` is one of

* ``fact``: who, which, where, when, how many, how much, what + name/number/date;
* ``yesno``: a closed question ("Is Mateo Ferrand injured?", "After the report, was ...?");
* ``explanation``: why, how did it happen, what caused / led to;
* ``event``: what happened, what did X say / announce / decide, the outcome;
* ``summary``: summarize, an overview, tell me about;
* ``timeline``: how did X develop, what changed since, a chronology;
* ``comparison``: compare, the difference between, how did A and B differ;
* ``list``: list / name the ..., which companies ..., what are some ...;
* ``latest``: the latest or most recent news on a topic, what became of someone ("what happened to X");
* ``open``: anything else, answered plainly.

Polite requests ("Can you summarize ...", "Could you explain why ...", "Do you know
who ...") are unwrapped first: they are requests, not Yes/No questions. Nothing here
knows any data set's templates; it is a few grammatical cues, tested on varied
phrasings. This module does no retrieval and no generation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.words import AUXILIARIES

KINDS = ("fact", "yesno", "explanation", "event", "summary", "timeline", "comparison", "list", "latest", "open")
LONG_FORMS = frozenset({"summary", "timeline", "latest", "list"})  # several sentences from several articles


@dataclass(frozen=True)
class QuestionForm:
    kind: str
    request: str  # the question with any polite frame removed
    sides: tuple[str, ...] = ()  # for comparisons: the things compared, when the question names them
    recency: bool = False  # asks about what is recent ("latest", "this week", "recently")

    @property
    def long(self) -> bool:
        return self.kind in LONG_FORMS


AUX = "|".join(re.escape(a) for a in AUXILIARIES)  # an auxiliary verb, as a regex alternation
# "Can you ..." frames a request only around something asked of the assistant ("Can you summarize
# the story?"); "Can you livestream from the glasses?" asks whether a person can do something
_ASKED_OF_US = (
    r"tell|show|give|summari[sz]e|sum|explain|describe|list|name|outline|recap|compare|contrast|check|confirm|"
    r"verify|find|look|help|say|walk|break|clarify|provide|share|remind|get|let|brief|catch|point|detail|"
    r"identify|trace|spell|run|write|answer|go|put|quote|cite|figure|work|fill|update"
)
_POLITE = re.compile(
    r"^(?:(?:hi|hey|hello|ok|okay|so|please)[,!.]?\s+)*"
    rf"(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?(?=(?:{_ASKED_OF_US})\b)|please\s+|i(?:'d| would)\s+like\s+(?:you\s+)?to\s+(?:know\s+)?|"
    r"i\s+want\s+to\s+know\s+|i(?:'m| am)\s+(?:curious|wondering)\s+(?:about\s+)?|do\s+you\s+know\s+|"
    r"(?:can|could|may)\s+i\s+(?:get|have|ask)\s+|help\s+me\s+understand\s+|let\s+me\s+know\s+)",
    re.I,
)
_TELL = re.compile(r"^(?:tell|show|give)\s+(?:me|us)\s+(?:(?:a|an|the)\s+)?", re.I)
# "check whether ...", "find out if ...": the Yes/No question inside the request
_CHECK = re.compile(r"^(?:check|find\s+out|see|confirm|verify|say|look\s+up)\s+(?=(?:whether|if)\b)", re.I)

_SUMMARY = re.compile(
    r"^(?:summari[sz]e|sum\s+up|recap|brief\s+me|catch\s+me\s+up|give\s+(?:me\s+)?(?:an?\s+)?(?:overview|summary|rundown|recap)|"
    r"(?:an?\s+)?(?:overview|summary|rundown|recap|short\s+version|gist)\b)"
    r"|\b(?:summary|overview|rundown|recap|gist)\s+of\b|\bin\s+(?:a\s+)?(?:nutshell|brief)\b|"
    r"^what(?:'s| is| was)\s+the\s+(?:story|deal|background)\b|^(?:tell\s+me\s+)?about\b|^what\s+do\s+(?:we|you)\s+know\s+about\b",
    re.I,
)
_TIMELINE = re.compile(
    r"\b(?:timeline|chronolog\w*|sequence\s+of\s+events|step\s+by\s+step|over\s+time|from\s+start\s+to\s+finish)\b|"
    r"^how\s+(?:did|has|have|does)\s+.+\b(?:develop|unfold|evolve|progress|play\s+out|change|escalate|turn\s+out)\w*\b|"
    r"\bwhat\s+(?:has\s+|have\s+)?changed\b|\bhow\s+(?:has|have)\s+.+\bchanged\b|^trace\b|\bin\s+(?:what|which)\s+order\b|"
    # what happened over a span: "between its launch and the ban", "from the vote to the deal", "since the verdict"
    r"^what\s+(?:has\s+)?(?:happened|went\s+on)\b.*\b(?:between\s+.+\s+and|from\s+.+\s+(?:to|until)|since)\s|"
    # how something went over a span: "how did the season go from the opening day to December?",
    # "how have sales fared over the year?" (a course of events, not one result)
    r"^how\s+(?:did|has|have|does|do)\s+.+\b(?:go|went|gone|going|fare|fared|do|did|done|get\s+on|got\s+on)\s+"
    r"(?:(?:from\s+.+\s+(?:to|until|through|into)|between\s+.+\s+and)\s|(?:over|across|through|throughout)\s+(?:the|this|last|its|their)\s)|"
    # how someone has done over a season or a year, or so far: "how have the Rovers done this
    # season?" is their course through it, not one game
    r"^how\s+(?:did|has|have|does|do|is|are)\s+.+\b(?:fare|fared|faring|do|did|doing|done|perform|performed|performing|"
    r"get\s+on|got\s+on|gotten\s+on|getting\s+on)\s+(?:(?:this|last|the|their|its)\s+(?:season|year|campaign)|so\s+far)\b",
    re.I,
)
_LATEST = re.compile(
    r"\b(?:latest|most\s+recent|newest|recent\s+(?:news|developments?|updates?|coverage)|any\s+(?:news|updates?)|"
    r"what'?s\s+new|update\s+on|anything\s+new\b|^what\s+(?:is|has\s+been)\s+new\b|"
    # what became of someone or something: their fate, i.e. the newest development first
    r"^what\s+(?:has\s+|have\s+)?(?:happened|become|became)\s+(?:to|of)\b)",
    re.I,
)
_RECENT_WORDS = re.compile(
    r"\b(?:latest|most\s+recent|newest|recent(?:ly)?|this\s+(?:week|month)|these\s+days|currently|right\s+now|lately|so\s+far)\b",
    re.I,
)
_COMPARE = re.compile(
    r"^(?:compare|contrast)\b|\bdifferen(?:ce|t|tly|ces)\s+(?:between|from|in)\b|\bdiffer\b|\bcompared?\s+(?:to|with)\b|"
    r"\bversus\b|\bvs\.?\s|\bin\s+contrast\s+to\b|\bhow\s+do(?:es)?\s+.+\s+compare\b|\bsimilar(?:ities|ity)?\b",
    re.I,
)
_LIST = re.compile(
    r"^(?:list|name|enumerate)\b|^(?:what|which|who)\s+(?:are|were)\s+(?:some|all|the\s+(?:main|key|major|other))\b|"
    r"^what\s+(?:are|were)\s+(?:some\s+of\s+)?the\s+\w+s\b(?!.*\bof\s+the\s+(?:new|contract|deal))|"
    r"^(?:which|what)\s+(?:\w+\s+)?(?:companies|people|countries|teams|players|outlets|firms|products|measures|steps|"
    r"changes|options|charges|sanctions|cities|states|groups|banks|brands|models|features|reasons|issues)\b|"
    r"^who\s+(?:else|all)\b|^(?:which|what|who)\s+(?:two|three|four|five|several|other)\b|"
    r"^what\s+(?:kinds?|types?|sorts?|versions?|variants?|models?|editions?|options?)\s+of\b|^(?:which|what)\s+.+\s+are\s+there\b|"
    r"^(?:what|which)\s+new\s+\w+s\s+(?:has|have|had|did|does|do|will|are|were)\b",
    re.I,
)
_EXPLAIN = re.compile(
    r"^(?:why|how\s+come)\b|^explain\b|^(?:what|which)\s+(?:\w+\s+){0,2}(?:caused|causes|led\s+to|leads\s+to|prompted|"
    r"triggered|drove|motivated|is\s+behind|was\s+behind|explains?)\b|"
    r"^what\s+(?:is|was|were|are)\s+(?:the\s+)?(?:main\s+)?(?:reasons?|cause|causes|motive|rationale|explanation|basis)\b|"
    r"^for\s+what\s+reason\b|^on\s+what\s+grounds\b|^what\s+for\b|\bwhy\b",
    re.I,
)
# someone's: "what was Jonathan Smith's salary", "what was the board's decision"
_OWNER = r"(?:[\w.&-]+\s+){0,3}?[\w.&-]+['’]s?\s+"
_EVENT = re.compile(
    r"^what\s+(?:exactly\s+)?(?:happened|happens|has\s+happened|took\s+place|occurred|went\s+on|is\s+(?:happening|going\s+on))\b|"
    r"^what\s+(?:did|does|has|have|had|will|would)\s+.+\b(?:say|said|announce|announced|report|reported|reveal|decide|"
    r"find|found|do|claim|claimed|argue|tell|promise|propose|plan|want|warn|ask|offer|admit|write|describe|rule|conclude|"
    r"agree|accuse|allege|confirm|deny|suggest)\w*\b|"
    r"^what\s+(?:was|were|is|are)\s+(?:the\s+|" + _OWNER + r")?(?:outcome|result|verdict|ruling|decision|response|reaction|terms|details|"
    r"findings|conclusion|impact|effect|consequences?|situation|status)\b|^describe\b|^how\s+did\s+.+\b(?:respond|react|end)\b|"
    # how someone got on: "how did Rovers get on this week?", "how did Nike do in the quarter?" (a result, not a method)
    r"^how\s+(?:did|do|does|has|have|is|are|was|were)\s+.+\b(?:get|got|gotten|getting)\s+on\b|"
    r"^how\s+(?:did|do|does|has|have|is|are|was|were)\s+.+\b(?:fare|fared|faring|do|did|doing|done|go|went|going|gone|"
    r"perform|performed|performing)(?:\s+(?:this|last)\s+(?:week|weekend|month|season|year)|\s+(?:today|yesterday|recently|"
    r"lately|so\s+far)|\s+(?:in|at|against|on)\s+.+)?$",
    re.I,
)
_FACT = re.compile(
    r"^(?:(?:in|on|at|by|for|from|to|with|of)\s+)?(?:who|whom|whose|which|where|when)\b|^how\s+(?:many|much|long|old|often|far|big|large|high|soon)\b|"
    r"^what\s+(?:year|month|day|date|time|percentage|percent|share|amount|number|sum|price|age|name|figure|size|rate)\b|"
    r"^what\s+(?:is|was|were|are)\s+(?:the\s+|" + _OWNER + r")?(?:name|number|amount|date|price|figure|total|size|cost|value|age|score|"
    r"fine|penalty|sentence|salary|rate|percentage)\b|^what\s+(?:\w+\s+)?(?:company|firm|team|person|outlet|city|country|"
    r"organi[sz]ation|agency|court|player|brand|product|supplier|model)\b|^what\s+(?:does|did|do|will|would)\s+.+\bcost\b",
    re.I,
)
_HOW = re.compile(r"^how\b", re.I)

# what a fact question asks to be told: an amount ("how many", "how much did it cost", "what was
# the fine") or a time ("when", "what year"); an answer that states neither does not answer it
_ASKS_AMOUNT = re.compile(
    r"^how\s+(?:many|much|long|old|far)\b(?!\s+(?:did|does|do|has|have|had|will|would|is|was|are|were)\s+.+\b(?:affect|matter|"
    r"change|help|hurt|influence|impact|care|like|know|trust|mean)\w*\b)|"
    r"^what\s+(?:(?:is|was|were|are|will\s+be|'s)\s+)?(?:the\s+|its\s+|his\s+|her\s+|their\s+|"
    + _OWNER
    + r")?(?:\w+\s+)?(?:percentage|amount|"
    r"number|sum|price|age|figure|size|total|cost|value|score|fine|penalty|salary|fee|valuation|pay\s+rise|raise|"
    r"sentence|jail\s+term|prison\s+term)\b|"
    # "what does the Arro 2 cost now?", "what will the upgrade cost?"
    r"^what\s+(?:does|did|do|will|would|could|might)\s+.+\bcost\b",
    re.I,
)
# "how long", "what prison sentence": a length of time, or life
_ASKS_DURATION = re.compile(
    r"^\s*how\s+long\b|^\s*what\s+(?:(?:is|was|will\s+be)\s+)?(?:the\s+|his\s+|her\s+|their\s+)?(?:\w+\s+)?"
    r"(?:sentence|(?:jail|prison)\s+term)\b",
    re.I,
)
_ASKS_PERSON = re.compile(r"^(?:who|whom|whose)\b(?!\s+(?:else|cares)\b)", re.I)
# "which company / supplier / team ...": the answer names one, and not one the question already names
_ASKS_NAME = re.compile(
    r"^(?:which|what)\s+(?:(?!(?:did|does|do|is|was|were|are|has|have|had|will|would|can|could|the|a|an)\b)[\w'’-]+\s+){0,2}?(?:company|companies|firm|supplier|manufacturer|maker|brand|team|club|"
    r"outlet|newspaper|publication|agency|organi[sz]ation|bank|university|startup|retailer|airline|lab)\b",
    re.I,
)
_ASKS_TIME = re.compile(r"^(?:(?:since|until|by)\s+)?when\b|^(?:in\s+|on\s+)?what\s+(?:year|month|day|date|time)\b", re.I)

_YESNO_START = re.compile(rf"^(?:{AUX})\b|^(?:is\s+it\s+true|true\s+or\s+false)\b", re.I)
_CLAUSE_AUX = re.compile(rf",\s*(?:and\s+)?(?:{AUX})\b", re.I)
_WH_ANY = re.compile(r"(?:^|[,;]\s*|\s)(?:who|whom|whose|what|which|when|where|why|how)\b", re.I)
_WHETHER = re.compile(r"^(?:whether|if)\b", re.I)

_SIDES = re.compile(
    r"\bbetween\s+(?P<a>.+?)\s+and\s+(?P<b>.+?)(?:[?.,;]|$)|(?P<c>[\w$][^,?;]*?)\s+(?:vs\.?|versus|compared\s+(?:to|with))\s+(?P<d>[^,?;]+)",
    re.I,
)
_COMPARE_AND = re.compile(r"^(?:compare|contrast)\s+(?:the\s+)?(?P<a>.+?)\s+(?:and|with|to)\s+(?P<b>.+?)(?:[?.;]|$)", re.I)


# words a question is opened with in speech, before what it asks: "so did ireland finally win ...",
# "ok, who won?", "and what happened next?"
_OPENER = re.compile(
    r"^(?:(?:so|ok|okay|well|and|but|also|oh|um|hmm|right|hey|hi)\b[,!.]?\s+)+"
    r"(?=(?:who|whom|whose|what|when|where|why|how|which|did|does|do|is|are|was|were|has|have|had|will|can|could|"
    r"should|would|tell|give|summari[sz]e|explain|describe|list|compare)\b)",
    re.I,
)


def unwrap(q: str) -> str:
    """The request inside a polite frame ("Can you summarize X?" -> "summarize X?") or after a
    spoken opener ("so did ireland win?" -> "did ireland win?")."""
    prev = None
    while prev != q:
        prev = q
        q = _OPENER.sub("", q, count=1).strip()
        q = _POLITE.sub("", q, count=1).strip()
        q = _TELL.sub("", q, count=1).strip()
        q = _CHECK.sub("", q, count=1).strip()
    return q


def sides(question: str) -> tuple[str, ...]:
    """The two things a comparison names, when it names them ("between A and B", "A vs B",
    "compare A and B"); () otherwise."""
    q = " ".join(question.split())
    m = _COMPARE_AND.search(unwrap(q))
    if m:
        return (m.group("a").strip(), m.group("b").strip())
    m = _SIDES.search(q)
    if m:
        a, b = (m.group("a"), m.group("b")) if m.group("a") else (m.group("c"), m.group("d"))
        return (a.strip(), b.strip())
    return ()


def classify(question: str) -> QuestionForm:
    """The form of ``question`` (see the module docstring)."""
    q = " ".join(question.split()).strip()
    polite = bool(_POLITE.match(q))
    req = unwrap(q)
    recency = bool(_RECENT_WORDS.search(q))
    r = req.lower().strip(" ?!.")

    def form(kind: str) -> QuestionForm:
        return QuestionForm(kind, req, sides(q) if kind == "comparison" else (), recency)

    if not r:
        return form("open")
    # an explicit request names its own shape
    if _SUMMARY.search(r):
        return form("timeline" if _TIMELINE.search(r) else "summary")
    if _TIMELINE.search(r):
        return form("timeline")
    if _COMPARE.search(r) and not _YESNO_START.match(r):
        return form("comparison")
    if _LATEST.search(r) and not _YESNO_START.match(r):
        return form("latest")
    if _WHETHER.match(r) or (polite and re.match(r"^(?:whether|if)\b", r)):
        return form("yesno")
    # a closed question: starts with an auxiliary, or an opening clause then ", <auxiliary>"
    if _YESNO_START.match(r) and not (polite and _WH_ANY.match(r)):
        return form("yesno")
    aux = _CLAUSE_AUX.search(r)
    wh = _WH_ANY.search(r)
    if aux and (wh is None or aux.start() < wh.start()):
        return form("yesno")
    if _LIST.search(r):
        return form("list")
    if _EVENT.search(r):
        return form("event")
    if _EXPLAIN.search(r):
        return form("explanation")
    if _FACT.search(r):
        return form("fact")
    if _HOW.match(r):
        return form("explanation")
    if re.match(r"^what\b", r):
        return form("open")
    if re.match(r"^(?:explain|describe)\b", r):
        return form("explanation")
    return form("open")


def asks_for(question: str) -> str:
    """What a question asks to be told, where an answer can be checked for it: "count"
    (how many), "amount" (how much / how long / how old, what was the fine / price / score ...),
    "time" (when, what year / day / date), "person" (who, whom, whose), "name" (which company,
    supplier, team, outlet ...), else ""."""
    r = unwrap(" ".join(question.split())).strip()
    if _ASKS_TIME.match(r):
        return "time"
    if _ASKS_AMOUNT.match(r):
        return "count" if re.match(r"how\s+many\b", r, re.I) else "amount"
    if _ASKS_PERSON.match(r):
        return "person"
    if _ASKS_NAME.match(r):
        return "name"
    return ""


def asks_duration(question: str) -> bool:
    """Does the question ask how long something lasts or lasted ("how long", "what prison
    sentence did he get?"): a length of time, or life, answers it."""
    return bool(_ASKS_DURATION.search(question))


# asks whether something happened ("Did ...", "Has ...", "Was ...")
HAPPENED = re.compile(r"^(?:did|has|have|had|was|were)\b", re.I)
_WH_PAST = re.compile(r"^(?:who|what|which|how|why)\b.*\b(?:did|happened|won|beat|scored|lost)\b", re.I)


def asks_what_happened(form: QuestionForm) -> bool:
    """Does the question ask about something that has happened: whether it did ("Did the 49ers
    beat the Ravens?"), what happened, what someone said or did, who won? A preview may answer
    "What time is the game?"; none answers what happened in it."""
    if form.kind == "yesno":
        return bool(HAPPENED.match(form.request))
    return form.kind == "event" or bool(_WH_PAST.match(form.request))

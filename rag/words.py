"""Shared word lists and the refusal text: one home for what several stages need.

Query parsing, follow-up rewriting, the question-form classifier, answer composition,
the citation check, the chat page and the eval metrics all agree on what counts as a
month, a weekday, a capitalised word that is not a name, and what a refusal looks like.
Nothing here does any work beyond a lookup.
"""

from __future__ import annotations

import re

REFUSAL = "Insufficient information."

MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
)  # fmt: skip
MONTHS = "|".join(MONTH_NAMES)  # regex alternation
MONTH_ABBR = "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

AUXILIARIES = (
    "does", "did", "do", "is", "was", "were", "are", "has", "have", "had", "can", "could", "would", "will",
    "should", "shall", "may", "might", "must", "isn't", "wasn't", "weren't", "aren't", "doesn't", "didn't",
    "hasn't", "haven't", "won't",
)  # fmt: skip
WH_WORDS = ("who", "whom", "whose", "what", "which", "when", "where", "why", "how")

# Capitalised words that start sentences or questions and are not names.
COMMON_CAPS = frozenset(
    {
        "The", "A", "An", "In", "On", "At", "As", "It", "Its", "This", "That", "These", "Those", "Both", "Yes", "No",
        "However", "While", "Although", "According", "But", "And", "Or", "Article", "He", "She", "They", "We", "I",
        "You", "His", "Her", "Their", "Our", "Your", "There", "Here", "Insufficient", "Based", "From", "For", "By",
        "With", "After", "Before", "Between", "During", "Also", "So", "Then", "Thus", "If", "Not", "Mr", "Mrs", "Ms",
        "Dr", "Considering", "Following", "Since", "Until", "Over", "Under", "Meanwhile", "Some", "Many", "Most",
        "All", "Any", "Each", "Every", "Other", "Another", "One", "Two", "Three", "New", "Please", "Tell", "Give",
        "Summarize", "Summarise", "Explain", "Describe", "List", "Compare", "Name", "Show", "Find", "Outline",
        "Overview", "Recap", "Latest", "Recent", "Recently", "Today", "Yesterday", "Now", "Why", "How", "What",
        "Who", "Whom", "Whose", "Which", "When", "Where",
    }
    | {w.capitalize() for w in AUXILIARIES if "'" not in w}
    | set(MONTH_NAMES)
    | set(WEEKDAY_NAMES)
)  # fmt: skip


def is_refusal(text: str) -> bool:
    """True if ``text`` is (starts with) the refusal, "Insufficient information."."""
    return text.strip().lower().startswith("insufficient information")


def refusal_text(reason: str) -> str:
    """The answer text of a refusal: the refusal line, then its reason."""
    return f"{REFUSAL}\n{reason}" if reason else REFUSAL


MONTH_RE = re.compile(rf"\b({MONTHS})\b")

# Words that frame a question rather than say what it is about ("What happened in the
# trial?" is about the trial; "too", "either" and "also" add nothing to "Is the original Arro part
# of the recall too?"): left out when measuring whether a passage bears on it.
FRAME_WORDS = frozenset(
    "happen happened happens happening say said says tell told report reported reports reporting explain "
    "explained describe described summarize summarise summary overview story stories news latest recent recently "
    "develop developed development developments unfold unfolded update updates article articles coverage covered "
    "know known please question detail details information mention mentioned discuss discussed "
    "thing things go going went occur occurred took take place anyone anybody someone somebody anything "
    "something everyone everybody everything much many per been yet you your me about since ever still also "
    "just really actually exactly week today yesterday tonight any most give list compare comparison sum recap "
    "rundown brief briefly short get gets got getting gotten too either done doing fare fared faring far".split()
)

# words a question and a passage use for one thing ("What will the Arro 2 cost?" is answered by "The
# price has been cut to $1,199"; "Did anyone get hurt?" by "No injuries have been reported"): each
# line is one group, matched as one term when sentences are scored against a question. General
# news vocabulary, not any data set's; WordNet would need a download at run time and its sense-blind
# synonym sets are far broader ("cost" shares one with "be").
SYNONYMS = (
    "cost costs price prices priced",
    "hurt injured injury injuries wounded",
    "killed dead died death deaths",
    "fired sacked dismissed ousted",
    "buy bought acquire acquired acquisition purchase purchased takeover",
    "sued lawsuit",
    "quit resigned resignation",
    "teen teens teenager teenagers",
    "arrested detained custody",
    "jailed prison",
    "salary wage wages",
    "employees staff workers",
)

# the words of ``FRAME_WORDS`` that only ask for an answer's shape ("sum up", "the story of", "what
# happened"), left out when sentences are scored against a question: "Could you sum up the story of
# the Minnesota woman ...?" read "The novelist's first reaction ... neatly sums her up". Words that
# say what a passage should hold ("said", "reported", "latest") are kept. Evidence recall on the
# tune splits (bench/evidence_recall.py): fresh3 0.73 -> 0.77, the others unchanged
REQUEST_WORDS = frozenset(
    "explain explained describe described summarize summarise summary overview story stories article articles "
    "coverage covered please detail details information sum recap rundown brief briefly give list compare comparison "
    "happen happened happens happening develop developed development developments unfold unfolded occur occurred".split()
)

# words of a Yes/No question that say nothing about what it claims ("Is the Steam Deck OLED
# basically a Steam Deck 2?", "Is the original part of the recall too?"): left out when asking
# whether any passage speaks to the claim at all
CLAIM_FILLER = frozenset(
    "basically essentially effectively now too either it its his her hers their theirs them they he she him "
    "against whether".split()
)

# past forms the Snowball stemmer does not bring to their verb ("paid" is not "pay"), for matching
# what a question asks against what a passage says
IRREGULAR = {
    "paid": "pay", "bought": "buy", "sold": "sell", "won": "win", "lost": "lose", "spent": "spend",
    "made": "make", "took": "take", "taken": "take", "gave": "give", "given": "give", "left": "leav",
    "held": "hold", "met": "meet", "kept": "keep", "brought": "bring", "told": "tell", "said": "say",
    "found": "find", "began": "begin", "begun": "begin", "ran": "run", "rose": "rise", "risen": "rise",
    "fell": "fall", "fallen": "fall", "struck": "strike", "hit": "hit", "cut": "cut", "sent": "send",
    "went": "go", "gone": "go", "came": "come", "chose": "choos", "chosen": "choos", "wrote": "write",
    "written": "write", "led": "lead", "built": "build", "drew": "draw", "drawn": "draw", "fought": "fight",
    "caught": "catch", "sought": "seek", "thought": "think", "became": "becom", "grew": "grow", "grown": "grow",
}

# Titles and roles written before a name ("Judge Harold Fenwick", "Chief financial officer Peter Lund").
ROLE_WORDS = frozenset(
    "Chair Chairman Chairwoman Lawyer Judge Chief Mayor President Senator Minister Coach Manager Director Officer "
    "Professor Prosecutor Spokesperson Spokesman Spokeswoman Analyst Expert Captain Detective Sergeant Governor "
    "Secretary Commissioner Economist Striker Defender Forward Midfielder Goalkeeper Veteran Teenager Battery "
    "Defence Defense Prime Foreign Finance Deputy Former Acting Interim Sir Dame Lord Lady Rep Sen Gov Gen".split()
)

# the words prose cannot do without: a long "sentence" nearly without them is a table or a list
# (``rag.evidence.tabular``)
FUNCTION_WORDS = frozenset(
    "the a an of to in and was were is are has have had that this with for on at by from as it its he she "
    "they his her their be been but not who which will would said says after before than or".split()
)

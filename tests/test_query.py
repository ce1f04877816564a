"""Query understanding: outlets from the index, dates, attribution to unknown outlets."""

from __future__ import annotations

from datetime import date

import pytest

from rag.query import OutletMatcher, parse_dates, parse_query

SOURCES = [
    "TechCrunch", "The Verge", "The Age", "Fortune", "Wired", "Sporting News",
    "Cnbc | World Business News Leader", "The Independent - Life and Style", "The Independent - Sports",
    "FOX News - Health", "The New York Times",
]  # fmt: skip
AS_OF = date(2023, 12, 26)


@pytest.fixture()
def matcher() -> OutletMatcher:
    return OutletMatcher(SOURCES)


def outlets(q: str, m: OutletMatcher) -> list[tuple[str, ...]]:
    return [x.sources for x in parse_query(q, m, AS_OF).outlets]


def test_outlets_by_name_and_variant(matcher: OutletMatcher) -> None:
    assert outlets("as reported by both The Verge and TechCrunch", matcher) == [("The Verge",), ("TechCrunch",)]
    assert outlets("Did the CNBC report say so?", matcher) == [("Cnbc | World Business News Leader",)]
    # a short name shared by several outlets means all of them
    assert outlets("according to The Independent", matcher) == [("The Independent - Life and Style", "The Independent - Sports")]
    assert outlets("in the 'Sporting News' article", matcher) == [("Sporting News",)]


def test_no_outlet_false_positives_on_ordinary_words(matcher: OutletMatcher) -> None:
    q = "In the age of AI, did a fortune in crypto get wired abroad, making sporting news verge on the absurd?"
    assert outlets(q, matcher) == []
    assert parse_query(q, matcher, AS_OF).unknown_outlets == ()


def test_unknown_outlets_are_reported(matcher: OutletMatcher) -> None:
    p = parse_query("Considering a Bloomberg article and a piece by CNET on the iPhone, which model ...", matcher, AS_OF)
    assert p.unknown_outlets == ("Bloomberg", "CNET")
    # known outlets and people after "report on" are not unknown outlets
    p = parse_query("Did the TechCrunch report on Sam Bankman-Fried's trial agree with The Verge?", matcher, AS_OF)
    assert p.unknown_outlets == ()
    p = parse_query("Which company, according to Eddy Cue, paid for the default search deal?", matcher, AS_OF)
    assert p.unknown_outlets == ()
    # "what X wrote", "how X covered", "X' story" attribute the question to X as well
    p = parse_query("Can you summarize what Reuters wrote about the leak?", matcher, AS_OF)
    assert p.unknown_outlets == ("Reuters",)
    # the possessive is not part of the name the refusal gives
    p = parse_query("How did Bloomberg's coverage of the verdict differ from The Verge's?", matcher, AS_OF)
    assert p.unknown_outlets == ("Bloomberg",)
    p = parse_query("Tell me how the Financial Times covered the strike", matcher, AS_OF)
    assert p.unknown_outlets == ("Financial Times",)
    assert parse_query("Reuters' story on the leak said what?", matcher, AS_OF).unknown_outlets == ("Reuters",)
    assert parse_query("How Rovers played in November, in brief?", matcher, AS_OF).unknown_outlets == ()
    # someone of a company's, named by their post, is not a publication
    assert parse_query("What did Kestrel's CEO say about the recall?", matcher, AS_OF).unknown_outlets == ()
    assert parse_query("What did the Kestrel CEO say about the recall?", matcher, AS_OF).unknown_outlets == ()
    assert parse_query("What did Bloomberg say about the recall?", matcher, AS_OF).unknown_outlets == ("Bloomberg",)


@pytest.mark.parametrize(
    ("text", "start", "end", "kind"),
    [
        ("the TechCrunch report on October 7, 2023", "2023-10-07", "2023-10-07", "day"),
        ("published on 2023-11-14", "2023-11-14", "2023-11-14", "day"),
        ("on 5 December 2023", "2023-12-05", "2023-12-05", "day"),
        ("the report of October 13th, 2023", "2023-10-13", "2023-10-13", "day"),
        ("in November 2023", "2023-11-01", "2023-11-30", "month"),
        ("the October article", "2023-10-01", "2023-10-31", "month"),
        ("on December 15", "2023-12-15", "2023-12-15", "day"),
        ("before October 22, 2023", "1900-01-01", "2023-10-21", "before"),
        ("after the report on November 9, 2023", "2023-11-10", "2999-12-31", "after"),
        ("last week", "2023-12-13", "2023-12-19", "relative"),
        ("yesterday", "2023-12-25", "2023-12-25", "relative"),
        ("3 days ago", "2023-12-23", "2023-12-23", "relative"),
    ],
)
def test_dates(text: str, start: str, end: str, kind: str) -> None:
    got = parse_dates(text, AS_OF)
    assert len(got) == 1, got
    assert (got[0].start.isoformat(), got[0].end.isoformat(), got[0].kind) == (start, end, kind)


def test_no_date_false_positives() -> None:
    assert parse_dates("May the best team win; they march on and may yet sue.", AS_OF) == []
    assert parse_dates("The 2023 season had 17 games and 3 ties.", AS_OF) == []


def test_segments_follow_outlet_mentions(matcher: OutletMatcher) -> None:
    q = "Does the The Age article say rates rose, while the Fortune article says rates fell?"
    segs = parse_query(q, matcher, AS_OF).segments()
    assert [m.sources for m, _ in segs] == [("The Age",), ("Fortune",)]
    assert "rates rose" in segs[0][1] and "rates fell" not in segs[0][1]
    assert "rates fell" in segs[1][1] and "rates rose" not in segs[1][1]


def test_time_words_are_left_out_of_the_words_a_question_is_matched_on(matcher: OutletMatcher) -> None:
    from rag.query import topic_text

    q = "What's the latest on the Arro 2?"
    assert "latest" not in topic_text(q, parse_query(q, matcher, AS_OF)) and "Arro 2" in topic_text(q, parse_query(q, matcher, AS_OF))
    q = "What did Kestrel say this week about orders?"
    assert topic_text(q, parse_query(q, matcher, AS_OF)) == "What did Kestrel say about orders?"
    q = "What's the latest?"  # nothing else to match on: the question stays as it is
    assert topic_text(q, parse_query(q, matcher, AS_OF)) == q


def test_lone_names_are_one_word_names_written_capitalised() -> None:
    from rag.lexical import lone_names

    cruise = lone_names("What's the latest on Cruise?")
    assert set(cruise) == {"cruis"}
    assert cruise["cruis"]("GM's Cruise paused its robotaxis.") and cruise["cruis"]("CRUISE PAUSES ROBOTAXIS")
    assert not cruise["cruis"]("With Buffalo likely to cruise, take the over.")
    assert lone_names("Who replaced Marcus Delane at Glenmoor Housing Trust?") == {}  # words of longer names
    assert set(lone_names("Has Quillon's fine been upheld?")) == {"quillon"}  # the opener is no neighbour
    assert lone_names("Why did Republicans drop Jordan as their Speaker nominee?").keys() == {"republican", "jordan"}
    assert lone_names("what's the latest on cruise?") == {}


def test_a_demonym_holds_its_place() -> None:
    from rag.lexical import terms, with_places

    held = with_places(set(terms("The Russian embassy and Chinese and Ukrainian officials declined to comment.")))
    assert {"russia", "china", "ukrain"} <= held
    assert "korea" not in with_places(set(terms("Japanese officials declined to comment.")))


def test_a_holiday_named_as_a_day_is_a_date_but_a_season_is_not() -> None:
    from datetime import date

    from rag.query import parse_dates

    as_of = date(2023, 12, 26)
    (d,) = parse_dates("Did the Ravens win on Christmas night?", as_of)
    assert (d.start, d.end, d.kind) == (date(2023, 12, 25), date(2023, 12, 25), "day")
    (t,) = parse_dates("What happened on Thanksgiving?", as_of)
    assert t.start == date(2023, 11, 23)  # the fourth Thursday of November
    (y,) = parse_dates("What did the King say on Christmas Day 2022?", as_of)
    assert y.start == date(2022, 12, 25)
    # a holiday later in the year than the as-of date is last year's
    (b,) = parse_dates("Boxing Day results", date(2023, 12, 20))
    assert b.start == date(2022, 12, 26)
    # a season, not a day
    assert parse_dates("best Christmas gifts", as_of) == [] and parse_dates("Halloween costumes", as_of) == []

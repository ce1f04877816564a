"""Citation parsing and checking on hand-made cases."""

from __future__ import annotations

from rag.cite import check_answer, check_sentence, parse_output
from rag.types import Evidence


def ev(n: int, text: str, title: str = "Regulators fine Quillon", source: str = "The Ledger", date: str = "2023-10-03") -> Evidence:
    return Evidence(n, f"c{n}", f"a{n}", title, source, date, text, 10 * n, 10 * n + len(text))


EVIDENCE = [
    ev(1, "The National Privacy Board fined Quillon Systems $48 million on Tuesday over the customer data leak."),
    ev(2, "Quillon said it would appeal the decision within 30 days.", title="Quillon to appeal", source="Harbor Daily", date="2023-10-19"),
    ev(3, "Shares of Quillon fell 6 percent after the ruling.", title="Quillon shares slide", source="Riverside Business Review"),
]


def test_parse_output_forms() -> None:
    assert parse_output("Yes\nThe board fined Quillon [1].") == ("Yes", "The board fined Quillon [1].")
    assert parse_output("No. The appeal came later [2].") == ("No", "The appeal came later [2].")
    assert parse_output("Quillon Systems\nIt was fined [1].") == ("Quillon Systems", "It was fined [1].")
    assert parse_output("") == ("", "")


def test_supported_answer_keeps_citations_and_quotes() -> None:
    r = check_answer("Quillon Systems\nThe National Privacy Board fined Quillon Systems $48 million [1].", EVIDENCE)
    assert not r.refused
    assert r.short == "Quillon Systems"
    assert [c.n for c in r.citations] == [1]
    c = r.citations[0]
    assert (c.title, c.source, c.published_at, c.supported) == ("Regulators fine Quillon", "The Ledger", "2023-10-03", True)
    assert c.quote == EVIDENCE[0].text and (c.start, c.end) == (EVIDENCE[0].start, EVIDENCE[0].end)


def test_out_of_range_markers_are_dropped() -> None:
    r = check_answer("Yes\nThe board fined Quillon Systems $48 million [1][7].", EVIDENCE)
    assert r.dropped_markers == 1
    assert [c.n for c in r.citations] == [1]
    assert "[7]" not in r.text


def test_unsupported_number_is_flagged() -> None:
    ok, why = check_sentence("The board fined Quillon Systems $50 million.", [EVIDENCE[0]])
    assert not ok and "50" in why
    r = check_answer("Yes\nThe board fined Quillon Systems $50 million [1].", EVIDENCE)
    assert r.refused and "not supported" in r.reason


def test_unsupported_name_is_flagged() -> None:
    ok, why = check_sentence("Kestrel Mobility was fined by the board.", [EVIDENCE[0]])
    assert not ok and "Kestrel" in why


def test_supported_paraphrase_passes() -> None:
    ok, why = check_sentence("Quillon announced it would appeal the decision.", [EVIDENCE[1]])
    assert ok, why


def test_sentence_citing_the_wrong_passage_is_unsupported_but_others_stand() -> None:
    raw = "Yes\nThe board fined Quillon Systems $48 million [1]. Shares of Quillon fell 6 percent [2]."
    r = check_answer(raw, EVIDENCE)
    assert not r.refused
    assert [s.supported for s in r.sentences] == [True, False]
    assert {c.n: c.supported for c in r.citations} == {1: True, 2: False}


def test_uncited_answer_is_refused_with_reason() -> None:
    r = check_answer("Yes\nThe board fined Quillon Systems.", EVIDENCE)
    assert r.refused and r.reason


def test_short_answer_must_appear_in_cited_evidence() -> None:
    r = check_answer("Kestrel Mobility\nThe board fined Quillon Systems $48 million [1].", EVIDENCE)
    assert r.refused and "Kestrel Mobility" in r.reason


def test_model_refusal_is_passed_through() -> None:
    r = check_answer("Insufficient information.", EVIDENCE)
    assert r.refused and r.text.startswith("Insufficient information.")


def test_compose_extractive_yes_no_quotes_each_named_outlet() -> None:
    from rag.cite import compose_extractive

    ev = [
        Evidence(1, "c1", "a1", "Fine", "The Ledger", "2023-10-03", "The board fined Quillon Systems $48 million.", 0, 45, score=0.9),
        Evidence(2, "c2", "a1", "Fine", "The Ledger", "2023-10-03", "Quillon said it would appeal.", 46, 75, score=0.5),
        Evidence(3, "c3", "a2", "Appeal", "Harbor Daily", "2023-12-13", "The tribunal upheld the fine in December.", 0, 41, score=0.7),
    ]
    raw = compose_extractive("Yes", ev, [("Harbor Daily",), ("The Ledger",)])
    short, _, rest = raw.partition("\n")
    assert short == "Yes"
    assert rest.splitlines() == [
        "The Ledger (2023-10-03): “The board fined Quillon Systems $48 million.” [1]",
        "Harbor Daily (2023-12-13): “The tribunal upheld the fine in December.” [3]",
    ]
    checked = check_answer(raw, ev)
    assert not checked.refused and [c.n for c in checked.citations] == [1, 3]
    assert all(s.supported for s in checked.sentences)


def test_compose_extractive_yes_no_without_outlet_adds_a_second_article_only_when_close() -> None:
    from rag.cite import SECOND_QUOTE_RATIO, compose_extractive

    def three(second_score: float) -> list[Evidence]:
        return [
            Evidence(1, "c1", "a1", "Fine", "The Ledger", "2023-10-03", "The board fined Quillon Systems $48 million.", 0, 45, score=1.0),
            Evidence(2, "c2", "a1", "Fine", "The Ledger", "2023-10-03", "Quillon said it would appeal.", 46, 75, score=0.95),
            Evidence(3, "c3", "a2", "Appeal", "Harbor Daily", "2023-12-13", "The tribunal upheld the fine.", 0, 29, score=second_score),
        ]

    close = compose_extractive("Yes", three(SECOND_QUOTE_RATIO + 0.05)).splitlines()
    assert [ln[-3:] for ln in close[1:]] == ["[1]", "[3]"]  # two articles, never two quotes of one
    far = compose_extractive("Yes", three(SECOND_QUOTE_RATIO - 0.3)).splitlines()
    assert [ln[-3:] for ln in far[1:]] == ["[1]"]


def test_compose_extractive_open_answer_quotes_a_sentence_that_contains_it() -> None:
    from rag.cite import compose_extractive

    raw = compose_extractive("Quillon Systems", EVIDENCE)
    assert raw.startswith("Quillon Systems\nThe Ledger (2023-10-03): “The National Privacy Board fined Quillon Systems")
    assert raw.rstrip().endswith("[1]")
    assert not check_answer(raw, EVIDENCE).refused
    # an answer found in no passage has nothing to quote, so the check refuses it
    assert compose_extractive("Kestrel Mobility", EVIDENCE) == "Kestrel Mobility"
    assert check_answer("Kestrel Mobility", EVIDENCE).refused


def test_long_quotes_are_cut_around_the_answer() -> None:
    from rag.cite import _quote

    text = " ".join(f"w{i}" for i in range(60)) + " Quillon paid."
    q = _quote(text, "Quillon", max_words=10)
    assert q.startswith("…") and "Quillon" in q and len(q.replace("…", " ").split()) <= 10


def test_clean_short() -> None:
    from rag.cite import clean_short

    assert clean_short("Answer: Sam Bankman-Fried.\nmore") == "Sam Bankman-Fried"
    assert clean_short('"OpenAI" [2]') == "OpenAI"
    assert clean_short("Insufficient information. The passages...") == "Insufficient information."

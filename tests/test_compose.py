"""Answer composition: direct answer tied to passages, supporting quotes by form, disagreements."""

from __future__ import annotations

import pytest

from rag.compose import (
    attribute,
    choose_support,
    compose,
    disagreements,
    parse_direct,
    possible_only,
    quote,
    stating_passages,
    unsettled,
)
from rag.evidence import resolve_days
from rag.forms import classify
from rag.types import Evidence


def ev(n: int, text: str, source: str, date: str, aid: str, score: float = 0.5) -> Evidence:
    return Evidence(n, f"{aid}-0", aid, f"title {aid}", source, date, text, 0, len(text), score)


STRIKE = [
    ev(1, "Transit workers voted to strike from October 2 unless a new contract is agreed.", "Northfield Courier", "2023-09-26", "a"),
    ev(2, "About 1,900 transit workers began an open-ended strike on Monday.", "Harbor Daily", "2023-10-02", "b"),
    ev(3, "The transit strike, now in its second week, goes on after the union rejected a 5.5% offer.", "Northfield Courier", "2023-10-11", "c"),
    ev(4, "Northfield's transit strike is over after workers accepted a deal.", "Harbor Daily", "2023-10-24", "d"),
    ev(5, "Kestrel is offering a free charger to buyers.", "Metro Tech Wire", "2023-12-11", "e", score=0.9),
]


def test_parse_direct_keeps_markers_caps_sentences_and_drops_repeats() -> None:
    raw = "The strike began on October 2, 2023 [2]. The strike began on October 2, 2023. It ended in late October [4]. Extra."
    out = parse_direct(raw, 2)
    assert out == [("The strike began on October 2, 2023.", (2,)), ("It ended in late October.", (4,))]


def test_attribute_picks_the_passage_that_states_the_facts() -> None:
    assert attribute("About 1,900 workers walked out.", (), STRIKE) == (2,)
    # a model marker is kept when its passage carries the sentence, replaced when it does not
    assert attribute("About 1,900 workers walked out.", (2,), STRIKE) == (2,)
    assert attribute("About 1,900 workers walked out.", (5,), STRIKE) == (2,)


def test_attribute_adds_the_passages_that_hold_what_the_cited_ones_lack() -> None:
    # the model cited the inquiry and the warnings; "three years" is only in the decision
    found = [
        ev(3, "In a decision published on Tuesday, the board found that Quillon had stored customer records without "
              "encryption for more than three years.", "The Ledger", "2023-10-03", "d"),
        ev(4, "It also found that the company's own engineers had warned managers about the unprotected server twice "
              "in 2022 and that neither warning was acted on.", "The Ledger", "2023-10-03", "d"),
        ev(5, "The National Privacy Board has opened a formal inquiry into Quillon Systems.", "Metro Tech Wire", "2023-09-08", "e"),
    ]  # fmt: skip
    said = ("The board came down hard on Quillon because it had stored records without encryption for more than three "
            "years and ignored two warnings from its engineers in 2022.")  # fmt: skip
    assert set(attribute(said, (5, 4), found)) >= {3, 4}
    assert attribute("Quillon stored records without encryption for three years.", (3,), found) == (3,)


def test_timeline_quotes_one_passage_per_article_in_date_order_each_with_its_date() -> None:
    f = classify("How did the strike develop?")
    picked = choose_support(f, "How did the strike develop?", STRIKE)
    assert [e.n for e in picked] == [1, 2, 3, 4]  # the unrelated, higher-scored Kestrel passage is left out
    sents = compose(f, "How did the strike develop?", STRIKE, [("The strike ran from October 2 to late October.", ())])
    support = [s.text for s in sents if s.role == "support"]
    assert support[0].startswith("September 26, 2023 (Northfield Courier): “") and support[-1].startswith("October 24, 2023")
    assert "on Monday [October 2, 2023]" in support[1]  # the weekday resolved from the publication date


def test_latest_is_newest_first() -> None:
    f = classify("What's the latest on the transit strike?")
    picked = choose_support(f, "What's the latest on the transit strike?", STRIKE)
    assert picked[0].n == 4 and [e.published_at for e in picked] == sorted((e.published_at for e in picked), reverse=True)


def test_comparison_takes_one_passage_per_named_outlet() -> None:
    f = classify("Compare how Harbor Daily and Northfield Courier described the strike")
    picked = choose_support(f, f.request, STRIKE, focus_sources=[("Harbor Daily",), ("Northfield Courier",)])
    assert [e.source for e in picked][:2] == ["Harbor Daily", "Northfield Courier"]


def test_disagreeing_numbers_are_reported_with_both_sides_cited() -> None:
    a = ev(1, "Kestrel has received 31 reports of overheating, including five fires.", "The Ledger", "2023-11-08", "x")
    b = ev(2, "The company has now received 40 reports of overheating batteries.", "Metro Tech Wire", "2023-11-09", "y")
    c = ev(3, "Kestrel has taken 12,000 preorders for the Arro 2.", "Harbor Daily", "2023-09-20", "z")
    notes = disagreements([("Kestrel received 31 reports of overheating.", (1,))], [a, b, c], "How many overheating reports were there?")
    assert len(notes) == 1 and notes[0].cites == (1, 2) and notes[0].role == "conflict"
    assert "31" in notes[0].text and "40" in notes[0].text


def test_different_quantities_of_different_things_are_not_a_disagreement() -> None:
    a = ev(1, "Kestrel is recalling all 18,000 Arro 2 folding e-bikes sold since October.", "The Ledger", "2023-11-08", "x")
    c = ev(2, "Kestrel has taken 12,000 preorders for the Arro 2 folding e-bike.", "Harbor Daily", "2023-09-20", "z")
    d = ev(3, "Members voted to accept the contract, with 78% in favour.", "Northfield Courier", "2023-11-07", "w")
    e = ev(4, "The union said 91% of members backed strike action.", "Northfield Courier", "2023-09-26", "v")
    assert disagreements([("Kestrel is recalling 18,000 Arro 2 bikes.", (1,))], [a, c], "How many Arro 2 bikes were recalled?") == []
    assert disagreements([("78% voted to accept the contract.", (3,))], [d, e], "How many union members accepted the contract?") == []
    # two scores are two games, not one figure told two ways ("3-1 win" against "3-0 win")
    f = ev(5, "Northfield Rovers opened their Premier Division season with a 3-1 win over Ashby Town at Millgate Park.",
           "Pitchside", "2023-09-03", "u")
    g = ev(6, "Northfield Rovers will go into the new year second in the Premier Division after a 3-0 win over Port Elling "
              "at Millgate Park.", "Northfield Courier", "2023-12-27", "t")  # fmt: skip
    direct = [("Northfield Rovers opened their Premier Division season with a 3-1 win at Millgate Park.", (5,))]
    assert disagreements(direct, [f, g], "How did the Northfield Rovers' Premier Division season develop?") == []


def test_resolve_days_reads_weekdays_against_the_publication_date() -> None:
    assert resolve_days("Workers walked out on Monday.", "2023-10-02") == "Workers walked out on Monday (October 2, 2023)."
    assert "Sunday (October 1, 2023)" in resolve_days("Talks broke down late on Sunday night.", "2023-10-02")
    assert "Friday (October 6, 2023)" in resolve_days("The union will meet on Friday.", "2023-10-02")
    assert "yesterday (November 7, 2023)" in resolve_days("Shares fell yesterday.", "2023-11-08")
    assert resolve_days("No date here.", "") == "No date here."


def test_long_quotes_are_cut_around_the_focus_words() -> None:
    text = " ".join(f"w{i}" for i in range(60)) + " battery overheats badly " + " ".join(f"v{i}" for i in range(60))
    q = quote(ev(1, text, "X", "2023-01-01", "q"), focus="battery overheats")
    assert "battery overheats" in q and q.startswith("…") and q.endswith("…") and len(q.split()) <= 47


def _flat_idf(ts: list[str]) -> dict[str, float]:
    return {t: 1.0 for t in ts}


def _read(question: str, text: str, budget: int = 60, **kw: object) -> list[str]:
    """The evidence sentences chosen from one article holding ``text`` (one chunk)."""
    from rag.evidence import select_evidence
    from rag.types import Hit

    hits = [Hit("c1", "a1", "An article", "Review", "2023-11-16", text, 0, len(text), 1.0)]
    return [e.text for e in select_evidence(question, hits, lambda s: len(s) // 4, budget, _flat_idf, **kw)]  # type: ignore[arg-type]


def test_a_why_question_reads_the_sentence_after_the_one_that_names_its_subject() -> None:
    text = (
        "Kestrel expects the Arro 2 battery recall to cost about $31 million, the company told investors. "
        "Testing showed that a batch of supplier cells had a defect in the separator layer. "
        "Shares in the company have fallen sharply this autumn. "
        "The Arro 2 batteries were sold in eleven countries across Europe."
    )
    q = "Why did the Arro 2 batteries overheat?"
    assert not any("separator" in t for t in _read(q, text, follow=0.0, per_article=2))  # overlap alone restates
    assert any("separator" in t for t in _read(q, text, follow=1.0, per_article=2))


def test_an_event_question_reads_what_follows_the_sentence_that_names_it() -> None:
    from rag.pipeline import FOLLOW

    text = (
        "Members of the transit workers union have voted to accept the new contract that ended the strike. "
        "The two-year agreement gives drivers a 7% raise and guarantees a break on long shifts. "
        "The transit agency said its timetable would change next month. "
        "Union leaders called the turnout the biggest in years."
    )
    q = "What are the terms of the new transit contract?"
    assert FOLLOW["event"] == 0.5
    assert not any("7% raise" in t for t in _read(q, text, follow=0.0, per_article=2))  # shares no word with q
    assert any("7% raise" in t for t in _read(q, text, follow=FOLLOW["event"], per_article=2))


def test_a_list_question_reads_on_down_the_items_of_the_matched_sentence() -> None:
    from rag.pipeline import FOLLOW, FOLLOW_CHAIN

    text = (
        "The cheapest Cybertruck version is a single-motor rear-wheel pickup with 250 miles of range. "
        "The all-wheel drive variant has an estimated 340-mile range and a top speed of 112 mph. "
        "The third variant, called the Cyberbeast, has three motors and 845 horsepower. "
        "Deliveries began at an event at the Texas factory on Thursday."
    )
    q = "What versions of the Cybertruck are there?"
    kw = {"follow": FOLLOW["list"], "per_article": 3, "floor": 0.15}
    assert "list" in FOLLOW_CHAIN
    assert not any("Cyberbeast" in t for t in _read(q, text, 200, chain=False, **kw))  # one step reaches item two only
    assert any("Cyberbeast" in t for t in _read(q, text, 200, chain=True, **kw))


def test_left_over_budget_reads_further_into_the_article_that_matches() -> None:
    from rag.evidence import select_evidence
    from rag.types import Hit

    recall = (
        "Kestrel recalled the Arro 2 bike over battery fires. "
        "The Arro 2 recall covers 14,000 bikes sold since March. "
        "Arro 2 owners can book a free battery swap at any Kestrel dealer. "
        "Kestrel said the Arro 2 recall would cost about $31 million."
    )
    other = "Shares in cycling firms fell on Tuesday. Analysts expect a quiet holiday season for retailers."
    hits = [
        Hit("c1", "a1", "Kestrel recalls Arro 2", "Wire", "2023-11-02", recall, 0, len(recall), 1.0),
        Hit("c2", "a2", "Markets", "Daily", "2023-11-02", other, 0, len(other), 0.5),
    ]

    def pick(floor: float, spill: float) -> list[str]:
        ev = select_evidence("What do Arro 2 owners get from the Kestrel recall?", hits, lambda s: len(s) // 4, 200,
                             _flat_idf, per_article=2, floor=floor, spill=spill)  # fmt: skip
        return [e.text for e in ev]

    plain = pick(0.0, 0.0)
    assert any("Shares in cycling" in t or "Analysts" in t for t in plain)  # stray sentences fill the budget
    assert sum("Arro 2" in t for t in plain) == 2  # the cap stops at two sentences of the article that answers
    tuned = pick(0.15, 0.35)
    assert not any("Shares in cycling" in t or "Analysts" in t for t in tuned)
    assert sum("Arro 2" in t for t in tuned) == 4


def test_a_sentence_that_opens_with_a_pronoun_can_be_read() -> None:
    # "She ... was not hurt" answers the question; sentences opening with He/She/It/The company
    # used to be dropped from the candidates (keyed by the sentence before them)
    text = (
        "One rider said her battery began smoking in her hallway an hour after she plugged it in. "
        "She put it out with a fire extinguisher and was not hurt. "
        "The company said it was working urgently to find the cause of the fault."
    )
    got = _read("Was anyone hurt?", text, budget=40, per_article=1)
    assert got == ["She put it out with a fire extinguisher and was not hurt."]


FINE = [
    ev(1, "Quillon Systems has been hit with a $48 million fine by the National Privacy Board.", "Harbor Daily", "2023-10-04", "f", 0.6),
    ev(2, "The tribunal has dismissed Quillon's appeal against its $48 million privacy fine from the board.", "The Ledger", "2023-12-13", "g", 0.5),
    ev(3, "Quillon's shares slid as the company filed papers on Wednesday.", "Review", "2023-12-20", "h", 0.4),
]


def test_a_question_about_how_things_stand_is_settled_by_the_newest_bearing_passage() -> None:
    now = "Has the privacy board's fine been upheld?"
    assert choose_support(classify(now), now, FINE)[0].n == 2  # newest of those that bear on it; [3] does not
    then = "Did the privacy board fine Quillon?"
    assert choose_support(classify(then), then, FINE)[0].n == 1  # a past event: the best match settles it
    outcome = "Did the privacy board fine against Quillon end up standing?"
    assert choose_support(classify(outcome), outcome, FINE)[0].n == 2  # how it turned out: the newest says


def test_a_reason_is_not_padded_with_passages_that_only_share_its_names() -> None:
    q = "What new controls has the Glenmoor Housing Trust brought in?"
    trust = [
        ev(1, "The Glenmoor Housing Trust now requires two trustees to approve any payment over $50,000.", "The Ledger", "2023-11-20", "a", 0.9),
        ev(2, "The former chief executive of the Glenmoor Housing Trust went on trial on Monday.", "Harbor Daily", "2023-09-18", "b", 0.8),
        ev(3, "The Glenmoor Housing Trust manages about 2,300 homes.", "Harbor Daily", "2023-09-18", "c", 0.7),
        ev(4, "Under the new controls, consultants at the Glenmoor Housing Trust must deliver written reports before they are paid.",
           "Riverside Business Review", "2023-11-21", "d", 0.6),
    ]  # fmt: skip
    picked = [e.n for e in choose_support(classify(q), q, trust, cited=(1,))]
    assert picked == [1, 4]  # the trial and the housing stock name the trust but say nothing of its controls
    # a question that names only its subject asks about all of it: nothing is left out for that
    q = "What has been happening at the Glenmoor Housing Trust?"
    assert len(choose_support(classify(q), q, trust, cited=(1,))) == 3


def test_a_quote_stands_in_for_a_missing_figure_only_if_its_figure_is_of_what_was_asked() -> None:
    trial = ev(1, "The former chief executive of the Glenmoor Housing Trust went on trial, accused of diverting $3.2 million "
               "of the charity's money.", "Harbor Daily", "2023-09-18", "a")
    pay = ev(2, "Onyango will be paid a salary of $180,000 a year, the Glenmoor Housing Trust said.", "The Ledger", "2023-11-20", "b")
    q = "What salary will Beatrice Onyango be paid at the Glenmoor Housing Trust?"
    assert [s.cites for s in stating_passages(classify(q), q, [trial], "amount")] == []  # money, but not her salary
    assert [s.cites for s in stating_passages(classify(q), q, [trial, pay], "amount")] == [(2,)]
    cost = ev(3, "Kestrel expects the recall to cost about $31 million, as it confirmed the faulty battery cells came from "
              "Tessaro Cells.", "Riverside Business Review", "2023-11-16", "c")
    q = "How much did Kestrel pay Tessaro Cells per battery cell?"
    assert stating_passages(classify(q), q, [cost], "amount") == []  # a total is not a price per cell


def test_a_summary_of_one_article_reads_and_quotes_several_of_its_sentences() -> None:
    text = (
        "US officials have warned North Korea against striking an arms deal with Russia. "
        "The national security adviser said Pyongyang would pay a price for supplying weapons. "
        "North Korea is already under United Nations sanctions over its weapons programme. "
        "Officials are also worried about the technology North Korea wants in return. "
        "The deal would reportedly include rockets and artillery shells."
    )
    q = "Can you summarize the article?"  # names nothing a sentence can match
    read = _read(q, text, budget=200, floor=0.15, by_date=True, per_article=2)
    assert len(read) >= 4 and read[0].startswith("US officials")  # the story from its first sentence
    evidence = [ev(i, t, "Wire", "2023-11-14", "a") for i, t in enumerate(read, 1)]
    quoted = choose_support(classify(q), q, evidence)
    assert len(quoted) >= 3 and len({e.n for e in quoted}) == len(quoted)  # several sentences, not one


def test_a_how_many_question_reads_the_sentence_that_states_the_count() -> None:
    from rag.pipeline import stating_bonus

    q = "How many people went on strike in Northfield?"
    bonus = stating_bonus(q, classify(q))
    assert bonus is not None
    assert bonus("Northfield woke up to empty stops as about 1,900 transit workers began a strike.") > 0
    assert bonus("Only 30% of services in Northfield ran during the strike.") == 0  # a share is not a count
    assert stating_bonus("Why did the strike start?", classify("Why did the strike start?")) is None
    text = (
        "The Northfield strike closed schools and shops across the city centre. "
        "People in Northfield said the strike made the commute to work much longer. "
        "Some 1,900 transit workers walked out on Monday. "
        "Northfield shops said the strike cut trade by a third."
    )
    assert not any("1,900" in t for t in _read(q, text, budget=40, floor=0.15))
    assert any("1,900" in t for t in _read(q, text, budget=40, floor=0.15, bonus=bonus))


def test_a_name_number_or_a_bare_percentage_is_not_a_disagreement() -> None:
    # "Arro 2" is a name: its 2 is no count of bikes to set against "18,000"
    a = ev(1, "Kestrel is recalling all 18,000 Arro 2 folding e-bikes sold since October.", "The Ledger", "2023-11-08", "x")
    b = ev(2, "Kestrel expects the recall of its Arro 2 e-bike to cost about $31 million.", "Review", "2023-11-16", "y")
    direct = [("The Arro 2 e-bike recall affected 18,000 bikes sold by Kestrel.", (1,))]
    assert disagreements(direct, [a, b], "Summarize the Arro 2 recall") == []
    # a raise asked for and an offer made are two figures, though both are "% over two years"
    c = ev(3, "The union is asking for a 9% raise over two years.", "Courier", "2023-09-26", "z")
    d = ev(4, "Transit has raised its pay offer to striking workers to 5.5% over two years.", "Harbor", "2023-10-11", "w")
    direct = [("The final deal is 5.5% over two years, against the 9% raise first asked for.", (4,))]
    assert disagreements(direct, [c, d], "How does the final pay deal compare with what the union asked for?") == []
    # a comma after a figure ends it: "$399, while the OLED model" does not count OLED models
    f = ev(5, "Valve says the line-up will be: 256GB Steam Deck LCD ($399) 512GB Steam Deck OLED ($549).", "Engadget", "2023-11-09", "u")
    g = ev(6, "It will sell the 256GB LCD model at $400, while the 512GB OLED model will cost $550.", "Engadget", "2023-11-09", "t")
    direct = [("The first Steam Deck costs $399, while the OLED model costs $549.", (5,))]
    assert disagreements(direct, [f, g], "Compare what the first Steam Deck and the OLED model cost") == []


APPEAL = [
    ev(1, "Everton were docked 10 points for breaching the league's financial rules.", "The Guardian", "2023-11-17", "g"),
    ev(2, "Everton's appeal against the 10-point deduction will be heard by a new panel before the end of the season.",
       "The Guardian", "2023-11-24", "h"),
    ev(3, "Everton beat Crystal Palace 3-2 on Saturday.", "TalkSport", "2023-12-02", "i"),
]  # fmt: skip


def test_a_yes_no_question_is_not_settled_by_a_passage_that_says_it_is_still_to_come() -> None:
    q = "Did Everton win their appeal against the points deduction?"
    why = unsettled(classify(q), q, APPEAL)
    assert "still pending" in why and "will be heard" in why and "November 24, 2023" in why
    # once a newer passage reports the outcome, the question is settled (by the model, over that passage)
    ruled = [*APPEAL, ev(4, "Everton's appeal against the points deduction was partly upheld on Monday.", "BBC", "2024-02-26", "j")]
    assert unsettled(classify(q), q, ruled) == ""
    # a question about what is to come is not unsettled by a passage about what is to come
    q2 = "Is Everton's appeal against the deduction going to be heard this season?"
    assert unsettled(classify(q2), q2, APPEAL) == ""
    # all of the newest day's passages on the claim's rarest word speak for it: a sentence of the
    # same article that names only the deduction does not hide that the appeal is still to be heard
    unjust = ev(0, "He described the deduction as both disproportionate and unjust.", "The Guardian", "2023-11-24", "h")
    rare_deduction = lambda ts: {t: 5.0 if t.startswith("deduct") else 1.0 for t in ts}  # noqa: E731
    why = unsettled(classify(q), q, [unjust, *APPEAL[:2]], rare_deduction)
    assert "still pending" in why and "will be heard" in why


def test_a_passage_saying_it_is_still_under_way_or_only_supposing_it_leaves_it_unsettled() -> None:
    # an adverb between "are" and "seeking", a process still running, and a clause that only supposes it
    q = "Did the family get the second transplant?"
    seeking = [ev(1, "The family are now seeking a donor for a second transplant.", "Fox", "2023-12-09", "a")]
    assert "still pending" in unsettled(classify(q), q, seeking)
    q2 = "Has the EU blocked the takeover?"
    probe = [ev(1, "The bloc has been scrutinizing the takeover since July.", "TechCrunch", "2023-11-27", "b")]
    assert "still pending" in unsettled(classify(q2), q2, probe)
    q3 = "Has Palo Alto Networks closed its purchase of Talon?"
    supposing = [ev(1, "If the two purchases close, Palo Alto Networks will own both firms.", "TechCrunch", "2023-09-26", "c")]
    assert "still pending" in unsettled(classify(q3), q3, supposing)
    # once a passage of a later day says it closed, the question is the model's to decide
    closed = [*supposing, ev(2, "Palo Alto Networks closed its purchase of Talon on Friday.", "Wire", "2023-12-01", "d")]
    assert unsettled(classify(q3), q3, closed) == ""


def test_the_passage_that_would_settle_it_only_supposing_it_leaves_it_unsettled_unless_a_later_one_reports_it() -> None:
    q = "Has Judge Mehta ruled that Google broke antitrust law?"
    supposing = ev(1, "If Judge Amit Mehta rules against Google, the search giant may have to share its APIs.", "TC", "2023-11-13", "a")
    other = ev(2, "Judge Amit Mehta ruled to make a list of search terms public.", "TC", "2023-11-13", "b")
    # the claim's rarest word is in a passage that says nothing pending, so the newest-day rule is silent
    trial = ev(3, "This is not Google's only antitrust case in trial right now.", "TC", "2023-11-13", "e")
    rare = lambda ts: {t: 5.0 if t.startswith("antitrust") else 1.0 for t in ts}  # noqa: E731
    why = unsettled(classify(q), q, [supposing, other, trial], rare, settling=supposing)
    assert "only supposes it" in why and "If Judge Amit Mehta rules" in why
    # without the settling passage (as before), the same passages went to the model
    assert unsettled(classify(q), q, [supposing, other, trial], rare) == ""
    # a later passage that speaks to the claim as fully settles it, whatever the older one supposed
    q2 = "Was Sam Bankman-Fried found guilty?"
    pre = ev(1, "The trial is likely to matter more than whether Bankman-Fried himself is found guilty.", "V", "2023-09-28", "c")
    verdict = ev(2, "Sam Bankman-Fried has been found guilty on seven counts of fraud.", "W", "2023-10-28", "d")
    assert unsettled(classify(q2), q2, [pre], settling=pre) != ""
    assert unsettled(classify(q2), q2, [pre, verdict], settling=pre) == ""


def test_whether_a_contest_will_be_won_is_unsettled_until_a_passage_reports_the_result() -> None:
    q = "Will Canada beat Trinidad and Tobago in the playoff?"
    to_come = ev(1, "Canada will now have to defeat Trinidad and Tobago in a one-off playoff in March.", "SN", "2023-11-21", "a")
    why = unsettled(classify(q), q, [to_come], settling=to_come)
    assert "still to come" in why and "one-off playoff" in why
    # a record recalled is not the result: "who previously won" does not report this playoff
    q2 = "Will Chelsea win the title in Hayes's final season?"
    record = ev(2, "Hayes, who previously won six titles, leaves when her final season with Chelsea ends next May.", "T", "2023-11-15", "b")
    assert "still to come" in unsettled(classify(q2), q2, [record], settling=record)
    # a season still being played: the newest passage on it speaks for it, not the settling one
    q4 = "Will Rovers win the league this season?"
    opener = ev(5, "Rovers opened their league season with a 3-1 win over Ashby.", "P", "2023-09-03", "e")
    now = ev(6, "Rovers will go into the new year second in the league after a 3-0 win.", "C", "2023-12-27", "f")
    assert "December 27, 2023" in unsettled(classify(q4), q4, [opener, now], settling=opener)
    # the result reported settles it (the model decides), and so does a plan that is no contest
    played = ev(3, "Canada beat Trinidad and Tobago in the playoff and qualified for the Copa America.", "SN", "2024-03-23", "c")
    assert unsettled(classify(q), q, [played], settling=played) == ""
    q3 = "Will Hayes be paid more than any other coach?"
    plan = ev(4, "Hayes will be paid more than any other coach in the women's game.", "T", "2023-11-15", "d")
    assert unsettled(classify(q3), q3, [plan], settling=plan) == ""


def test_a_yes_no_question_no_passage_speaks_to_is_unsettled_but_fillers_do_not_count() -> None:
    q = "Is Everton going to appeal their conviction?"
    why = unsettled(classify(q), q, APPEAL[2:])
    assert "“appeal” or “conviction”" in why
    # "basically", "now": no claim beyond the names, so nothing a passage could fail to speak to
    q2 = "Is Everton basically Everton now?"
    assert unsettled(classify(q2), q2, APPEAL[2:]) == ""


def test_a_modal_verb_of_another_sense_is_not_a_pending_outcome() -> None:
    # "hurt" the verb of sales, in the conditional: not "it is still to come" for "was anyone hurt?"
    q = "Was anyone hurt by an overheating battery?"
    passages = [
        ev(1, "Analysts said the recall would hurt sales during the holiday season.", "Review", "2023-11-16", "a"),
        ev(2, "One rider suffered a minor burn when a battery overheated.", "Wire", "2023-10-09", "b"),
    ]
    assert unsettled(classify(q), q, passages) == ""


RELAUNCH = (
    "Kestrel Mobility has started selling the Arro 2 again, five weeks after the recall. "
    "The relaunched bike uses a redesigned battery pack built with cells from Norvik Energy. "
    "The price has been cut to $1,199. "
    "Kestrel said it was the Arro 2's busiest week of orders."
)


def test_an_articles_opening_sentences_are_read_when_the_article_is_about_the_question() -> None:
    from rag.evidence import select_evidence
    from rag.types import Hit

    rovers = "Rovers beat Calder City 2-1 on Saturday. The win lifted them to third in the table."
    hits = [
        Hit("c1", "a1", "Arro 2 is back", "Wire", "2023-12-11", RELAUNCH, 0, len(RELAUNCH), 1.0),
        Hit("c2", "a2", "Rovers win", "Pitchside", "2023-12-04", rovers, 0, len(rovers), 0.9),
    ]

    def read(lede: float) -> list[str]:
        ev = select_evidence("What's new with the Arro 2?", hits, lambda s: len(s) // 4, 200, _flat_idf, per_article=3,
                             floor=0.15, lede=lede)  # fmt: skip
        return [e.text for e in ev]

    plain = read(0.0)
    assert not any("Norvik" in t or "$1,199" in t for t in plain)  # lexically only the sentences naming the Arro 2 count
    led = read(0.5)
    assert led[0].startswith("Kestrel Mobility has started") and any("Norvik" in t for t in led)
    assert not any("Rovers" in t for t in led)  # an article about something else does not get its opening read


def test_the_latest_reads_the_newest_article_first() -> None:
    from rag.evidence import select_evidence
    from rag.types import Hit

    older = [f"Kestrel showed the Arro 2 at trade fair number {i}." for i in range(4)]
    hits = [Hit(f"c{i}", f"a{i}", "Fair", "Wire", f"2023-09-1{i}", t, 0, len(t), 1.0 - i / 10) for i, t in enumerate(older)]
    hits.append(Hit("c9", "a9", "Arro 2 is back", "Wire", "2023-12-11", RELAUNCH, 0, len(RELAUNCH), 0.5))

    def read(newest_first: bool) -> list[str]:
        ev = select_evidence("What's the latest on the Arro 2?", hits, lambda s: len(s) // 4, 45, _flat_idf,
                             per_article=1, newest_first=newest_first)  # fmt: skip
        return [e.published_at for e in ev]

    assert "2023-12-11" not in read(False)  # by retrieval rank the trade fairs fill the budget
    assert "2023-12-11" in read(True)


def test_the_latest_is_the_newest_article_on_the_topic_not_one_sharing_a_word() -> None:
    from rag.evidence import select_evidence
    from rag.types import Hit

    robotaxi = "The California DMV suspended Cruise's driverless permits, ending its robotaxi service."
    hits = [Hit("c0", "a0", "Cruise hits the brakes", "TechCrunch", "2023-10-30", robotaxi, 0, len(robotaxi), 1.16)]
    for i in range(1, 6):  # newer articles that only share the word, ranked well below it
        t = f"Clay, the father of SEO number {i}, described him as a cruise director on the SS SEO."
        hits.append(Hit(f"c{i}", f"a{i}", "The people who ruined the internet", "The Verge", f"2023-11-0{i}", t, 0, len(t), 0.5))
    ev = select_evidence("What happened to Cruise's driverless taxis?", hits, lambda s: len(s) // 4, 45, _flat_idf,
                         per_article=1, newest_first=True)  # fmt: skip
    assert [e.published_at for e in ev] == ["2023-10-30"]  # older, but the one on the topic


def test_the_latest_reads_every_chunk_of_an_article_on_the_topic_in_date_order() -> None:
    from rag.evidence import select_evidence
    from rag.types import Hit

    a1 = "Kestrel Mobility has started selling the Arro 2 e-bike again after the recall."
    a2 = "The relaunched Arro 2 uses a redesigned battery pack with cells from Norvik Energy."
    b = "The Arro 2 recall will cost Kestrel about $31 million, the company told investors."
    hits = [
        Hit("a-1", "a", "Arro 2 is back", "Wire", "2023-12-11", a1, 0, len(a1), 1.0),
        Hit("b-1", "b", "Recall cost", "Review", "2023-11-16", b, 0, len(b), 0.9),
        Hit("a-2", "a", "Arro 2 is back", "Wire", "2023-12-11", a2, 500, 500 + len(a2), 0.3),  # below the gate alone
    ]
    ev = select_evidence("What's the latest on the Arro 2?", hits, lambda s: len(s) // 4, 60, _flat_idf,
                         per_article=2, newest_first=True)  # fmt: skip
    assert any("Norvik" in e.text for e in ev)  # the newest article's later chunk is read before older news


def test_a_weekday_the_text_dates_itself_is_not_dated_again() -> None:
    # "on Thursday, October 26" in an article of Thursday, September 28 once read "on Thursday
    # [September 28, 2023], October 26", and the model wrote the vote was on September 28
    text = "Hipgnosis looks likely to hold its vote on Thursday, October 26, according to the firm."
    assert resolve_days(text, "2023-09-28") == text
    assert resolve_days("It reported on Friday 3 November and on Friday, Nov. 17.", "2023-11-20").count("(") == 0
    assert resolve_days("Workers walked out on Monday.", "2023-10-02") == "Workers walked out on Monday (October 2, 2023)."


def test_the_latest_is_not_answered_from_older_news_than_the_newest_passage() -> None:
    q = "What's the latest on the Arro 2?"
    news = [
        ev(1, "Kestrel has started selling the Arro 2 again after the recall.", "Metro Tech Wire", "2023-12-11", "n"),
        ev(2, "The relaunched bike uses a redesigned battery pack built with cells from Norvik Energy.", "Metro Tech Wire", "2023-12-11", "n"),
        ev(3, "Kestrel is recalling all 18,000 Arro 2 e-bikes over overheating batteries.", "The Ledger", "2023-11-08", "o"),
    ]
    out = compose(classify(q), q, news, [("Kestrel is recalling 18,000 Arro 2 bikes.", (3,))])
    assert not any(s.role == "answer" for s in out)  # the model's sentence told November's news
    assert [s.cites for s in out][:3] == [(1,), (2,), (3,)]  # the newest article first, read on, then older news
    kept = compose(classify(q), q, news, [("Kestrel is selling the Arro 2 again.", (1,))])
    assert kept[0].role == "answer"


def test_the_newest_articles_next_sentence_is_quoted_with_the_one_before_it() -> None:
    from rag.cite import check_answer
    from rag.types import Evidence

    t1 = "Kestrel has started selling the Arro 2 again after the recall."
    t2 = "The relaunched bike uses a redesigned battery pack built with cells from Norvik Energy."
    news = [
        Evidence(1, "n-0", "n", "Arro 2 is back", "Metro Tech Wire", "2023-12-11", t1, 0, len(t1), 0.5),
        Evidence(2, "n-0", "n", "Arro 2 is back", "Metro Tech Wire", "2023-12-11", t2, len(t1) + 1, len(t1) + 1 + len(t2), 0.5),
        ev(3, "Kestrel is recalling all 18,000 Arro 2 e-bikes over overheating batteries.", "The Ledger", "2023-11-08", "o"),
    ]
    q = "What's the latest on the Arro 2?"
    out = compose(classify(q), q, news, [])
    assert out[0].cites == (1, 2) and f"{t1} {t2}” [1] [2]" in out[0].text
    # alone, the second sentence would not bear on the question (it never names the Arro 2); read on
    # from the first, as the article has it, it stands
    assert all(s.supported for s in check_answer(out, news, q).sentences)


def test_a_weekday_after_a_quote_takes_the_tense_of_its_own_clause() -> None:
    # the "will" inside the quote made this Tuesday the next one (October 24) in an October 18 article
    said = "“Jim Jordan will be a great speaker,” Trump had said Tuesday outside a courthouse."
    assert "Tuesday (October 17, 2023)" in resolve_days(said, "2023-10-18")
    assert "Tuesday (October 17, 2023)" in resolve_days(said[4:], "2023-10-18")  # the quote's opening cut off
    # a weekday the clause itself puts ahead is still the next one
    assert "Friday (October 20, 2023)" in resolve_days("“We will win,” he said, and the vote will be held on Friday.", "2023-10-18")


def test_a_sentence_written_twice_is_read_once() -> None:
    # a picture caption repeated in the article spent two evidence slots on nothing
    text = (
        "U2 perform at the Sphere in Las Vegas. The venue cost $2.3 billion to build. "
        "U2 perform at the Sphere in Las Vegas.  There are 157,000 speakers inside the Sphere."
    )
    read = _read("How many speakers are inside the Sphere in Las Vegas?", text, budget=200, per_article=6)
    assert read.count("U2 perform at the Sphere in Las Vegas.") == 1 and any("157,000" in t for t in read)


def test_a_web_pages_template_is_not_part_of_a_sentence() -> None:
    from rag.evidence import candidates
    from rag.types import Hit

    text = ("Thanks for signing up to the Lifestyle Edit email {{ #verifyErrors }} {{ message }} {{ /verifyErrors }} "
            "{{ ^verifyErrors }} Something went wrong. Please try again later {{ /verifyErrors }}  Sarah Michelle "
            "Gellar has taken umbrage with Roblox after her son's account was hacked.")  # fmt: skip
    hits = [Hit("c1", "a1", "Gellar and Roblox", "Daily", "2023-12-06", text, 100, 100 + len(text), 1.0)]
    got = candidates(hits)
    assert [c.text for c in got] == [
        "Something went wrong.",
        "Sarah Michelle Gellar has taken umbrage with Roblox after her son's account was hacked.",
    ]
    last = got[-1]
    assert text[last.start - 100 : last.end - 100] == last.text  # the citation still points at the exact span


def test_a_sentence_holding_only_the_asked_about_names_gives_way() -> None:
    """"How many speakers are inside the Sphere?": a caption naming the Sphere and Las Vegas says
    nothing about speakers; the sentence about them is read instead."""
    text = ("U2 perform at the Sphere in Las Vegas. The Sphere on the Las Vegas skyline. "
            "Inside, 157,000 speakers are built into the walls.")  # fmt: skip
    q = "How many speakers are inside the Sphere in Las Vegas?"
    answer = "Inside, 157,000 speakers are built into the walls."
    assert answer not in _read(q, text, 26)  # the captions match more of the question's words
    assert _read(q, text, 26, names_only=0.5) == [answer]
    assert _read(q.lower(), text, 26, names_only=0.5) != [answer]  # no names in the question: nothing to tell apart


def test_a_figure_given_only_as_a_possibility_does_not_answer_what_happened() -> None:
    law = ev(1, "Franke pleaded guilty to four counts of aggravated child abuse. Each charge carries a sentence of one to "
             "15 years in prison.", "Court Wire", "2023-12-18", "a")
    q = "How many years in prison did Ruby Franke get?"
    assert stating_passages(classify(q), q, [law], "amount") == []  # the law's range, not her sentence
    assert possible_only("amount", q, [law]) is law  # ... which a refusal names
    got = ev(2, "Franke was sentenced to four consecutive terms of one to 15 years in prison.", "Court Wire", "2023-12-19", "b")
    assert [s.cites for s in stating_passages(classify(q), q, [law, got], "amount")] == [(2,)]
    assert possible_only("amount", q, [got]) is None
    q = "How many years in prison could Ruby Franke face?"  # a question about the possibility is answered by it
    assert [s.cites for s in stating_passages(classify(q), q, [law], "amount")] == [(1,)]


def test_the_latest_on_a_one_word_name_is_not_told_by_the_same_word_in_lower_case() -> None:
    # "What's the latest on Cruise?" was answered with "Buffalo is likely to cruise" and a Dubai
    # dinner cruise: newer articles, close to "Cruise" for the embedder, not about it
    from rag.evidence import select_evidence
    from rag.types import Hit

    robotaxi = "The California DMV suspended Cruise's driverless permits, ending its robotaxi service."
    hits = [Hit("c0", "a0", "Cruise hits the brakes", "TechCrunch", "2023-10-30", robotaxi, 0, len(robotaxi), 1.4)]
    for i in range(1, 7):  # newer and ranked close to it
        t = f"With Buffalo likely to cruise in game number {i}, the line looks soft."
        hits.append(Hit(f"c{i}", f"a{i}", "Bills vs. Chargers odds", "Sporting News", f"2023-12-1{i}", t, 0, len(t), 1.3))

    def read(q: str) -> list[str]:
        ev = select_evidence(q, hits, lambda s: len(s) // 4, 45, _flat_idf, max_articles=5, per_article=1, newest_first=True)
        return [e.published_at for e in ev]

    assert read("What's the latest on Cruise?")[0] == "2023-10-30"
    assert "2023-10-30" not in read("what's the latest on cruise?")  # written in lower case, the word is any cruise


def test_a_passage_of_an_article_naming_nothing_the_question_is_about_is_not_quoted() -> None:
    # "haven't beaten ... since 2020" holds the question's words and a year, but it is about the Bears
    q = "When had Arizona last beaten Utah before their 42-18 win in November?"
    bears = ev(1, "The Bears haven't beaten the Vikings since 2020, with Minnesota 6-1 over the last four seasons.",
               "Sporting News", "2023-11-27", "nfl", score=0.9)  # fmt: skip
    rout = ev(2, "The Wildcats blew out No. 22 Utah, 42-18, at Arizona Stadium.", "Rivals", "2023-11-18", "ncaa")
    last = ev(3, "It was the Wildcats' first win over the Utes since 2015.", "Rivals", "2023-11-18", "ncaa", score=0.2)
    form = classify(q)
    found = stating_passages(form, q, [bears, rout, last], "time")
    assert found and all("Bears" not in s.text for s in found) and "2015" in found[0].text, [s.text for s in found]
    picked = choose_support(form, q, [bears, rout, last])
    assert picked and bears not in picked, [e.text for e in picked]
    # nor when the model's answer cites it
    assert bears not in choose_support(form, q, [bears, rout, last], cited=[1, 3])
    # a question that names nothing, or names nothing any article found names, is left as it was
    assert bears in choose_support(classify("When did they last win?"), "When did they last win?", [bears, rout, last])
    assert bears in choose_support(form, "When had Zorbia last beaten Quux?", [bears, rout, last])


def test_an_article_from_an_outlet_the_question_names_is_on_its_subject() -> None:
    # "... reported by 'TechCrunch'": the outlet in quotes is no name subject_terms reads, but the
    # pipeline found it, and its article answers that part of the question
    q = "Which company is accused by Megan Grey in 'The Age', and sued by publishers as reported by 'TechCrunch'?"
    age = ev(1, "Some critics, including Megan Grey, contend that Google makes searches less precise.", "The Age", "2023-10-22", "age")
    tc = ev(2, "A new class action lawsuit accuses Google of harming news publishers.", "TechCrunch", "2023-12-15", "tc", score=0.9)
    form = classify(q)
    assert tc not in choose_support(form, q, [age, tc])  # without the outlets found, only Megan Grey's article names anything
    assert tc in choose_support(form, q, [age, tc], focus_sources=[("The Age",), ("TechCrunch",)])


def test_a_question_that_names_nothing_is_not_quoted_from_an_article_sharing_one_of_its_words() -> None:
    # written in lower case, the question names nothing on_subject can read; the vinyl story shares
    # only "shipping" with it, the container story most of its words
    q = "why are container shipping companies going from record profits back to losing money?"
    lines = [
        ev(1, "Container shipping companies that made record profits are now losing money.", "Fortune", "2023-11-12", "ship"),
        ev(2, "After the demand shock, the culprit now is too much supply.", "Fortune", "2023-11-12", "ship", score=0.3),
        ev(3, "Record sellers offering free shipping are losing money.", "The Verge", "2023-10-07", "vinyl", score=0.6),
    ]  # fmt: skip
    picked = choose_support(classify(q), q, lines)
    assert picked and all(e.article_id == "ship" for e in picked), [e.text for e in picked]
    # a question that shares as much with both articles quotes either
    both = "why are record sellers and shipping companies losing money?"
    assert any(e.article_id == "vinyl" for e in choose_support(classify(both), both, lines))


def test_a_sentence_written_from_two_sentences_of_one_article_cites_both_but_not_another_article() -> None:
    lines = [
        ev(1, "The container shipping industry is returning to its old place after record profits.", "Fortune", "2023-11-12", "ship"),
        ev(2, "After the demand shock, the culprit now is too much supply.", "Fortune", "2023-11-12", "ship"),
        ev(3, "Vinyl sellers blame too much supply of records and soft demand.", "The Verge", "2023-10-07", "vinyl"),
    ]  # fmt: skip
    said = "The container shipping industry lost its record profits because of too much supply."
    assert attribute(said, (), lines) == (1, 2)
    # the reason held only by another article is not glued to the first
    other = lines[:1] + lines[2:]
    assert attribute(said, (), other) == (1,)


def test_a_passage_a_little_over_the_quote_length_is_quoted_whole() -> None:
    text = ("The Wildcats not only got halfway through en route to winning out but did it in statement fashion "
            "Saturday at Arizona Stadium in front of a sold out stadium, blowing out No. 22 Utah, 42-18, extending "
            "their winning streak to five games, as well as marking their first win over the Utes since 2015.")  # fmt: skip
    q = quote(ev(1, text, "Rivals", "2023-11-18", "r"), focus="Arizona Utah 42-18 win")
    assert q.endswith("since 2015.") and not q.startswith("…"), q


def test_the_words_that_ask_for_a_summary_do_not_choose_the_evidence() -> None:
    # "sum up the story" matched "sums her up" and "the story" in an unrelated review
    text = (
        "The story neatly sums up a woman who found fame. "
        "A Minnesota woman was switched at birth. "
    )
    got = _read("could you sum up the story of the minnesota woman who found out she was switched at birth?", text, budget=30)
    assert got and "switched at birth" in got[0] and not any("sums up" in t for t in got), got


def test_an_article_naming_only_the_common_names_of_the_question_is_not_quoted() -> None:
    # "Apple" and "Mini" are in a Black Friday deal; "Beeper", the rare name, only in the Beeper story
    q = "What happened with Beeper Mini between its launch and Apple's crackdown?"
    deal = ev(1, "Apple's M2-powered Mac Mini desktops are also discounted for Black Friday.", "Engadget", "2023-11-19", "deal", score=0.9)
    back = ev(2, "Beeper Mini is back in operation after Apple cut it off on Friday.", "TechCrunch", "2023-12-11", "beeper")
    idf = {"beeper": 6.0, "mini": 3.0, "appl": 1.5}.get

    def weights(ts: list[str]) -> dict[str, float]:
        return {t: idf(t) or 1.0 for t in ts}

    form = classify(q)
    assert deal not in choose_support(form, q, [deal, back], idf=weights)
    # an article naming most of the names' weight still counts ("Beeper" without "Apple")
    alone = ev(3, "Beeper Mini launched on Tuesday.", "TechCrunch", "2023-12-05", "launch")
    assert alone in choose_support(form, q, [deal, back, alone], idf=weights)


def test_the_latest_as_of_a_named_month_reads_the_articles_up_to_its_end() -> None:
    from datetime import date

    from rag.evidence import up_to
    from rag.query import DateRange
    from rag.types import Hit

    def hit(day: str) -> Hit:
        return Hit(f"c{day}", f"a{day}", "Pitchside", "Rovers", day, "Rovers played Calder City.", 0, 26, 1.0)

    hits = [hit("2023-12-04"), hit("2023-10-22"), hit("2023-11-05"), hit("2023-11-13")]
    october = DateRange(date(2023, 10, 1), date(2023, 10, 31), "October", "month")
    # a report of a late-October game may come out in the first days of November
    assert [h.published_at for h in up_to(hits, [october])] == ["2023-10-22", "2023-11-05"]
    assert up_to(hits, []) == hits  # no date named: every article
    week = DateRange(date(2023, 12, 18), date(2023, 12, 24), "this week", "relative")
    assert up_to(hits, [week]) == hits  # a relative window is the retrieval's and the refusal's to read
    assert up_to(hits, [DateRange(date(2023, 1, 1), date(2023, 1, 31), "January", "month")]) == hits  # none by then


def test_a_results_table_is_not_read_before_the_report_of_the_match(monkeypatch: pytest.MonkeyPatch) -> None:
    from rag import evidence
    from rag.evidence import tabular

    table = ("Carabao Cup results Date Match Highlights Wed, Aug. 30 Chelsea (PL) 2-1 AFC Wimbledon (L2) Highlights Wed, Aug. 30 Harrogate "
             "Town (L2) 0-8 Blackburn (Ch) Highlights Wed, Nov. 1 Chelsea (PL) 2-0 Blackburn (Ch) Highlights.")
    report = "The Magpies will now face Chelsea, who won the game with Blackburn thanks to goals from Badiashile and Sterling."
    assert tabular(table)
    assert tabular("Raiders vs. Lions final score 1 2 3 4 Final Raiders 0 7 7 0 14 Lions 3 13 7 3 26 Raiders vs. Lions results, "
                   "highlights from Monday Night Football.")
    assert tabular("Argentina subs (12): Armani (GK), Musso (GK), Quarta, Montiel, Acuna, Ocampos, Paredes, Lo Celso, Pezzella, Messi.")
    assert tabular("Rangers vs. Diamondbacks final score 1 2 3 4 5 6 7 8 9 F Rangers 0 0 3 0 0 0 0 0 0 3 Diamondbacks 0 0 0 "
                   "0 0 0 0 1 0 1 World Series result, highlights from Game 3.")
    assert not tabular(report)
    assert not tabular("Spurs had rebounded from three consecutive defeats with a stirring 3-3 draw at Manchester City over the weekend.")
    q = "What happened in Chelsea's Carabao Cup game with Blackburn?"
    text = f"{table} {report}"
    assert _read(q, text, 75) == [report]
    monkeypatch.setattr(evidence, "TABLE_WEIGHT", 1.0)
    assert _read(q, text, 75) == [table]  # every name of the question is in the table


def test_the_names_only_penalty_falls_on_sentences_that_hold_the_names() -> None:
    # "The price has been cut to $1,199" holds neither the names nor, word for word, "cost": it was
    # penalised as if it held only the names, and the recall's "$31 million" cost was read instead
    q = "What will the Arro 2 cost after the relaunch?"
    price = "The price has been cut to $1,199 for buyers this winter."
    names = "Riders of the Arro 2 folding bike gathered at Kestrel Mobility headquarters on Monday."
    text = f"{names} {price}"
    got = _read(q, text, 30, names_only=0.5)
    assert got == [price]


def test_a_question_the_article_asks_is_not_read_before_a_statement() -> None:
    q = "Give me a summary of the case against Sam Bankman-Fried."
    asked = "Who is Sam Bankman-Fried, the former CEO of crypto exchange FTX, and what is the case against him?"
    told = "Sam Bankman-Fried was found guilty of fraud in the FTX case."
    assert _read(q, f"{asked} {told}", 45) == [told]


def test_halving_a_question_does_not_raise_a_score_below_zero() -> None:
    # far down the ranking a sentence scores below 0; halving it had lifted "Looking for a new
    # Apple device?" above the statements beside it, and into the evidence
    from rag.evidence import select_evidence
    from rag.types import Hit

    top = "The Apple Watch import ban starts on Tuesday."
    low = "Shoppers found few deals on phones this week. Looking for a new device?"
    hits = [Hit("c0", "a0", "Ban", "Wire", "2023-12-19", top, 0, len(top), 1.0),
            Hit("c1", "a1", "Deals", "Wire", "2023-11-25", low, 0, len(low), 0.5)]  # fmt: skip
    ev = select_evidence("Any news on the Apple Watch ban?", hits, lambda s: len(s) // 4, 40, _flat_idf, rank_penalty=0.5)
    assert [e.text for e in ev] == [top, "Shoppers found few deals on phones this week."]

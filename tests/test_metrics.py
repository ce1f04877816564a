"""Every metric on hand-computed toy cases, including the official scorers' quirks."""

from __future__ import annotations

import math

import pytest

from eval.baselines import score_baselines, score_constant
from eval.metrics import (
    all_at_k,
    article_recall_at_k,
    citation_precision,
    content_words,
    first_word,
    hits_at_k,
    hits_curve,
    is_refusal,
    lenient_correct,
    map_at_10,
    mean,
    mrr_at_10,
    outside_evidence,
    percentile,
    quote_supports_gold,
    share,
    strict_correct,
    strip_citations,
    supported_share,
    title_matches,
    token_overlap,
)

# ------------------------------------------------------------------ retrieval (MultiHop-RAG definitions)


def test_hits_substring_ignores_spaces_and_newlines():
    retrieved = ["Dogs bark.", "The cat sat\non the mat."]
    # gold written with different spacing still matches once spaces/newlines are removed
    assert hits_at_k(retrieved, ["cat saton   the"], 2) == 1.0
    assert hits_at_k(retrieved, ["cat sat on the mat"], 2) == 1.0
    # but the match is case-sensitive and punctuation matters, as in the official script
    assert hits_at_k(retrieved, ["Cat sat"], 2) == 0.0
    assert hits_at_k(retrieved, ["cat, sat"], 2) == 0.0


def test_hits_at_k_cutoff():
    retrieved = ["nothing here", "the fact is here", "x"]
    assert hits_at_k(retrieved, ["fact is"], 1) == 0.0
    assert hits_at_k(retrieved, ["fact is"], 2) == 1.0
    assert hits_at_k(retrieved, ["absent", "fact is"], 4) == 1.0  # any gold fact counts
    assert hits_at_k([], ["fact"], 10) == 0.0
    assert hits_at_k(retrieved, [], 10) == 0.0


def test_hits_curve_matches_hits_at_k():
    retrieved = ["a", "b", "gold one", "c"]
    curve = hits_curve(retrieved, ["gold one"], 10)
    assert curve == [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert curve == [hits_at_k(retrieved, ["gold one"], k) for k in range(1, 11)]
    assert hits_curve([], ["g"], 3) == [0.0, 0.0, 0.0]


def test_mrr_first_rank():
    assert mrr_at_10(["a", "b", "has F1", "has F2"], ["F1", "F2"]) == pytest.approx(1 / 3)
    assert mrr_at_10(["F2 first"], ["F1", "F2"]) == 1.0
    assert mrr_at_10(["a"] * 10 + ["F1 at rank 11"], ["F1"]) == 0.0
    assert mrr_at_10([], ["F1"]) == 0.0


def test_map_counts_only_first_found_facts():
    gold = ["fact one", "fact two", "fact three"]
    retrieved = ["nothing", "fact one and fact two", "fact one again", "fact three"]
    # rank 2: two new facts -> 2/2; rank 3: fact one already found -> 0/3; rank 4: 1/4
    assert map_at_10(retrieved, gold) == pytest.approx((2 / 2 + 0 + 1 / 4) / 3)


def test_map_denominator_is_min_of_gold_and_10():
    gold = [f"fact{i:02d}" for i in range(12)]
    # one gold fact at rank 1: (1/1) / min(12, 10)
    assert map_at_10(["fact00 only"], gold) == pytest.approx(1 / 10)
    # a fact beyond rank 10 does not count
    assert map_at_10(["x"] * 10 + ["fact01"], ["fact01"]) == 0.0
    assert map_at_10(["anything"], []) == 0.0


def test_map_whitespace_quirk():
    assert map_at_10(["Sam\nBankman - Fried"], ["SamBankman-Fried"]) == 1.0


def test_all_at_k():
    retrieved = ["has A", "has B", "x"]
    assert all_at_k(retrieved, ["A", "B"], 10) == 1.0
    assert all_at_k(retrieved, ["A", "B"], 1) == 0.0
    assert all_at_k(retrieved, ["A", "C"], 10) == 0.0
    assert all_at_k(retrieved, [], 10) == 0.0


def test_title_matching_and_article_recall():
    assert title_matches("The FTX trial", "the  ftx TRIAL")
    assert title_matches(
        "US officials have issued a warning to North Korea against striking an arms deal",
        "US officials have issued a warning to North Korea against striking an …",
    )
    assert not title_matches("Short …", "Short title here")  # prefix too short to trust
    assert not title_matches("", "")
    hits = ["Article A", "Article A", "Article C", "Article D"]
    assert article_recall_at_k(hits, ["Article A", "Article B"], 10) == 0.5
    assert article_recall_at_k(hits, ["Article A", "Article A", "Article C"], 10) == 1.0  # distinct gold articles
    assert article_recall_at_k(hits, ["Article C"], 2) == 0.0
    assert article_recall_at_k(hits, [], 10) == 0.0


# ------------------------------------------------------------------ answers


def test_lenient_any_shared_word_with_attached_punctuation():
    assert lenient_correct("yes", "Yes")  # lower-cased
    assert not lenient_correct("yes.", "yes")  # punctuation stays attached
    assert not lenient_correct("Yes, it did", "Yes")
    assert lenient_correct("The answer is Sam Bankman-Fried", "Sam Bankman-Fried")
    assert lenient_correct("Samuel Fried", "Sam Bankman-Fried") is False
    assert lenient_correct("Bankman-Fried,", "Sam Bankman-Fried") is False
    assert lenient_correct("The company", "The Verge")  # the quirk: any word, even 'the'
    assert lenient_correct("Insufficient information.", "Insufficient information.")
    assert not lenient_correct("", "Yes")


def test_strict_yes_no_first_word():
    assert strict_correct("Yes", "Yes")
    assert strict_correct("yes.", "Yes")
    assert strict_correct("Yes, both reports agree [1][2].", "Yes")
    assert strict_correct("No\nThe articles disagree [1].", "no")
    assert not strict_correct("The answer is yes", "Yes")  # first word rule
    assert not strict_correct("No", "Yes")
    assert first_word('"Yes," he said') == "yes"
    assert first_word("") == ""


def test_strict_refusal_handling():
    assert strict_correct("Insufficient information.\nNo passage answers it.", "Insufficient information.")
    assert strict_correct("insufficient information", "Insufficient information.")
    assert not strict_correct("Yes", "Insufficient information.")
    assert not strict_correct("Insufficient information.", "Yes")
    assert not strict_correct("Insufficient information. Sam Bankman-Fried", "Sam Bankman-Fried")
    assert is_refusal("  Insufficient information.")
    assert not is_refusal("The information is insufficient")


def test_strict_contains_gold_within_40_words():
    gold = "Sam Bankman-Fried"
    assert strict_correct("Sam Bankman-Fried [1]", gold)
    assert strict_correct("It was sam bankman-fried.", gold)  # case-insensitive containment
    assert not strict_correct("Sam Bankman", gold)
    words39 = " ".join(["word"] * 37) + " Sam Bankman-Fried"  # 39 words
    assert strict_correct(words39 + " [1] [2] [3]", gold)  # markers are not words
    assert strict_correct(words39 + " x", gold)  # 40 words
    assert not strict_correct(words39 + " x y", gold)  # 41 words


def test_strip_citations():
    assert strip_citations("Yes [1][2].\nThe trial started [3] [4].") == "Yes.\nThe trial started."
    assert strip_citations("No markers") == "No markers"


# ------------------------------------------------------------------ citations, refusals, latency


def test_quote_supports_gold():
    fact = "The highly anticipated criminal trial for Sam Bankman-Fried started Tuesday."
    chunk = "Intro. The highly anticipated criminal trial for Sam\nBankman-Fried started Tuesday. More text."
    assert quote_supports_gold(chunk, [fact], "Yes")  # fact inside quote (whitespace-insensitive)
    assert quote_supports_gold("criminal trial for Sam Bankman-Fried", [fact], "Yes")  # quote inside fact
    # a quote that cuts the sentence differently: >= 80% of the fact's content words
    reworded = "The criminal trial for Sam Bankman-Fried, highly anticipated, started on Tuesday"
    assert token_overlap(fact, reworded) >= 0.8
    assert quote_supports_gold(reworded, [fact], "Yes")
    # the gold answer string in the quote counts, unless it is Yes/No or the refusal
    assert quote_supports_gold("FTX was co-founded in 2019.", [], "2019")
    assert not quote_supports_gold("Yes, it was.", [], "Yes")
    assert not quote_supports_gold("Insufficient information.", [], "Insufficient information.")
    assert not quote_supports_gold("Unrelated sports text about the Ravens.", [fact], "Sam Bankman-Fried")
    assert not quote_supports_gold("", [fact], "x")


def test_content_words_and_overlap():
    assert content_words("The cat, the DOG.") == {"cat", "dog"}
    assert token_overlap("cat dog bird", "a dog and a cat") == pytest.approx(2 / 3)
    assert token_overlap("the of and", "anything") == 0.0


def test_citation_precision_and_support_shares():
    facts = ["Jake Sullivan emphasized the warning."]
    quotes = ["x Jake Sullivan emphasized the warning. y", "Unrelated passage about football."]
    assert citation_precision(quotes, facts, "Jake Sullivan") == 0.5
    assert math.isnan(citation_precision([], facts, "Jake Sullivan"))
    assert supported_share([True, False, True, True]) == 0.75
    assert math.isnan(supported_share([]))
    assert share([True, False]) == 0.5
    assert math.isnan(share([]))


def test_outside_evidence():
    assert outside_evidence([1, 3, 7], [1, 2, 3]) == 1
    assert outside_evidence([], [1]) == 0
    assert outside_evidence([1, 1], []) == 2


def test_percentile_and_mean():
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert percentile([5.0], 95) == 5.0
    assert math.isnan(percentile([], 50))
    assert mean([1, 2]) == 1.5
    assert math.isnan(mean([]))


# ------------------------------------------------------------------ baselines


def test_constant_baselines():
    golds = [
        ("comparison_query", "Yes"),
        ("comparison_query", "no"),
        ("null_query", "Insufficient information."),
        ("inference_query", "Google"),
    ]
    yes = score_constant("Yes", golds)
    assert yes["n"] == 4
    assert yes["lenient"] == 0.25 and yes["strict"] == 0.25
    assert yes["per_type"]["comparison_query"]["strict"] == 0.5
    assert yes["per_type"]["null_query"]["strict"] == 0.0
    both = score_baselines(golds)
    ref = both["Insufficient information."]
    assert ref["lenient"] == 0.25 and ref["strict"] == 0.25
    assert ref["per_type"]["null_query"]["strict"] == 1.0

"""Relative time: 'this week', 'recently', 'the latest' read against an as-of date and strong
enough to win over older articles on the same topic (a collection that mixes years)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from rag.build import BuildOptions, build_index
from rag.index import open_index
from rag.retrieve import RetrievalParams, Retriever, default_as_of

OLD = ["2015-03-02", "2016-06-14", "2017-09-20", "2018-01-11", "2019-05-05", "2020-08-19", "2021-02-23", "2021-11-30"]
NEW = ["2022-10-17", "2022-10-18", "2022-10-20", "2022-10-21"]


@pytest.fixture(scope="module")
def mixed_years(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Path:
    corpus = tmp_path_factory.mktemp("mixed")
    for i, d in enumerate(OLD + NEW):
        fresh = d in NEW
        body = (
            f"The Harlow dam project {'faced new questions' if fresh else 'was debated again'} as engineers "
            f"reviewed the reservoir plans. {'Council members met on the dam budget.' if fresh else 'Background: the dam was first proposed years ago.'} "
            f"Residents near the Harlow dam site asked about flooding and the project's cost (item {i})."
        )
        (corpus / f"a{i:02d}.txt").write_text(f"title: Harlow dam update {i}\nsource: Valley Post\ndate: {d}\n\n{body}\n")
    out = tmp_path_factory.mktemp("mixed-idx") / "idx"
    build_index([corpus], out, real_embedder, BuildOptions(progress=False))
    return out


@pytest.mark.parametrize(
    "question",
    ["What happened with the Harlow dam this week?", "What's the latest on the Harlow dam project?",
     "Has anything changed recently with the Harlow dam?"],
)
def test_relative_time_wins_over_older_articles_on_the_same_topic(mixed_years: Path, real_embedder, question: str) -> None:
    r = Retriever(open_index(mixed_years, real_embedder.model_id), real_embedder, RetrievalParams(), as_of="2022-10-21")
    hits = r.search(question, 5).hits
    fresh = [h for h in hits if h.published_at[:10] in NEW]
    assert len(fresh) >= 4, [h.published_at for h in hits]
    # without the phrase, the same question does not prefer the new articles
    plain = r.search(question.replace("this week", "").replace("latest", "").replace("recently", ""), 5).hits
    assert sum(h.published_at[:10] in NEW for h in plain) < len(fresh)


def test_as_of_passed_per_question_overrides_the_default(mixed_years: Path, real_embedder) -> None:
    r = Retriever(open_index(mixed_years, real_embedder.model_id), real_embedder, RetrievalParams())
    res = r.search("What happened with the Harlow dam this week?", 5, as_of=date(2018, 1, 14))
    assert res.as_of == "2018-01-14"
    assert res.hits[0].published_at[:10] == "2018-01-11"


def test_default_as_of_is_today_only_when_the_collection_reaches_today() -> None:
    today = date(2026, 12, 2)
    assert default_as_of(["2023-01-01", "2026-12-01"], today) == today
    assert default_as_of(["2023-01-01", "2023-12-26"], today) == date(2023, 12, 26)
    assert default_as_of([], today) == today

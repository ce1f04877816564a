"""Retrieval: fusion, per-article cap, outlet quota, date boost, hard filters, index type.

Fast tests use the hash embedder over small hand-written corpora (each article built
to isolate one behaviour); one integration test uses the real MiniLM index.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from rag.build import BuildOptions, build_index
from rag.embed import HashEmbedder
from rag.index import Index, choose_index_type, open_index
from rag.lexical import terms
from rag.retrieve import Filters, RetrievalParams, Retriever, SearchResult

RIDGES = ["northern", "southern", "eastern", "western", "upper", "lower"]


def _copper(i: int, source: str, published_at: str) -> dict[str, str]:
    return {
        "id": f"copper-{i}",
        "title": f"Copper mine strike enters day {i + 2}",
        "source": source,
        "published_at": published_at,
        "body": (
            f"Miners at the copper mine extended their strike over wages for a {i + 2}th day. "
            "Union leaders said the copper mine strike would continue until wages rise. "
            f"Negotiators number {i} met the owners without agreement."
        ),
    }


def _corpus() -> list[dict[str, str]]:
    arts: list[dict[str, str]] = [
        {
            # the only article with "zanthorium", "alloy", "foundry" or "shipments"
            "id": "zanth",
            "title": "Foundry ships first zanthorium alloy",
            "source": "Evening Courier",
            "published_at": "2023-09-04",
            "body": (
                "A foundry in the river valley shipped its first batch of zanthorium alloy on Monday. "
                "The zanthorium shipments go to turbine makers abroad. Workers loaded the crates overnight."
            ),
        },
        {
            # a small outlet whose one article barely touches the copper story
            "id": "gazette-lanterns",
            "title": "Lantern festival lights up the pier",
            "source": "Harbor Gazette",
            "published_at": "2023-11-10",
            "body": (
                "Lantern makers sold out of paper lanterns at the pier festival. Fishing boats paraded past the crowd "
                "after dark. One speaker briefly mentioned the copper mine. Organisers promised a bigger festival next year."
            ),
        },
        {
            "id": "copper-undated",
            "title": "Copper mine strike talks stall",
            "source": "Daily Planet",
            "body": "The copper mine strike over wages continued as talks stalled again. Union leaders blamed the owners.",
        },
    ]
    for i, (src, day) in enumerate(
        [
            ("Daily Planet", "2023-10-03"),
            ("Evening Courier", "2023-10-09"),
            ("Daily Planet", "2023-10-17"),
            ("Evening Courier", "2023-10-25"),
            ("Daily Planet", "2023-11-02"),
            ("Evening Courier", "2023-11-06"),
        ]
    ):
        arts.append(_copper(i, src, day))
    # near-identical twins that differ only in date (and one weekday word)
    for aid, day, weekday in (("dam-oct", "2023-10-12", "Tuesday"), ("dam-nov", "2023-11-20", "Friday")):
        arts.append(
            {
                "id": aid,
                "title": "Inspectors find cracks in reservoir dam",
                "source": "Valley Times",
                "published_at": day,
                "body": (
                    "Inspectors examined the reservoir dam and found hairline cracks in the spillway. "
                    f"Repairs are expected to take six weeks. Officials said on {weekday} that the reservoir remains safe."
                ),
            }
        )
    # one very long article matching a glacier question in every chunk, and short weaker ones
    long_body = " ".join(
        f"Station {i} recorded glacier melt of {3 * i + 1} millimetres on the {RIDGES[i % 6]} ridge." for i in range(60)
    )
    arts.append(
        {
            "id": "glacier-long",
            "title": "Glacier melt measurements all season",
            "source": "Daily Planet",
            "published_at": "2023-09-15",
            "body": long_body,
        }
    )
    for i, src in enumerate(["Valley Times", "Evening Courier", "Harbor Gazette", "Valley Times", "Evening Courier"] * 2):
        arts.append(
            {
                "id": f"glacier-short-{i}",
                "title": f"Valley notes {i}",
                "source": src,
                "published_at": f"2023-09-{10 + i:02d}",
                "body": f"Hikers noticed the glacier melt near trail {i}. The cafe on trail {i} added {i + 4} tables for visitors.",
            }
        )
    return arts


CORPUS = _corpus()
BY_ID = {a["id"]: a for a in CORPUS}


def _write_corpus(d: Path, articles: list[dict[str, str]]) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    p = d / "corpus.json"
    p.write_text(json.dumps(articles))
    return p


@pytest.fixture(scope="module")
def hash_ix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    root = tmp_path_factory.mktemp("retrieve")
    emb = HashEmbedder()
    build_index([_write_corpus(root / "corpus", CORPUS)], root / "idx", emb, BuildOptions(progress=False))
    ix = open_index(root / "idx", emb.model_id)
    yield ix
    ix.close()


def retriever(ix: Index, **params: object) -> Retriever:
    return Retriever(ix, HashEmbedder(), RetrievalParams(**params))  # type: ignore[arg-type]


def article_of(ix: Index, corpus_id: str) -> str:
    """Index article id of a corpus article (ids are derived from the corpus 'id' field)."""
    title = BY_ID[corpus_id]["title"]
    found = [
        m for m in ix.articles_meta() if m["title"] == title and m["published_at"] == BY_ID[corpus_id].get("published_at", "")
    ]
    assert len(found) == 1, (corpus_id, found)
    return found[0]["article_id"]


def ranks_of(res: SearchResult, article_id: str) -> list[int]:
    return [h.rank for h in res.hits if h.article_id == article_id]


# ---------------------------------------------------------------------------- fusion


def test_rare_word_article_ranks_first_by_bm25(hash_ix: Index) -> None:
    zanth = article_of(hash_ix, "zanth")
    q = "Which turbine makers received the zanthorium alloy shipments?"
    res = retriever(hash_ix).search(q, k=5)
    assert res.hits and res.hits[0].article_id == zanth
    assert [h.rank for h in res.hits] == list(range(1, len(res.hits) + 1))
    assert all(a.score >= b.score for a, b in zip(res.hits, res.hits[1:], strict=False))
    # BM25 normalised by the best chunk: the rare-word chunk holds the maximum, nothing else matches a rare word
    top = res.hits[0]
    assert top.bm25_score == pytest.approx(1.0)
    assert all(h.bm25_score is not None and 0.0 <= h.bm25_score <= 1.0 for h in res.hits)
    # BM25 alone finds it too, and it is the only article with any of those terms
    bm_only = retriever(hash_ix, use_dense=False).search(q, k=5)
    assert bm_only.hits[0].article_id == zanth


def test_fused_score_follows_documented_weights(hash_ix: Index) -> None:
    q = "zanthorium alloy shipments from the foundry"
    emb = HashEmbedder()
    qv = emb.embed_query(q)
    for dw in (0.4, 0.75):
        res = retriever(hash_ix, dense_weight=dw, rerank_weight=0.0, understand=False).search(q, k=8)
        assert len(res.hits) == 8
        for h in res.hits:
            # dense component is the cosine of the query and the chunk text (the index stores unit vectors)
            assert h.dense_score == pytest.approx(float(emb.embed_documents([h.text])[0] @ qv), abs=1e-5)
            assert h.score == pytest.approx(dw * h.dense_score + (1 - dw) * h.bm25_score, abs=1e-5)
    # one signal switched off: the other gets all the weight
    for h in retriever(hash_ix, use_bm25=False, rerank_weight=0.0, understand=False).search(q, k=5).hits:
        assert h.score == pytest.approx(h.dense_score, abs=1e-5)
    for h in retriever(hash_ix, use_dense=False, rerank_weight=0.0, understand=False).search(q, k=5).hits:
        assert h.score == pytest.approx(h.bm25_score, abs=1e-5)
    # the second stage only adds, at most rerank_weight each
    fused = {h.chunk_id: h.score for h in retriever(hash_ix, rerank_weight=0.0, understand=False).search(q, k=20).hits}
    reranked = retriever(hash_ix, rerank_weight=0.6, understand=False).search(q, k=5).hits
    for h in reranked:
        assert fused[h.chunk_id] - 1e-6 <= h.score <= fused[h.chunk_id] + 0.6 + 1e-6


# ---------------------------------------------------------------------------- per-article cap


def test_long_article_cannot_take_more_than_the_cap(hash_ix: Index) -> None:
    long_id = article_of(hash_ix, "glacier-long")
    n_long = len(hash_ix.chunks_of(long_id))
    assert n_long >= 10, "the long article should span many chunks"
    q = "glacier melt millimetres recorded at the station on the ridge"
    k = 8
    uncapped = retriever(hash_ix, max_per_article=100).search(q, k=k)
    assert sum(h.article_id == long_id for h in uncapped.hits) > 4, "without a cap the long article dominates"
    for cap in (RetrievalParams().max_per_article, 2):
        res = retriever(hash_ix, max_per_article=cap).search(q, k=k)
        assert len(res.hits) == k  # the other articles fill the freed slots
        assert sum(h.article_id == long_id for h in res.hits) == cap
        assert res.hits[0].article_id == long_id
        per_article: dict[str, int] = {}
        for h in res.hits:
            per_article[h.article_id] = per_article.get(h.article_id, 0) + 1
        assert max(per_article.values()) <= cap
        assert len({h.chunk_id for h in res.hits}) == len(res.hits)


# ---------------------------------------------------------------------------- outlet named in the question

OUTLET_Q = "What did the Harbor Gazette report about the copper mine strike wages?"


def test_outlet_named_in_question_gets_a_chunk(hash_ix: Index) -> None:
    r = retriever(hash_ix)
    parsed = r.parse(OUTLET_Q)
    assert parsed.sources == ("Harbor Gazette",)
    k = 5  # k - free_slots = 2 slots reserved for named outlets
    res = r.search(OUTLET_Q, k=k)
    gazette = [h for h in res.hits if h.source == "Harbor Gazette"]
    assert gazette, [h.source for h in res.hits]
    assert gazette[0].article_id == article_of(hash_ix, "gazette-lanterns")  # its copper-mine chunk, not a glacier note
    assert len(res.hits) == k
    # without the second stage the outlet's best chunk leads: its own sub-search + the source boost
    plain = retriever(hash_ix, rerank_weight=0.0).search(OUTLET_Q, k=k)
    assert plain.hits[0].source == "Harbor Gazette"
    # the quota alone (no boost) still keeps the outlet in the results
    no_boost = retriever(hash_ix, source_boost=0.0).search(OUTLET_Q, k=k)
    assert any(h.source == "Harbor Gazette" for h in no_boost.hits)
    # ... but only while some of the k slots are not free slots
    no_quota = retriever(hash_ix, source_boost=0.0, rerank_weight=0.0, free_slots=k).search(OUTLET_Q, k=k)
    assert not any(h.source == "Harbor Gazette" for h in no_quota.hits)


# ---------------------------------------------------------------------------- date boost


@pytest.mark.parametrize(("month", "want", "other"), [("October", "dam-oct", "dam-nov"), ("November", "dam-nov", "dam-oct")])
def test_month_in_question_ranks_that_months_article_first(hash_ix: Index, month: str, want: str, other: str) -> None:
    q = f"What did the inspectors say about cracks in the reservoir dam in {month} 2023?"
    r = retriever(hash_ix)
    assert [(d.kind, d.start.month) for d in r.parse(q).dates] == [("month", 10 if month == "October" else 11)]
    res = r.search(q, k=5)
    assert res.hits[0].article_id == article_of(hash_ix, want)
    assert min(ranks_of(res, article_of(hash_ix, want))) < min(ranks_of(res, article_of(hash_ix, other)))


# ---------------------------------------------------------------------------- query understanding off


def test_understand_off_disables_outlet_and_date_boosts(hash_ix: Index) -> None:
    k = 5
    off = retriever(hash_ix, understand=False).search(OUTLET_Q, k=k)
    assert off.parsed.outlets == () and off.parsed.dates == ()
    assert len(off.hits) == k and not any(h.source == "Harbor Gazette" for h in off.hits)
    assert any(h.source == "Harbor Gazette" for h in retriever(hash_ix).search(OUTLET_Q, k=k).hits)

    # same question, twins identical but for the date: the October twin's lead grows by exactly date_boost
    q = "What did the inspectors say about cracks in the reservoir dam in October 2023?"
    oct_id, nov_id = article_of(hash_ix, "dam-oct"), article_of(hash_ix, "dam-nov")

    def gap(res: SearchResult) -> float:
        best = {h.article_id: h.score for h in reversed(res.hits)}
        return best[oct_id] - best[nov_id]

    for boost in (0.3, 0.5):
        on = retriever(hash_ix, date_boost=boost).search(q, k=10)
        off = retriever(hash_ix, date_boost=boost, understand=False).search(q, k=10)
        assert off.parsed.dates == ()
        assert gap(on) - gap(off) == pytest.approx(boost, abs=1e-5)
        assert gap(retriever(hash_ix, date_boost=0.0).search(q, k=10)) == pytest.approx(gap(off), abs=1e-5)


# ---------------------------------------------------------------------------- explicit filters


def test_filters_are_respected(hash_ix: Index) -> None:
    r = retriever(hash_ix)
    q = "copper mine strike wages"
    res = r.search(q, k=10, filters=Filters(sources=("Daily Planet",)))
    assert res.hits and all(h.source == "Daily Planet" for h in res.hits) and not res.notes
    # outlet names are matched case-insensitively
    assert [h.chunk_id for h in r.search(q, k=10, filters=Filters(sources=("daily planet",))).hits] == [
        h.chunk_id for h in res.hits
    ]
    res = r.search(q, k=10, filters=Filters(since="2023-10-10", until="2023-10-31"))
    assert res.hits and all("2023-10-10" <= h.published_at <= "2023-10-31" for h in res.hits)
    res = r.search(q, k=10, filters=Filters(until="2023-10-05"))
    assert res.hits and all(h.published_at and h.published_at <= "2023-10-05" for h in res.hits)  # undated excluded
    res = r.search(q, k=10, filters=Filters(since="2023-11-05"))
    assert res.hits and all(h.published_at >= "2023-11-05" for h in res.hits)
    both = r.search(q, k=10, filters=Filters(sources=("Evening Courier",), since="2023-10-01"))
    assert both.hits and all(h.source == "Evening Courier" and h.published_at >= "2023-10-01" for h in both.hits)
    # a filter wins over an outlet named in the question
    res = r.search(OUTLET_Q, k=5, filters=Filters(sources=("Daily Planet",)))
    assert res.hits and all(h.source == "Daily Planet" for h in res.hits)
    # without filters, the same question reaches articles the filters excluded
    assert {h.source for h in r.search(q, k=10).hits} > {"Daily Planet"}


@pytest.mark.parametrize(
    ("filters", "mentions"),
    [
        (Filters(since="2024-01-01"), "since=2024-01-01"),
        (Filters(sources=("Harbor Gazette",), since="2023-11-11"), "source=Harbor Gazette"),
        (Filters(until="2023-09-03"), "until=2023-09-03"),  # older than every dated article; undated ones never match
        (Filters(since="2023-10-13", until="2023-10-16"), "since=2023-10-13"),
    ],
)
def test_filters_matching_nothing_give_empty_result_with_note(hash_ix: Index, filters: Filters, mentions: str) -> None:
    res = retriever(hash_ix).search("copper mine strike wages", k=5, filters=filters)
    assert res.hits == []
    assert any("no passages match the filters" in n and mentions in n for n in res.notes), res.notes


def test_unknown_source_filter_is_named_in_a_note(hash_ix: Index) -> None:
    r = retriever(hash_ix)
    res = r.search("copper mine strike wages", k=5, filters=Filters(sources=("Bloomberg",)))
    assert res.hits == []
    assert any("Bloomberg" in n and "no outlet named" in n for n in res.notes), res.notes
    # a known outlet next to the unknown one still gives results, with the note
    res = r.search("copper mine strike wages", k=5, filters=Filters(sources=("Bloomberg", "Daily Planet")))
    assert res.hits and all(h.source == "Daily Planet" for h in res.hits)
    named = [n.split(" in the index")[0] for n in res.notes if n.startswith("no outlet named")]
    assert named == ["no outlet named Bloomberg"], res.notes
    # an unknown outlet named in the question (not a filter) is noted but does not empty the result
    res = r.search("What did a Bloomberg report say about the copper mine strike?", k=5)
    assert res.hits and any("Bloomberg" in n for n in res.notes)


# ---------------------------------------------------------------------------- real components


def test_real_index_question_naming_outlet_and_month_finds_the_article(small_index: Path, real_embedder) -> None:
    """For every dated article with an outlet: its title words + "according to <outlet>" + its month
    rank it first; with only two title words, naming the outlet and month is what finds it."""
    ix = open_index(small_index, real_embedder.model_id)
    try:
        on, off = Retriever(ix, real_embedder), Retriever(ix, real_embedder, RetrievalParams(understand=False))
        picked = [m for m in ix.articles_meta() if m["source"] and m["published_at"]]
        assert len(picked) >= 10
        misses = []
        found = {True: 0, False: 0}
        for m in picked:
            month = f"{date.fromisoformat(m['published_at']):%B %Y}"
            words = [w for w in m["title"].split() if terms(w)]
            q = f"{' '.join(words[:8])}, according to {m['source']} in {month}?"
            parsed = on.parse(q)
            assert m["source"] in parsed.sources, q
            assert any(d.kind == "month" and d.contains(m["published_at"]) for d in parsed.dates), q
            res = on.search(q, k=5)
            if not res.hits or res.hits[0].article_id != m["article_id"]:
                misses.append((q, [h.title for h in res.hits[:3]]))
            short = f"What did {m['source']} report in {month} about {' '.join(words[:2])}?"
            for understand, r in ((True, on), (False, off)):
                hits = r.search(short, k=5).hits
                found[understand] += bool(hits) and hits[0].article_id == m["article_id"]
        assert not misses, misses
        assert found[True] > found[False], found
        assert found[True] >= 0.9 * len(picked), found
    finally:
        ix.close()


# ---------------------------------------------------------------------------- index type


def test_choose_index_type() -> None:
    assert choose_index_type("auto", 10, 1000) == "flat"
    assert choose_index_type("auto", 999, 1000) == "flat"
    assert choose_index_type("auto", 1000, 1000) == "hnsw"  # the threshold is where auto switches
    assert choose_index_type("auto", 250_000, 200_000) == "hnsw"
    assert choose_index_type("flat", 10**7, 1000) == "flat"
    assert choose_index_type("hnsw", 1, 1000) == "hnsw"


def _big_outlet_corpus() -> list[dict[str, str]]:
    """The fast corpus plus one outlet with > 400 chunks (six long articles), so outlet and
    filter searches go through FAISS's ID selector instead of exact scoring."""
    logs = []
    for j in range(6):
        body = "\n".join(
            f"Buoy {i} measured tide height of {i % 97} centimetres near reef {i % 13} during survey {j}." for i in range(300)
        )
        logs.append(
            {
                "id": f"tide-log-{j}",
                "title": f"Tide survey log {j}",
                "source": "Tide Bulletin",
                "published_at": f"2023-08-0{j + 1}",
                "body": body,
            }
        )
    return [*CORPUS, *logs]


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_auto_index_type_lands_in_manifest_and_searches(tmp_path: Path, kind: str) -> None:
    emb = HashEmbedder()
    corpus = _write_corpus(tmp_path / "corpus", _big_outlet_corpus())
    threshold = 1 if kind == "hnsw" else 10**6
    result = build_index(
        [corpus], tmp_path / "idx", emb, BuildOptions(progress=False, index_type="auto", hnsw_threshold=threshold)
    )
    assert result.manifest["index"]["type"] == kind
    assert result.chunks > 400
    ix = open_index(tmp_path / "idx", emb.model_id)
    try:
        assert ix.manifest["index"]["type"] == kind
        assert ("ef_search" in ix.manifest["index"]) == (kind == "hnsw")
        r = Retriever(ix, emb)
        assert len(r._source_rows["Tide Bulletin"]) > 4 * RetrievalParams().candidates
        res = r.search("Which turbine makers received the zanthorium alloy shipments?", k=5)
        assert res.hits[0].title == BY_ID["zanth"]["title"]
        # outlet sub-search and a hard filter over > 4k rows of one outlet (FAISS ID selector path)
        res = r.search("What did the Tide Bulletin say about buoy 7 tide height near reef 7?", k=5)
        assert any(h.source == "Tide Bulletin" for h in res.hits)
        res = r.search("tide height centimetres", k=5, filters=Filters(sources=("Tide Bulletin",)))
        assert len(res.hits) == 5 and all(h.source == "Tide Bulletin" for h in res.hits)
        res = r.search("copper mine strike wages", k=5, filters=Filters(sources=("Tide Bulletin",)))
        assert all(h.source == "Tide Bulletin" for h in res.hits)
    finally:
        ix.close()


def test_a_post_matches_written_either_way() -> None:
    from rag.lexical import lexical_scores

    def idf(q: list[str]) -> dict[str, float]:
        return {t: 1.0 for t in q}

    texts = ["Chief executive Maren Solberg apologised to customers.", "The CEO apologised.", "Riders were refunded."]
    ceo = lexical_scores("What did Kestrel's CEO say?", texts, idf)
    chief = lexical_scores("What did Kestrel's chief executive say?", texts, idf)
    assert ceo[0] > 0 and ceo[1] > 0 and ceo[2] == 0
    assert chief[0] > 0 and chief[1] > 0 and chief[2] == 0
    # a question without a post reads the texts as they are
    assert lexical_scores("Who apologised?", texts, idf).tolist()[:2] == [1.0, 1.0]


def test_a_word_matches_its_synonym_and_its_other_forms() -> None:
    from rag.cite import term_share
    from rag.lexical import lexical_scores, terms

    def idf(q: list[str]) -> dict[str, float]:
        return {t: 1.0 for t in q}

    texts = ["No injuries have been reported.", "She was not hurt.", "The price has been cut to $1,199.", "Riders were refunded."]
    hurt = lexical_scores("Was anyone injured?", texts, idf)  # "injured" and "injuries" stem apart
    assert hurt[0] > 0 and hurt[1] > 0 and hurt[2] == 0 and hurt[3] == 0, hurt
    cost = lexical_scores("What does the bike cost?", texts, idf)
    assert cost[2] > 0 and cost[0] == 0, cost
    assert term_share(terms("cost"), texts[2]) == 1.0 and term_share(terms("hurt"), texts[0]) == 1.0
    assert term_share(terms("cost"), texts[3]) == 0.0

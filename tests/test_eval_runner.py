"""The offline evaluation runner end to end: real index, real SmolLM2, every output file,
retrieval-only mode, resuming after an interruption, config fingerprint refusal, compare."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from eval.compare import compare_runs
from eval.report import score_record, summarize
from eval.runner import EvalConfigError, load_records, run_eval

SEED_TITLE = "US officials have issued a warning to North Korea against striking an arms deal with Russia"
SBF_TITLE = "SBF’s trial starts soon, but how did he — and FTX — get here?"

# Six questions about the seed article and the corpus slice; facts are copied verbatim.
QUESTIONS = [
    {
        "id": "q1",
        "type": "inference_query",
        "question": "Which White House national security adviser warned North Korea against providing weapons to Russia?",
        "answer": "Jake Sullivan",
        "evidence": [
            {
                "title": SEED_TITLE,
                "fact": "White House national security adviser Jake Sullivan emphasized that if Pyongyang were to provide "
                "weapons to Moscow for use in the war against Ukraine, it would not bode well for North Korea in the "
                "international community.",
            }
        ],
    },
    {
        "id": "q2",
        "type": "comparison_query",
        "question": "Did TechCrunch report that the criminal trial of Sam Bankman-Fried started on a Tuesday?",
        "answer": "Yes",
        "evidence": [
            {
                "title": SBF_TITLE,
                "fact": "The highly anticipated criminal trial for Sam Bankman-Fried, former CEO of bankrupt crypto "
                "exchange FTX, started Tuesday to determine whether he’s guilty of seven counts of fraud and conspiracy.",
            }
        ],
    },
    {
        "id": "q3",
        "type": "inference_query",
        "question": "According to John Kirby, what did North Korea previously supply to Russia's Wagner forces?",
        "answer": "infantry rockets and missiles",
        "evidence": [
            {
                "title": SEED_TITLE,
                "fact": "According to National Security Council spokesperson John Kirby, North Korea has previously "
                "supplied infantry rockets and missiles to Russia’s Wagner forces.",
            }
        ],
    },
    {
        "id": "q4",
        "type": "temporal_query",
        "question": "In which year did Sam Bankman-Fried co-found the crypto exchange FTX?",
        "answer": "2019",
        "evidence": [
            {
                "title": SBF_TITLE,
                "fact": "The 31-year-old co-founded FTX in 2019; within a few years the once third-largest crypto "
                "exchange’s valuation hit $32 billion at its peak.",
            }
        ],
    },
    {
        "id": "q5",
        "type": "null_query",
        "question": "What did a Bloomberg report say about the winner of the 2023 Tour de France?",
        "answer": "Insufficient information.",
        "evidence": [],
    },
    {
        "id": "q6",
        "type": "null_query",
        "question": "According to an article from Le Monde, who won the 2023 Nobel Prize in Literature?",
        "answer": "Insufficient information.",
        "evidence": [],
    },
]
ANSWERABLE = {"q1", "q2", "q3", "q4"}
OUTPUTS = ("records.jsonl", "summary.json", "report.md", "report.html", "config.json")

# what the scripted (fake) model answers: question marker -> (short answer, word the cited passage must contain)
SCRIPT = {
    "national security adviser": ("Jake Sullivan", "Jake Sullivan emphasized"),
    "started on a Tuesday": ("Yes", "started Tuesday"),
    "co-found": ("2019", "in 2019"),
}


def scripted_reply(prompt: str) -> str:
    """A fake model that copies the right sentence from the passages it is shown, with its marker."""
    question = prompt.split("Question:", 1)[-1]
    for marker, (short, needle) in SCRIPT.items():
        if marker in question:
            for n, text in re.findall(r"^\[(\d+)\] (.*)$", prompt, flags=re.M):
                for sent in re.split(r"(?<=[.!?])\s+", text):
                    if needle in sent:
                        return f"{short}\n{sent.rstrip('.')} [{n}]."
            # a Yes/No question is decided again over the one passage that settles it
            passage = re.search(r"Passage: (.*)$", prompt, flags=re.M)
            if passage and needle in passage.group(1):
                return short
    return "Insufficient information."


def write_set(path: Path) -> Path:
    path.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in QUESTIONS) + "\n", encoding="utf-8")
    return path


def make_settings(index_dir: Path, **kw: Any):
    from rag.settings import Settings

    base = {"max_answer_tokens": 40, "evidence_tokens": 250}
    return Settings(index_dir=index_dir, model_cache_dir=Path(Settings.load().model_cache_dir), **{**base, **kw})


class Wrapper:
    """Delegates to a pipeline, counting answer calls; raises KeyboardInterrupt on call ``interrupt_at``."""

    def __init__(self, pipe: Any, interrupt_at: int | None = None) -> None:
        self._pipe = pipe
        self.interrupt_at = interrupt_at
        self.asked: list[str] = []

    def answer(self, query: str, *a: Any, **kw: Any):
        if self.interrupt_at is not None and len(self.asked) + 1 == self.interrupt_at:
            raise KeyboardInterrupt
        self.asked.append(query)
        return self._pipe.answer(query, *a, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pipe, name)


@pytest.fixture(scope="module")
def eval_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_set(tmp_path_factory.mktemp("set") / "mini.jsonl")


@pytest.fixture(scope="module")
def llm_run(tmp_path_factory: pytest.TempPathFactory, eval_set: Path, small_index: Path, real_embedder, smollm2) -> Path:
    """One real end-to-end run: small real index + real SmolLM2, 6 questions."""
    from rag.pipeline import Pipeline

    s = make_settings(small_index)
    pipe = Pipeline.from_settings(s, embedder=real_embedder, generator=smollm2)
    out = tmp_path_factory.mktemp("runs") / "smollm2"
    md = run_eval(eval_set, s, out, pipeline=pipe)
    assert md == out / "report.md"
    return out


@pytest.fixture(scope="module")
def scripted_pipe(small_index: Path, real_embedder):
    from rag.generate import ScriptedGenerator
    from rag.pipeline import Pipeline

    return Pipeline.from_settings(make_settings(small_index), embedder=real_embedder, generator=ScriptedGenerator(scripted_reply))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ------------------------------------------------------------------ end to end with the real model


def test_llm_run_writes_every_output(llm_run: Path):
    for name in OUTPUTS:
        assert (llm_run / name).is_file(), name
    recs = read_jsonl(llm_run / "records.jsonl")
    assert [r["id"] for r in recs] == [q["id"] for q in QUESTIONS]
    for r in recs:
        for key in ("id", "question", "type", "gold_answer", "gold_evidence", "answer", "short", "refused", "reason",
                    "citations", "evidence", "retrieved", "timings"):  # fmt: skip
            assert key in r, key
        assert r["mode"] == "answer" and not r.get("error")
        assert r["retrieved"] and all("chunk_id" in h and "text" in h for h in r["retrieved"])
        assert {"retrieve_s", "first_token_s", "total_s"} <= set(r["timings"])
        assert r["answer"] and r["short"]
    # the unanswerable questions name outlets the index lacks: both refused; Le Monde, which no
    # article mentions, before the model runs (articles quote Bloomberg, so those passages are read)
    for r in recs:
        if r["id"] in {"q5", "q6"}:
            assert r["refused"]
        if r["id"] == "q6":
            assert "generate_s" not in r["timings"] and "Le Monde" in r["reason"]
    ran = [r for r in recs if "generate_s" in r["timings"]]
    assert ran, "the model ran on no question"
    assert all(r["model"] == "smollm2-135m" and r["gen_tokens"] and r["raw"] for r in ran)

    s = json.loads((llm_run / "summary.json").read_text())
    assert s["n"] == 6 and s["errors"] == 0
    # verbatim facts over a 21-article index: retrieval finds every one
    assert s["retrieval"]["n"] == 4
    assert s["retrieval"]["hits@10"] == 1.0
    assert s["retrieval"]["article_recall@10"] == 1.0
    assert len(s["retrieval"]["hits_curve"]) == 10
    for key in ("lenient_short", "lenient_full", "strict"):
        assert 0.0 <= s["answers"][key] <= 1.0
    assert s["refusals"]["unanswerable_n"] == 2 and s["refusals"]["unanswerable_refused"] == 1.0
    assert s["refusals"]["answerable_n"] == 4
    assert s["citations"]["outside_evidence"] == 0
    assert set(s["per_type"]) == {"inference_query", "comparison_query", "temporal_query", "null_query"}
    assert s["per_type"]["null_query"]["answers"]["strict"] == 1.0
    assert set(s["baselines"]) == {"Yes", "Insufficient information."}
    assert s["baselines"]["Yes"]["strict"] == pytest.approx(1 / 6)
    assert s["baselines"]["Insufficient information."]["strict"] == pytest.approx(2 / 6)
    lat = s["latency"]
    assert lat["total_s"]["n"] == 6 and lat["total_s"]["p50"] > 0 and lat["total_s"]["p95"] >= lat["total_s"]["p50"]
    assert lat["first_token_s"]["n"] == len(ran)
    assert lat["gen_tokens"] > 0 and lat["gen_tokens_per_s"] > 0
    assert s["run"]["peak_rss_mib"] > 50
    assert s["run"]["model"] == "smollm2-135m"

    md = (llm_run / "report.md").read_text()
    for heading in ("# Evaluation report: smollm2", "## Headline", "## By question type", "## Baselines", "## Citations",
                    "## Latency and resources", "## Questions", "Strict accuracy", "Hits@4"):  # fmt: skip
        assert heading in md, heading
    html = (llm_run / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == 3
    assert not re.search(r'(?:src|href)="(?!data:)', html), "report.html must be self-contained"
    assert "Which White House national security adviser" in html
    cfg = json.loads((llm_run / "config.json").read_text())
    assert cfg["model"] == "smollm2-135m" and not cfg["retrieval_only"] and len(cfg["fingerprint"]) == 16


def test_rerun_of_finished_run_processes_nothing(llm_run: Path, eval_set: Path, small_index: Path):
    class NoCalls:
        def __init__(self, index: Any) -> None:
            self.index = index

        def answer(self, q: str) -> Any:
            raise AssertionError("a finished run must not ask again")

        search = answer

    from rag.index import open_index

    ix = open_index(small_index, verify=False)
    before = (llm_run / "records.jsonl").read_bytes()
    pipe = NoCalls(ix)
    pipe._generator = type("G", (), {"name": "smollm2-135m"})()  # same model as the finished run
    run_eval(eval_set, make_settings(small_index), llm_run, pipeline=pipe)
    ix.close()
    assert (llm_run / "records.jsonl").read_bytes() == before


def test_resume_with_different_config_refuses(llm_run: Path, eval_set: Path, small_index: Path, scripted_pipe):
    before = (llm_run / "records.jsonl").read_bytes()
    with pytest.raises(EvalConfigError, match=r"different configuration.*limit: null -> 5"):
        run_eval(eval_set, make_settings(small_index), llm_run, limit=5, pipeline=scripted_pipe)
    with pytest.raises(EvalConfigError, match=r"model: \"smollm2-135m\" -> \"scripted\""):
        run_eval(eval_set, make_settings(small_index), llm_run, pipeline=scripted_pipe)
    with pytest.raises(EvalConfigError, match=r"retrieval_only: false -> true"):
        run_eval(eval_set, make_settings(small_index), llm_run, retrieval_only=True, pipeline=scripted_pipe)
    assert (llm_run / "records.jsonl").read_bytes() == before


# ------------------------------------------------------------------ retrieval only


def test_retrieval_only_run_is_deterministic(tmp_path: Path, eval_set: Path, small_index: Path, real_embedder):
    from rag.pipeline import Pipeline

    s = make_settings(small_index)
    pipe = Pipeline.from_settings(s, embedder=real_embedder)

    def forbid(*a: Any, **kw: Any) -> Any:
        raise AssertionError("retrieval-only must not call the model")

    pipe.answer = forbid  # type: ignore[method-assign]
    a = run_eval(eval_set, s, tmp_path / "ra", retrieval_only=True, pipeline=pipe, progress=False).parent
    b = run_eval(eval_set, s, tmp_path / "rb", retrieval_only=True, pipeline=pipe, progress=False).parent
    assert pipe._generator is None  # the LLM was never loaded
    for name in OUTPUTS:
        assert (a / name).is_file(), name
    ra, rb = read_jsonl(a / "records.jsonl"), read_jsonl(b / "records.jsonl")
    assert len(ra) == 6 and all(r["mode"] == "retrieval" and len(r["retrieved"]) == 10 for r in ra)
    strip = lambda rs: [{k: v for k, v in r.items() if k != "timings"} for r in rs]  # noqa: E731
    assert strip(ra) == strip(rb)
    s_a = json.loads((a / "summary.json").read_text())
    assert "answers" not in s_a and "baselines" not in s_a
    assert s_a["retrieval"]["hits@10"] == 1.0 and s_a["retrieval"]["n"] == 4
    assert s_a["latency"]["retrieve_s"]["n"] == 6
    assert (
        json.loads((a / "config.json").read_text())["fingerprint"] == json.loads((b / "config.json").read_text())["fingerprint"]
    )
    html = (a / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == 3
    assert "retrieval only" in (a / "report.md").read_text()


# ------------------------------------------------------------------ resume


def test_resume_after_interrupt(tmp_path: Path, eval_set: Path, small_index: Path, scripted_pipe):
    s = make_settings(small_index)
    out = tmp_path / "scripted"
    first = Wrapper(scripted_pipe, interrupt_at=4)
    with pytest.raises(KeyboardInterrupt):
        run_eval(eval_set, s, out, pipeline=first)
    assert len(first.asked) == 3
    assert [r["id"] for r in read_jsonl(out / "records.jsonl")] == ["q1", "q2", "q3"]
    assert not (out / "summary.json").exists()
    # a crash in the middle of writing leaves half a line: it is ignored
    with open(out / "records.jsonl", "a", encoding="utf-8") as f:
        f.write('{"id": "q4", "question": "In which ye')

    second = Wrapper(scripted_pipe)
    run_eval(eval_set, s, out, pipeline=second)
    assert second.asked == [q["question"] for q in QUESTIONS[3:]]
    recs = read_jsonl(out / "records.jsonl")
    assert [r["id"] for r in recs] == [q["id"] for q in QUESTIONS]
    assert len({r["id"] for r in recs}) == 6
    assert load_records(out / "records.jsonl") == recs
    for name in OUTPUTS:
        assert (out / name).is_file(), name

    summary = json.loads((out / "summary.json").read_text())
    by_id = {r["id"]: r for r in recs}
    # the scripted model answers q1, q2, q4 from the passages with correct citations
    for qid in ("q1", "q2", "q4"):
        assert not by_id[qid]["refused"], by_id[qid]["reason"]
        assert score_record(by_id[qid])["strict"] == 1.0
        assert by_id[qid]["citations"] and all(c["supported"] for c in by_id[qid]["citations"])
    assert summary["answers"]["strict"] == pytest.approx(5 / 6)  # q3 refused, both null questions refused
    assert summary["citations"]["precision"] == 1.0
    assert summary["citations"]["supported_share"] == 1.0
    assert summary["citations"]["outside_evidence"] == 0
    assert summary["refusals"]["answerable_refused"] == 0.25


def test_compare_runs(llm_run: Path, tmp_path: Path, eval_set: Path, small_index: Path, scripted_pipe):
    other = tmp_path / "scripted-b"
    run_eval(eval_set, make_settings(small_index), other, pipeline=scripted_pipe, progress=False)
    text = compare_runs(llm_run, other)
    assert (other / "compare-smollm2.md").read_text() == text
    assert text.startswith("# Comparison: smollm2 (A) -> scripted-b (B)")
    for part in ("## Metrics", "strict accuracy", "Hits@10", "## By question type", "inference_query",
                 "Questions whose strict correctness changed", "model: \"smollm2-135m\" -> \"scripted\""):  # fmt: skip
        assert part in text, part
    a = {r["id"]: score_record(r)["strict"] for r in read_jsonl(llm_run / "records.jsonl")}
    b = {r["id"]: score_record(r)["strict"] for r in read_jsonl(other / "records.jsonl")}
    changed = [qid for qid in a if a[qid] != b[qid]]
    section = text.split("Questions whose strict correctness changed", 1)[1]
    assert f"({len(changed)})" in section.splitlines()[0]
    for qid in changed:
        assert f"| {qid} |" in section
    # comparing a run with itself changes nothing
    same = compare_runs(other, other)
    assert "changed (0)" in same and "+0.0 pt" in same


def test_compare_needs_run_directories(tmp_path: Path):
    with pytest.raises(EvalConfigError, match=r"no records\.jsonl"):
        compare_runs(tmp_path, tmp_path)


# ------------------------------------------------------------------ CLI


def test_cli_eval_retrieval_only_and_compare(tmp_path: Path, eval_set: Path, small_index: Path, monkeypatch):
    from typer.testing import CliRunner

    from rag.cli import app

    monkeypatch.chdir(tmp_path)  # no rag.toml of the caller
    runner = CliRunner()
    out = tmp_path / "cli-run"
    res = runner.invoke(
        app, ["eval", str(eval_set), "--index-dir", str(small_index), "--out", str(out), "--retrieval-only", "--limit", "4"]
    )
    assert res.exit_code == 0, res.output
    assert f"report: {out / 'report.md'}" in res.output
    recs = read_jsonl(out / "records.jsonl")
    assert len(recs) == 4 and {r["type"] for r in recs} >= {"inference_query", "null_query"}  # stratified
    res = runner.invoke(
        app, ["eval", str(eval_set), "--index-dir", str(small_index), "--out", str(out), "--retrieval-only", "--limit", "3"]
    )
    assert res.exit_code == 2 and "different configuration" in res.output
    res = runner.invoke(app, ["eval", "compare", str(out), str(out)])
    assert res.exit_code == 0 and "# Comparison" in res.output


# ------------------------------------------------------------------ summary arithmetic (no model)


def _rec(qid: str, gold: str, qtype: str, **kw: Any) -> dict[str, Any]:
    base = {
        "id": qid, "question": qid, "type": qtype, "gold_answer": gold, "gold_evidence": [], "mode": "answer",
        "answer": "", "short": "", "refused": False, "citations": [], "sentences": [], "evidence": [],
        "retrieved": [], "timings": {}, "gen_tokens": None,
    }  # fmt: skip
    return {**base, **kw}


def test_summarize_arithmetic():
    fact = "Jake Sullivan emphasized the warning."
    ev = [{"title": "T", "fact": fact}]
    recs = [
        _rec(
            "a",
            "Jake Sullivan",
            "inference_query",
            gold_evidence=ev,
            answer="Jake Sullivan\nHe warned [1].",
            short="Jake Sullivan",
            citations=[{"n": 1, "quote": f"x {fact} y"}, {"n": 9, "quote": "football"}],
            evidence=[{"n": 1, "text": fact}, {"n": 2, "text": "other"}],
            sentences=[{"supported": True}, {"supported": False}],
            retrieved=[{"title": "U", "text": "no"}, {"title": "T", "text": fact}],
            timings={"retrieve_s": 1.0, "evidence_s": 0.0, "first_token_s": 3.0, "generate_s": 6.0, "total_s": 7.0},
            gen_tokens=9,
        ),
        _rec(
            "b",
            "Insufficient information.",
            "null_query",
            answer="Insufficient information.\nnone",
            short="Insufficient information.",
            refused=True,
            sentences=[{"supported": False}],
            timings={"retrieve_s": 3.0, "first_token_s": 3.0, "total_s": 3.0},
        ),  # fmt: skip
        _rec(
            "c",
            "Yes",
            "comparison_query",
            answer="Insufficient information.\nx",
            short="Insufficient information.",
            refused=True,
            timings={"retrieve_s": 2.0, "first_token_s": 2.0, "total_s": 2.0},
        ),  # fmt: skip
        _rec(
            "d",
            "Insufficient information.",
            "null_query",
            answer="Yes\nIt did [1].",
            short="Yes",
            timings={"retrieve_s": 2.0, "first_token_s": 2.0, "total_s": 2.0},
        ),  # fmt: skip
    ]
    s = summarize(recs)
    assert s["answers"]["strict"] == 0.5  # a and b
    assert s["answers"]["lenient_short"] == 0.5  # a, b
    assert s["answers"]["lenient_full"] == 0.5
    assert s["refusals"] == {"unanswerable_n": 2, "unanswerable_refused": 0.5, "answerable_n": 2, "answerable_refused": 0.5}
    assert s["citations"]["n_citations"] == 2 and s["citations"]["precision"] == 0.5
    assert s["citations"]["outside_evidence"] == 1
    assert s["citations"]["supported_share"] == 0.5  # refused answers' sentences are not shown
    assert s["citations"]["supported_share_all"] == pytest.approx(1 / 3)
    assert s["retrieval"]["n"] == 1 and s["retrieval"]["hits@4"] == 1.0 and s["retrieval"]["mrr@10"] == 0.5
    assert s["retrieval"]["hits_curve"][:2] == [0.0, 1.0]
    assert s["retrieval"]["article_recall@10"] == 1.0
    assert s["latency"]["retrieve_s"]["p50"] == 2.0 and s["latency"]["total_s"]["n"] == 4
    assert s["latency"]["first_token_s"]["n"] == 1  # only where the model ran
    assert s["latency"]["gen_tokens_per_s"] == 1.5  # 9 tokens / 6 s
    assert s["latency"]["decode_tokens_per_s"] == pytest.approx(8 / 4)  # prefill ~ 3 - 1 - 0 = 2 s
    assert s["per_type"]["null_query"]["answers"]["strict"] == 0.5
    assert math.isnan(s["per_type"]["null_query"]["retrieval"]["hits@10"])


def test_load_records_drops_only_a_cut_last_line(tmp_path: Path):
    p = tmp_path / "records.jsonl"
    p.write_text('{"id": "a"}\n{"id": "b"}\n{"id": "c", "quest')
    assert [r["id"] for r in load_records(p)] == ["a", "b"]
    assert p.read_text() == '{"id": "a"}\n{"id": "b"}\n'  # truncated so appending continues cleanly
    p.write_text('{"id": "a"}\n{"id": "b", "x\n')  # a cut line that happens to end in a newline
    assert [r["id"] for r in load_records(p)] == ["a"]
    p.write_text('{"id": "a"}\nnot json\n{"id": "c"}\n')  # damage in the middle is not a crash artefact
    with pytest.raises(EvalConfigError, match="line 2 is not valid JSON"):
        load_records(p)
    assert load_records(tmp_path / "missing.jsonl") == []

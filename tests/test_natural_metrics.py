"""Natural-question scoring (eval/natural.py), set loading of its fields, the report section,
and the corpus checker -- on hand-made records, a tiny corpus, and the two shipped sets."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest

from eval import natural as nat
from eval.report import render_markdown, summarize
from eval.sets import load_set, select_split
from rag.errors import CorpusError

ROOT = Path(__file__).resolve().parents[1]
SETS = ROOT / "eval" / "sets"
SAMPLE_CORPUS = ROOT / "rag" / "sample_corpus"
MULTIHOP_CORPUS = ROOT.parent / "shared" / "data" / "multihop-rag" / "corpus.json"

KF = [["overheat", "overheating"], ["Tessaro Cells", "Tessaro"]]


def rec(**kw):
    base = {
        "id": "q1",
        "question": "Why did the batteries overheat?",
        "type": "explanation",
        "gold_answer": "Faulty Tessaro cells overheated.",
        "gold_evidence": [],
        "mode": "answer",
        "form": "explanation",
        "answerable": True,
        "yesno": None,
        "key_facts": KF,
        "split": "test",
        "as_of": "",
        "answer": "The cells from Tessaro overheated [1].",
        "short": "",
        "refused": False,
        "reason": "",
        "sentences": [{"text": "The cells from Tessaro overheated [1].", "cites": [1], "supported": True}],
        "citations": [],
        "evidence": [
            {"n": 1, "text": "A batch of Tessaro cells began to overheat.", "title": "Arro 2 owners report", "source": "X"}
        ],
        "retrieved": [],
        "timings": {"first_token_s": 1.0, "total_s": 2.0, "retrieve_s": 0.1, "generate_s": 1.5},
    }
    base.update(kw)
    return base


# ------------------------------------------------------------------------ matching


def test_contains_is_case_and_whitespace_insensitive():
    assert nat.contains("Deliveries begin on\n  OCTOBER   2", ["October 2"])
    assert nat.contains("Adam D’Angelo", ["D'Angelo"])  # curly quote folded
    assert not nat.contains("October 20", ["Oct. 2"])
    assert not nat.contains("anything", [""])


def test_remove_markers_and_first_words():
    assert nat.remove_markers("Tessaro made them [1][2]. Yes [3, 4].") == "Tessaro made them. Yes."
    assert nat.first_words("a b c d", 2) == "a b"


# ------------------------------------------------------------------------ evidence recall


def test_evidence_recall_full_and_partial():
    ev = [{"text": "Cells began to overheat while charging.", "title": "Tessaro Cells under scrutiny"}]
    assert nat.evidence_recall(KF, ev) == 1.0  # the title counts
    missing = [{"text": "Cells began to overheat while charging.", "title": "Kestrel recall"}]
    assert nat.evidence_recall(KF, missing) == 0.5  # the supplier is in no passage
    assert nat.evidence_recall(KF, []) == 0.0
    assert math.isnan(nat.evidence_recall([], missing))


# ------------------------------------------------------------------------ answer facts


def test_answer_fact_recall_within_120_words():
    assert nat.answer_fact_recall(KF, "Tessaro [2] cells overheat.") == 1.0
    assert nat.all_facts(KF, "Tessaro [2] cells overheat.")
    late = "Batteries overheat. " + "filler " * 130 + "Tessaro Cells made them."
    assert nat.answer_fact_recall(KF, late) == 0.5  # the supplier comes after word 120
    assert not nat.all_facts(KF, late)
    assert nat.answer_fact_recall(KF, late, n_words=200) == 1.0
    assert not nat.all_facts([], "anything")


def test_markers_do_not_push_facts_past_the_limit():
    answer = " ".join(["word [1]"] * 119) + " Tessaro overheat"
    assert nat.answer_fact_recall(KF, answer) == 0.5  # words 120 and 121: only "Tessaro" is inside
    assert nat.answer_fact_recall(KF, " ".join(["w [1][2]"] * 118) + " Tessaro overheat") == 1.0


# ------------------------------------------------------------------------ yes/no, refusals, citations


def test_yesno_correct_uses_first_word():
    assert nat.yesno_correct("Yes", "Yes. The board approved it [1].")
    assert nat.yesno_correct("No", "[2] no, it did not.")
    assert not nat.yesno_correct("Yes", "No, it was rejected.")
    assert not nat.yesno_correct("No", "Nothing suggests so.")  # "nothing" is not "no"


def test_refusal_detection():
    assert nat.is_refused({"refused": True, "answer": "x"})
    assert nat.is_refused({"refused": False, "answer": "Insufficient information. No article says."})
    assert not nat.is_refused({"refused": False, "answer": "Tessaro Cells."})


def test_cited_supported_share():
    sents = [
        {"text": "a", "cites": [1], "supported": True},
        {"text": "b", "cites": [2], "supported": False},  # unsupported
        {"text": "c", "cites": [], "supported": True},  # no citation
        {"text": "d", "cites": [1, 2], "supported": True},
    ]
    assert nat.cited_supported(sents) == [True, False, False, True]
    assert nat.cited_supported_share(sents) == 0.5
    assert math.isnan(nat.cited_supported_share([]))


# ------------------------------------------------------------------------ per record


def test_score_natural_good_answer():
    s = nat.score_natural(rec())
    assert s["evidence_recall"] == 1.0 and s["fact_recall"] == 1.0 and s["all_facts"] is True
    assert s["yesno_correct"] is None and not s["refused"] and s["sent_flags"] == [True]


def test_score_natural_false_refusal_states_no_fact():
    s = nat.score_natural(rec(refused=True, answer="Insufficient information. Nothing found."))
    assert s["refused"] and s["answerable"]
    assert s["fact_recall"] == 0.0 and s["all_facts"] is False
    assert s["evidence_recall"] == 1.0  # the evidence still held both facts
    assert s["sent_flags"] == []


def test_score_natural_unanswerable_and_yesno():
    s = nat.score_natural(rec(answerable=False, key_facts=[], answer="Insufficient information.", refused=True))
    assert s["refused"] and math.isnan(s["fact_recall"]) and s["all_facts"] is None
    yn = nat.score_natural(rec(form="yesno", yesno="No", key_facts=[["dismiss"]], answer="Yes, it won [1]."))
    assert yn["yesno_correct"] is False
    yn2 = nat.score_natural(rec(form="yesno", yesno="No", key_facts=[["dismiss"]], answer="No: dismissed [1]."))
    assert yn2["yesno_correct"] is True and yn2["all_facts"] is True


# ------------------------------------------------------------------------ aggregation


def _records():
    return [
        rec(id="a", form="fact", split="tune"),
        rec(id="b", form="fact", split="test", answer="Kestrel made them.", sentences=[{"text": "x", "cites": [1], "supported": False}]),
        rec(id="c", form="yesno", yesno="Yes", split="test", answer="Yes: Tessaro overheat [1]."),
        rec(id="d", form="yesno", yesno="No", split="tune", answer="Yes [1].", evidence=[]),
        rec(id="e", form="summary", answerable=False, key_facts=[], split="test", refused=True, answer="Insufficient information.",
            timings={"total_s": 0.2, "retrieve_s": 0.1}),
        rec(id="f", form="summary", split="test", refused=True, answer="Insufficient information.", timings={"total_s": 4.0}),
    ]  # fmt: skip


def test_summarize_natural_overall_and_per_form():
    out = nat.summarize_natural(_records())
    o = out["overall"]
    assert o["n"] == 6 and o["answerable_n"] == 5 and o["unanswerable_n"] == 1
    assert out["per_form"]["fact"]["fact_recall"] == pytest.approx(0.5)  # a: 1.0, b: 0.0
    assert out["per_form"]["fact"]["all_facts"] == 0.5
    assert out["per_form"]["yesno"]["yesno_accuracy"] == 0.5  # c right, d wrong
    assert out["per_form"]["yesno"]["evidence_recall"] == pytest.approx(0.5)  # d was shown nothing
    assert out["per_form"]["summary"]["unanswerable_refused"] == 1.0
    assert out["per_form"]["summary"]["answerable_refused"] == 1.0  # f: a false refusal
    assert o["answerable_refused"] == pytest.approx(1 / 5)
    assert o["cited_supported"] == pytest.approx(3 / 4)  # a, c, d supported; b not; e, f refused
    assert list(out["per_form"]) == ["fact", "yesno", "summary"]  # FORMS order
    assert o["latency"]["total_s"]["n"] == 6
    assert o["latency"]["first_token_s"]["n"] == 4
    assert o["latency"]["total_s"]["p50"] == pytest.approx(2.0)
    assert set(out["by_split"]) == {"tune", "test"}


def test_summarize_natural_by_split():
    tune = nat.summarize_natural(_records(), split="tune")
    assert tune["split"] == "tune" and tune["overall"]["n"] == 2
    assert set(tune["per_form"]) == {"fact", "yesno"}
    assert nat.summarize_natural(_records(), split="all")["overall"]["n"] == 6
    test = nat.summarize_natural(_records(), split="test")
    assert test["overall"]["n"] == 4 and test["overall"]["unanswerable_refused"] == 1.0


def test_report_gets_a_natural_section():
    summary = summarize(_records(), {"name": "t"})
    assert summary["natural"]["overall"]["n"] == 6
    from eval.report import _blocks

    md = render_markdown(_blocks(summary, _records(), {}))
    assert "## Natural questions" in md and "| summary |" in md and "split: tune" in md


def test_report_without_natural_items_has_no_section():
    plain = [{k: v for k, v in rec().items() if k not in ("form", "answerable", "yesno", "key_facts", "split", "as_of")}]
    assert "natural" not in summarize(plain, {})


def test_assign_splits_is_balanced_per_form():
    items = [{"id": f"x-{i:03d}", "form": "fact" if i < 10 else "list"} for i in range(15)]
    sp = nat.assign_splits(items)
    assert Counter(sp[f"x-{i:03d}"] for i in range(10)) == {"tune": 4, "test": 6}
    assert [sp[f"x-{i:03d}"] for i in range(10, 15)] == ["test", "tune", "test", "tune", "test"]


# ------------------------------------------------------------------------ set loading


def _line(**kw):
    d = {
        "id": "n1", "question": "Who made the cells?", "form": "fact", "answerable": True, "answer": "Tessaro Cells.",
        "yesno": None, "key_facts": [["Tessaro"]], "titles": ["Arro 2 recall"], "split": "tune", "as_of": "",
    }  # fmt: skip
    d.update(kw)
    return json.dumps(d)


def test_load_set_keeps_natural_fields(tmp_path):
    p = tmp_path / "n.jsonl"
    p.write_text(
        _line()
        + "\n"
        + _line(id="n2", form="yesno", yesno="No", split="test", as_of="2023-12-28", key_facts=[["not", "no"]])
        + "\n"
    )
    a, b = load_set(p)
    assert a.natural and a.form == "fact" and a.type == "fact" and a.answerable is True
    assert a.key_facts == (("Tessaro",),) and a.split == "tune" and a.titles == ["Arro 2 recall"] and a.facts == []
    assert b.yesno == "No" and b.as_of == "2023-12-28"
    assert b.natural_fields()["key_facts"] == [["not", "no"]]
    assert [it.id for it in select_split([a, b], "test")] == ["n2"]
    assert len(select_split([a, b], None)) == 2 and len(select_split([a, b], "all")) == 2


def test_load_set_old_formats_unchanged():
    items = load_set(SETS / "sample.jsonl")
    assert items and not any(it.natural for it in items)
    assert items[0].natural_fields() == {} and items[0].form == "" and items[0].answerable is None


@pytest.mark.parametrize(
    "bad",
    [
        {"yesno": "yes"},
        {"answerable": "true"},
        {"key_facts": ["Tessaro"]},
        {"key_facts": [[]]},
        {"split": "dev"},
        {"as_of": "28/12/2023"},
        {"form": ""},
    ],
)
def test_load_set_rejects_malformed_natural_fields(tmp_path, bad):
    p = tmp_path / "n.jsonl"
    p.write_text(_line(**bad) + "\n")
    with pytest.raises(CorpusError) as e:
        load_set(p)
    assert "n.jsonl:1" in str(e.value)


# ------------------------------------------------------------------------ checker


TINY = [
    {"title": "Kestrel recalls 18,000 Arro 2 e-bikes", "body": "Batteries from Tessaro Cells can overheat.\nShares fell 9%."},
    {"title": "Northfield Rovers dropped to fourth place after …", "body": "Rovers lost 1-0."},
    {"title": "Northfield Rovers dropped to fourth place after three defeats", "body": "Rovers lost 1-0."},
]


def _item(**kw):
    d = json.loads(_line(titles=["Kestrel recalls 18,000 Arro 2 e-bikes"], key_facts=[["Tessaro"], ["18000", "18,000"]]))
    d.update(kw)
    return d


def test_checker_passes_a_good_item():
    assert nat.check_set([_item()], TINY) == []
    assert nat.check_set([_item(titles=["KESTREL recalls 18,000  Arro 2 e-bikes"])], TINY) == []  # normalised
    assert nat.check_set([_item(titles=["Northfield Rovers dropped to fourth place after …"], key_facts=[["1-0"]])], TINY) == []


def test_checker_reports_missing_fact_and_title():
    probs = nat.check_set([_item(key_facts=[["Tessaro"], ["Norvik"]])], TINY)
    assert len(probs) == 1 and "Norvik" in probs[0] and "not found" in probs[0]
    probs = nat.check_set([_item(titles=["Kestrel recalls 19,000 Arro 2 e-bikes"])], TINY)
    assert any("title not in corpus" in p for p in probs)
    # a fact present in the corpus, but not in the listed article, fails
    probs = nat.check_set([_item(key_facts=[["1-0"]])], TINY)
    assert any("1-0" in p for p in probs)


def test_checker_reports_malformed_items():
    items = [
        _item(id="a", form="opinion"),
        _item(id="a", split="dev"),
        _item(id="b", answerable=False, key_facts=[["x"]], answer="Insufficient information."),
        _item(id="c", answerable=False, key_facts=[], answer="No idea."),
        _item(id="d", key_facts=[]),
        _item(id="e", titles=[]),
    ]
    probs = "\n".join(nat.check_set(items, TINY))
    for needle in ("unknown form", "duplicate id", "split must be", "unanswerable item with key facts",
                   "must start with 'Insufficient information.'", "needs 1-4 key facts", "without titles"):  # fmt: skip
        assert needle in probs


def test_checker_main_on_files(tmp_path, capsys):
    items = [_item(id="t-1"), _item(id="t-2", split="tune")]
    sp = nat.assign_splits(items)
    s = tmp_path / "s.jsonl"
    s.write_text("".join(json.dumps({**it, "split": sp[it["id"]]}) + "\n" for it in items))
    c = tmp_path / "c.json"
    c.write_text(json.dumps(TINY))
    assert nat.main([str(s), str(c)]) == 0
    s.write_text("".join(json.dumps({**it, "split": "tune"}) + "\n" for it in items))
    assert nat.main([str(s), str(c)]) == 1
    assert "split rule" in capsys.readouterr().out


# ------------------------------------------------------------------------ the shipped sets


def _shipped(name):
    return nat.read_jsonl(SETS / name)


@pytest.mark.parametrize("name", ["natural-sample.jsonl", "natural-twopart-sample.jsonl"])
def test_shipped_sample_set_passes_the_checker(name: str):
    items = _shipped(name)
    problems = nat.check_set(items, nat.load_sample_corpus(SAMPLE_CORPUS))
    assert problems == []


@pytest.mark.skipif(not MULTIHOP_CORPUS.is_file(), reason="MultiHop-RAG corpus not present at ../shared/data")
@pytest.mark.parametrize(
    "name",
    [
        "natural-multihop.jsonl", "natural-multihop-dev2.jsonl", "natural-yesno.jsonl", "natural-yesno2.jsonl", "natural-twopart.jsonl",
        "natural-fresh3.jsonl",
    ],
)
def test_shipped_multihop_set_passes_the_checker(name: str):
    items = _shipped(name)
    problems = nat.check_set(items, nat.load_multihop_corpus(MULTIHOP_CORPUS))
    assert problems == []


def test_shipped_sets_meet_the_brief():
    sample, multi = _shipped("natural-sample.jsonl"), _shipped("natural-multihop.jsonl")
    both = sample + multi
    assert len(both) >= 150 and len(sample) >= 55 and len(multi) >= 95
    forms = Counter(it["form"] for it in both)
    assert set(forms) == set(nat.FORMS)
    for f in ("explanation", "event"):
        assert forms[f] >= 15
    assert forms["summary"] + forms["timeline"] >= 15
    for f in ("fact", "yesno", "comparison"):
        assert forms[f] >= 10
    unans = [it for it in both if not it["answerable"]]
    assert len(unans) >= 20 and any(not it["answerable"] for it in sample) and any(not it["answerable"] for it in multi)
    yn = Counter(it["yesno"] for it in both if it["yesno"])
    assert yn["Yes"] >= 3 and yn["No"] >= 3
    assert any(it["form"] == "yesno" and not it["answerable"] for it in both)
    for items in (sample, multi):
        rule = nat.assign_splits(items)
        assert all(it["split"] == rule[it["id"]] for it in items)
        ids = [it["id"] for it in items]
        assert len(ids) == len(set(ids))
    assert all(it["as_of"] for it in both if it["form"] == "latest")
    tune = sum(it["split"] == "tune" for it in both) / len(both)
    assert 0.35 <= tune <= 0.45
    # both shipped sets load as eval sets
    assert all(it.natural for it in load_set(SETS / "natural-sample.jsonl") + load_set(SETS / "natural-multihop.jsonl"))


# ------------------------------------------------------------------------ run_eval with a fake pipeline


class _FakePipeline:
    """Answers every question with the same checked sentence; records the as_of it was given."""

    def __init__(self, takes_as_of: bool):
        from types import SimpleNamespace

        self.index = SimpleNamespace(manifest={"counts": {"chunks": 1}})
        self.seen: list[tuple[str, object]] = []
        if takes_as_of:
            self.answer = self._answer_as_of

    def _make(self, question):
        from rag.types import Answer, AnswerSentence

        s = AnswerSentence("Tessaro Cells made the cells [1].", (1,), True)
        return Answer(query=question, answer=s.text, refused=False, sentences=(s,), timings={"total_s": 0.5})

    def answer(self, question, filters=None, k=None, history=()):
        self.seen.append((question, None))
        return self._make(question)

    def _answer_as_of(self, question, filters=None, k=None, history=(), as_of=None):
        self.seen.append((question, as_of))
        return self._make(question)


def _tiny_set(tmp_path):
    lines = [
        _line(id=f"n{i}", split=sp, form=form, as_of=as_of)
        for i, (sp, form, as_of) in enumerate(
            [("tune", "fact", ""), ("test", "fact", ""), ("test", "latest", "2023-12-28"), ("tune", "latest", "2023-12-28")]
        )
    ]
    p = tmp_path / "natural.jsonl"
    p.write_text("\n".join(lines) + "\n")
    return p


@pytest.mark.parametrize("takes_as_of", [False, True])
def test_run_eval_split_and_as_of(tmp_path, takes_as_of):
    from types import SimpleNamespace

    from eval.runner import run_eval

    fake = _FakePipeline(takes_as_of)
    settings = SimpleNamespace(index_dir=str(tmp_path / "ix"), model="fake")
    md = run_eval(_tiny_set(tmp_path), settings, tmp_path / "out", pipeline=fake, progress=False, split="test")
    recs = [json.loads(x) for x in (tmp_path / "out" / "records.jsonl").read_text().splitlines()]
    assert [r["id"] for r in recs] == ["n1", "n2"]  # only the test split
    assert recs[0]["form"] == "fact" and recs[0]["key_facts"] == [["Tessaro"]] and recs[0]["split"] == "test"
    assert "as_of_applied" not in recs[0] and recs[1]["as_of_applied"] is takes_as_of
    assert fake.seen[1] == ("Who made the cells?", "2023-12-28" if takes_as_of else None)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["run"]["split"] == "test"
    assert summary["natural"]["overall"]["fact_recall"] == 1.0 and summary["natural"]["overall"]["cited_supported"] == 1.0
    text = md.read_text()
    assert "## Natural questions" in text and "split test" in text
    cfg = json.loads((tmp_path / "out" / "config.json").read_text())
    assert cfg["split"] == "test"


def test_run_eval_split_needs_a_natural_set(tmp_path):
    from types import SimpleNamespace

    from eval.runner import EvalConfigError, run_eval

    settings = SimpleNamespace(index_dir=str(tmp_path / "ix"), model="fake")
    with pytest.raises(EvalConfigError):
        run_eval(SETS / "sample.jsonl", settings, tmp_path / "o1", pipeline=_FakePipeline(False), progress=False, split="tune")
    with pytest.raises(EvalConfigError):
        run_eval(_tiny_set(tmp_path), settings, tmp_path / "o2", pipeline=_FakePipeline(False), progress=False, split="dev")


def test_make_config_fingerprint_unchanged_without_split(tmp_path):
    from types import SimpleNamespace

    from eval.runner import make_config

    p = _tiny_set(tmp_path)
    st = SimpleNamespace()
    a = make_config(p, None, None, False, st, {}, "m")
    assert "split" not in a
    assert make_config(p, None, None, False, st, {}, "m", None) == a == make_config(p, None, None, False, st, {}, "m", "all")
    assert make_config(p, None, None, False, st, {}, "m", "tune")["fingerprint"] != a["fingerprint"]

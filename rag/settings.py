"""Typed settings for every entry point.

Precedence, lowest to highest: the defaults below < ``rag.toml`` (in the working
directory, or the file named by ``--config`` / ``RAG_CONFIG``) < ``RAG_*`` environment
variables < CLI flags. Settings are read once, at the entry point
(``Settings.load(...)``), and passed down; no module reads them at import time.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from rag.errors import SettingsError

DEFAULT_CONFIG_FILE = "rag.toml"


class Settings(BaseSettings):
    """All knobs of the tool. Every field is documented because ``rag config`` prints them."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="forbid", validate_default=True)

    # --- index -----------------------------------------------------------------------
    index_dir: Path = Field(Path("index"), description="Directory holding the built index.")
    corpus: list[Path] = Field(
        default_factory=list,
        description="Corpus files or folders (txt, md, html, json, jsonl) to build from.",
    )
    embedder: str = Field(
        "all-MiniLM-L6-v2",
        description="Embedding model: 'all-MiniLM-L6-v2' (bundled) or a local sentence-transformers model directory.",
    )
    embed_backend: str = Field(
        "onnx-int8",
        description="How the embedder runs: 'onnx-int8' (ONNX Runtime, int8 dynamic quantization: 1.5-3.0x the torch "
        "throughput on the 2-vCPU machines measured, the most on CPUs with AVX-512 VNNI, with the same retrieval on the MultiHop-RAG dev set, Hits@10 0.954 vs "
        "0.953), 'onnx' (ONNX Runtime fp32, 0.97-1.15x) or 'torch' (sentence-transformers on PyTorch fp32). The ONNX files "
        "are exported once from the bundled weights (scripts/setup.sh, or on first use). An index records its "
        "backend; queries from any of the three may search it (measured compatible, bench/embed_bench.py).",
    )
    embed_batch_size: int = Field(32, ge=1, description="Chunks per embedding batch.")
    chunk_tokens: int = Field(
        0,
        ge=0,
        description="Most embedder tokens per chunk; 0 means the embedder's own limit (256 for all-MiniLM-L6-v2).",
    )
    chunk_overlap: int = Field(1, ge=0, le=5, description="Whole sentences repeated between chunks.")
    index_type: str = Field(
        "auto",
        description="FAISS index: 'flat' (exact), 'hnsw' (approximate) or 'auto' "
        "(flat below hnsw_threshold vectors, HNSW above).",
    )
    hnsw_threshold: int = Field(200_000, ge=1, description="Vector count at which 'auto' switches to HNSW.")
    skip_bad: bool = Field(False, description="Skip unreadable corpus files instead of stopping.")

    # --- retrieval ---------------------------------------------------------------------
    top_k: int = Field(10, ge=1, le=200, description="Passages returned by search.")
    candidates: int = Field(100, ge=10, description="Candidates taken from each retriever before fusion.")
    max_per_article: int = Field(4, ge=1, description="Most chunks from one article in the top k.")
    dense_weight: float = Field(0.4, ge=0.0, le=1.0, description="Weight of dense scores in the fusion (BM25 gets the rest).")
    source_boost: float = Field(0.3, ge=0.0, description="Score bonus for an outlet named in the question.")
    date_boost: float = Field(0.3, ge=0.0, description="Score bonus for an article dated as the question says.")
    rerank_weight: float = Field(0.6, ge=0.0, description="Second stage: weight of the best sentence's term overlap when re-ordering the top k (0 = off).")
    relative_boost: float = Field(0.6, ge=0.0, description="Score bonus for an article inside a relative window the question names ('this week', 'last month').")
    recency_boost: float = Field(0.4, ge=0.0, description="Score bonus for newer articles when the question asks for the latest or recent news (fades over 30 days).")
    as_of: str = Field(
        "",
        description="Date relative dates ('this week', 'recently') are read against (YYYY-MM-DD); default: today when "
        "the collection's newest article is from yesterday or today, else the newest article's date.",
    )

    # --- answering ---------------------------------------------------------------------
    model: str = Field(
        "qwen2.5-coder-1.5b",
        description="LLM that writes answers: a preset name (qwen2.5-coder-1.5b, qwen2.5-coder-0.5b, smollm2-135m) or a "
        "path to a GGUF file.",
    )
    yesno_model: str = Field(
        "qwen2.5-coder-0.5b",
        description="LLM that decides Yes/No questions (Yes, No or Insufficient over the passages; it writes nothing); "
        "'' = the answer model. Measured on our natural questions, the 1.5B writes more of the key facts and the "
        "0.5B decides Yes/No better (README).",
    )
    model_sha256: str = Field("", description="Expected sha256 of a GGUF given by path ('' = do not check a user file).")
    model_cache_dir: Path = Field(
        Path(os.path.expanduser("~/.cache/rag-news/models")),
        description="Where bundled model parts are assembled.",
    )
    n_threads: int = Field(0, ge=0, description="llama.cpp threads; 0 = number of CPU cores.")
    n_ctx: int = Field(2048, ge=512, description="llama.cpp context window in tokens.")
    model_mmap: bool = Field(
        False,
        description="Map the GGUF file instead of reading it. Off: llama.cpp repacks the weights for this CPU into "
        "memory of its own, so a mapped file is held twice (measured: peak RSS 2.2 GB read vs 2.8 GB mapped with both "
        "default models; loading takes about 1.7 s longer per model).",
    )
    evidence_tokens: int = Field(
        200, ge=50,
        description="Evidence budget scale in the model's tokens: 200 gives each question form its measured budget "
        "(260 for a fact or Yes/No, 320 for a why or what-happened question, 420 for a summary or timeline); "
        "other values scale them.",
    )  # fmt: skip
    refusal_min_prob: float = Field(
        0.5, ge=0.0, le=1.0,
        description="Questions other than Yes/No: the model refuses ('Insufficient information.') when that is its "
        "first token with at least this probability; below it the model must answer, and the citation check refuses "
        "an answer the passages do not support. 0 leaves it to greedy decoding.",
    )  # fmt: skip
    max_answer_tokens: int = Field(96, ge=8, description="Most tokens the model may write for its direct answer (each form has a lower cap of its own).")
    seed: int = Field(0, description="Sampling seed (decoding is greedy; kept for determinism).")
    request_timeout: float = Field(120.0, gt=0, description="Seconds a request waits for the busy model.")

    # --- server ------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address the chat page binds to.")
    port: int = Field(7860, ge=0, le=65535, description="Port of the chat page.")
    auth: str = Field("", description="'user:password' to require a login on the chat page.")
    max_concurrency: int = Field(
        16, ge=1,
        description="Questions the chat page accepts at once (one with the model, the rest queued with their "
        "position shown); more get 'busy' at once. A queued question waits at most request_timeout.",
    )  # fmt: skip
    ui_models: list[str] = Field(
        default_factory=list,
        description="Models the chat page offers (preset names or GGUF paths); empty = only 'model'.",
    )
    max_loaded_models: int = Field(1, ge=1, description="Most LLMs the chat page keeps loaded at once.")
    allow_index_editing: bool = Field(
        False,
        description="Let the chat page update/rebuild the index (off: read-only). Needs corpus_roots; "
        "'rag serve --allow-index-editing'.",
    )
    corpus_roots: list[Path] = Field(
        default_factory=list,
        description="Folders the chat page may index from when allow_index_editing is on; any path outside "
        "them (after resolving symlinks and '..') is refused.",
    )

    @field_validator("index_type")
    @classmethod
    def _index_type(cls, v: str) -> str:
        if v not in {"auto", "flat", "hnsw"}:
            raise ValueError("must be 'auto', 'flat' or 'hnsw'")
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_config_path())
        return (init_settings, env_settings, toml)

    @classmethod
    def load(cls, config: str | Path | None = None, **overrides: Any) -> Settings:
        """Read settings once: defaults < toml < env < ``overrides`` (None values ignored)."""
        if config is not None:
            if not Path(config).is_file():
                raise SettingsError(f"{config}: config file not found (pass an existing rag.toml)")
        clean = {k: v for k, v in overrides.items() if v is not None and v != () and v != []}
        # The explicit file is scoped to this call: no process-wide state (os.environ) changes.
        token = _EXPLICIT_CONFIG.set(Path(config) if config is not None else None)
        try:
            return cls(**clean)
        except ValidationError as e:
            lines = []
            for err in e.errors():
                loc = ".".join(str(p) for p in err["loc"])
                lines.append(f"setting '{loc}': {err['msg']}")
            raise SettingsError(
                "invalid settings: " + "; ".join(lines) + " (fix rag.toml, the RAG_* variable or the flag)"
            ) from None
        finally:
            _EXPLICIT_CONFIG.reset(token)


_EXPLICIT_CONFIG: ContextVar[Path | None] = ContextVar("rag_explicit_config", default=None)


def _config_path() -> Path:
    explicit = _EXPLICIT_CONFIG.get()
    if explicit is not None:
        return explicit
    return Path(os.environ.get("RAG_CONFIG", DEFAULT_CONFIG_FILE))


def describe() -> list[tuple[str, str, str]]:
    """(name, default, description) for every setting, for ``rag config`` and the README."""
    out = []
    for name, f in Settings.model_fields.items():
        default = f.default_factory() if f.default_factory is not None else f.default  # type: ignore[call-arg]
        out.append((name, repr(default), f.description or ""))
    return out

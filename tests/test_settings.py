"""Settings precedence: defaults < rag.toml < RAG_* environment < CLI flags."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.errors import SettingsError
from rag.settings import Settings, describe


def test_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("RAG_TOP_K", "RAG_MODEL", "RAG_CONFIG", "RAG_INDEX_DIR"):
        monkeypatch.delenv(var, raising=False)
    assert Settings.load().top_k == 10  # default
    (tmp_path / "rag.toml").write_text('top_k = 7\nmodel = "smollm2-135m"\nindex_dir = "idx"\n')
    s = Settings.load()
    assert (s.top_k, s.model, s.index_dir) == (7, "smollm2-135m", Path("idx"))  # toml over defaults
    monkeypatch.setenv("RAG_TOP_K", "5")
    assert Settings.load().top_k == 5  # env over toml
    assert Settings.load(top_k=3).top_k == 3  # flags over env
    assert Settings.load(top_k=None).top_k == 5  # an unset flag changes nothing
    assert Settings.load().model == "smollm2-135m"


def test_explicit_config_file_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAG_CONFIG", raising=False)
    cfg = tmp_path / "other.toml"
    cfg.write_text("evidence_tokens = 300\n")
    assert Settings.load(cfg).evidence_tokens == 300
    with pytest.raises(SettingsError, match="not found"):
        Settings.load(tmp_path / "missing.toml")
    cfg.write_text("top_k = 0\n")
    with pytest.raises(SettingsError, match="top_k"):
        Settings.load(cfg)
    cfg.write_text("no_such_setting = 1\n")
    with pytest.raises(SettingsError, match="no_such_setting"):
        Settings.load(cfg)
    # An explicit file applies to that call only: nothing leaks into later loads.
    assert "RAG_CONFIG" not in os.environ
    assert Settings.load().evidence_tokens != 300


def test_every_setting_is_documented() -> None:
    rows = describe()
    assert len(rows) >= 20
    assert all(desc for _, _, desc in rows), [name for name, _, desc in rows if not desc]

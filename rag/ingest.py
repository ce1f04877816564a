"""Ingestion: corpus files and folders in, ``Article`` objects out.

Formats (a folder is read recursively; hidden files and unknown extensions are skipped):

* ``.txt`` / ``.md``: an optional header, then the body. The header is either
  ``key: value`` lines (``title``, ``source``, ``date``, ``author``, ``url``,
  ``category``) ended by a blank line, or the compact form ``date YYYY-MM-DD`` followed
  directly by the body (the seed article's format). In ``.md`` a leading ``# Heading``
  is the title. Without a title the first words of the body stand in.
* ``.html`` / ``.htm``: article text, title, date, outlet and author extracted with
  trafilatura (a news-extraction library).
* ``.json``: a list of article objects (the MultiHop-RAG corpus: title, body,
  published_at, source, author, category, url), a single object, or ``{"articles": [...]}``.
* ``.jsonl``: one article object per line.

Every article gets a stable ``article_id`` (from ``id``, else ``url``, else
title+outlet, else the file path) and a ``content_hash``; exact duplicates are dropped.
A bad file raises ``CorpusError`` naming the file and the reason, or, with
``skip_bad``, is reported in ``IngestReport.skipped``. This module never touches an index.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rag.errors import CorpusError
from rag.types import Article

log = logging.getLogger(__name__)

TEXT_EXT = {".txt", ".md", ".markdown"}
HTML_EXT = {".html", ".htm"}
JSON_EXT = {".json"}
JSONL_EXT = {".jsonl", ".ndjson"}
SUPPORTED = TEXT_EXT | HTML_EXT | JSON_EXT | JSONL_EXT

MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_LINE_CHARS = 200_000  # a text line longer than this is not prose (minified data, binary)
MAX_JSONL_LINE_CHARS = 5_000_000
HEADER_KEYS = {"title", "source", "outlet", "date", "published", "published_at", "author", "url", "category"}

_INVISIBLE = re.compile("[\U000e0000-\U000e007f]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_COMPACT_DATE = re.compile(r"^\s*date[:\s]\s*(\d{4}-\d{2}-\d{2})\b[ \t]*\n?")
_HEADER_LINE = re.compile(r"^([A-Za-z_]+)\s*:\s*(.*)$")


@dataclass
class IngestReport:
    articles: list[Article] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    duplicates: list[dict[str, str]] = field(default_factory=list)
    files: int = 0


def clean_text(text: str) -> str:
    """Normalise text as stored: NFC, ``\\n`` line ends, no invisible/tag/control characters."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text)
    return text.strip()


def parse_date(value: Any, where: str, field_name: str) -> str:
    """Any reasonable date -> ``YYYY-MM-DD``; '' for empty. Unparseable -> ``CorpusError``."""
    if value is None or value == "":
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), tz=timezone.utc).date().isoformat()
    s = str(value).strip()
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    import dateparser  # slow to import; only needed for free-form dates

    parsed = dateparser.parse(s, settings={"PREFER_DAY_OF_MONTH": "first", "REQUIRE_PARTS": ["year"]})
    if parsed is None:
        raise CorpusError(where, f"field '{field_name}' is not a date: {s[:60]!r}", "use YYYY-MM-DD")
    return parsed.date().isoformat()


def _title_from_body(body: str) -> str:
    words = body.split()
    head = " ".join(words[:12])
    return head + (" …" if len(words) > 12 else "")


def _hash(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


def make_article(
    *,
    key: str,
    title: str,
    body: str,
    source: str = "",
    published_at: str = "",
    author: str = "",
    category: str = "",
    url: str = "",
    origin: str = "",
) -> Article:
    """Build an Article with its stable id (from ``key``) and content hash."""
    body = clean_text(body)
    title = " ".join(clean_text(title).split()) or _title_from_body(body)
    source, author, category, url = (" ".join(clean_text(x).split()) for x in (source, author, category, url))
    return Article(
        article_id=hashlib.sha1(key.encode("utf-8")).hexdigest()[:16],
        title=title,
        body=body,
        source=source,
        published_at=published_at,
        author=author,
        category=category,
        url=url,
        origin=origin,
        content_hash=_hash(title, body, source, published_at, author, category, url)[:32],
    )


# ----------------------------------------------------------------------------------
# file readers


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError as e:
        raise CorpusError(str(path), f"cannot read file: {e.strerror}") from None
    if size == 0:
        raise CorpusError(str(path), "file is empty", "remove it or add an article body")
    if size > MAX_FILE_BYTES:
        raise CorpusError(str(path), f"file is {size / 1e6:.0f} MB, over the {MAX_FILE_BYTES // 2**20} MiB limit", "split it")
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise CorpusError(str(path), "binary file, not text", "only txt, md, html, json and jsonl are read")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CorpusError(str(path), f"not UTF-8 text (byte {e.start})", "re-save the file as UTF-8") from None
    if not text.strip():
        raise CorpusError(str(path), "file has no text", "remove it or add an article body")
    return text


def _check_lines(path: Path, text: str, limit: int) -> None:
    for i, line in enumerate(text.split("\n"), 1):
        if len(line) > limit:
            raise CorpusError(
                str(path), f"line {i} is {len(line):,} characters long (limit {limit:,})", "is this really an article?"
            )


def read_text_article(path: Path, key: str) -> Article:
    text = _read_text(path)
    _check_lines(path, text, MAX_LINE_CHARS)
    meta: dict[str, str] = {}
    # a `key: value` header first: its first line may be `date: ...`, which the compact form also matches
    lines = text.lstrip("\ufeff").split("\n")
    i = 0
    while i < len(lines):
        hm = _HEADER_LINE.match(lines[i].strip())
        if not hm or hm.group(1).lower() not in HEADER_KEYS:
            break
        meta[hm.group(1).lower()] = hm.group(2).strip()
        i += 1
    if meta and (i == len(lines) or lines[i].strip() == ""):
        body = "\n".join(lines[i:])
    else:
        meta = {}
        m = _COMPACT_DATE.match(text)
        if m:
            meta["date"] = m.group(1)
            body = text[m.end() :]
        else:
            body = text
    if path.suffix.lower() in {".md", ".markdown"} and "title" not in meta:
        hm2 = re.match(r"\s*#\s+(.+)\n", body)
        if hm2:
            meta["title"] = hm2.group(1).strip()
            body = body[hm2.end() :]
    body = clean_text(body)
    if not body:
        raise CorpusError(str(path), "missing body: only a header was found", "put the article text after the header")
    when = meta.get("date") or meta.get("published_at") or meta.get("published") or ""
    return make_article(
        key=key,
        title=meta.get("title", ""),
        body=body,
        source=meta.get("source") or meta.get("outlet", ""),
        published_at=parse_date(when, str(path), "date"),
        author=meta.get("author", ""),
        category=meta.get("category", ""),
        url=meta.get("url", ""),
        origin=str(path),
    )


def read_html_article(path: Path, key: str) -> Article:
    text = _read_text(path)
    import trafilatura  # heavy import, only for HTML

    doc = trafilatura.bare_extraction(text, with_metadata=True, include_comments=False)
    if doc is not None and not isinstance(doc, dict):  # trafilatura >= 2 returns a Document (as_dict= is deprecated)
        doc = doc.as_dict()
    if not doc or not (doc.get("text") or "").strip():
        raise CorpusError(str(path), "no article text found in the HTML", "is this an article page?")
    return make_article(
        key=key,
        title=doc.get("title") or "",
        body=doc["text"],
        source=doc.get("sitename") or doc.get("hostname") or "",
        published_at=parse_date(doc.get("date"), str(path), "date"),
        author=doc.get("author") or "",
        category=", ".join(doc.get("categories") or []) if isinstance(doc.get("categories"), list) else "",
        url=doc.get("url") or "",
        origin=str(path),
    )


def _pick(obj: dict[str, Any], *names: str) -> Any:
    for n in names:
        v = obj.get(n)
        if v not in (None, ""):
            return v
    return None


def article_from_object(obj: Any, where: str, fallback_key: str) -> Article:
    """One JSON article object -> Article. ``where`` names the file and position for errors."""
    if not isinstance(obj, dict):
        raise CorpusError(where, f"expected an article object, got {type(obj).__name__}")
    body = _pick(obj, "body", "text", "content")
    if not isinstance(body, str) or not body.strip():
        raise CorpusError(where, "missing body", "each article needs a non-empty 'body' (or 'text') field")
    title = _pick(obj, "title", "headline") or ""
    source = _pick(obj, "source", "outlet", "publisher") or ""
    url = _pick(obj, "url", "link") or ""
    for name, v in (("title", title), ("source", source), ("url", url)):
        if not isinstance(v, str):
            raise CorpusError(where, f"field '{name}' must be a string, got {type(v).__name__}")
    explicit = _pick(obj, "id", "article_id")
    if explicit is not None:
        key = f"id:{explicit}"
    elif url:
        key = f"url:{url}"
    elif title:
        key = f"title:{source}|{title}"
    else:
        key = fallback_key
    author = _pick(obj, "author", "authors") or ""
    if isinstance(author, list):
        author = ", ".join(str(a) for a in author)
    return make_article(
        key=key,
        title=title,
        body=body,
        source=source,
        published_at=parse_date(_pick(obj, "published_at", "date", "published", "pubdate"), where, "published_at"),
        author=str(author),
        category=str(_pick(obj, "category", "section") or ""),
        url=url,
        origin=where,
    )


def read_json_articles(path: Path) -> list[Article]:
    text = _read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise CorpusError(str(path), f"malformed JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    elif isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise CorpusError(str(path), "expected a JSON list of article objects")
    if not data:
        raise CorpusError(str(path), "JSON list is empty", "add article objects or remove the file")
    return [article_from_object(o, f"{path}[{i}]", f"file:{path.name}#{i}") for i, o in enumerate(data)]


def read_jsonl_articles(path: Path) -> list[Article]:
    text = _read_text(path)
    _check_lines(path, text, MAX_JSONL_LINE_CHARS)
    out = []
    for i, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise CorpusError(f"{path}:{i}", f"malformed JSON line: {e.msg}") from None
        out.append(article_from_object(obj, f"{path}:{i}", f"file:{path.name}#{i}"))
    if not out:
        raise CorpusError(str(path), "no articles in the JSONL file")
    return out


def read_file(path: Path, key: str) -> list[Article]:
    """Read one corpus file of any supported type."""
    ext = path.suffix.lower()
    if ext in TEXT_EXT:
        return [read_text_article(path, key)]
    if ext in HTML_EXT:
        return [read_html_article(path, key)]
    if ext in JSON_EXT:
        return read_json_articles(path)
    if ext in JSONL_EXT:
        return read_jsonl_articles(path)
    raise CorpusError(str(path), f"unsupported file type '{ext or path.name}'", "use txt, md, html, json or jsonl")


def iter_files(root: Path) -> Iterator[tuple[Path, str]]:
    """(file, stable key) for a file or every supported file under a folder, sorted."""
    if not root.exists():
        raise CorpusError(str(root), "no such file or folder", "check the --corpus path")
    if root.is_file():
        yield root, f"file:{root.name}"
        return
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not p.is_file():
            continue
        if p.suffix.lower() not in SUPPORTED:
            log.debug("skipping %s: unsupported type", p)
            continue
        yield p, f"file:{rel.as_posix()}"


def load_corpus(paths: Iterable[str | Path], skip_bad: bool = False) -> IngestReport:
    """Read every article under ``paths``. Raises on the first bad file unless ``skip_bad``."""
    report = IngestReport()
    seen_hash: dict[str, Article] = {}
    seen_id: dict[str, Article] = {}
    for root in paths:
        root = Path(root)
        for path, key in iter_files(root):
            report.files += 1
            try:
                arts = read_file(path, key)
            except CorpusError as e:
                if not skip_bad:
                    raise
                log.warning("skipped %s", e)
                report.skipped.append({"path": e.path, "reason": e.reason})
                continue
            for a in arts:
                if a.content_hash in seen_hash:
                    report.duplicates.append({"path": a.origin, "duplicate_of": seen_hash[a.content_hash].origin})
                    continue
                if a.article_id in seen_id:
                    # same key, different content: keep both, the later one under a derived id
                    n = 2
                    new_id = a.article_id
                    while new_id in seen_id:
                        new_id = hashlib.sha1(f"{a.article_id}#{n}".encode()).hexdigest()[:16]
                        n += 1
                    log.warning(
                        "%s: same id as %s with different content; kept as %s", a.origin, seen_id[a.article_id].origin, new_id
                    )
                    a = replace(a, article_id=new_id)
                seen_hash[a.content_hash] = a
                seen_id[a.article_id] = a
                report.articles.append(a)
    if not report.articles:
        where = ", ".join(str(p) for p in paths)
        raise CorpusError(where, "no readable articles found", "point --corpus at txt, md, html, json or jsonl files")
    return report

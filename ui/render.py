"""Plain renderers for the chat page: answers, sources, articles, the conversation, its export.

Everything here is a pure function of its arguments (no Gradio, no model, no index), so
it is tested with golden files and hostile inputs in ``tests/test_render.py``.

Safety rules, applied to every string that comes from an article or from the model:

1. ``clean_text`` strips invisible characters first: Unicode tag characters
   (U+E0000..U+E007F, used to smuggle hidden instructions), variation selectors, every
   other format character (category Cf: zero-width spaces, bidi overrides, soft
   hyphens, BOMs...), invisible fillers and control characters other than newline/tab.
   What writing needs is kept: a zero-width joiner/non-joiner (U+200D/U+200C) between
   two non-ASCII characters (emoji ZWJ sequences, Persian, Indic scripts), the emoji
   and text presentation selectors (U+FE0F/U+FE0E) after a non-ASCII character or a
   keycap base (0-9, #, *), and the tag sequence of a subdivision flag (U+1F3F4 +
   lowercase tag letters/digits + U+E007F, e.g. the flag of Scotland).
2. The text is then HTML-escaped; article and model text is never interpreted as
   markdown or HTML. The only markup in the output is our own (buttons for citation
   markers, ``<mark>`` for highlighted quotes, a few structural tags).
3. The finished fragment goes through ``sanitize_html`` (nh3 with a strict allow-list:
   no script, style, iframe, form, img or event-handler attributes, only http(s)
   absolute links) as a second line of defence.

The markdown export escapes HTML and markdown syntax the same way, so an exported
conversation cannot carry scripts, remote images or ``javascript:`` links either.
"""

from __future__ import annotations

import functools
import html
import re
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rag.types import Answer, Citation, Evidence, Hit

MARKER = re.compile(r"\[(\d{1,3})\]")
SNIPPET_CHARS = 280

# ----------------------------------------------------------------------------------
# cleaning and sanitising


@functools.cache
def _invisible_table() -> dict[int, None]:
    """Code points removed by ``clean_text`` (computed once, on first use)."""
    drop: dict[int, None] = {}
    for cp in range(sys.maxunicode + 1):
        cat = unicodedata.category(chr(cp))
        if cat == "Cf" or (cat == "Cc" and cp not in (0x09, 0x0A)):
            drop[cp] = None
    for lo, hi in (
        (0xE0000, 0xE007F),  # tag characters (also Cf, listed for clarity)
        (0xFE00, 0xFE0F),  # variation selectors
        (0xE0100, 0xE01EF),  # variation selectors supplement
    ):
        for cp in range(lo, hi + 1):
            drop[cp] = None
    for cp in (0x115F, 0x1160, 0x3164, 0xFFA0, 0x034F, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F):
        drop[cp] = None  # Hangul fillers, combining grapheme joiner, Khmer/Mongolian invisibles
    return drop


# What writing needs among the characters _invisible_table drops (see the module docstring).
# A "visible" neighbour: non-ASCII and not itself one of the invisibles.
_VIS = "[^\\x00-\\x7f\\u00ad\\u034f\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u206f\\ufe00-\\ufe0e\\ufeff\\U000e0000-\\U000e01ef]"
_KEEP = re.compile(
    "\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{2,7}\U000e007f"  # subdivision flag
    f"|(?<={_VIS})[\u200c\u200d](?={_VIS})"  # ZWNJ/ZWJ inside a word or emoji sequence
    f"|(?<={_VIS[:-1]}\U000e007f])\ufe0e|(?<={_VIS[:-1]}\U000e007f])\ufe0f"  # presentation selectors
    "|(?<=[0-9#*])\ufe0f(?=\u20e3)"  # keycap: 1 + VS16 + U+20E3
)


def clean_text(s: Any) -> str:
    """``s`` as text without invisible/format/control characters (newlines and tabs kept;
    joiners, presentation selectors and flag tags kept where writing needs them)."""
    if s is None:
        return ""
    text = str(s).replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    table = _invisible_table()
    if text.isascii():
        return text.translate(table)
    out: list[str] = []
    pos = 0
    for m in _KEEP.finditer(text):
        out.append(text[pos : m.start()].translate(table))
        out.append(m.group())
        pos = m.end()
    out.append(text[pos:].translate(table))
    return "".join(out)


def esc(s: Any) -> str:
    """Cleaned, HTML-escaped text (quotes escaped too, so it is safe inside attributes)."""
    return html.escape(clean_text(s), quote=True)


ALLOWED_TAGS = {
    "div", "span", "p", "strong", "em", "small", "br", "ol", "ul", "li", "h3", "h4", "mark", "button",
    "a", "details", "summary", "blockquote", "time", "section", "article", "header",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": {"class", "title", "aria-label", "dir"},
    "button": {"type", "data-kind", "data-turn", "data-n"},
    "a": {"href", "target"},
    "mark": {"data-n"},
    "time": {"datetime"},
    "div": {"data-turn", "role"},
    "section": {"data-turn"},
}


def sanitize_html(fragment: str) -> str:
    """nh3 with a strict allow-list: our structural tags only, http(s) absolute links only."""
    import nh3

    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style", "iframe", "object", "embed", "template", "noscript", "svg", "math"},
        attributes=ALLOWED_ATTRIBUTES,
        strip_comments=True,
        link_rel="noopener noreferrer nofollow",
        url_schemes={"http", "https"},
        url_relative="deny",
    )


def safe_url(url: Any) -> str:
    """The url if it is a plain absolute http(s) address, else ''."""
    u = clean_text(url).strip()
    if re.fullmatch(r"https?://[^\s<>\"'`\\]+", u, flags=re.I):
        return u
    return ""


def _snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    t = " ".join(clean_text(text).split())
    return t if len(t) <= limit else t[: limit - 1].rstrip() + "…"


def _meta_line(source: str, published_at: str) -> str:
    parts = []
    if clean_text(source).strip():
        parts.append(f'<span class="outlet">{esc(source)}</span>')
    if clean_text(published_at).strip():
        parts.append(f'<time datetime="{esc(published_at)}">{esc(published_at)}</time>')
    return " · ".join(parts)


# ----------------------------------------------------------------------------------
# conversation state shared with the app


@dataclass
class TurnView:
    """One question of the conversation as the page shows it (kept in the session state)."""

    question: str
    standalone: str = ""
    evidence: tuple[Evidence, ...] = ()
    hits: tuple[Hit, ...] = ()
    notes: tuple[str, ...] = ()
    partial: str = ""  # streamed raw model text, replaced by ``answer`` when checked
    draft: str = ""  # the pipeline's first cited sentences ('draft' event), shown until the answer is checked
    answer: Answer | None = None
    error: str = ""  # a RagError / busy message shown instead of an answer
    status: str = ""  # transient progress line ("searching", "writing the answer")
    filters: dict[str, Any] = field(default_factory=dict)

    @property
    def rewritten(self) -> bool:
        return bool(self.standalone) and " ".join(self.standalone.split()) != " ".join(self.question.split())


# ----------------------------------------------------------------------------------
# answer


def _cite_button(n: int, turn: int, title: str = "") -> str:
    tip = f' title="{esc(title)}"' if title else ""
    return (
        f'<button type="button" class="cite" data-kind="cite" data-turn="{int(turn)}" data-n="{int(n)}"{tip}'
        f' aria-label="open source {int(n)}">[{int(n)}]</button>'
    )


def _text_with_markers(text: str, turn: int, titles: Mapping[int, str], valid: set[int] | None = None) -> str:
    """Escape ``text`` and turn each marker [n] (n known) into a citation button."""
    out: list[str] = []
    pos = 0
    for m in MARKER.finditer(text):
        out.append(esc(text[pos : m.start()]))
        n = int(m.group(1))
        if valid is None or n in valid:
            out.append(_cite_button(n, turn, titles.get(n, "")))
        else:
            out.append(esc(m.group()))
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def _titles(answer: Answer) -> dict[int, str]:
    t = {e.n: e.title for e in answer.evidence}
    t.update({c.n: c.title for c in answer.citations})
    return t


def answer_html(answer: Answer, turn: int = 0) -> str:
    """The checked answer: short answer, explanation sentences with clickable markers.

    Unsupported sentences carry a visible 'unsupported' flag (and the check's reason as a
    tooltip); a refusal shows 'Insufficient information.' with its reason, and the
    model's rejected attempt, if any, folded underneath.
    """
    titles = _titles(answer)
    known = {e.n for e in answer.evidence} | {c.n for c in answer.citations}
    parts: list[str] = []
    if answer.refused:
        reason = answer.reason or "the passages do not answer the question"
        parts.append('<div class="answer refused" role="status">')
        parts.append('<p class="short-answer"><strong>Insufficient information.</strong></p>')
        # a Yes/No question the model could not settle quotes the passage that bears on it, cited: its
        # marker opens the passage like any answer's
        bearing = {n for s in answer.sentences if s.role == "bearing" and s.supported for n in s.cites}
        said = _text_with_markers(reason, turn, titles, bearing & known) if bearing else esc(reason)
        parts.append(f'<p class="refusal-reason"><span class="label">Reason:</span> {said}</p>')
        if bearing:
            pass  # the passage is quoted in the reason; the decider's log-probabilities are no model text
        elif answer.sentences:
            parts.append('<details class="rejected"><summary>The model\'s answer, not accepted</summary><ul>')
            for s in answer.sentences:
                parts.append(_sentence_li(s.text, s.supported, s.reason, turn, titles, known))
            parts.append("</ul></details>")
        elif answer.raw.strip():
            parts.append(
                '<details class="rejected"><summary>What the model wrote (not accepted)</summary>'
                f'<p class="raw">{esc(answer.raw.strip())}</p></details>'
            )
        parts.append(_answer_meta(answer))
        parts.append("</div>")
        return sanitize_html("".join(parts))

    parts.append('<div class="answer">')
    # The direct answer is shown once, at the top, with its own clickable markers; the
    # supporting sentences (and any disagreement between sources) follow under it.
    lead = [s for s in answer.sentences if s.role == "answer"]
    rest = [s for s in answer.sentences if s.role != "answer"] if lead else list(answer.sentences)
    if lead:
        body = " ".join(_text_with_markers(s.text, turn, titles, known) for s in lead)
        parts.append(f'<p class="short-answer" dir="auto"><strong>{body}</strong></p>')
    else:
        short = answer.short or (answer.answer.split("\n", 1)[0] if answer.answer else "")
        parts.append(f'<p class="short-answer" dir="auto"><strong>{esc(short)}</strong></p>')
    if rest:
        parts.append('<p class="explanation" dir="auto">')
        bits = []
        for s in rest:
            cls = "sentence supported" if s.supported else "sentence unsupported"
            if s.role == "conflict":
                cls += " conflict"  # the sources disagree: shown apart so it is not missed
            body = _text_with_markers(s.text, turn, titles, known)
            if s.supported:
                bits.append(f'<span class="{cls}">{body}</span>')
            else:
                why = s.reason or "not supported by the cited passages"
                bits.append(
                    f'<span class="{cls}" title="{esc(why)}"><span class="flag">⚠ unsupported</span> {body}'
                    f' <small class="why">({esc(why)})</small></span>'
                )
        parts.append(" ".join(bits))
        parts.append("</p>")
    elif not answer.sentences:
        tail = answer.answer.split("\n", 1)[1] if "\n" in answer.answer else ""
        if tail.strip():
            parts.append(f'<p class="explanation">{_text_with_markers(tail, turn, titles, known)}</p>')
    parts.append(_answer_meta(answer))
    parts.append("</div>")
    return sanitize_html("".join(parts))


def _answer_meta(answer: Answer) -> str:
    foot = []
    if answer.model:
        foot.append(f"model {esc(answer.model)}")
    if "total_s" in answer.timings:
        foot.append(f"{float(answer.timings['total_s']):.1f} s")
    return f'<p class="answer-meta"><small>{" · ".join(foot)}</small></p>' if foot else ""


def _sentence_li(text: str, supported: bool, reason: str, turn: int, titles: Mapping[int, str], known: set[int]) -> str:
    body = _text_with_markers(text, turn, titles, known)
    if supported:
        return f'<li class="sentence supported">{body}</li>'
    why = reason or "not supported by the cited passages"
    return (
        f'<li class="sentence unsupported" title="{esc(why)}"><span class="flag">⚠ unsupported</span> {body}'
        f' <small class="why">({esc(why)})</small></li>'
    )


def streaming_html(text: str, draft: str = "") -> str:
    """The model's raw text while it is still writing (escaped; markers not yet checked),
    with the pipeline's draft of the cited sentences under it when there is one."""
    extra = f'<p class="draft" dir="auto">{esc(draft)}</p>' if draft.strip() else ""
    return sanitize_html(
        f'<div class="answer streaming"><p class="partial" dir="auto">{esc(text)}<span class="cursor">▍</span></p>{extra}</div>'
    )


# ----------------------------------------------------------------------------------
# sources


def sources_html(evidence: Sequence[Evidence], hits: Sequence[Hit] = (), turn: int = 0) -> str:
    """The numbered passages the model reads ([n] = evidence n), or the raw hits when no
    evidence was selected. Each item is a button opening the article at that passage."""
    if evidence:
        items = []
        for e in evidence:
            items.append(
                f'<li><button type="button" class="source" data-kind="src" data-turn="{int(turn)}" data-n="{int(e.n)}">'
                f'<span class="num">[{int(e.n)}]</span> <span class="source-title">{esc(e.title)}</span> '
                f'<span class="source-meta">{_meta_line(e.source, e.published_at)}</span>'
                f'<span class="snippet">{esc(_snippet(e.text))}</span></button></li>'
            )
        body = f'<ol class="source-list">{"".join(items)}</ol>'
        head = f"Sources ({len(evidence)})"
    elif hits:
        items = []
        for i, h in enumerate(hits):
            items.append(
                f'<li><button type="button" class="source hit" data-kind="hit" data-turn="{int(turn)}" data-n="{i}">'
                f'<span class="num">#{i + 1}</span> <span class="source-title">{esc(h.title)}</span> '
                f'<span class="source-meta">{_meta_line(h.source, h.published_at)}</span>'
                f'<span class="snippet">{esc(_snippet(h.text))}</span></button></li>'
            )
        body = f'<ol class="source-list">{"".join(items)}</ol>'
        head = f"Retrieved passages ({len(hits)})"
    else:
        body = '<p class="no-sources">No passage matched.</p>'
        head = "Sources"
    return sanitize_html(f'<div class="sources" data-turn="{int(turn)}"><h4>{head}</h4>{body}</div>')


# ----------------------------------------------------------------------------------
# article side panel


@dataclass(frozen=True)
class Highlight:
    start: int
    end: int
    label: str = ""  # e.g. "[2]"
    quote: str = ""  # the text expected at [start:end] (used to re-find it if offsets drifted)


def _norm(s: str) -> str:
    return " ".join(clean_text(s).split())


def _locate(body: str, h: Highlight) -> tuple[int, int] | None:
    """The span of ``h`` in ``body``: its offsets when they hold the quote, else the quote found by search."""
    ok_offsets = 0 <= h.start < h.end <= len(body)
    if ok_offsets and (not h.quote or _norm(body[h.start : h.end]) == _norm(h.quote)):
        return h.start, h.end
    if h.quote:
        i = body.find(h.quote)
        if i >= 0:
            return i, i + len(h.quote)
    return None


def article_html(meta: Mapping[str, Any], body: str, highlights: Sequence[Highlight] = (), heading: str = "") -> str:
    """The full article as escaped text, cited passages wrapped in ``<mark>``.

    ``meta`` holds title, source, published_at and url (``Index.article_meta``); offsets
    in ``highlights`` index the raw ``body`` (``Index.article_body``), so the body is cut
    first and each piece cleaned separately. A passage that cannot be found (the index
    changed since the answer) is shown above the article instead.
    """
    spans: list[tuple[int, int, str]] = []
    missing: list[Highlight] = []
    for h in highlights:
        loc = _locate(body, h)
        if loc is None:
            missing.append(h)
        else:
            spans.append((loc[0], loc[1], h.label))
    spans.sort()
    merged: list[tuple[int, int, str]] = []
    for s, e, label in spans:
        if merged and s < merged[-1][1]:
            ps, pe, pl = merged[-1]
            merged[-1] = (ps, max(pe, e), " ".join(x for x in (pl, label) if x))
        else:
            merged.append((s, e, label))

    out = ['<article class="article-panel">']
    if heading:
        out.append(f'<p class="panel-heading">{esc(heading)}</p>')
    out.append(f'<h3 class="article-title">{esc(meta.get("title") or "(untitled)")}</h3>')
    line = [_meta_line(str(meta.get("source") or ""), str(meta.get("published_at") or ""))]
    if clean_text(meta.get("author") or "").strip():
        line.append(f'<span class="author">{esc(meta.get("author"))}</span>')
    url = safe_url(meta.get("url") or "")
    if url:  # anything but a plain http(s) address is left out
        line.append(f'<a class="article-url" href="{esc(url)}" target="_blank">{esc(url)}</a>')
    out.append(f'<p class="article-meta">{" · ".join(x for x in line if x)}</p>')
    for h in missing:
        out.append(
            '<div class="missing-quote"><p><small>This passage is no longer at the cited place in the article '
            f"(the index may have been updated):</small></p><blockquote>{esc(h.quote)}</blockquote></div>"
        )
    pieces = []
    pos = 0
    for s, e, label in merged:
        pieces.append(esc(body[pos:s]))
        tip = f' title="cited passage {esc(label)}"' if label else ""
        pieces.append(f'<mark class="quote"{tip}>{esc(body[s:e])}</mark>')
        pos = e
    pieces.append(esc(body[pos:]))
    out.append(f'<div class="article-body" dir="auto">{"".join(pieces)}</div>')
    out.append("</article>")
    return sanitize_html("".join(out))


def panel_message_html(text: str, kind: str = "info") -> str:
    kind = kind if kind in {"info", "error", "busy"} else "info"
    return sanitize_html(f'<div class="panel-message {kind}"><p>{esc(text)}</p></div>')


def empty_panel_html() -> str:
    return panel_message_html("Click a citation marker such as [1], or a source, to read the article here.")


# ----------------------------------------------------------------------------------
# conversation


def turn_html(t: TurnView, i: int) -> str:
    """One question: the question, then its answer (or the streaming text, the progress
    line, an error), then the sources. The answer sits above the sources so that it is
    on screen as soon as the question is scrolled to the top of the conversation."""
    out = [f'<section class="turn" data-turn="{int(i)}">']
    out.append(f'<div class="question"><span class="label">Q{i + 1}</span> <span dir="auto">{esc(t.question)}</span></div>')
    if t.rewritten:
        out.append(f'<div class="rewritten"><span class="label">Searched as:</span> <em dir="auto">{esc(t.standalone)}</em></div>')
    if t.filters:
        desc = []
        if t.filters.get("sources"):
            desc.append("outlets: " + ", ".join(clean_text(s) for s in t.filters["sources"]))
        if t.filters.get("since"):
            desc.append(f"since {clean_text(t.filters['since'])}")
        if t.filters.get("until"):
            desc.append(f"until {clean_text(t.filters['until'])}")
        if desc:
            out.append(f'<div class="filters-used"><small>Filters: {esc("; ".join(desc))}</small></div>')
    for n in t.notes:
        out.append(f'<div class="note"><small>{esc(n)}</small></div>')
    if t.answer is not None:
        out.append(answer_html(t.answer, i))
    elif t.partial or t.draft:
        out.append(streaming_html(t.partial, t.draft))
    if t.error:
        kind = " busy" if t.error.startswith("Busy") else ""
        out.append(f'<div class="error-message{kind}" role="alert">{esc(t.error)}</div>')
    elif t.status and t.answer is None:
        out.append(f'<div class="status" role="status"><small>{esc(t.status)}</small></div>')
    if t.evidence or t.hits or t.answer is not None:
        out.append(sources_html(t.evidence, t.hits, i))
    out.append("</section>")
    return "".join(out)


def conversation_html(turns: Sequence[TurnView]) -> str:
    if not turns:
        return sanitize_html(
            '<div class="conversation empty"><p class="hint">Ask a question about the articles in the index. '
            "Answers cite numbered passages; click a marker to read the article.</p></div>"
        )
    body = "".join(turn_html(t, i) for i, t in enumerate(turns))
    return sanitize_html(f'<div class="conversation">{body}</div>')


def message_html(text: str, kind: str = "error") -> str:
    kind = kind if kind in {"info", "error", "busy"} else "error"
    return sanitize_html(f'<div class="message {kind}" role="alert">{esc(text)}</div>')


# ----------------------------------------------------------------------------------
# index panel


def index_info_html(info: Mapping[str, Any], model: str = "") -> str:
    counts = info.get("counts") or {}
    span = info.get("date_span") or []
    emb = (info.get("embedder") or {}).get("model_id", "")
    build = info.get("build") or {}
    rows = [
        ("Articles", counts.get("articles", "?")),
        ("Chunks", counts.get("chunks", "?")),
        ("Dates", f"{span[0]} – {span[1]}" if len(span) == 2 else "unknown"),
        ("Outlets", len(info.get("sources") or [])),
        ("Embedder", emb),
        ("Model", model),
        ("Built", info.get("built_at", "")),
        ("Build time", f"{float(build['seconds']):.1f} s ({build.get('mode', '')})" if "seconds" in build else ""),
        ("Index type", (info.get("index") or {}).get("type", "")),
        ("Version", info.get("version", "")),
    ]
    items = "".join(
        f'<li><span class="label">{esc(k)}:</span> <span class="value">{esc(v)}</span></li>' for k, v in rows if v != ""
    )
    return sanitize_html(f'<div class="index-info"><ul>{items}</ul></div>')


# ----------------------------------------------------------------------------------
# markdown export

_MD_SPECIAL = re.compile(r"([\\`*_\[\]()!#|~{}+])")


def md_escape(s: Any) -> str:
    """Cleaned text safe inside markdown: no HTML, links, images or emphasis survive."""
    t = " ".join(clean_text(s).split())
    t = t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", t)


def _md_sentence(text: str) -> str:
    marks = [m.group() for m in MARKER.finditer(text)]
    clean = MARKER.sub("", text).strip()
    clean = re.sub(r"\s+([.,;:!?])", r"\1", clean)
    return md_escape(clean) + "".join(f" {m}" for m in marks)


def _md_citation(c: Citation | Evidence) -> str:
    bits = [f'"{md_escape(c.quote if isinstance(c, Citation) else c.text)}"', md_escape(c.title)]
    if c.source:
        bits.append(md_escape(c.source))
    if c.published_at:
        bits.append(md_escape(c.published_at))
    return " — ".join(bits)


def conversation_markdown(
    turns: Sequence[TurnView], header: Mapping[str, str] | None = None, urls: Mapping[str, str] | None = None
) -> str:
    """The conversation as a markdown document with each answer's citations.

    ``header``: name -> value lines (index, model, exported at). ``urls``: article_id ->
    url, added to citations when they are plain http(s) addresses.
    """
    urls = urls or {}
    out = ["# Conversation", ""]
    for k, v in (header or {}).items():
        out.append(f"- {md_escape(k)}: {md_escape(v)}")
    if header:
        out.append("")
    for i, t in enumerate(turns, 1):
        out += [f"## Q{i}. {md_escape(t.question)}", ""]
        if t.rewritten:
            out += [f"*Searched as:* {md_escape(t.standalone)}", ""]
        a = t.answer
        if a is None:
            out += [f"*No answer:* {md_escape(t.error or 'not answered')}", ""]
            continue
        if a.refused:
            out += [
                "**Answer:** Insufficient information.",
                "",
                f"*Reason:* {md_escape(a.reason or 'the passages do not answer the question')}",
                "",
            ]
            continue
        out += [f"**Answer:** {md_escape(a.short)}", ""]
        lines = []
        for s in a.sentences:
            flag = "" if s.supported else f" *(unsupported: {md_escape(s.reason or 'not supported by the cited passages')})*"
            lines.append(_md_sentence(s.text) + flag)
        if lines:
            out += [" ".join(lines), ""]
        if a.citations:
            out += ["**Citations**", ""]
            for c in a.citations:
                line = f"- \\[{c.n}\\] {_md_citation(c)}"
                u = safe_url(urls.get(c.article_id, ""))
                if u:
                    line += f" — <{u}>"
                out.append(line)
            out.append("")
    return "\n".join(out).rstrip() + "\n"

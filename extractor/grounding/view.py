"""A page to check an extraction by eye: the source text with every grounded value
highlighted and labelled with its path, and the values not found in the text listed apart.

The page is self-contained (inline CSS, no script, nothing fetched) and everything taken from
the text or the value is escaped, so a text full of markup is shown, not run.
"""

from __future__ import annotations

import html
import itertools
import json
from collections.abc import Mapping
from typing import Any

import pydantic_core

from .align import Span
from .leaves import scalars

__all__ = ["render_html"]

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:2em}
pre{white-space:pre-wrap;word-wrap:break-word;font:14px/1.9 ui-monospace,monospace;
background:#fafafa;border:1px solid #ddd;padding:1em}
mark{background:#fff1a8;border-bottom:2px solid #d9a400;padding:0 1px}
mark.fuzzy{background:#dcefff;border-bottom-color:#3b82c4}
.label{font:11px system-ui,sans-serif;vertical-align:super;color:#7a5a00;margin-right:2px}
mark.fuzzy .label{color:#1d4f80}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2em .6em;text-align:left}
.missing td{background:#ffe8e8}.key{font-size:.9em;color:#555}
"""


def render_html(
    text: str, value: Any, spans: Mapping[str, Span | None], *, title: str = "Extraction"
) -> str:
    """The page for ``value`` extracted from ``text`` with its ``spans`` (as ``ground`` or
    ``merge`` return them, or ``Extraction.spans``). ``value`` is plain data or what a call
    returned (a pydantic model, a list of them...). Only paths present in ``spans`` are shown."""
    values = dict(scalars(pydantic_core.to_jsonable_python(value)))
    grounded = [(path, span) for path, span in spans.items() if span is not None]
    missing = [path for path, span in spans.items() if span is None]
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="key">{len(grounded)} values found in the text '
        '(<mark>exact</mark>, <mark class="fuzzy">after normalisation</mark>), '
        f"{len(missing)} not found.</p>",
    ]
    if missing:
        rows = "".join(
            f'<tr class="missing"><td>{html.escape(path)}</td>'
            f"<td>{html.escape(_show(values.get(path)))}</td></tr>"
            for path in missing
        )
        body.append(
            "<h2>Not found in the text</h2>"
            f"<table><tr><th>path</th><th>value</th></tr>{rows}</table>"
        )
    body.append(f"<h2>Text</h2><pre>{_highlight(text, grounded)}</pre>")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _highlight(text: str, grounded: list[tuple[str, Span]]) -> str:
    """The text cut at every span boundary; each piece is marked with the spans covering it,
    and labelled where a span starts. Overlapping spans (two values on the same words) share
    the mark and both labels show."""
    bounds = sorted({0, len(text), *(s.start for _, s in grounded), *(s.end for _, s in grounded)})
    starting: dict[int, list[str]] = {}
    for path, span in grounded:
        starting.setdefault(span.start, []).append(path)
    events = sorted(grounded, key=lambda item: item[1].start)
    out: list[str] = []
    active: list[tuple[str, Span]] = []
    cursor = 0
    for lo, hi in itertools.pairwise(bounds):
        while cursor < len(events) and events[cursor][1].start <= lo:
            active.append(events[cursor])
            cursor += 1
        active = [(p, s) for p, s in active if s.end > lo]
        piece = html.escape(text[lo:hi])
        covering = [(p, s) for p, s in active if s.start <= lo < s.end]
        if not covering:
            out.append(piece)
            continue
        fuzzy = " fuzzy" if not all(s.exact for _, s in covering) else ""
        labels = "".join(
            f'<span class="label">{html.escape(path)}</span>' for path in starting.get(lo, ())
        )
        paths = html.escape(", ".join(p for p, _ in covering), quote=True)
        out.append(f'<mark class="{fuzzy.strip()}" title="{paths}">{labels}{piece}</mark>')
    return "".join(out)

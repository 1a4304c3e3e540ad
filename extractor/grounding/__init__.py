"""Grounding and long documents: every extracted value traced to a span of the source text,
and texts of any length cut into chunks whose answers are merged back into one.

Sans-I/O: plain JSON data and JSON Schema dicts in, plain data out; nothing here sends a
request or waits. The extraction loop drives it.

    index = TextIndex(text)                        # once per text
    grounding = ground(value, schema, index)       # .spans: path -> Span | None
    chunks = split_text(text, 20_000)              # Chunk(index, start, end, text)
    merged = merge([ChunkValue(v, g.spans, c.start, c.index) for ...])
    page = render_html(text, merged.value, merged.spans)
"""

from ..core.result import Conflict, Span
from .align import Grounding, TextIndex, ground
from .chunking import Chunk, default_overlap, split_text
from .feedback import ungrounded_details
from .leaves import GROUNDED_KEY, Leaf, inferred, iter_leaves
from .merge import ChunkValue, ItemMerger, Merged, merge
from .view import render_html

__all__ = [
    "GROUNDED_KEY",
    "Chunk",
    "ChunkValue",
    "Conflict",
    "Grounding",
    "ItemMerger",
    "Leaf",
    "Merged",
    "Span",
    "TextIndex",
    "default_overlap",
    "ground",
    "inferred",
    "iter_leaves",
    "merge",
    "render_html",
    "split_text",
    "ungrounded_details",
]

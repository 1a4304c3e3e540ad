"""What a parse gives back, and how deep a value the rest of the library can take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 128
"""Deepest nesting accepted; deeper input is a ParseError rather than a crash downstream.

The bound is set by what the rest of the pipeline survives, measured with the default
recursion limit of 1000 (``benchmarks/parse.py`` prints the figures): jsonschema validating
against a recursive ``$ref`` raises RecursionError from 246 levels with an empty stack (about
four frames per level, so from about 200 inside an application), ``copy.deepcopy`` from 495,
``json.dumps`` from 988; pydantic stops recursive models at 255 with a ValidationError. 128
levels leave those about 450 frames of caller stack, and no real answer nests that deep.
"""


@dataclass(frozen=True)
class Parsed:
    """A parsed answer, and whether (and how) it had to be repaired to get there.

    ``repairs`` names each kind of repair once, in the order first met, e.g.
    ``("markdown fence", "trailing comma")``; ``repaired`` is ``bool(repairs)``.
    """

    value: Any
    repaired: bool = False
    repairs: tuple[str, ...] = ()


def deeper_than(value: Any, limit: int, text: str, start: int, end: int) -> bool:
    """Whether ``value`` (parsed from ``text[start:end]``) nests more than ``limit`` levels.

    Counting brackets in the text settles small answers in C; larger ones have their
    containers walked, without recursion and without allocating (so that no garbage
    collection runs over the fresh value): a fraction of what ``json.loads`` took.
    """
    if text.count("[", start, end) + text.count("{", start, end) <= limit:
        return False
    if type(value) is not dict and type(value) is not list:
        return False
    nodes: list[Any] = [value]
    depths = [1]
    pop_node, pop_depth, push_node, push_depth = nodes.pop, depths.pop, nodes.append, depths.append
    while nodes:
        node = pop_node()
        depth = pop_depth()
        for child in node.values() if type(node) is dict else node:
            if type(child) is dict or type(child) is list:
                if depth >= limit:
                    return True
                push_node(child)
                push_depth(depth + 1)
    return False

"""The values a reader can check against the text: every string and number leaf of an answer.

A leaf is found by walking the value (plain JSON data, as the model wrote it) together with the
target's JSON Schema, so that the schema decides what is *not* to be looked for: booleans,
values drawn from a fixed set (``enum``, ``const``, ``Literal``), and any field marked
``"x-grounded": false`` (see ``inferred``). Those are inferred by design; a model is right to
write "negative" for a sentiment the text never names. Empty strings and nulls say nothing
and are skipped too.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from ..core.result import format_path
from ..errors import ConfigurationError

__all__ = ["GROUNDED_KEY", "Leaf", "LeafKind", "inferred", "iter_leaves", "scalars"]

GROUNDED_KEY = "x-grounded"
"""The JSON Schema extension key that excludes a field (and everything under it) from
grounding when it is ``false``."""

LeafKind = Literal["string", "number", "date"]
Scalar = str | int | float


@dataclass(frozen=True)
class Leaf:
    """One value to look for: its path as error messages write it, its parts, and its kind
    (``date`` when the schema says ``format: date``, so that other spellings are accepted)."""

    path: str
    parts: tuple[str | int, ...]
    value: Scalar
    kind: LeafKind


def inferred(**field_kwargs: Any) -> Any:
    """A pydantic ``Field`` whose value is inferred by design, so it is never looked for in
    the text (and never reported as ungrounded)::

        class Review(BaseModel):
            product: str
            sentiment: str = inferred(description="positive, negative or mixed")
            summary: Annotated[str, inferred()]

    It sets ``"x-grounded": false`` in the field's JSON Schema; a JSON Schema target says the
    same with that key on the property. Other ``json_schema_extra`` given here is kept.
    """
    extra = field_kwargs.pop("json_schema_extra", None) or {}
    if not isinstance(extra, Mapping):
        raise ConfigurationError(
            "inferred() takes json_schema_extra only as a dict; merge the marker yourself "
            f"with {{{GROUNDED_KEY!r}: False}} when you need a callable"
        )
    return Field(json_schema_extra={**extra, GROUNDED_KEY: False}, **field_kwargs)


def iter_leaves(
    value: Any, schema: Mapping[str, Any], *, root: Mapping[str, Any] | None = None
) -> list[Leaf]:
    """The leaves of ``value`` to ground, in document order of the value. ``root`` is the
    document that ``$ref``s point into, when ``schema`` is a part of it (the schema of the
    value inside a ``{"result": ...}`` wrapper, say); by default ``schema`` itself."""
    return list(_Walker(schema if root is None else root).walk(value, schema, ()))


def scalars(value: Any, parts: tuple[str | int, ...] = ()) -> Iterator[tuple[str, Any]]:
    """Every non-container value with its path, whatever its type (for display and merging,
    where the schema does not matter)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from scalars(item, (*parts, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from scalars(item, (*parts, i))
    else:
        yield format_path(parts), value


class _Walker:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self._root = root

    def walk(
        self, value: Any, schema: Mapping[str, Any], parts: tuple[str | int, ...]
    ) -> Iterator[Leaf]:
        schema = self._resolve(schema)
        if schema.get(GROUNDED_KEY) is False or "enum" in schema or "const" in schema:
            return
        if value is None or isinstance(value, bool):
            return
        if isinstance(value, Mapping):
            properties = schema.get("properties") or {}
            extra = schema.get("additionalProperties")
            for key, item in value.items():
                sub = properties.get(key, extra if isinstance(extra, Mapping) else {})
                yield from self.walk(item, sub, (*parts, str(key)))
        elif isinstance(value, list):
            prefix = schema.get("prefixItems") or []
            items = schema.get("items")
            for i, item in enumerate(value):
                sub = prefix[i] if i < len(prefix) else items
                yield from self.walk(item, sub if isinstance(sub, Mapping) else {}, (*parts, i))
        elif isinstance(value, str):
            if value.strip():
                kind: LeafKind = "date" if schema.get("format") == "date" else "string"
                yield Leaf(format_path(parts), parts, value, kind)
        elif isinstance(value, int | float) and math.isfinite(value):
            yield Leaf(format_path(parts), parts, value, "number")

    def _resolve(self, schema: Mapping[str, Any], depth: int = 0) -> Mapping[str, Any]:
        """Follow ``$ref`` and pick the branch of ``anyOf``/``oneOf``/``allOf`` that matters,
        keeping the marker of any schema passed through (``{"$ref": ..., "x-grounded": false}``
        is how pydantic writes a marked field of a model type)."""
        if depth > 64:
            raise ConfigurationError("the schema's $ref chain is circular; give a finite schema")
        if schema.get(GROUNDED_KEY) is False:
            return schema
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return self._resolve(self._lookup(ref), depth + 1)
        for key in ("anyOf", "oneOf", "allOf"):
            branches = [self._resolve(b, depth + 1) for b in schema.get(key) or ()]
            if not branches:
                continue
            if any(b.get(GROUNDED_KEY) is False for b in branches) and key == "allOf":
                return {GROUNDED_KEY: False}
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != key}
            if key == "allOf":
                for branch in branches:
                    merged = {**branch, **merged}
                return merged
            # A value matches one branch; the walker only needs what they share: a leaf is
            # excluded when every non-null branch excludes it.
            live = [b for b in branches if b.get("type") != "null"]
            if live and all(
                b.get(GROUNDED_KEY) is False or "enum" in b or "const" in b for b in live
            ):
                return {GROUNDED_KEY: False}
            combined: dict[str, Any] = {}
            for branch in reversed(live):
                props = {**(combined.get("properties") or {}), **(branch.get("properties") or {})}
                combined.update(branch)
                if props:
                    combined["properties"] = props
            for marker in ("enum", "const", GROUNDED_KEY):
                combined.pop(marker, None)
            return {**combined, **merged}
        return schema

    def _lookup(self, ref: str) -> Mapping[str, Any]:
        if not ref.startswith("#"):
            raise ConfigurationError(
                f"cannot follow $ref {ref!r}: only references inside the schema (#/...) are "
                "supported; inline the referenced schema"
            )
        node: Any = self._root
        for token in filter(None, ref[1:].split("/")):
            token = token.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or token not in node:
                raise ConfigurationError(f"$ref {ref!r} points at nothing in the schema")
            node = node[token]
        if not isinstance(node, Mapping):
            raise ConfigurationError(f"$ref {ref!r} does not point at a schema object")
        return node

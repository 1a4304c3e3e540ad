"""Compact answers: every object with fixed properties written as the array of its values.

The answers are most of an extraction's bill (output tokens cost about eight times input
tokens), and in a keyed answer the keys are about half of it. The ``compact`` output mode
asks for the same data without them: ``{"values": ["INV-0001", "2024-03-01", 90.5]}`` for
``{"number": "INV-0001", "issued": "2024-03-01", "total": 90.5}``; the values in the order
the properties are declared, null where the text gives no value. An array of objects becomes
an array of arrays (a table). What stays keyed:

- maps (``additionalProperties`` or ``patternProperties`` schemas, ``propertyNames``): their
  keys are data;
- objects that are options of a real union (``anyOf``/``oneOf`` other than ``X | null``) or
  parts of an ``allOf`` of several: the model could not tell which option a bare array is, and
  the reader could not either. A named type used as such an option stays keyed everywhere.

`notation` shows the positional objects as labelled tuples, from the same rules
(`object_fields`, `is_real_union`, `keyed_references`). `Positional` converts answers both
ways for one target, derived once per target (``Target.positional``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from .patterns import search
from .result import ErrorDetail, Location, format_path
from .schema import JSON_TYPES
from .validate import Invalid

__all__ = [
    "WRAPPER_KEY",
    "Positional",
    "is_real_union",
    "keyed_references",
    "object_fields",
]

#: The key of the one-member object a compact answer is (json_object mode answers objects).
WRAPPER_KEY = "values"

_UNION_KEYS = ("anyOf", "oneOf")
# The schema of a value the schema says nothing about (one object: see `Positional._objects`).
_ANY: dict[str, Any] = {}
# How deep `Positional._fit` looks to tell a union's options apart.
_FIT_DEPTH = 4
# Refs chains longer than this are a loop of references to references: no schema.
_MAX_HOPS = 32


def object_fields(schema: Any) -> list[str] | None:
    """The property names, in order, of an object schema written positionally; None for
    anything else (no fixed properties, or a map: keys that are data stay keys)."""
    if not isinstance(schema, dict):
        return None
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        return None
    if (
        isinstance(schema.get("additionalProperties"), dict)
        or schema.get("patternProperties")
        or "propertyNames" in schema
    ):
        return None
    kind = schema.get("type", "object")
    if kind != "object" and not (isinstance(kind, list) and "object" in kind):
        return None
    return list(properties)


def is_real_union(options: Any) -> bool:
    """Whether union options are more than ``X | null``: objects among them stay keyed."""
    return isinstance(options, list) and sum(1 for o in options if o != {"type": "null"}) > 1


def _keeps_keys(schema: dict[str, Any], key: str) -> bool:
    """Whether the options under ``schema[key]`` are written keyed."""
    options = schema.get(key)
    if key == "allOf":
        return isinstance(options, list) and len(options) > 1
    return is_real_union(options)


def keyed_references(schema: Any) -> set[str]:
    """The ``$ref``s that are options of a real union (or parts of an ``allOf`` of several)
    anywhere in ``schema``, directly or through ``X | null`` and one-part ``allOf``: their
    named types stay keyed everywhere."""
    found: set[str] = set()

    def option_refs(option: Any) -> None:
        if not isinstance(option, dict):
            return
        if isinstance(option.get("$ref"), str):
            found.add(option["$ref"])
        for key in (*_UNION_KEYS, "allOf"):
            if isinstance(option.get(key), list) and not _keeps_keys(option, key):
                for inner in option[key]:
                    option_refs(inner)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in (*_UNION_KEYS, "allOf"):
                if _keeps_keys(node, key):
                    for option in node[key]:
                        option_refs(option)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(schema)
    return found


class Positional:
    """The compact form of one target's answers (``schema``: its prompt schema), both ways."""

    def __init__(self, schema: Any) -> None:
        self._root = schema if isinstance(schema, dict) else {}
        self._defs = {
            f"#/{key}/{name.replace('~', '~0').replace('/', '~1')}": body
            for key in ("$defs", "definitions")
            for name, body in (self._root.get(key) or {}).items()
        }
        self._defs["#"] = self._root
        self._keyed = keyed_references(self._root)
        # `_positional_object` of each schema node met, by identity: the nodes belong to the
        # target's prompt schema, which lives as long as this (anything else is `_ANY`).
        self._objects: dict[int, dict[str, Any] | None] = {}

    # -- compact -> keyed ----------------------------------------------------------------

    def to_keyed(self, answer: Any, *, patch: Collection[str] = ()) -> Any:
        """The model's parsed compact answer as keyed data. Tolerant of a keyed answer (the
        model wrote keys anyway, wholly or in part) and of a bare root array. A wrong number
        of values raises `Invalid` naming the fields expected, in order, for the re-ask. Null
        for an optional property that does not allow null is dropped, so its default
        applies. ``patch``: the top-level properties a patch re-ask asked for; when one of
        them is called ``values``, a reply ``{"values": ...}`` is that property (a patch), not
        a whole answer in its wrapper."""
        problems: list[tuple[ErrorDetail, Location]] = []
        root = _unwrapped(answer, patch)
        if root is not answer and self._wrapper_is_keyed(answer, root):
            root = answer
        keyed = self._keyed_value(root, self._root, [], problems)
        if problems:
            details, locations = zip(*problems, strict=True)
            raise Invalid(list(details), locations=locations)
        return keyed

    def _wrapper_is_keyed(self, answer: dict[str, Any], inside: Any) -> bool:
        """For ``{"values": X}`` and a root with a property called "values": whether it is
        that property written keyed (a keyed answer is accepted too) rather than the compact
        answer X. The reading the schema describes more of wins; the compact one when they
        describe as much."""
        fields = (self._positional_object(self._root) or {}).get("properties", {})
        return WRAPPER_KEY in fields and self._fit(self._root, answer, 0) > self._fit(
            self._root, inside, 0
        )

    def live(self, *, patch: Collection[str] = ()) -> LiveAnswer:
        """A mirror of one compact answer while it arrives (stream snapshots); ``patch`` as
        for `to_keyed`."""
        return LiveAnswer(self, patch)

    def _keyed_value(
        self,
        value: Any,
        schema: Any,
        path: list[str | int],
        problems: list[tuple[ErrorDetail, Location]],
    ) -> Any:
        if isinstance(value, list):
            target = self._positional_object(schema)
            if target is None:
                return [
                    self._keyed_value(item, self._item(schema, i), [*path, i], problems)
                    for i, item in enumerate(value)
                ]
            properties: dict[str, Any] = target["properties"]
            if len(value) != len(properties):
                names = ", ".join(properties)
                message = (
                    f"expected an array of {len(properties)} values, in this order: {names}; "
                    f"got {len(value)} (write null for a value the text does not give)"
                )
                problems.append((ErrorDetail(format_path(path), message, value), tuple(path)))
                return value
            required = set(target.get("required") or ())
            out = {}
            for (name, sub), item in zip(properties.items(), value, strict=True):
                if not self._absent(item, name, sub, required):
                    out[name] = self._keyed_value(item, sub, [*path, name], problems)
            return out
        if isinstance(value, dict):
            schema = self._choose(schema, value)
            return {
                key: self._keyed_value(item, self._member(schema, key), [*path, key], problems)
                for key, item in value.items()
            }
        return value

    # -- keyed -> compact ----------------------------------------------------------------

    def answer(self, data: Any) -> dict[str, Any]:
        """Keyed data (as a json-mode answer holds it: ``target.to_answer(value)``) as the
        compact answer the model is asked to write. The testing kit's fake model and the
        benchmarks answer compact requests with it."""
        return {WRAPPER_KEY: self._compact_value(data, self._root)}

    def patch(self, data: Any) -> Any:
        """Some top-level properties (a patch re-ask's reply, keyed) as the model writes them
        in compact mode: keyed at the top, each value in compact form."""
        if not isinstance(data, dict):
            return self._compact_value(data, self._root)
        return {
            key: self._compact_value(value, self._member(self._root, key))
            for key, value in data.items()
        }

    def _compact_value(self, value: Any, schema: Any) -> Any:
        if isinstance(value, dict):
            target = self._positional_object(schema)
            if target is None:
                schema = self._choose(schema, value)
                return {
                    key: self._compact_value(item, self._member(schema, key))
                    for key, item in value.items()
                }
            return [
                self._compact_value(value.get(name), sub)
                for name, sub in target["properties"].items()
            ]
        if isinstance(value, list):
            return [
                self._compact_value(item, self._item(schema, i)) for i, item in enumerate(value)
            ]
        return value

    # -- the schema ----------------------------------------------------------------------

    def _resolve(self, schema: Any) -> tuple[Any, bool]:
        """The schema behind any ``$ref``s, and whether one of them is a keyed named type."""
        keyed = False
        for _ in range(_MAX_HOPS):
            ref = schema.get("$ref") if isinstance(schema, dict) else None
            if not isinstance(ref, str) or ref not in self._defs:
                return schema, keyed
            keyed = keyed or ref in self._keyed
            schema = self._defs[ref]
        return _ANY, keyed

    def _positional_object(self, schema: Any) -> dict[str, Any] | None:
        """The object schema that an array here is the values of, if any."""
        key = id(schema)
        if key not in self._objects:
            self._objects[key] = self._find_positional_object(schema)
        return self._objects[key]

    def _find_positional_object(self, schema: Any) -> dict[str, Any] | None:
        for _ in range(_MAX_HOPS):
            schema, keyed = self._resolve(schema)
            if keyed or not isinstance(schema, dict):
                return None
            if object_fields(schema) is not None:
                return schema
            options = [
                option
                for key in (*_UNION_KEYS, "allOf")
                for option in schema.get(key) or ()
                if not _keeps_keys(schema, key) and option != {"type": "null"}
            ]
            if len(options) != 1:
                return None
            schema = options[0]
        return None

    def _options(self, schema: dict[str, Any]) -> list[Any]:
        return [
            option
            for key in (*_UNION_KEYS, "allOf")
            if isinstance(schema.get(key), list)
            for option in schema[key]
        ]

    def _item(self, schema: Any, index: int) -> Any:
        """The schema of an array's element ``index``."""

        def own(node: dict[str, Any]) -> Any:
            prefix = node.get("prefixItems")
            if isinstance(prefix, list) and index < len(prefix):
                return prefix[index]
            return node["items"] if isinstance(node.get("items"), dict) else None

        return self._find(schema, own)

    def _member(self, schema: Any, key: str) -> Any:
        """The schema of a keyed object's member ``key``."""

        def own(node: dict[str, Any]) -> Any:
            properties = node.get("properties")
            if isinstance(properties, dict) and key in properties:
                return properties[key]
            patterns = node.get("patternProperties")
            for pattern, sub in (patterns if isinstance(patterns, dict) else {}).items():
                if search(pattern, key):
                    return sub
            extra = node.get("additionalProperties")
            return extra if isinstance(extra, dict) else None

        return self._find(schema, own)

    def _choose(self, schema: Any, value: dict[str, Any], depth: int = 0) -> Any:
        """The schema a keyed object is, for finding its members: under a union (``anyOf``,
        ``oneOf``), the option that describes most of it (`_fit`; the first of those that
        describe as much), so that options whose members share names but not shapes are
        told apart."""
        for _ in range(_MAX_HOPS):
            schema, _ = self._resolve(schema)
            if not isinstance(schema, dict):
                return schema
            options = [
                option
                for key in _UNION_KEYS
                if isinstance(schema.get(key), list)
                for option in schema[key]
            ]
            if len(options) < 2:
                return schema
            fits = [self._fit(option, value, depth + 1) for option in options]
            if max(fits) == 0:
                return schema
            schema = options[fits.index(max(fits))]
        return schema

    def _fit(self, schema: Any, value: Any, depth: int) -> int:
        """How much of ``value`` the schema describes (a rough count of the parts whose
        place and kind it knows), to choose a union's option."""
        schema, _ = self._resolve(schema)
        if not isinstance(schema, dict) or depth > _FIT_DEPTH:
            return 0
        if isinstance(value, dict):
            chosen = self._choose(schema, value, depth)
            fits = (self._member(chosen, key) for key in value)
            return sum(
                1 + self._fit(sub, item, depth + 1)
                for sub, item in zip(fits, value.values(), strict=True)
                if sub is not _ANY
            )
        if isinstance(value, list):
            target = self._positional_object(schema)
            if target is None:
                return sum(
                    self._fit(self._item(schema, i), item, depth + 1)
                    for i, item in enumerate(value)
                )
            if len(value) != len(target["properties"]):
                return 0
            parts = zip(target["properties"].values(), value, strict=True)
            return 1 + sum(self._fit(sub, item, depth + 1) for sub, item in parts)
        return int(_is_of_type(value, schema))

    def _find(self, schema: Any, own: Callable[[dict[str, Any]], Any], hops: int = 0) -> Any:
        """What ``own`` finds in the schema, or else in its first union or allOf option
        that has it; `_ANY` when none has."""
        schema, _ = self._resolve(schema)
        if not isinstance(schema, dict) or hops > _MAX_HOPS:
            return _ANY
        found = own(schema)
        if found is not None:
            return found
        for option in self._options(schema):
            found = self._find(option, own, hops + 1)
            if found is not _ANY:
                return found
        return _ANY

    def _absent(self, value: Any, name: str, schema: Any, required: set[str]) -> bool:
        """Whether a value written for an optional property that does not allow null says
        the property is absent (so that the target's default applies)."""
        return value is None and name not in required and not self._allows_null(schema)

    def _allows_null(self, schema: Any, hops: int = 0) -> bool:
        schema, _ = self._resolve(schema)
        if not isinstance(schema, dict) or hops > _MAX_HOPS:
            return schema is True
        kind = schema.get("type")
        if kind == "null" or (isinstance(kind, list) and "null" in kind):
            return True
        if "const" in schema:
            return schema["const"] is None
        if isinstance(schema.get("enum"), list):
            return None in schema["enum"]
        if kind is None and not any(key in schema for key in (*_UNION_KEYS, "allOf")):
            return True  # no type: anything, null too
        return any(
            self._allows_null(option, hops + 1)
            for key in _UNION_KEYS
            for option in schema.get(key) or ()
        )


class LiveAnswer:
    """One compact answer while it arrives, mirrored as keyed data that grows in place as the
    parser's live value does: each container of the answer has one mirror container, and only
    its last child (the one still growing) and the new ones are converted again. Stream
    snapshots rely on that: they reuse what they built for containers that keep their
    identity, so a stream costs time in proportion to the answer, not to its square."""

    def __init__(self, positional: Positional, patch: Collection[str] = ()) -> None:
        self._positional = positional
        self._patch = patch
        # id of a container of the answer -> [the container, its mirror, children mirrored]
        self._mirrors: dict[int, list[Any]] = {}

    def keyed(self, answer: Any) -> Any:
        """The answer so far as keyed data: an array shorter than its object is the
        object's first fields."""
        return self._mirror(_unwrapped(answer, self._patch), self._positional._root)

    def _mirror(self, value: Any, schema: Any) -> Any:
        if not isinstance(value, (list, dict)):
            return value
        positional = self._positional
        entry = self._mirrors.get(id(value))
        if entry is None or entry[0] is not value:
            target = positional._positional_object(schema) if isinstance(value, list) else None
            entry = [value, [] if isinstance(value, list) and target is None else {}, 0]
            self._mirrors[id(value)] = entry
        out, done = entry[1], entry[2]
        start = max(done - 1, 0)  # the last child mirrored may have grown since
        if isinstance(value, dict):
            schema = positional._choose(schema, value)
            for key, item in list(value.items())[start:]:
                out[key] = self._mirror(item, positional._member(schema, key))
        elif isinstance(out, list):
            for i in range(start, len(value)):
                item = self._mirror(value[i], positional._item(schema, i))
                if i < len(out):
                    out[i] = item
                else:
                    out.append(item)
        else:
            target = positional._positional_object(schema) or {}
            required = set(target.get("required") or ())
            fields = list(target.get("properties", {}).items())
            for (name, sub), item in zip(fields[start:], value[start:], strict=False):
                if not positional._absent(item, name, sub, required):
                    out[name] = self._mirror(item, sub)
        entry[2] = len(value)
        return out


def _is_of_type(value: Any, schema: dict[str, Any]) -> bool:
    """Whether a value has the schema's type (or is one of its literals)."""
    if "const" in schema:
        return bool(schema["const"] == value)
    if isinstance(schema.get("enum"), list):
        return value in schema["enum"]
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if isinstance(value, bool):  # a bool is an int to Python, not to JSON Schema
        return "boolean" in kinds
    return isinstance(
        value, tuple(t for k in kinds if isinstance(k, str) for t in JSON_TYPES.get(k, ()))
    )


def _unwrapped(answer: Any, patch: Collection[str]) -> Any:
    """The root of a compact answer: inside ``{"values": ...}``; a keyed root, a bare array,
    or a patch of a property called ``values`` (asked for in ``patch``) as it is."""
    if (
        isinstance(answer, dict)
        and len(answer) == 1
        and WRAPPER_KEY in answer
        and WRAPPER_KEY not in patch
    ):
        return answer[WRAPPER_KEY]
    return answer

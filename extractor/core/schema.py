"""JSON Schema transformations: the compact form the prompt shows, and the strict form that
structured-output endpoints (``json_schema`` mode) accept.

Both walk the schema as data; neither knows about pydantic.

The prompt form (`for_prompt`) is paid for on every request of every record, so it keeps what
the model needs to write a conforming answer (names, types, required, descriptions, enums,
patterns, formats, bounds, examples) and spends nothing on the rest: titles, empty defaults,
``$defs`` used once (inlined where they are used), ``anyOf: [X, {"type": "null"}]`` (written
``"type": [X, "null"]``), a ``type`` beside an ``enum`` whose values imply it. It stays a valid
JSON Schema accepting exactly the same answers, so tools mode can send it as the function's
parameters.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "JSON_TYPES",
    "compact",
    "drop_unrequested_nulls",
    "for_prompt",
    "hoist",
    "render",
    "strict",
]

# Keys whose values are maps from names to subschemas: a "title" key inside them is a field
# called "title", not the keyword.
_NAME_MAPS = frozenset({"properties", "$defs", "definitions", "patternProperties"})


_NOISE = frozenset({"title", "$schema", "$id", "$comment"})


def compact(schema: Any) -> Any:
    """Drop what costs tokens and tells the model nothing: titles (pydantic derives them from
    the names right beside them), ``$schema``/``$id``/``$comment`` and ``default: null``."""
    return _compact(schema, in_name_map=False)


def _compact(node: Any, *, in_name_map: bool) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if not in_name_map and (key in _NOISE or (key == "default" and value is None)):
                continue
            out[key] = _compact(value, in_name_map=not in_name_map and key in _NAME_MAPS)
        return out
    if isinstance(node, list):
        return [_compact(item, in_name_map=False) for item in node]
    return node


_DEFS_KEYS = ("$defs", "definitions")
# Defaults that say no more than the property being optional.
_EMPTY_DEFAULTS: tuple[Any, ...] = (None, [], {})


def for_prompt(schema: Any) -> Any:
    """The schema as the model is shown it: `compact`, then single-use definitions inlined,
    nullable written compactly, empty defaults dropped (see the module docstring)."""
    if not isinstance(schema, dict):
        return schema
    compacted = compact(schema)
    defs = {
        f"#/{key}/{name}": body
        for key in _DEFS_KEYS
        for name, body in (compacted.get(key) or {}).items()
    }
    counts: dict[str, int] = {}
    _count_refs(compacted, counts)
    inline = {ref for ref, count in counts.items() if count == 1 and ref in defs}
    inline -= _recursive(defs)
    out = _shrink(compacted, defs, inline)
    for key in _DEFS_KEYS:
        kept = {
            name: _shrink(body, defs, inline)
            for name, body in (compacted.get(key) or {}).items()
            if f"#/{key}/{name}" not in inline
        }
        out.pop(key, None)
        if kept:
            out[key] = kept
    return out


def _count_refs(node: Any, counts: dict[str, int]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            counts[ref] = counts.get(ref, 0) + 1
        for value in node.values():
            _count_refs(value, counts)
    elif isinstance(node, list):
        for item in node:
            _count_refs(item, counts)


def _recursive(defs: dict[str, Any]) -> set[str]:
    """The definitions that reach themselves through references: never inlined."""
    edges = {}
    for ref, body in defs.items():
        counts: dict[str, int] = {}
        _count_refs(body, counts)
        edges[ref] = set(counts) & defs.keys()
    looping = set()
    for start in defs:
        seen: set[str] = set()
        todo = list(edges[start])
        while todo:
            ref = todo.pop()
            if ref == start:
                looping.add(start)
                break
            if ref not in seen:
                seen.add(ref)
                todo.extend(edges[ref])
    return looping


def _shrink(node: Any, defs: dict[str, Any], inline: set[str], in_name_map: bool = False) -> Any:
    if isinstance(node, list):
        return [_shrink(item, defs, inline) for item in node]
    if not isinstance(node, dict):
        return node
    if in_name_map:
        return {key: _shrink(value, defs, inline) for key, value in node.items()}
    ref = node.get("$ref")
    if ref in inline:  # the definition's body, with the reference's own keywords on top
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        node = {**defs[ref], **siblings}
    out = {
        key: _shrink(value, defs, inline, key in _NAME_MAPS)
        for key, value in node.items()
        if not (key == "default" and value in _EMPTY_DEFAULTS) and key not in _DEFS_KEYS
    }
    return _enum_without_type(_nullable(out))


#: The Python types of the JSON values of each JSON Schema type (a bool is also an int).
JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
    "array": (list,),
    "object": (dict,),
}


def _enum_without_type(node: dict[str, Any]) -> dict[str, Any]:
    """An enum whose values all have the type beside it says that type already."""
    values, kind = node.get("enum"), node.get("type")
    if not isinstance(values, list) or kind is None:
        return node
    kinds = kind if isinstance(kind, list) else [kind]
    if not all(isinstance(k, str) and k in JSON_TYPES for k in kinds):
        return node
    allowed = tuple(t for k in kinds for t in JSON_TYPES[k])
    bool_ok = "boolean" in kinds
    if all(isinstance(v, allowed) and (bool_ok or not isinstance(v, bool)) for v in values):
        return {key: value for key, value in node.items() if key != "type"}
    return node


def _nullable(node: dict[str, Any]) -> dict[str, Any]:
    """``{"anyOf": [X, {"type": "null"}], ...}`` as X allowing null, when X says its type
    (or is an enum): the same values, in fewer tokens."""
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if not isinstance(options, list) or len(options) != 2 or {"type": "null"} not in options:
            continue
        (other,) = [option for option in options if option != {"type": "null"}] or [None]
        if not isinstance(other, dict) or "$ref" in other:
            return node
        kind = other.get("type")
        if isinstance(kind, str):
            kind = [kind, "null"]
        elif isinstance(kind, list):
            kind = [*kind, "null"] if "null" not in kind else kind
        elif "enum" not in other:
            return node
        merged = {k: v for k, v in node.items() if k != key}
        if any(k in merged for k in other):
            return node  # the two would overlap: keep the long form, which is unambiguous
        merged.update(other)
        if kind is not None:
            merged["type"] = kind
        if isinstance(merged.get("enum"), list) and None not in merged["enum"]:
            merged["enum"] = [*merged["enum"], None]
        return merged
    return node


def render(schema: Any) -> str:
    """The schema as the prompt shows it: no whitespace, non-ASCII kept as is (it is fewer
    tokens than ``\\u`` escapes)."""
    return json.dumps(schema, separators=(",", ":"), ensure_ascii=False)


def strict(schema: Any) -> Any:
    """Make a schema acceptable to strict structured outputs: every object closed
    (``additionalProperties: false``) with every property required; a property that was
    optional becomes nullable instead, and `drop_unrequested_nulls` undoes that on the answer."""
    return _strict(compact(schema), in_name_map=False)


def _strict(node: Any, *, in_name_map: bool) -> Any:
    if isinstance(node, list):
        return [_strict(item, in_name_map=False) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        key: _strict(value, in_name_map=not in_name_map and key in _NAME_MAPS)
        for key, value in node.items()
        if in_name_map or key != "default"
    }
    if in_name_map or "properties" not in out:
        return out
    required = set(out.get("required", ()))
    properties = out["properties"]
    for name, prop in properties.items():
        if name not in required and not _allows_null(prop):
            properties[name] = {"anyOf": [prop, {"type": "null"}]}
    out["required"] = list(properties)
    out["additionalProperties"] = False
    return out


def _allows_null(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(_allows_null(option) for option in schema.get("anyOf", ()))


def drop_unrequested_nulls(data: Any, schema: Any, root: Any = None) -> Any:
    """Remove ``null`` values that strict mode forced the model to write for optional
    properties, so that the target's own defaults apply. ``schema`` is the original
    (non-strict) schema; ``$ref`` into ``$defs`` is followed."""
    root = schema if root is None else root
    if isinstance(schema, dict) and "$ref" in schema:
        schema = _resolve(schema["$ref"], root)
    if not isinstance(schema, dict):
        return data
    if isinstance(data, dict) and "properties" not in schema:
        # Optional[Model] is anyOf[Model, null]: descend into the object option.
        for option in schema.get("anyOf", ()):
            option = _resolve(option["$ref"], root) if "$ref" in option else option
            if isinstance(option, dict) and "properties" in option:
                schema = option
                break
    if isinstance(data, dict) and "properties" in schema:
        required = set(schema.get("required", ()))
        properties = schema["properties"]
        return {
            key: drop_unrequested_nulls(value, properties.get(key), root)
            for key, value in data.items()
            if not (value is None and key not in required)
        }
    if isinstance(data, list) and isinstance(schema.get("items"), dict):
        return [drop_unrequested_nulls(item, schema["items"], root) for item in data]
    return data


def _resolve(ref: str, root: Any) -> Any:
    if not ref.startswith("#/"):
        return None
    node = root
    for part in ref[2:].split("/"):
        if not isinstance(node, dict):
            return None
        node = node.get(part.replace("~1", "/").replace("~0", "~"))
    return node


_ROOT_KEYS = frozenset({"$schema", "$id", "$defs", "definitions"})


def hoist(schema: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a schema into its body and what must stay at the root of any schema that embeds
    it (definitions, so that ``#/$defs/...`` references still resolve; ``$schema``, ``$id``)."""
    inner = {key: value for key, value in schema.items() if key not in _ROOT_KEYS}
    root = {key: value for key, value in schema.items() if key in _ROOT_KEYS}
    return inner, root

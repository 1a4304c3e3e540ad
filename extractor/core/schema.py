"""JSON Schema transformations: the compact form the prompt shows, and the strict form that
structured-output endpoints (``json_schema`` mode) accept.

Both walk the schema as data; neither knows about pydantic.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["compact", "drop_unrequested_nulls", "hoist", "render", "strict"]

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

"""A prompt schema (`schema.for_prompt`) written as compact TypeScript-like type notation.

Models read type notation fluently (OpenAI itself turns tool parameters into it before a model
sees them), and it says what a JSON Schema says in about half the tokens: ``name?: string |
null`` instead of a ``properties`` entry, a ``required`` list and a ``type`` array. Nothing the
model needs is dropped: what has no syntax of its own (descriptions, formats, patterns, bounds,
lengths, defaults, examples) is a ``//`` comment at the end of the member's line, and any
keyword the notation does not know is shown there as compact JSON.

Layout, chosen for fewest tokens while staying readable: one member a line, no indentation (the
braces delimit), no separators between members; ``$defs`` used more than once or recursively
are named types declared once after the root (``type Address = {...}``).

With ``positional=True`` (the ``compact`` output mode, see `positional`), every object with
fixed properties that is not an option of a real union is written as a labelled tuple
(``[name: string, age: integer | null]``): the answer lists the values in that order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from .positional import is_real_union, keyed_references, object_fields

__all__ = ["render"]

# Keywords rendered by the notation itself; any other keyword becomes a comment.
_STRUCTURE = frozenset(
    {
        "type", "properties", "required", "additionalProperties", "patternProperties",
        "propertyNames", "items", "prefixItems", "enum", "const", "anyOf", "oneOf", "allOf",
        "$ref", "$defs", "definitions",
    }
)  # fmt: skip
_BOUNDS = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
# Keywords shown as ``keyword value`` in this order after the description, bounds between the
# first group (strings shown as they are) and the second (shown as compact JSON).
_ANNOTATIONS = ("format", "pattern")
_MORE_ANNOTATIONS = (
    "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties",
    "multipleOf", "default", "examples",
)  # fmt: skip
_SENTENCE_END = (".", "!", "?")
# Words the notation writes for types of its own: a definition called one of them is given
# another name, or ``type number = string`` would make every ``number`` a string.
_OWN_WORDS = frozenset(
    {"string", "number", "integer", "boolean", "null", "any", "never", "object", "true", "false"}
)


class _Line:
    """One line of notation: its code, and the notes its ``//`` comment will carry."""

    __slots__ = ("code", "notes")

    def __init__(self, code: str, notes: Iterable[str] = ()) -> None:
        self.code = code
        self.notes = list(notes)

    def text(self) -> str:
        if not self.notes:
            return self.code
        comment = self.notes[0]
        for note in self.notes[1:]:  # "; " between notes, a space after a sentence
            comment += (" " if comment.endswith(_SENTENCE_END) else "; ") + note
        return f"{self.code} // {comment}"


_Lines = list[_Line]


def render(schema: Any, *, positional: bool = False) -> str:
    """The notation of ``schema`` (a `schema.for_prompt` result): the root type, then the
    named types it uses."""
    return _Renderer(schema if isinstance(schema, dict) else {}, positional).render()


class _Renderer:
    def __init__(self, root: dict[str, Any], positional: bool) -> None:
        self.root = root
        self.positional = positional
        self.names: dict[str, str] = {}  # reference -> type name
        self.bodies: dict[str, Any] = {}  # reference -> schema
        for key in ("$defs", "definitions"):
            for name, body in (root.get(key) or {}).items():
                self._name(f"#/{key}/{_escape_pointer(name)}", name, body)
        self.used: list[str] = []  # references in the order they are first met
        # Named types that stay keyed in positional mode (see `positional`).
        self.keyed = keyed_references(root) if positional else set()

    def _name(self, ref: str, name: str, body: Any) -> None:
        base = re.sub(r"\W", "_", name) or "T"
        base = "_" + base if base[0].isdigit() else base
        taken = set(self.names.values()) | _OWN_WORDS
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}{n}"
        self.names[ref] = candidate
        self.bodies[ref] = body

    def render(self) -> str:
        lines = self.node(self.root, keyed=False)
        done = 0
        while done < len(self.used):  # declaring a type may use further types
            ref = self.used[done]
            done += 1
            body = self.node(self.bodies[ref], keyed=ref in self.keyed)
            body[0].code = f"type {self.names[ref]} = {body[0].code}"
            lines += body
        return "\n".join(line.text() for line in lines)

    def node(self, schema: Any, *, keyed: bool) -> _Lines:
        """The type of ``schema`` with its notes. ``keyed``: objects here stay keyed even in
        positional mode (options of a real union)."""
        if schema is True or schema == {}:
            return [_Line("any")]
        if schema is False:
            return [_Line("never")]
        if not isinstance(schema, dict):
            return [_Line("any", [f"schema {_json(schema)}"])]
        parts = [self._own_type(schema, keyed)]
        for key, joiner in (("anyOf", " | "), ("oneOf", " | ")):
            if isinstance(schema.get(key), list):
                real = is_real_union(schema[key])
                parts.append(self._union(schema[key], joiner, keyed=keyed or real))
        if isinstance(schema.get("allOf"), list):
            several = len(schema["allOf"]) > 1
            parts.append(self._union(schema["allOf"], " & ", keyed=keyed or several))
        typed = [part for part in parts if part is not None and not _untyped(part)]
        if not typed:
            lines = [_Line("any")]
        elif len(typed) == 1:
            lines = typed[0]
        else:
            lines = _join([_parenthesised(part) for part in typed], " & ")
        # Parts that only constrain (``anyOf: [{"required": [...]}, ...]``) say so in notes.
        constraints = [note for part in parts if part and _untyped(part) for note in part[0].notes]
        lines[0].notes[:0] = self._notes(schema) + constraints
        return lines

    def _own_type(self, schema: dict[str, Any], keyed: bool) -> _Lines | None:
        """The type said by the node's own keywords (not its anyOf/oneOf/allOf)."""
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return [_Line(self._reference(ref))] if self._known(ref) else None
        if "const" in schema:
            return [_Line(_json(schema["const"]))]
        if isinstance(schema.get("enum"), list):
            return [_Line(" | ".join(_json(value) for value in schema["enum"]) or "never")]
        kinds = schema.get("type")
        if kinds is None:
            if any(k in schema for k in ("properties", "patternProperties", "propertyNames")):
                kinds = "object"
            elif "items" in schema or "prefixItems" in schema:
                kinds = "array"
            else:
                return None
        if not isinstance(kinds, list):
            kinds = [kinds]
        options = [self._kind(kind, schema, keyed) for kind in kinds]
        return _join(options, " | ") if options else [_Line("never")]

    def _known(self, ref: str) -> bool:
        if ref == "#" and "#" not in self.names:
            self._name("#", "Root", self.root)
        return ref in self.names

    def _reference(self, ref: str) -> str:
        if ref not in self.used:
            self.used.append(ref)
        return self.names[ref]

    def _kind(self, kind: Any, schema: dict[str, Any], keyed: bool) -> _Lines:
        if kind == "object":
            return self._object(schema, keyed)
        if kind == "array":
            return self._array(schema)
        if kind in ("string", "number", "integer", "boolean", "null"):
            return [_Line(kind)]
        return [_Line("any", [f"type {_json(kind)}"])]

    def _object(self, schema: dict[str, Any], keyed: bool) -> _Lines:
        properties = schema.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        required = set(schema.get("required") or ())
        as_tuple = self.positional and object_fields(schema) is not None
        members: list[_Lines] = []
        for name, sub in properties.items():
            lines = self.node(sub, keyed=False)
            if name in required:
                label = _label(name)
            elif as_tuple and not keyed:
                # Every value of a tuple is written; an optional one may be null (absent).
                label = _label(name)
                lines = lines if _admits_null(lines) else _suffixed(lines, " | null")
            else:
                label = _label(name) + "?"
            members.append(_prefixed(label + ": ", lines))
        members += self._index_signatures(schema)
        if not members:
            return [_Line("{}" if schema.get("additionalProperties") is False else "object")]
        if as_tuple:
            if not keyed:
                return _block("[", members, "]", separator=",")
            keyed_object = _block("{", members, "}", separator="")
            keyed_object[0].notes.append("keys kept")  # an option of a union: see positional
            return keyed_object
        if len(members) == 1 and not properties and len(members[0]) == 1:
            (line,) = members[0]
            return [_Line("{" + line.code + "}", line.notes)]
        return _block("{", members, "}", separator="")

    def _index_signatures(self, schema: dict[str, Any]) -> list[_Lines]:
        """Maps: ``[key: string]: T`` for ``additionalProperties`` and each of the
        ``patternProperties``, the key's type and notes from ``propertyNames``."""
        key, key_notes = "string", []
        names = schema.get("propertyNames")
        if names is not None:
            lines = self.node(names, keyed=True)
            if len(lines) == 1:
                key = "string" if lines[0].code == "any" else lines[0].code
                key_notes = _labelled(lines, "keys")[0].notes
            else:
                key_notes = [f"keys {_json(names)}"]
        values: list[tuple[Any, list[str]]] = []
        patterns = schema.get("patternProperties")
        for pattern, sub in (patterns if isinstance(patterns, dict) else {}).items():
            values.append((sub, [f"keys match {_one_line(pattern)}"]))
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) or (names is not None and extra in (None, True) and not values):
            values.append((extra if isinstance(extra, dict) else {}, []))
        signatures = []
        for sub, notes in values:
            lines = _prefixed(f"[key: {key}]: ", self.node(sub, keyed=False))
            lines[0].notes[:0] = notes + key_notes
            signatures.append(lines)
        return signatures

    def _array(self, schema: dict[str, Any]) -> _Lines:
        prefix = schema.get("prefixItems")
        items = schema.get("items")
        if isinstance(prefix, list):
            elements = [
                _labelled(self.node(sub, keyed=False), f"[{i}]") for i, sub in enumerate(prefix)
            ]
            if items is not None and items is not False:
                rest = _labelled(self.node(items, keyed=False), "rest")
                elements.append(_prefixed("...", _suffixed(_parenthesised(rest), "[]")))
            if not elements:
                return [_Line("[]")]
            return _join(elements, ", ", "[", "]")
        if items is None:
            return [_Line("any[]")]
        return _suffixed(_parenthesised(_labelled(self.node(items, keyed=False), "items")), "[]")

    def _union(self, options: list[Any], joiner: str, *, keyed: bool) -> _Lines | None:
        rendered = [self.node(option, keyed=keyed) for option in options]
        if not rendered:
            return None
        if all(_untyped(option) for option in rendered):  # options that only constrain
            if joiner == " & ":
                return [_Line("any", [note for option in rendered for note in option[0].notes])]
            either = " | ".join(f"({'; '.join(option[0].notes) or 'any'})" for option in rendered)
            return [_Line("any", [f"one of {either}"])]
        constraints = []
        parts = []
        for lines in rendered:
            if joiner == " & " and _untyped(lines):
                constraints += lines[0].notes  # a part that only constrains: its notes suffice
                continue
            if len(lines) == 1 and lines[0].notes:
                lines = _labelled(lines, lines[0].code)
            parts.append(_parenthesised(lines))
        joined = _join(parts, joiner)
        joined[0].notes += constraints
        return joined

    def _notes(self, schema: dict[str, Any]) -> list[str]:
        """What the node says that its type cannot: the comment's content."""
        notes = []
        description = schema.get("description")
        if isinstance(description, str):
            notes.append(" ".join(description.split()))
        notes += [_annotation(key, schema[key]) for key in _ANNOTATIONS if key in schema]
        notes += [
            sign + _json(schema[key]) for key, sign in _BOUNDS.items() if _is_bound(schema, key)
        ]
        notes += [f"{key} {_json(schema[key])}" for key in _MORE_ANNOTATIONS if key in schema]
        if schema.get("uniqueItems") is True:
            notes.append("uniqueItems")
        for key, value in schema.items():
            shown = (
                key in _STRUCTURE
                or key in _ANNOTATIONS
                or key in _MORE_ANNOTATIONS
                or (key == "description" and isinstance(value, str))
                or (key == "uniqueItems" and isinstance(value, bool))
                or _is_bound(schema, key)
            )
            if not shown:
                notes.append(f"{key} {_json(value)}")
        return [note for note in notes if note] + self._unrendered(schema)

    def _unrendered(self, schema: dict[str, Any]) -> list[str]:
        """Structural keywords whose value the notation could not express."""
        notes = []
        ref = schema.get("$ref")
        if "$ref" in schema and not (isinstance(ref, str) and self._known(ref)):
            notes.append(f"$ref {_json(ref)}")
        if "enum" in schema and "const" in schema:
            notes.append(f"enum {_json(schema['enum'])}")
        literal = "const" in schema or isinstance(schema.get("enum"), list)
        if literal and "type" in schema:
            notes.append(f"type {_json(schema['type'])}")
        if "enum" in schema and not isinstance(schema["enum"], list):
            notes.append(f"enum {_json(schema['enum'])}")
        for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            if key in schema and not isinstance(schema[key], list):
                notes.append(f"{key} {_json(schema[key])}")
        for key in ("properties", "patternProperties"):
            if key in schema and not isinstance(schema[key], dict):
                notes.append(f"{key} {_json(schema[key])}")
        properties = schema.get("properties")
        required = schema.get("required")
        if required and not (
            isinstance(properties, dict)
            and isinstance(required, list)
            and all(name in properties for name in required)
        ):
            notes.append(f"required {_json(required)}")  # not marked by a missing "?"
        return notes


def _untyped(lines: _Lines) -> bool:
    """Whether rendered lines are a bare ``any`` (a part that only constrains)."""
    return len(lines) == 1 and lines[0].code == "any"


def _is_bound(schema: dict[str, Any], key: str) -> bool:
    value = schema.get(key)
    return key in _BOUNDS and isinstance(value, (int, float)) and not isinstance(value, bool)


def _annotation(key: str, value: Any) -> str:
    return f"{key} {_one_line(value) if isinstance(value, str) else _json(value)}"


def _block(open_: str, members: list[_Lines], close: str, *, separator: str) -> _Lines:
    lines = [_Line(open_)]
    for i, member in enumerate(members):
        if separator and i < len(members) - 1:
            member = _suffixed(member, separator)
        lines += member
    lines.append(_Line(close))
    return lines


def _join(parts: list[_Lines], joiner: str, open_: str = "", close: str = "") -> _Lines:
    """The parts written one after another: the last line of each continues on the first
    line of the next, whose notes it takes."""
    lines = [_Line(open_)]
    for i, part in enumerate(parts):
        first, *rest = part
        lines[-1].code += (joiner if i else "") + first.code
        lines[-1].notes += first.notes
        lines += [_Line(line.code, line.notes) for line in rest]
    lines[-1].code += close
    return lines


def _prefixed(prefix: str, lines: _Lines) -> _Lines:
    return _join([lines], "", prefix)


def _suffixed(lines: _Lines, suffix: str) -> _Lines:
    return _join([lines], "", "", suffix)


def _parenthesised(lines: _Lines) -> _Lines:
    """Parentheses around a union or intersection, so that ``[]``, ``|`` and ``&`` bind as
    meant."""
    parts = _top_level(lines, "|&")
    return _join([lines], "", "(", ")") if len(parts) > 1 else lines


def _admits_null(lines: _Lines) -> bool:
    """Whether a rendered type takes null: ``any``, or a union with ``null`` among its
    options."""
    return any(part.strip() in ("null", "any") for part in _top_level(lines, "|"))


def _top_level(lines: _Lines, operators: str) -> list[str]:
    """The code of rendered lines split at the operators outside brackets and strings."""
    parts, current = [], ""
    depth, quoted, escaped = 0, False, False
    for char in "".join(line.code for line in lines):
        if quoted:
            quoted, escaped = (escaped or char != '"'), (not escaped and char == "\\")
        elif char == '"':
            quoted = True
        elif char in "{[(":
            depth += 1
        elif char in "}])":
            depth -= 1
        elif depth == 0 and char in operators:
            parts.append(current)
            current = ""
            continue
        current += char
    return [*parts, current]


def _labelled(lines: _Lines, label: str) -> _Lines:
    """The first line's notes as ``label: notes``, so that they read as the part's own where
    they share a line with the whole's."""
    if lines[0].notes:
        lines[0].notes = [f"{label}: {'; '.join(lines[0].notes)}"]
    return lines


def _label(name: str) -> str:
    return name if name.isidentifier() else _json(name)


def _one_line(text: str) -> str:
    """A string shown as it is, unless it holds a line break (then as a JSON string)."""
    return text if len(f"{text}.".splitlines()) == 1 else _json(text)


def _json(value: Any) -> str:
    """Compact JSON on one line: the line breaks JSON leaves unescaped are escaped too."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.translate(_LINE_BREAKS)


# Line breaks (for str.splitlines and many readers) that json.dumps writes as they are.
_LINE_BREAKS = {ord(char): f"\\u{ord(char):04x}" for char in "\x85\u2028\u2029"}


def _escape_pointer(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")

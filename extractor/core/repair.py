"""Safe local repair of near-miss answers, before paying for a re-ask.

Models often write a value the schema almost accepts: ``"cny"`` for one of ``"CNY"``, ``"USD"``,
``"EUR"``, or ``"6,512.24"`` for a number. A re-ask costs a whole request and answer; mending
such a value here costs nothing. Only what is not in doubt is mended, at the places validation
rejected and nowhere else:

- a string where an ``enum`` or ``const`` is expected, when exactly one allowed string equals it
  ignoring case and surrounding whitespace, the allowed strings are all in one case style and
  one of the two is all lower case (``"cny "`` -> ``"CNY"``, ``"Pending"`` -> ``"pending"``;
  nothing when two allowed values differ only in case, ``"m"`` is not ``"M"`` among ``"k"``,
  ``"M"``, ``"G"``, ``"mW"`` is not ``"MW"`` and ``"STRASSE"`` is not ``"Straße"``);
- a string where a number or integer is expected, when it is exactly one number whose digit
  grouping leaves no doubt: ``"6,512.24"``, ``"1,234,567"``, ``"6.512,24"``, ``"1 234,5"``
  (ordinary, no-break and thin spaces), with a leading sign. ``"1,234"`` and ``"1.234"`` are
  left alone (1234 in English, 1.234 in German), and so is anything with a unit, a currency or
  a percent sign (``"5 kg"``, ``"€12"``, ``"6,512.24 EUR"``): the field's unit is not known, so
  the model is asked. An integer is mended only when the number is whole.

The caller validates the mended answer again and keeps it only if it now conforms. Strict
validation (``strict=True``) is the opt-out: it mends nothing.

Locations are paths into the answer as validators give them (pydantic's ``loc``, jsonschema's
``absolute_path``); the schema is followed along the same path through ``$ref``, ``anyOf`` /
``oneOf`` (nullable fields), ``properties``, ``additionalProperties``, ``items`` and
``prefixItems``. A path the answer or the schema does not lead along is left alone.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from .result import Location, format_path

__all__ = ["repair"]

# Spaces that group digits: ordinary, no-break, thin and narrow no-break.
_SPACES = " \u00a0\u2009\u202f"
_NUMBER = re.compile(rf"[+\-\u2212]?[0-9][0-9,.{_SPACES}]*")
_GROUPED = re.compile(r"[0-9]{1,3}(?:X[0-9]{3})+")  # X: the group separator, substituted
_NO_REPAIR = object()
# No quantity has more digits: a longer number is left to the re-ask. Mended, it would become
# infinity as a float (past 308 digits), and an integer Python will not print (past 4,300).
_MAX_DIGITS = 100


def repair(
    data: Any, locations: Sequence[Location], schema: dict[str, Any]
) -> tuple[Any, list[str]] | None:
    """A copy of ``data`` with the values at ``locations`` mended where nothing is in doubt,
    and one line per mend (``currency: "cny" -> "CNY"``); None when nothing was mended (the
    caller's ``data`` is never changed)."""
    fixed: Any = None
    notes: list[str] = []
    done: set[Location] = set()
    for location in locations:
        path = _walk(data, location)
        if not path or path in done:
            continue
        done.add(path)
        current = _value_at(data, path)
        if not isinstance(current, str):
            continue
        value = _mend(current, _schemas_at(schema, path))
        if value is _NO_REPAIR or value == current:
            continue
        if fixed is None:
            fixed = copy.deepcopy(data)
        _set(fixed, path, value)
        notes.append(f"{format_path(path)}: {_dump(current)} -> {_dump(value)}")
    return None if fixed is None else (fixed, notes)


def _walk(data: Any, location: Location) -> Location:
    """The part of ``location`` that leads through ``data``: pydantic puts the name of a union
    member after the value's own path (``("total", "float")``), and a missing field's path
    leads nowhere."""
    node, path = data, []
    for part in location:
        keyed = isinstance(node, dict) and isinstance(part, str) and part in node
        listed = isinstance(node, list) and type(part) is int and 0 <= part < len(node)
        if not (keyed or listed):
            break
        node = node[part]
        path.append(part)
    return tuple(path)


def _value_at(data: Any, path: Location) -> Any:
    for part in path:
        data = data[part]
    return data


def _set(data: Any, path: Location, value: Any) -> None:
    _value_at(data, path[:-1])[path[-1]] = value


def _schemas_at(root: dict[str, Any], path: Location) -> list[dict[str, Any]]:
    """The schemas that may apply at ``path``: one per alternative of every union on the way."""
    schemas = list(_alternatives(root, root, depth=0))
    for part in path:
        children: list[dict[str, Any]] = []
        for schema in schemas:
            child = _child(schema, part)
            if child is not None:
                children.extend(_alternatives(child, root, depth=0))
        schemas = children
    return schemas


def _alternatives(schema: Any, root: dict[str, Any], depth: int) -> Iterator[dict[str, Any]]:
    """``schema`` with ``$ref`` followed and ``anyOf``/``oneOf`` split into their branches.
    A schema whose meaning depends on more than this (``allOf``, ``not``, ``if``) yields an
    empty schema, which accepts strings and so stops any repair."""
    if depth > 32 or not isinstance(schema, dict):  # a reference cycle: give up
        yield {}
        return
    if "$ref" in schema:
        target = _resolve(schema["$ref"], root)
        yield from _alternatives(target, root, depth + 1)
        return
    branches = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(branches, list):
        for branch in branches:
            yield from _alternatives(branch, root, depth + 1)
        return
    if any(key in schema for key in ("allOf", "not", "if")):
        yield {}
        return
    yield schema


def _resolve(ref: Any, root: dict[str, Any]) -> Any:
    """A local ``#/...`` reference; None for anything else."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        return None
    node: Any = root
    for part in ref[1:].split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _child(schema: dict[str, Any], part: str | int) -> Any:
    if isinstance(part, str):
        properties = schema.get("properties")
        if isinstance(properties, dict) and part in properties:
            return properties[part]
        extra = schema.get("additionalProperties")
        return extra if isinstance(extra, dict) else None
    prefix = schema.get("prefixItems")
    if isinstance(prefix, list) and part < len(prefix):
        return prefix[part]
    items = schema.get("items")
    return items if isinstance(items, dict) else None


def _mend(text: str, schemas: list[dict[str, Any]]) -> Any:
    """The one value ``text`` unmistakably means under ``schemas``, or `_NO_REPAIR`."""
    candidates: list[Any] = []
    for schema in schemas:
        types = _types(schema)
        if "const" in schema or "enum" in schema:
            allowed = [schema["const"]] if "const" in schema else schema["enum"]
            if isinstance(allowed, list):
                candidates.extend(_enum_match(text, allowed))
        elif types is None or "string" in types:
            return _NO_REPAIR  # the string may be meant as a string: no guessing
        elif "integer" in types or "number" in types:
            number = _number(text, integer="number" not in types)
            if number is not None:
                candidates.append(number)
    distinct = {_dump(value) for value in candidates}
    return candidates[0] if len(distinct) == 1 else _NO_REPAIR


def _types(schema: dict[str, Any]) -> set[str] | None:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {k for k in kind if isinstance(k, str)}
    return None


def _enum_match(text: str, allowed: list[Any]) -> list[Any]:
    """The allowed strings equal to ``text`` ignoring case and surrounding whitespace, where
    case says nothing: one is a repair, two or more are a doubt.

    Case is ignored only when the allowed symbols are all written in one case style (all
    lower, all upper or all capitalised: case tells none of them apart) and ``text`` or the
    allowed value is all lower case (the model dropped case, or the schema makes none). Where
    case means something, spellings that differ in it may be different things ("m" is milli
    and "M" mega among "k", "M", "G"; "mW" and "MW" are a billion apart; "Co" is cobalt and
    "CO" carbon monoxide), and mending the unit would leave the number beside it
    unconverted: those are re-asked. Case, not case folding: folding makes "ß" and "ss" one,
    so "Masse" (mass) would become the only allowed "Maße" (dimensions), another word."""
    key = text.strip()
    strings = [value for value in allowed if isinstance(value, str)]
    if not _one_case_style(strings):
        return [value for value in strings if value == key][:1]
    matches = [
        value
        for value in strings
        if value.lower() == key.lower() and (key == key.lower() or value == value.lower())
    ]
    return matches[:1] if len(matches) == 1 else matches


def _one_case_style(strings: list[str]) -> bool:
    """Whether the short strings (symbols, codes: three characters at most) that have case
    are written in one style: all lower, all upper, or all capitalised. Longer ones are words,
    whose case a symbol's meaning does not hang on (``["USD", "EUR", "other"]``)."""
    styles = {"lower", "upper", "capitalised"}
    for value in strings:
        if len(value) > 3 or value.lower() == value.upper():
            continue  # a word, or no letters with case: any style
        styles &= {
            style
            for style, form in (
                ("lower", value.lower()),
                ("upper", value.upper()),
                ("capitalised", value.capitalize()),
            )
            if value == form
        }
    return bool(styles)


def _number(text: str, *, integer: bool) -> int | float | None:
    """``text`` as one number when its grouping leaves no doubt, else None."""
    text = text.strip()
    if not _NUMBER.fullmatch(text) or sum(c.isdigit() for c in text) > _MAX_DIGITS:
        return None
    sign = ""
    if text[0] in "+-\u2212":
        sign, text = ("-" if text[0] != "+" else ""), text[1:]
    digits = _ungroup(text)
    if digits is None:
        return None
    try:
        value = Decimal(sign + digits)
    except InvalidOperation:
        return None
    if value != value.to_integral_value():
        return None if integer else float(value)
    return int(value) if integer or "." not in digits else float(value)


def _ungroup(text: str) -> str | None:
    """Digits with at most one ``.`` for the decimal point, or None when the grouping is
    ambiguous or malformed."""
    spaced = any(space in text for space in _SPACES)
    if spaced:
        for space in _SPACES:
            text = text.replace(space, "_")
    marks = [c for c in text if c in ",._"]
    if not marks:
        return text
    kinds = set(marks)
    if spaced and kinds - {"_"}:
        # Spaces group; one "," or "." after the grouped part is the decimal point.
        whole, point, fraction = _split_last(text, kinds - {"_"})
        if point is None or not fraction.isdigit() or not _grouped(whole, "_"):
            return None
        return whole.replace("_", "") + "." + fraction
    if len(kinds) == 2:
        # Both "," and ".": the last one written is the decimal point, once; the other groups.
        point = marks[-1]
        group = (kinds - {point}).pop()
        whole, _, fraction = text.rpartition(point)
        if point in whole or not fraction.isdigit() or not _grouped(whole, group):
            return None
        return whole.replace(group, "") + "." + fraction
    mark = marks[0]
    if len(marks) > 1:  # one kind, written more than once: it groups
        return text.replace(mark, "") if _grouped(text, mark) else None
    if mark == "_":
        return text.replace("_", "") if _grouped(text, "_") else None
    whole, _, fraction = text.partition(mark)
    if not whole or not fraction.isdigit():
        return None
    if len(fraction) == 3 and len(whole) <= 3:
        return None  # "1,234" or "1.234": a thousand-odd in one language, a fraction in another
    return whole + "." + fraction


def _split_last(text: str, points: set[str]) -> tuple[str, str | None, str]:
    """``text`` around its one decimal point (any of ``points``); no point when there are
    several."""
    found = [i for i, c in enumerate(text) if c in points]
    if len(found) != 1:
        return text, None, ""
    at = found[0]
    return text[:at], text[at], text[at + 1 :]


def _grouped(whole: str, group: str) -> bool:
    """Whether ``whole`` is digits grouped in threes by ``group`` (the first group of 1-3)."""
    return bool(_GROUPED.fullmatch(whole.replace(group, "X")))


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)

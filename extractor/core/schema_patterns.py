"""jsonschema's pattern keywords, matched in bounded time.

jsonschema matches ``pattern``, ``patternProperties`` and ``additionalProperties`` (against
pattern properties) with Python's backtracking ``re``, so one pathological pattern in a schema
can hang a call. This module gives each draft's validator class the same three keywords over
`extractor.core.patterns.search`, which cannot run away. It imports jsonschema, so it is loaded
by the first JSON Schema target, not by ``import extractor``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

import jsonschema
from jsonschema.protocols import Validator

from . import patterns

__all__ = ["bounded_validator_class"]


# -- jsonschema's pattern keywords, matched with `patterns.search` -----------------------------
# jsonschema calls ``re.search`` in these three keywords; each is replaced by the same
# rule over a matcher that cannot run away.

_Errors = Iterator[jsonschema.ValidationError]


def bounded_validator_class(schema: Mapping[str, Any]) -> type[Validator]:
    """The jsonschema validator class for ``schema``'s draft, with its pattern keywords
    matched in bounded time."""
    return _bounded(jsonschema.validators.validator_for(schema))


@lru_cache(maxsize=16)
def _bounded(cls: type[Validator]) -> type[Validator]:
    extended: type[Validator] = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        cls,
        {
            "pattern": _pattern,
            "patternProperties": _pattern_properties,
            "additionalProperties": _additional_properties,
        },
    )
    return extended


def _matches(pattern: str, text: str) -> bool | None:
    """Whether ``pattern`` matches ``text``; None when it could not be told in time."""
    try:
        return patterns.search(pattern, text)
    except patterns.PatternTimeout:
        return None


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> _Errors:
    if not validator.is_type(instance, "string"):
        return
    matched = _matches(pattern, instance)
    if matched is None:
        yield jsonschema.ValidationError(
            f"{instance[:80]!r} could not be checked against {pattern!r} in time (the pattern "
            "backtracks); write a value that plainly matches it"
        )
    elif not matched:
        yield jsonschema.ValidationError(f"{instance[:200]!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, properties: Mapping[str, Any], instance: Any, schema: Any
) -> _Errors:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in properties.items():
        for name, value in instance.items():
            if _matches(pattern, name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


def _additional_properties(
    validator: Any, additional: Any, instance: Any, schema: Mapping[str, Any]
) -> _Errors:
    if not validator.is_type(instance, "object"):
        return
    known = schema.get("properties", {})
    name_patterns = list(schema.get("patternProperties", {}))
    extras = [
        name
        for name in instance
        if name not in known and not any(_matches(p, name) for p in name_patterns)
    ]
    if validator.is_type(additional, "object"):
        for name in extras:
            yield from validator.descend(instance[name], additional, path=name)
    elif additional is False and extras:
        listed = ", ".join(repr(name) for name in sorted(extras))
        if name_patterns:
            yield jsonschema.ValidationError(
                f"{listed} {'does' if len(extras) == 1 else 'do'} not match any of the "
                f"regexes: {', '.join(repr(p) for p in sorted(name_patterns))}"
            )
        else:
            yield jsonschema.ValidationError(
                f"Additional properties are not allowed ({listed} "
                f"{'was' if len(extras) == 1 else 'were'} unexpected)"
            )

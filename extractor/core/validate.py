"""Check a parsed answer against the target, and describe what is wrong in a form the model
can act on: one ``ErrorDetail`` per problem, with a JSON path (``items[2].price``).

Two validators share one interface: pydantic for Python types, jsonschema for JSON Schemas.

Validation must end, and end in an `Invalid` or a value, whatever the answer: the parsers bound
how deep a value can nest (`extractor.parse.MAX_DEPTH`; pydantic's own at 200), a validator
that still recurses too deep (a user's, a format check) gives an `Invalid`, and schema
patterns are matched in bounded time (`extractor.core.patterns`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import pydantic

from . import patterns
from .result import ErrorDetail, format_path

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

__all__ = [
    "Invalid",
    "JSONSchemaValidator",
    "PydanticValidator",
    "TargetValidator",
]


class Invalid(Exception):
    """The answer parsed but does not conform. ``is_json`` is False when pydantic found the
    text itself was not JSON, so that the caller can fall back to the lenient parser."""

    def __init__(self, details: list[ErrorDetail], *, is_json: bool = True) -> None:
        super().__init__(details)
        self.details = details
        self.is_json = is_json


_TOO_DEEP = ErrorDetail(
    "",
    "the answer is nested too deep to validate; no answer to this schema needs that. Write "
    "the object flat, as the schema describes it",
)


class TargetValidator(Protocol):
    def validate_python(self, data: Any, *, strict: bool | None, context: Any) -> Any: ...
    def validate_json(self, text: str, *, strict: bool | None, context: Any) -> Any: ...


class PydanticValidator:
    """Validates with a ``TypeAdapter``; JSON text goes straight to pydantic-core's parser,
    which is the fast path for the common case of a well-formed answer."""

    def __init__(self, adapter: pydantic.TypeAdapter[Any]) -> None:
        self._adapter = adapter

    def validate_python(self, data: Any, *, strict: bool | None, context: Any) -> Any:
        try:
            return self._adapter.validate_python(data, strict=strict, context=context)
        except pydantic.ValidationError as exc:
            raise Invalid(_pydantic_details(exc)) from None
        except RecursionError:  # a user's validator that recurses over the value
            raise Invalid([_TOO_DEEP]) from None

    def validate_json(self, text: str, *, strict: bool | None, context: Any) -> Any:
        try:
            return self._adapter.validate_json(text, strict=strict, context=context)
        except pydantic.ValidationError as exc:
            errors = exc.errors(include_url=False)
            if any(error["type"] == "json_invalid" for error in errors):
                raise Invalid([], is_json=False) from None
            raise Invalid(_pydantic_details(exc)) from None


def _pydantic_details(exc: pydantic.ValidationError) -> list[ErrorDetail]:
    return [
        ErrorDetail(
            path=format_path(error["loc"]),
            message=error["msg"],
            # A missing field's "input" is the whole parent object: noise, not a clue.
            value=None if error["type"] == "missing" else error.get("input"),
        )
        for error in exc.errors(include_url=False)
    ]


class JSONSchemaValidator:
    """Validates plain data with jsonschema, formats checked, patterns matched in bounded
    time; returns the data unchanged."""

    def __init__(self, schema: dict[str, Any]) -> None:
        # loaded by the first JSON Schema target, not by `import extractor`
        from .schema_patterns import bounded_validator_class

        cls = bounded_validator_class(schema)
        self._validator: Validator = cls(schema, format_checker=cls.FORMAT_CHECKER)

    def validate_python(self, data: Any, *, strict: bool | None, context: Any) -> Any:
        try:
            with patterns.deadline():
                errors = list(self._validator.iter_errors(data))
        except RecursionError:  # a recursive $ref walked deep, or a format check recursing
            raise Invalid([_TOO_DEEP]) from None
        if errors:
            errors.sort(key=lambda e: list(e.absolute_path))
            raise Invalid(
                [
                    ErrorDetail(format_path(e.absolute_path), _cut(e.message), e.instance)
                    for e in errors
                ]
            )
        return data

    def validate_json(self, text: str, *, strict: bool | None, context: Any) -> Any:
        # jsonschema has no parser of its own: the caller's lenient parse does the work.
        raise Invalid([], is_json=False)


def _cut(message: str, limit: int = 300) -> str:
    """jsonschema quotes the whole offending value in its messages (a megabyte string, a
    thousand-item list): enough of it to recognise goes in the re-ask and the errors file."""
    return message if len(message) <= limit else message[: limit - 1] + "…"

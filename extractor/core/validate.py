"""Check a parsed answer against the target, and describe what is wrong in a form the model
can act on: one ``ErrorDetail`` per problem, with a JSON path (``items[2].price``).

Two validators share one interface: pydantic for Python types, jsonschema for JSON Schemas.

Validation must end, and end in an `Invalid` or a value, whatever the answer: the parsers bound
how deep a value can nest (`extractor.parse.MAX_DEPTH`; pydantic's own at 200), a validator
that still recurses too deep (a user's, a format check) gives an `Invalid`, and schema
patterns are matched in bounded time (`extractor.core.patterns`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import pydantic

from . import patterns
from .result import ErrorDetail, Location, format_path

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

__all__ = [
    "Invalid",
    "JSONSchemaValidator",
    "PydanticValidator",
    "TargetValidator",
]


class Invalid(Exception):
    """The answer parsed but does not conform. ``is_json`` is False when pydantic found the
    text itself was not JSON, so that the caller can fall back to the lenient parser.

    ``locations`` (one per detail) say where in the answer each problem must be fixed, as
    keys and indexes: a missing property's own place (jsonschema reports it on the object),
    and for a property that is not allowed, the object holding it (pydantic reports it on the
    property). Patch re-asks read them. ``mendable`` are the locations of the problems that
    local repair (`extractor.core.repair`) may look at: a string the validator could not read
    as a number, or that is not one of the allowed values. A number in a string that a strict
    field (``StrictInt``, ``ConfigDict(strict=True)``) refused on its type is not among them.
    """

    def __init__(
        self,
        details: list[ErrorDetail],
        *,
        is_json: bool = True,
        locations: Sequence[Location] | None = None,
        mendable: Sequence[Location] = (),
    ) -> None:
        super().__init__(details)
        self.details = details
        self.is_json = is_json
        self.locations: Sequence[Location] = [()] * len(details) if locations is None else locations
        self.mendable = mendable


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
            raise _pydantic_invalid(exc) from None
        except RecursionError:  # a user's validator that recurses over the value
            raise Invalid([_TOO_DEEP]) from None

    def validate_json(self, text: str, *, strict: bool | None, context: Any) -> Any:
        try:
            return self._adapter.validate_json(text, strict=strict, context=context)
        except pydantic.ValidationError as exc:
            errors = exc.errors(include_url=False)
            if any(error["type"] == "json_invalid" for error in errors):
                raise Invalid([], is_json=False) from None
            raise _pydantic_invalid(exc) from None


def _pydantic_invalid(exc: pydantic.ValidationError) -> Invalid:
    errors = exc.errors(include_url=False)
    details = [
        ErrorDetail(
            path=format_path(error["loc"]),
            message=error["msg"],
            # A missing field's "input" is the whole parent object: noise, not a clue.
            value=None if error["type"] == "missing" else error.get("input"),
        )
        for error in errors
    ]
    # An unknown key is fixed by rewriting the object that holds it.
    locations = [
        tuple(error["loc"][:-1] if error["type"] == "extra_forbidden" else error["loc"])
        for error in errors
    ]
    mendable = [tuple(error["loc"]) for error in errors if error["type"] in _MENDABLE]
    return Invalid(details, locations=locations, mendable=mendable)


# pydantic's errors for a string that lax validation tried to read and could not.
_MENDABLE = frozenset({"int_parsing", "float_parsing", "literal_error", "enum"})


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
                ],
                locations=[_location(e) for e in errors],
                mendable=[
                    tuple(e.absolute_path)
                    for e in errors
                    if e.validator in ("type", "enum", "const")
                ],
            )
        return data

    def validate_json(self, text: str, *, strict: bool | None, context: Any) -> Any:
        # jsonschema has no parser of its own: the caller's lenient parse does the work.
        raise Invalid([], is_json=False)


def _location(error: ValidationError) -> Location:
    """Where ``error`` is fixed: a missing property's own place, not its object's."""
    path = tuple(error.absolute_path)
    required = error.validator_value
    if (
        error.validator == "required"
        and isinstance(error.instance, dict)
        and isinstance(required, list)
    ):
        for name in required:
            if name not in error.instance and error.message == f"{name!r} is a required property":
                return (*path, name)
    return path


def _cut(message: str, limit: int = 300) -> str:
    """jsonschema quotes the whole offending value in its messages (a megabyte string, a
    thousand-item list): enough of it to recognise goes in the re-ask and the errors file."""
    return message if len(message) <= limit else message[: limit - 1] + "…"

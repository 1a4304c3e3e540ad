"""Check a parsed answer against the target, and describe what is wrong in a form the model
can act on: one ``ErrorDetail`` per problem, with a JSON path (``items[2].price``).

Two validators share one interface: pydantic for Python types, jsonschema for JSON Schemas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import pydantic

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
    """Validates plain data with jsonschema, formats checked; returns the data unchanged."""

    def __init__(self, schema: dict[str, Any]) -> None:
        import jsonschema  # loaded by the first JSON Schema target, not by `import extractor`

        cls = jsonschema.validators.validator_for(schema)
        self._validator: Validator = cls(schema, format_checker=cls.FORMAT_CHECKER)

    def validate_python(self, data: Any, *, strict: bool | None, context: Any) -> Any:
        errors = sorted(self._validator.iter_errors(data), key=lambda e: list(e.absolute_path))
        if errors:
            raise Invalid(
                [ErrorDetail(format_path(e.absolute_path), e.message, e.instance) for e in errors]
            )
        return data

    def validate_json(self, text: str, *, strict: bool | None, context: Any) -> Any:
        # jsonschema has no parser of its own: the caller's lenient parse does the work.
        raise Invalid([], is_json=False)

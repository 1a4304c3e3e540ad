"""What the caller asked for, and everything derived from it, computed once.

A target is a Python type (anything pydantic's ``TypeAdapter`` takes) or a JSON Schema (a dict,
or the path of a file). JSON mode answers with an object, so a target whose schema is not an
object (a list, a union, a primitive) is wrapped as ``{"result": ...}`` on the wire and
unwrapped on the way back; the caller never sees the wrapper.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cached_property, lru_cache, wraps
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, get_args, get_origin

import pydantic

from ..errors import ConfigurationError
from . import schema as schemas
from .positional import Positional
from .validate import JSONSchemaValidator, PydanticValidator, TargetValidator

if TYPE_CHECKING:
    from ..grounding import Grounding, TextIndex

__all__ = ["WRAPPER_KEY", "Target", "list_target"]

T = TypeVar("T")
R = TypeVar("R")

WRAPPER_KEY = "result"

_TOO_DEEP = (
    "the target's schema nests too deep to use: its objects, arrays or chains of $ref go "
    "deeper than Python can walk (from about a hundred levels), and deeper than any answer "
    "is read (128 levels). Flatten the schema, or give its deep parts a looser type."
)


def _bounded(derive: Callable[[Target[Any]], R]) -> Callable[[Target[Any]], R]:
    """``derive`` (a walk over the schema), with a schema deep enough to exhaust Python's
    recursion limit refused as the caller's `ConfigurationError` rather than leaking a
    `RecursionError` from the middle of a call."""

    @wraps(derive)
    def bounded(target: Target[Any]) -> R:
        try:
            return derive(target)
        except RecursionError:
            raise ConfigurationError(_TOO_DEEP) from None

    return bounded


class Target(Generic[T]):
    """A target with its schema, prompt rendering and validator.

    ``schema`` is the JSON Schema of the object the model must write (wrapped if need be);
    ``annotation`` is the Python type, or None for a JSON Schema target.
    """

    def __init__(
        self,
        *,
        schema: dict[str, Any],
        validator: TargetValidator,
        wrapped: bool,
        name: str,
        annotation: Any = None,
    ) -> None:
        self.schema = schema
        self.validator = validator
        self.wrapped = wrapped
        self.name = name
        self.annotation = annotation

    @classmethod
    def of(cls, spec: Any) -> Target[Any]:
        """The target for ``spec``, cached: a target is derived once however often it is used."""
        try:
            return cls._of(spec)
        except RecursionError:  # json.dumps, jsonschema's check_schema, pydantic's schema
            raise ConfigurationError(_TOO_DEEP) from None

    @classmethod
    def _of(cls, spec: Any) -> Target[Any]:
        if isinstance(spec, Target):
            return spec
        if isinstance(spec, (str, PathLike)):
            path = Path(spec)
            try:
                mtime = path.stat().st_mtime_ns
            except OSError as exc:
                raise ConfigurationError(
                    f"cannot read the JSON Schema file {str(path)!r}: {exc.strerror}. "
                    "Pass the path of a JSON Schema file, a schema dict, or a Python type."
                ) from None
            return _target_from_file(str(path.resolve()), mtime)
        if isinstance(spec, dict):
            # Order kept in the key: it is the order the prompt shows the properties in, and
            # the order of a compact answer's values.
            return _target_from_schema_text(json.dumps(spec))
        try:
            return _target_from_type(spec)
        except TypeError:  # unhashable annotation (e.g. Annotated with a list): build uncached
            return _build_from_type(spec)

    @cached_property
    @_bounded
    def prompt_schema_data(self) -> Any:
        """The schema as the model is shown it (`schema.for_prompt`): in the system prompt,
        or as a tool's parameters."""
        return schemas.for_prompt(self.schema)

    @cached_property
    @_bounded
    def prompt_schema(self) -> str:
        """The schema as the system prompt shows it: type notation (`notation`), about half
        the tokens of the JSON Schema and read as fluently."""
        from . import notation  # loaded with the first prompt, not with the package

        return notation.render(self.prompt_schema_data)

    @cached_property
    @_bounded
    def compact_prompt_schema(self) -> str:
        """The schema as the ``compact`` mode's system prompt shows it: objects as labelled
        tuples (`positional`)."""
        from . import notation

        return notation.render(self.prompt_schema_data, positional=True)

    @cached_property
    @_bounded
    def positional(self) -> Positional:
        """The ``compact`` mode's answers converted both ways (`positional`)."""
        return Positional(self.prompt_schema_data)

    @cached_property
    @_bounded
    def strict_schema(self) -> dict[str, Any]:
        """The schema as strict structured outputs (``json_schema`` mode) want it."""
        return cast(dict[str, Any], schemas.strict(self.schema))

    def validate(self, data: Any, *, strict: bool | None = None, context: Any = None) -> T:
        """Validate the model's parsed object and unwrap it; raises ``validate.Invalid``."""
        value = self.validator.validate_python(data, strict=strict, context=context)
        return self._unwrap(value)

    def validate_json(self, text: str, *, strict: bool | None = None, context: Any = None) -> T:
        """Validate the model's raw text in one step; raises ``validate.Invalid`` (with
        ``is_json=False`` when the text needs the lenient parser first)."""
        value = self.validator.validate_json(text, strict=strict, context=context)
        return self._unwrap(value)

    @cached_property
    def value_schema(self) -> dict[str, Any]:
        """The JSON Schema of the value the caller gets: inside the wrapper when wrapped (its
        ``$ref``s point into `schema`)."""
        return (
            cast(dict[str, Any], self.schema["properties"][WRAPPER_KEY])
            if self.wrapped
            else self.schema
        )

    def ground(self, data: Any, text: str | TextIndex) -> Grounding:
        """Where the values of ``data`` (plain data of the caller's value, unwrapped) are
        written in ``text``."""
        from ..grounding import ground  # grounding loads with the first call that asks for it

        return ground(data, self.value_schema, text, root=self.schema)

    def unwrap_data(self, data: Any) -> Any:
        """The model's parsed answer without the wrapper (as plain data)."""
        if self.wrapped and isinstance(data, dict):
            return data.get(WRAPPER_KEY)
        return data

    def wrap_data(self, data: Any) -> Any:
        """Plain data of the caller's value as the model's answer would hold it."""
        return {WRAPPER_KEY: data} if self.wrapped else data

    def _unwrap(self, value: Any) -> T:
        if not self.wrapped:
            return cast(T, value)
        if isinstance(value, dict):
            return cast(T, value[WRAPPER_KEY])
        return cast(T, getattr(value, WRAPPER_KEY))

    def plain(self, value: Any) -> Any:
        """A validated value as plain JSON data (unwrapped): what the batch output and
        ``extractor extract`` print."""
        return self.unwrap_data(self.to_answer(value))

    def to_answer(self, value: Any) -> Any:
        """The JSON the model should write for ``value``: how few-shot examples are shown."""
        if self.annotation is not None:
            value = _adapter(self.annotation).dump_python(value, mode="json")
        return self.wrap_data(value)


@lru_cache(maxsize=256)
def _adapter(annotation: Any) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(annotation)


@lru_cache(maxsize=256)
def _target_from_type(annotation: Any) -> Target[Any]:
    return _build_from_type(annotation)


def _build_from_type(annotation: Any) -> Target[Any]:
    try:
        adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(annotation)
        schema = adapter.json_schema()
    except (pydantic.PydanticSchemaGenerationError, pydantic.PydanticUserError, TypeError) as exc:
        raise ConfigurationError(
            f"cannot extract into {annotation!r}: {exc}. A target is a pydantic model, a type "
            "pydantic's TypeAdapter accepts, or a JSON Schema (dict or file path)."
        ) from None
    name = _function_name(getattr(annotation, "__name__", None) or schema.get("title"))
    if schema.get("type") == "object":
        return Target(
            schema=schema,
            validator=PydanticValidator(adapter),
            wrapped=False,
            name=name,
            annotation=annotation,
        )
    wrapper = pydantic.create_model("Result", **{WRAPPER_KEY: (annotation, ...)})  # type: ignore[call-overload]
    wrapper_adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(wrapper)
    return Target(
        schema=wrapper_adapter.json_schema(),
        validator=PydanticValidator(wrapper_adapter),
        wrapped=True,
        name=name,
        annotation=annotation,
    )


@lru_cache(maxsize=64)
def _target_from_file(path: str, mtime_ns: int) -> Target[Any]:
    try:
        schema = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigurationError(
            f"cannot load the JSON Schema file {path!r}: {exc}. It must be a UTF-8 JSON file."
        ) from None
    if not isinstance(schema, dict):
        raise ConfigurationError(f"{path!r} does not hold a JSON Schema object.")
    return _build_from_schema(schema, default_name=Path(path).stem)


@lru_cache(maxsize=256)
def _target_from_schema_text(text: str) -> Target[Any]:
    return _build_from_schema(json.loads(text), default_name=None)


def _build_from_schema(schema: dict[str, Any], *, default_name: str | None) -> Target[Any]:
    import jsonschema  # only JSON Schema targets need it: loaded on first use

    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ConfigurationError(
            f"invalid JSON Schema: {exc.message} (at {'/'.join(map(str, exc.path)) or 'root'})."
        ) from None
    name = _function_name(schema.get("title") or default_name)
    if schema.get("type") == "object":
        return Target(
            schema=schema, validator=JSONSchemaValidator(schema), wrapped=False, name=name
        )
    inner, wrapped = schemas.hoist(schema)
    wrapped.update(
        type="object",
        properties={WRAPPER_KEY: inner},
        required=[WRAPPER_KEY],
        additionalProperties=False,
    )
    return Target(schema=wrapped, validator=JSONSchemaValidator(wrapped), wrapped=True, name=name)


def _function_name(name: str | None) -> str:
    """Tool and json_schema names must match ``^[a-zA-Z0-9_-]{1,64}$``."""
    cleaned = re.sub(r"[^a-zA-Z0-9_-]+", "_", name or "").strip("_")[:64]
    return cleaned or "extract"


def list_target(item: Any) -> tuple[Any, TargetValidator]:
    """The list target for an item type (``list[Item]`` itself is accepted too), and the
    validator of one item."""
    if isinstance(item, dict):
        inner, root = schemas.hoist(item)
        return {"type": "array", "items": inner, **root}, JSONSchemaValidator(item)
    if get_origin(item) is list:
        (element,) = get_args(item) or (Any,)
        return item, PydanticValidator(pydantic.TypeAdapter(element))
    return list[item], PydanticValidator(pydantic.TypeAdapter(item))

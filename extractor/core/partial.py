"""Typed snapshots of a value that is still arriving, in time proportional to what changed.

The incremental parser keeps one live JSON value that grows in place. A snapshot mirrors it
in the caller's types: a pydantic model becomes an instance built as ``model_construct``
builds it, so no user validator ever sees incomplete data, and fields not yet written are None (and
absent from ``model_fields_set``). A part of the value is complete once anything follows it
in its container (JSON is written front to back): complete parts are converted once,
validated with their own type, and reused by every later snapshot, so only the path from the
root to the newest element is rebuilt each time. A complete part that does not validate is
shown unvalidated; judging it is the extraction loop's job at the end.
"""

from __future__ import annotations

import types
from collections import abc
from collections.abc import Callable
from contextvars import ContextVar
from functools import lru_cache
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import pydantic

__all__ = ["Snapshots"]

Model = TypeVar("Model", bound=pydantic.BaseModel)

# The caller's validation context, for the validators of complete parts. Plans are shared by
# every stream of a type, so the context of the snapshot being built travels beside them.
_CONTEXT: ContextVar[Any] = ContextVar("extractor_snapshot_context", default=None)


class Snapshots:
    """Builds snapshots of one live value for one annotation (None: plain JSON)."""

    def __init__(self, annotation: Any, *, context: Any = None) -> None:
        self._plan = _plan_for(annotation)
        self._context = context
        self._node: _Node | None = None
        self._raw: Any = None

    def snapshot(self, raw: Any) -> Any:
        """The typed snapshot of ``raw``, the live value, as far as it has arrived."""
        if raw is not self._raw:
            self._raw = raw
            self._node = self._plan.node()
        if self._context is None:  # nothing to pass on (the variable is only set below)
            return self._plan.partial(raw, self._node)
        token = _CONTEXT.set(self._context)
        try:
            return self._plan.partial(raw, self._node)
        finally:
            _CONTEXT.reset(token)


class _Node:
    """Conversion state of one live container: its converted complete children, and the
    state of its last child, the only one still growing."""

    __slots__ = ("done", "last", "last_node", "present", "seen")

    def __init__(self) -> None:
        self.done: Any = None
        self.present: set[str] = set()  # models: the fields in ``done``
        self.seen = 0  # raw children already converted into ``done``
        self.last: Any = None
        self.last_node: _Node | None = None


class _Plan:
    """How to convert values of one annotation."""

    exact: type | None = None  # a scalar type whose JSON values need no conversion

    def node(self) -> _Node | None:
        return None

    def complete(self, raw: Any, node: _Node | None) -> Any:
        raise NotImplementedError

    def partial(self, raw: Any, node: _Node | None) -> Any:
        raise NotImplementedError

    def _child(self, plan: _Plan, raw: Any, node: _Node) -> Any:
        """Convert the growing last child, keeping its state while it stays the same."""
        if type(raw) is plan.exact:
            return raw
        if raw is not node.last:
            node.last = raw
            # Only containers keep state; a scalar is converted whole each time.
            node.last_node = plan.node() if type(raw) in (dict, list) else None
        return plan.partial(raw, node.last_node)


class _Json(_Plan):
    """Untyped JSON (JSON Schema targets, and shapes a typed plan cannot mirror).

    Complete containers are never touched by the parser again, so they are shared as they
    are; only the growing path is copied.
    """

    def node(self) -> _Node:
        return _Node()

    def complete(self, raw: Any, node: _Node | None) -> Any:
        return raw

    def partial(self, raw: Any, node: _Node | None) -> Any:
        if node is None:
            node = _Node()
        if isinstance(raw, list):
            return _partial_list(self, self, raw, node)
        if isinstance(raw, dict):
            return _partial_dict(self, raw, node, None)
        return raw


_JSON = _Json()


class _Leaf(_Plan):
    """A type this module does not take apart (scalars, unions, enums, dates...).

    Complete values go through the type's own validation; a growing string or container is
    shown as it is.
    """

    def __init__(self, annotation: Any) -> None:
        self._annotation = annotation
        self._adapter: pydantic.TypeAdapter[Any] | None = None
        # The common scalars need no validator when JSON already gave the right type.
        self.exact = annotation if annotation in (str, int, float, bool) else None

    def node(self) -> _Node:
        return _Node()

    def complete(self, raw: Any, node: _Node | None) -> Any:
        if type(raw) is self.exact:
            return raw
        if self._adapter is None:
            self._adapter = pydantic.TypeAdapter(self._annotation)
        try:
            return self._adapter.validate_python(raw, context=_CONTEXT.get())
        except pydantic.ValidationError:
            return raw

    def partial(self, raw: Any, node: _Node | None) -> Any:
        if isinstance(raw, (str, list, dict)):
            return _JSON.partial(raw, node)
        return self.complete(raw, node)


class _Model(_Plan):
    def __init__(self, cls: type[pydantic.BaseModel]) -> None:
        self._cls = cls
        self._fields: dict[str, tuple[str, _Plan]] | None = None
        self._blank: dict[str, None] = dict.fromkeys(cls.model_fields)
        # model_construct's bookkeeping (defaults, private attributes, extras) costs more
        # than the snapshot itself; a plain model needs none of it, as every field is given.
        plain = not cls.__private_attributes__ and cls.model_config.get("extra") != "allow"
        self._construct = _plain_construct(cls) if plain else _full_construct(cls)

    def _load_fields(self) -> dict[str, tuple[str, _Plan]]:
        """Field plans by JSON key (name and aliases), built on first use: a model may refer
        to itself."""
        fields: dict[str, tuple[str, _Plan]] = {}
        for name, info in self._cls.model_fields.items():
            plan = _plan_for(_field_annotation(info))
            fields[name] = (name, plan)
            for alias in (info.alias, info.validation_alias):
                if isinstance(alias, str):
                    fields[alias] = (name, plan)
        self._fields = fields
        return fields

    def node(self) -> _Node:
        return _Node()

    def complete(self, raw: Any, node: _Node | None) -> Any:
        if not isinstance(raw, dict):
            return _JSON.complete(raw, node)
        try:
            return self._cls.model_validate(raw, context=_CONTEXT.get())
        except pydantic.ValidationError:
            return self.partial(raw, node, finished=True)

    def partial(self, raw: Any, node: _Node | None, *, finished: bool = False) -> Any:
        if type(raw) is not dict:
            return _JSON.partial(raw, node)
        if node is None:
            node = _Node()
        if node.done is None:
            node.done, node.present = self._blank.copy(), set()
        fields = self._fields or self._load_fields()
        count = len(raw) if finished else len(raw) - 1
        if count > node.seen:
            for key in _keys_between(raw, node.seen, count):
                field = fields.get(key)
                if field is not None:
                    name, plan = field
                    node.done[name] = _complete_child(plan, raw[key], node)
                    node.present.add(name)
            node.seen = count
        values, present = node.done.copy(), node.present.copy()
        if not finished and raw:
            key = next(reversed(raw))
            field = fields.get(key)
            if field is not None:
                name, plan = field
                values[name] = self._child(plan, raw[key], node)
                present.add(name)
        return self._construct(values, present)


class _List(_Plan):
    def __init__(self, item: _Plan) -> None:
        self._item = item

    def node(self) -> _Node:
        return _Node()

    def complete(self, raw: Any, node: _Node | None) -> Any:
        if not isinstance(raw, list):
            return _JSON.complete(raw, node)
        return _partial_list(self, self._item, raw, node or _Node(), finished=True)

    def partial(self, raw: Any, node: _Node | None) -> Any:
        if not isinstance(raw, list):
            return _JSON.partial(raw, node)
        return _partial_list(self, self._item, raw, node or _Node())


class _Dict(_Plan):
    def __init__(self, value: _Plan) -> None:
        self._value = value

    def node(self) -> _Node:
        return _Node()

    def complete(self, raw: Any, node: _Node | None) -> Any:
        if not isinstance(raw, dict):
            return _JSON.complete(raw, node)
        return _partial_dict(self, raw, node or _Node(), self._value, finished=True)

    def partial(self, raw: Any, node: _Node | None) -> Any:
        if not isinstance(raw, dict):
            return _JSON.partial(raw, node)
        return _partial_dict(self, raw, node or _Node(), self._value)


class _Optional(_Plan):
    """``X | None``: null is complete as it is; anything else is an X."""

    def __init__(self, inner: _Plan) -> None:
        self._inner = inner

    def node(self) -> _Node | None:
        return self._inner.node()

    def complete(self, raw: Any, node: _Node | None) -> Any:
        return None if raw is None else self._inner.complete(raw, node)

    def partial(self, raw: Any, node: _Node | None) -> Any:
        return None if raw is None else self._inner.partial(raw, node)


def _plain_construct(cls: type[Model]) -> Callable[[dict[str, Any], set[str]], Model]:
    new, setattr_ = cls.__new__, object.__setattr__

    def construct(values: dict[str, Any], fields_set: set[str]) -> Model:
        model = new(cls)
        setattr_(model, "__dict__", values)
        setattr_(model, "__pydantic_fields_set__", fields_set)
        setattr_(model, "__pydantic_extra__", None)
        setattr_(model, "__pydantic_private__", None)
        return model

    return construct


def _full_construct(cls: type[Model]) -> Callable[[dict[str, Any], set[str]], Model]:
    def construct(values: dict[str, Any], fields_set: set[str]) -> Model:
        return cls.model_construct(_fields_set=fields_set, **values)

    return construct


def _complete_child(plan: _Plan, raw: Any, node: _Node) -> Any:
    """Convert a child that has just stopped growing, reusing its state if it was tracked."""
    return plan.complete(raw, node.last_node if raw is node.last else None)


def _partial_list(
    owner: _Plan, item: _Plan, raw: list[Any], node: _Node, *, finished: bool = False
) -> list[Any]:
    if node.done is None:
        node.done = []
    done: list[Any] = node.done
    count = len(raw) if finished else len(raw) - 1
    while node.seen < count:
        done.append(_complete_child(item, raw[node.seen], node))
        node.seen += 1
    if finished or not raw:
        return list(done)
    return [*done, owner._child(item, raw[-1], node)]


def _partial_dict(
    owner: _Plan,
    raw: dict[str, Any],
    node: _Node,
    value: _Plan | None,
    *,
    finished: bool = False,
) -> dict[str, Any]:
    """A dict of ``value``s, or of plain JSON when ``value`` is None."""
    plan = value or _JSON
    if node.done is None:
        node.done = {}
    done: dict[str, Any] = node.done
    count = len(raw) if finished else len(raw) - 1
    for key in _keys_between(raw, node.seen, count):
        done[key] = _complete_child(plan, raw[key], node)
    node.seen = max(node.seen, count)
    if finished or not raw:
        return dict(done)
    key = next(reversed(raw))
    return {**done, key: owner._child(plan, raw[key], node)}


def _keys_between(raw: dict[str, Any], start: int, stop: int) -> list[str]:
    """The keys at positions ``start`` to ``stop - 1``, found from the end: the new keys
    are the last ones, and the old ones are not walked again."""
    if stop <= start:
        return []
    newest_first: list[str] = []
    for key in reversed(raw):
        newest_first.append(key)
        if len(newest_first) == len(raw) - start:
            break
    return newest_first[::-1][: stop - start]


def _field_annotation(info: Any) -> Any:
    if info.metadata:
        parts = (info.annotation, *info.metadata)
        return Annotated[parts]
    return info.annotation


def _plan_for(annotation: Any) -> _Plan:
    if annotation is None or annotation is Any:
        return _JSON
    try:
        return _cached_plan(annotation)
    except TypeError:  # an unhashable annotation: build it for this use only
        return _build(annotation)


@lru_cache(maxsize=512)
def _cached_plan(annotation: Any) -> _Plan:
    return _build(annotation)


def _build(annotation: Any) -> _Plan:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        # Constraints judge complete values: kept on leaves, looked through on containers.
        inner = _plan_for(args[0])
        return _Leaf(annotation) if isinstance(inner, _Leaf) else inner
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return _Model(annotation)
    if origin in (Union, types.UnionType):
        rest = [arg for arg in args if arg is not type(None)]
        if len(rest) == 1 and len(args) == 2:
            return _Optional(_plan_for(rest[0]))
    elif origin in (list, abc.Sequence) and args:
        return _List(_plan_for(args[0]))
    elif origin in (dict, abc.Mapping) and args and args[0] is str:
        return _Dict(_plan_for(args[1]))
    elif annotation in (list, dict):
        return _JSON
    return _Leaf(annotation)

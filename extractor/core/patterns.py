"""Schema ``pattern``s matched in bounded time, whatever the pattern and the answer.

jsonschema matches ``pattern`` and ``patternProperties`` with Python's backtracking ``re``,
where ``^(a+)+$`` against forty ``a``s and a ``!`` runs for hours: one hostile or unlucky
answer would hang the call, and in a batch job the event loop with every other record and
the signal handlers. Patterns are matched instead by the Rust ``regex`` engine that
pydantic-core ships (it is what pydantic itself uses for ``Field(pattern=...)``), whose time
is linear in the text. Patterns it cannot run (look-around, back-references) go to the
``regex`` package (the ``typed-extractor[patterns]`` extra), which backtracks too but stops at a
deadline; every such match of one validation shares `VALIDATION_SECONDS`. Without the extra,
such a pattern is refused with a `ConfigurationError` that says so.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache

import pydantic_core
from pydantic_core import core_schema

from ..errors import ConfigurationError

__all__ = ["VALIDATION_SECONDS", "PatternTimeout", "deadline", "search"]

# Time one validation may spend in backtracking pattern matches, all of them together.
VALIDATION_SECONDS = 1.0

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "extractor_pattern_deadline", default=None
)


class PatternTimeout(Exception):
    """A backtracking match ran out of the validation's time."""


@contextmanager
def deadline(seconds: float = VALIDATION_SECONDS) -> Iterator[None]:
    """Bound the backtracking matches made inside the block to ``seconds`` in all."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` matches anywhere in ``text`` (JSON Schema's semantics); raises
    `PatternTimeout` when a backtracking match runs out of time."""
    return _searcher(pattern)(text)


@lru_cache(maxsize=1024)
def _searcher(pattern: str) -> Callable[[str], bool]:
    try:
        validator = pydantic_core.SchemaValidator(
            core_schema.str_schema(pattern=pattern, regex_engine="rust-regex")
        )
    except pydantic_core.SchemaError:
        return _backtracking(pattern)

    def linear(text: str) -> bool:
        try:
            validator.validate_python(text)
        except pydantic_core.ValidationError:
            return False
        return True

    return linear


def _backtracking(pattern: str) -> Callable[[str], bool]:
    try:
        import regex
    except ImportError:
        raise ConfigurationError(
            f"the schema's pattern {pattern!r} uses look-around or back-references, which "
            "need a backtracking matcher that can take hours on some answers. Install "
            "typed-extractor[patterns] (the regex package) to match it with a time limit, or "
            "rewrite the pattern without them."
        ) from None
    try:
        compiled = regex.compile(pattern)
    except regex.error as exc:
        raise ConfigurationError(
            f"the schema's pattern {pattern!r} is not a valid regular expression: {exc}."
        ) from None

    def bounded(text: str) -> bool:
        ends = _deadline.get()
        remaining = VALIDATION_SECONDS if ends is None else ends - time.monotonic()
        if remaining <= 0:
            raise PatternTimeout(pattern)
        try:
            return compiled.search(text, timeout=remaining) is not None
        except TimeoutError:
            raise PatternTimeout(pattern) from None

    return bounded

"""The options of a call, as typed dictionaries, and the check that catches a misspelt one.

The drivers' signatures take these as ``**options: Unpack[CallOptions]``, so an editor
completes them and mypy checks them; `check_options` catches at run time what no type checker
saw (``temprature=0.2``), naming the closest valid option instead of ignoring it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from typing_extensions import TypedDict

from ..errors import ConfigurationError
from .modes import ModeName

__all__ = [
    "CALL_OPTIONS",
    "DEFAULT_CONCURRENCY",
    "CallOptions",
    "DefaultOptions",
    "check_options",
    "check_prompt_options",
]

#: Records in flight at once in ``extract_many``.
DEFAULT_CONCURRENCY = 8


class DefaultOptions(TypedDict, total=False):
    """Options that may be set on the extractor as defaults for every call."""

    messages: Sequence[Mapping[str, Any]]
    instructions: str
    examples: Sequence[tuple[str, Any]]
    context: Any
    mode: ModeName
    strict: bool
    temperature: float
    top_p: float
    max_tokens: int
    seed: int
    reasoning_effort: str
    extra_body: Mapping[str, Any]
    max_cost: Any
    max_total_tokens: int
    retry_truncated: bool
    ground: bool
    require_grounding: bool
    chunk_size: int
    chunk_overlap: int
    chunk_concurrency: int
    passes: int
    partial_ok: bool


class CallOptions(DefaultOptions, total=False):
    """Per-call options of ``extract`` and friends: the defaults plus model and re-asks."""

    model: str
    max_retries: int


CALL_OPTIONS: frozenset[str] = frozenset(CallOptions.__annotations__) | frozenset(
    DefaultOptions.__annotations__
)


def check_options(given: Iterable[str], valid: Iterable[str], where: str) -> None:
    """Raise `ConfigurationError` for the first name in ``given`` that is not ``valid``,
    suggesting the closest valid name."""
    known = valid if isinstance(valid, (set, frozenset)) else frozenset(valid)
    for name in given:
        if name in known:
            continue
        import difflib  # only a misspelt option needs it

        names = sorted(known)
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"valid options: {', '.join(names)}."
        raise ConfigurationError(f"{where} got an unknown option {name!r}: {hint}")


def check_prompt_options(options: CallOptions) -> None:
    """Raise `ConfigurationError` for ``messages``, ``examples`` or ``instructions`` of the
    wrong shape (a string for the messages, examples that are not pairs), which would
    otherwise fail deep inside building the prompt with a ValueError or AttributeError."""
    given, examples = options.get("messages", ()), options.get("examples", ())
    instructions = options.get("instructions")
    if isinstance(given, (str, bytes)) or not all(isinstance(m, Mapping) for m in given):
        raise ConfigurationError(
            "messages= must be a list of OpenAI-style messages, "
            '[{"role": "user", "content": "..."}, ...]; the text to extract from goes as text='
        )
    if isinstance(examples, (str, bytes)) or not all(
        isinstance(e, (tuple, list)) and len(e) == 2 and isinstance(e[0], str) for e in examples
    ):
        raise ConfigurationError("examples= must be a list of (text, value) pairs, text a str")
    if instructions is not None and not isinstance(instructions, str):
        raise ConfigurationError(f"instructions= must be a str, not {type(instructions).__name__}")

"""What each model accepts: the parameter rules of providers, as data.

The real OpenAI API rejects ``max_tokens`` for its reasoning models (gpt-5.x, the o-series)
and accepts ``temperature``/``top_p`` for gpt-5.x only with ``reasoning_effort: "none"``;
gateways differ. `ModelRules` holds such rules, chosen by model name with safe defaults and
replaceable by the caller (``rules=ModelRules(...)``). This is the one place that decides
whether a model name is an OpenAI reasoning model: the request builder and the testing kit's
fake model both ask `is_reasoning_model`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["ModelRules", "is_reasoning_model"]

# "gpt-5", "gpt-5.1-mini", "o3", "o4-mini", optionally behind a gateway's "vendor/" prefix.
_REASONING_MODEL = re.compile(r"^(?:[\w.-]+/)?(?:gpt-5|o\d)")


def is_reasoning_model(model: str) -> bool:
    """Whether ``model`` is one of OpenAI's reasoning models (gpt-5.x, o-series)."""
    return _REASONING_MODEL.match(model) is not None


@dataclass(frozen=True)
class ModelRules:
    """What a model accepts.

    ``token_param``: the name under which ``max_tokens`` is sent (gpt-5.x and o-series on the
    OpenAI API reject ``max_tokens`` and want ``max_completion_tokens``).
    ``sampling_needs_no_reasoning``: temperature/top_p are accepted only with
    ``reasoning_effort: "none"`` (gpt-5.x); when set, that effort is sent for the caller.
    ``input_tokens``: how many tokens of input the model takes (its context window less the
    room kept for its answer); a longer text is cut into chunks instead of being refused.
    """

    token_param: str = "max_tokens"
    sampling_needs_no_reasoning: bool = False
    input_tokens: int = 128_000

    @classmethod
    def for_model(cls, model: str) -> ModelRules:
        return _rules_for(model)


# Input tokens by model family, as the providers' model pages give them; unknown models get
# the default above, a size every current chat model takes.
_INPUT_TOKENS = (
    (re.compile(r"^(?:[\w.-]+/)?gpt-5"), 272_000),
    (re.compile(r"^(?:[\w.-]+/)?gpt-4\.1"), 1_000_000),
    (re.compile(r"^(?:[\w.-]+/)?o\d"), 200_000),
)


@lru_cache(maxsize=256)
def _rules_for(model: str) -> ModelRules:
    input_tokens = next((n for pattern, n in _INPUT_TOKENS if pattern.match(model)), 128_000)
    if is_reasoning_model(model):
        return ModelRules(
            token_param="max_completion_tokens",
            sampling_needs_no_reasoning=True,
            input_tokens=input_tokens,
        )
    return ModelRules(input_tokens=input_tokens)

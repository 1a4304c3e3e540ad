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

__all__ = ["DEFAULT_CONTEXT_WINDOW", "ModelRules", "is_reasoning_model"]

DEFAULT_CONTEXT_WINDOW = 1_000_000
# gpt-5.x: 400k tokens of context, of which up to 128k are output; the o-series: 200k.
_OPENAI_INPUT_WINDOW = 272_000

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
    ``context_window``: the most prompt tokens the model takes; a request estimated larger is
    refused before it is sent (None: no check). Unknown models get `DEFAULT_CONTEXT_WINDOW`,
    as large as the largest common windows, so that only requests no model takes are refused.
    """

    token_param: str = "max_tokens"
    sampling_needs_no_reasoning: bool = False
    context_window: int | None = None

    @classmethod
    def for_model(cls, model: str) -> ModelRules:
        return _rules_for(model)


@lru_cache(maxsize=256)
def _rules_for(model: str) -> ModelRules:
    if is_reasoning_model(model):
        return ModelRules(
            token_param="max_completion_tokens",
            sampling_needs_no_reasoning=True,
            context_window=_OPENAI_INPUT_WINDOW,
        )
    return ModelRules(context_window=DEFAULT_CONTEXT_WINDOW)

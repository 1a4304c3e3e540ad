"""From a target and the caller's options to the JSON body of a chat completion request.

The output mode supplies its own parameters (`extractor.core.modes`); the parameter rules of
the model (which name ``max_tokens`` goes under, when sampling needs ``reasoning_effort``)
come from `ModelRules` (`extractor.wire.rules`). What is left here is assembling the body.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..core import prompt
from ..core.completion import Completion
from ..core.modes import OutputMode, output_mode
from ..core.options import CallOptions
from ..core.target import Target
from ..errors import ConfigurationError
from .rules import ModelRules

__all__ = ["RequestTemplate", "base_template"]


@dataclass(frozen=True)
class RequestTemplate:
    """The first request of a call. Re-asks reuse it with two more messages: the model's
    last answer and the feedback on it. Only the latest failed turn is kept, so the
    conversation never grows past the template plus one exchange."""

    messages: tuple[Mapping[str, Any], ...]
    params: Mapping[str, Any]
    mode: OutputMode
    target: Target[Any]
    token_param: str

    def with_source(self, text: str | None) -> RequestTemplate:
        """This request with ``text`` as its source (a user message of its own), checking
        that there is something to extract from."""
        if text is None:
            if len(self.messages) < 2:  # the system message alone
                raise ConfigurationError("nothing to extract from: pass text and/or messages.")
            return self
        source = {"role": "user", "content": prompt.source_message(text)}
        return replace(self, messages=(*self.messages, source))

    def body(self, extra_messages: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
        return {**self.params, "messages": [*self.messages, *extra_messages]}

    def with_doubled_token_limit(self) -> RequestTemplate | None:
        """The same request with twice the output budget, or None when it set no limit."""
        limit = self.params.get(self.token_param)
        if limit is None:
            return None
        return replace(self, params={**self.params, self.token_param: 2 * limit})

    def reask(self, answer: Completion, feedback: str) -> list[dict[str, Any]]:
        """The messages a re-ask adds: the rejected answer and the feedback on it."""
        return self.mode.reask(answer, feedback, self.target)


def base_template(
    target: Target[Any], options: CallOptions, rules: ModelRules, model: str
) -> RequestTemplate:
    """The request of a call before its source text is added: the same for every call with
    the same options, so the planner can keep it (`RequestTemplate.with_source`)."""
    mode = output_mode(options.get("mode", "json"))
    system = prompt.system_message(
        target,
        mode=mode,
        instructions=options.get("instructions"),
        examples=options.get("examples", ()),
    )
    messages = (
        {"role": "system", "content": system},
        *(dict(message) for message in options.get("messages", ())),
    )
    return RequestTemplate(
        messages=messages,
        params=_params(target, options, rules, model, mode),
        mode=mode,
        target=target,
        token_param=rules.token_param,
    )


def _params(
    target: Target[Any], options: CallOptions, rules: ModelRules, model: str, mode: OutputMode
) -> dict[str, Any]:
    params: dict[str, Any] = {"model": model, **mode.params(target)}
    sampling: dict[str, Any] = {k: options[k] for k in ("temperature", "top_p") if k in options}
    effort = options.get("reasoning_effort")
    if sampling and rules.sampling_needs_no_reasoning:
        if effort not in (None, "none"):
            raise ConfigurationError(
                f"{model} accepts temperature/top_p only with reasoning_effort='none', "
                f"not {effort!r}. Drop temperature/top_p, or pass "
                "rules=ModelRules(sampling_needs_no_reasoning=False) for a gateway that allows it."
            )
        effort = "none"
    params.update(sampling)
    if effort is not None:
        params["reasoning_effort"] = effort
    if "max_tokens" in options:
        params[rules.token_param] = options["max_tokens"]
    if "seed" in options:
        params["seed"] = options["seed"]
    params.update(options.get("extra_body", {}))
    return params

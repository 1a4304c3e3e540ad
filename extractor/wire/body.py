"""From a target and the caller's options to the JSON body of a chat completion request.

The parameter rules of the real OpenAI API are not those of every gateway, so they live in
`ModelRules`, chosen by model name with safe defaults and replaceable by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from typing_extensions import TypedDict

from ..core import prompt
from ..core.completion import Completion
from ..core.target import Target
from ..errors import ConfigurationError
from .rules import ModelRules

__all__ = ["CallOptions", "DefaultOptions", "Mode", "RequestTemplate", "build_template"]

Mode = Literal["json", "json_schema", "tools"]
MODES: tuple[str, ...] = ("json", "json_schema", "tools")


class DefaultOptions(TypedDict, total=False):
    """Options that may be set on the extractor as defaults for every call."""

    messages: Sequence[Mapping[str, Any]]
    instructions: str
    examples: Sequence[tuple[str, Any]]
    context: Any
    mode: Mode
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


class CallOptions(DefaultOptions, total=False):
    """Per-call options of ``extract`` and friends: the defaults plus model and re-asks."""

    model: str
    max_retries: int


@dataclass(frozen=True)
class RequestTemplate:
    """The first request of a call. Re-asks reuse it with two more messages: the model's
    last answer and the feedback on it. Only the latest failed turn is kept, so the
    conversation never grows past the template plus one exchange."""

    messages: tuple[Mapping[str, Any], ...]
    params: Mapping[str, Any]
    mode: Mode
    function_name: str
    token_param: str

    def body(self, extra_messages: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
        return {**self.params, "messages": [*self.messages, *extra_messages]}

    def with_doubled_token_limit(self) -> RequestTemplate | None:
        """The same request with twice the output budget, or None when it set no limit."""
        limit = self.params.get(self.token_param)
        if limit is None:
            return None
        return replace(self, params={**self.params, self.token_param: 2 * limit})

    def reask(self, answer: Completion, feedback: str) -> list[dict[str, Any]]:
        if self.mode == "tools":
            call_id = answer.tool_call_id or "call_0"
            call = {
                "id": call_id,
                "type": "function",
                "function": {"name": self.function_name, "arguments": answer.content or ""},
            }
            return [
                {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": call_id, "content": feedback},
            ]
        return [
            {"role": "assistant", "content": answer.content or ""},
            {"role": "user", "content": feedback},
        ]


def build_template(
    target: Target[Any], text: str | None, options: CallOptions, rules: ModelRules, model: str
) -> RequestTemplate:
    mode = options.get("mode", "json")
    if mode not in MODES:
        raise ConfigurationError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}.")
    user_messages = [dict(message) for message in options.get("messages", ())]
    if text is None and not user_messages:
        raise ConfigurationError("nothing to extract from: pass text and/or messages.")
    if text is not None:
        user_messages.append({"role": "user", "content": prompt.source_message(text)})
    system = prompt.system_message(
        target,
        mode=mode,
        instructions=options.get("instructions"),
        examples=options.get("examples", ()),
    )
    messages = ({"role": "system", "content": system}, *user_messages)
    return RequestTemplate(
        messages=messages,
        params=_params(target, options, rules, model, mode),
        mode=mode,
        function_name=target.name,
        token_param=rules.token_param,
    )


def _params(
    target: Target[Any], options: CallOptions, rules: ModelRules, model: str, mode: Mode
) -> dict[str, Any]:
    params: dict[str, Any] = {"model": model}
    if mode == "json":
        params["response_format"] = {"type": "json_object"}
    elif mode == "json_schema":
        params["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": target.name, "schema": target.strict_schema, "strict": True},
        }
    else:
        params["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": target.name,
                    "description": "Record the data extracted from the text.",
                    "parameters": target.schema,
                },
            }
        ]
        params["tool_choice"] = {"type": "function", "function": {"name": target.name}}

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

"""Streamed ``chat.completion.chunk`` events folded back into one ``Completion``.

The stream's habits, as the real API and common gateways show them: a first chunk carrying
only the role, ``"usage": null`` on ordinary chunks, a last chunk with empty ``choices`` and
the usage (sometimes followed by more chunks), tool-call arguments split over deltas that
name their call by ``index``, refusals as ``refusal`` deltas, and errors as an ``{"error": ...}``
(or Mistral's flat ``{"object": "error", ...}``) event under HTTP 200. Judging the result
(refusal, truncation, validity) is the extraction loop's job, on the assembled ``Completion``,
exactly as for a non-streamed answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ..core.completion import Completion
from ..core.cost import Usage
from ..errors import StreamError
from .decode import content_text, describe_error, load_json, read_usage, usage_of
from .secret import Secret, excerpt
from .sse import ServerSentEvent

__all__ = ["ChunkAssembler", "Delta"]


class Delta(NamedTuple):
    """New answer text. ``reset`` means the answer is now another text (a tool call's
    arguments after plain content), and ``text`` is all of it so far."""

    text: str
    reset: bool = False


_NOTHING = Delta("")


class _ToolCall:
    __slots__ = ("arguments", "id")

    def __init__(self) -> None:
        self.id: str | None = None
        self.arguments: list[str] = []


class ChunkAssembler:
    """Feed it every event of one response; read ``completion()`` once the stream has ended.

    The answer is the message content, or, once a tool call appears, the arguments of the
    lowest-indexed call: the same choice `read_completion` makes. Content sent as typed parts
    (Mistral's ``thinking`` and ``text``) gives its text parts to the answer and its thinking
    to ``reasoning``. Every error message built from what the server sent is redacted with
    ``secret``.
    """

    def __init__(self, request_id: str | None = None, secret: Secret | None = None) -> None:
        self.request_id = request_id
        self.secret = secret
        self.usage = Usage()
        self.finish_reason: str | None = None
        self.done = False
        self._content: list[str] = []
        self._refusal: list[str] = []
        self._reasoning: list[str] = []
        self._content_seen = False  # null content stays None in the Completion, as unstreamed
        self._tools: dict[int, _ToolCall] = {}
        self._answer_tool: int | None = None

    def event(self, sse: ServerSentEvent) -> Delta:
        if self.done:
            return _NOTHING
        data = sse.data
        if len(data) < 16 and data.strip() == "[DONE]":
            self.done = True
            return _NOTHING
        try:
            chunk = load_json(data)
        except ValueError:
            if sse.event == "error":
                raise self._error_event(data) from None
            message = f"the stream sent an event that is not JSON: {self._quote(data)}"
            raise self._error(message) from None
        if not isinstance(chunk, dict):
            raise self._error(
                f"the stream sent an event that is not an object: {self._quote(data)}"
            )
        if chunk.get("error") is not None or sse.event == "error" or chunk.get("object") == "error":
            raise self._error_event(chunk)
        if self.request_id is None:
            chunk_id = chunk.get("id")
            if isinstance(chunk_id, str) and chunk_id:  # "id": "" is no id
                self.request_id = chunk_id
        usage = usage_of(chunk)
        if usage:
            self.usage = read_usage(usage)
        choices = chunk.get("choices")
        if not isinstance(choices, list):
            return _NOTHING
        for choice in choices:
            if isinstance(choice, dict) and choice.get("index", 0) == 0:
                delta = choice.get("delta")
                if (  # the common chunk: a piece of content and nothing else
                    type(delta) is dict
                    and len(delta) == 1
                    and self._answer_tool is None
                    and not choice.get("finish_reason")
                ):
                    content = delta.get("content")
                    if content and type(content) is str:
                        self._content_seen = True
                        self._content.append(content)
                        return Delta(content)
                return self._choice(choice)
        return _NOTHING

    def _choice(self, choice: Mapping[str, Any]) -> Delta:
        finish_reason = choice.get("finish_reason")
        if finish_reason and isinstance(finish_reason, str):
            self.finish_reason = finish_reason
        delta = choice.get("delta")
        if not isinstance(delta, Mapping):
            return _NOTHING
        if isinstance(delta.get("refusal"), str):
            self._refusal.append(delta["refusal"])
        for field in ("reasoning_content", "reasoning"):  # DeepSeek, vLLM, OpenRouter
            if isinstance(delta.get(field), str):
                self._reasoning.append(delta[field])
        source_before = self._answer_tool
        answer = self._answer()
        shown = len(answer)
        if delta.get("content") is not None:
            text, reasoning = content_text(delta["content"])
            if reasoning:
                self._reasoning.append(reasoning)
            if text is not None:
                self._content_seen = True
                self._content.append(text)
        tool_calls = delta.get("tool_calls")
        for call in tool_calls if isinstance(tool_calls, list) else ():
            if isinstance(call, dict):
                self._tool_call(call)
        if self._answer_tool != source_before:
            # The answer moved to a tool call: what was shown before was not the answer.
            return Delta("".join(self._answer()), reset=True)
        return Delta("".join(answer[shown:])) if len(answer) > shown else _NOTHING

    def _tool_call(self, call: Mapping[str, Any]) -> None:
        index = call.get("index", 0)
        if type(index) is not int:
            index = 0
        tool = self._tools.setdefault(index, _ToolCall())
        call_id = call.get("id")
        if isinstance(call_id, str) and call_id:
            tool.id = call_id
        function = call.get("function")
        arguments = function.get("arguments") if isinstance(function, Mapping) else None
        if arguments and isinstance(arguments, str):
            tool.arguments.append(arguments)
        if self._answer_tool is None or index < self._answer_tool:
            self._answer_tool = index

    def _answer(self) -> list[str]:
        """The parts of the answer text (live list, appended to in place)."""
        if self._answer_tool is not None:
            return self._tools[self._answer_tool].arguments
        return self._content

    def completion(self) -> Completion:
        """The assembled answer; a stream cut off before it finished is an error, never a
        silently shorter answer."""
        if not self.done and self.finish_reason is None:
            raise self._error(
                "the stream ended before the answer was complete (no finish_reason and no "
                "[DONE]); the connection was probably cut. Retry the call."
            )
        content = "".join(self._content) if self._content_seen else None
        tool_call_id = None
        if self._answer_tool is not None:
            tool = self._tools[self._answer_tool]
            content = "".join(tool.arguments)
            tool_call_id = tool.id
        if content and self.secret is not None:
            content = self.secret.redact(content)
        return Completion(
            content=content,
            finish_reason=self.finish_reason,
            usage=self.usage,
            refusal="".join(self._refusal) if self._refusal else None,
            request_id=self.request_id,
            tool_call_id=tool_call_id,
            reasoning="".join(self._reasoning) if self._reasoning else None,
        )

    def _quote(self, data: str) -> str:
        return repr(excerpt(data, 200, self.secret))

    def _error(self, message: str, code: str | None = None) -> StreamError:
        return StreamError(message, code=code, request_id=self.request_id)

    def _error_event(self, error: Any) -> StreamError:
        message, code = describe_error(error)
        return self._error(
            "the API reported an error in the middle of the stream: "
            + excerpt(message, 500, self.secret),
            code,
        )

"""Streamed ``chat.completion.chunk`` events folded back into one ``Completion``.

The stream's habits, as the real API and common gateways show them: a first chunk carrying
only the role, ``"usage": null`` on ordinary chunks, a last chunk with empty ``choices`` and
the usage (sometimes followed by more chunks), tool-call arguments split over deltas that
name their call by ``index``, refusals as ``refusal`` deltas, and errors as an ``{"error": ...}``
event under HTTP 200. Judging the result (refusal, truncation, validity) is the extraction
loop's job, on the assembled ``Completion``, exactly as for a non-streamed answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple

import pydantic_core

from ..core.completion import Completion
from ..core.cost import Usage
from ..errors import StreamError
from .decode import read_usage
from .sse import ServerSentEvent

__all__ = ["ChunkAssembler", "Delta"]


class Delta(NamedTuple):
    """New answer text. ``reset`` means the answer is now another text (a tool call's
    arguments after plain content), and ``text`` is all of it so far."""

    text: str
    reset: bool = False


_NOTHING = Delta("")


def _loads(data: str) -> Any:
    """Parse one chunk. pydantic-core's parser is three times as fast as ``json.loads`` on
    chunk-sized documents, which matters at thousands of chunks per answer; it rejects lone
    surrogate escapes, which ``json.loads`` accepts."""
    try:
        return pydantic_core.from_json(data)
    except ValueError:
        return json.loads(data)


class _ToolCall:
    __slots__ = ("arguments", "id")

    def __init__(self) -> None:
        self.id: str | None = None
        self.arguments: list[str] = []


class ChunkAssembler:
    """Feed it every event of one response; read ``completion()`` once the stream has ended.

    The answer is the message content, or, once a tool call appears, the arguments of the
    lowest-indexed call: the same choice `read_completion` makes.
    """

    def __init__(self, request_id: str | None = None) -> None:
        self.request_id = request_id
        self.usage = Usage()
        self.finish_reason: str | None = None
        self.done = False
        self._content: list[str] = []
        self._refusal: list[str] = []
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
            chunk = _loads(data)
        except ValueError:
            if sse.event == "error":
                raise self._error_event(data[:500]) from None
            message = f"the stream sent an event that is not JSON: {data[:200]!r}"
            raise self._error(message) from None
        if not isinstance(chunk, dict):
            raise self._error(f"the stream sent an event that is not an object: {data[:200]!r}")
        if chunk.get("error") is not None or sse.event == "error":
            raise self._error_event(chunk.get("error", chunk))
        if self.request_id is None and isinstance(chunk.get("id"), str):
            self.request_id = chunk["id"]
        if chunk.get("usage"):
            self.usage = read_usage(chunk["usage"])
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) == 0:
                delta = choice.get("delta")
                if (  # the common chunk: a piece of content and nothing else
                    delta
                    and len(delta) == 1
                    and self._answer_tool is None
                    and not choice.get("finish_reason")
                ):
                    content = delta.get("content")
                    if content:
                        self._content_seen = True
                        self._content.append(content)
                        return Delta(content)
                return self._choice(choice)
        return _NOTHING

    def _choice(self, choice: Mapping[str, Any]) -> Delta:
        if choice.get("finish_reason"):
            self.finish_reason = choice["finish_reason"]
        delta: Mapping[str, Any] = choice.get("delta") or {}
        if delta.get("refusal") is not None:
            self._refusal.append(delta["refusal"])
        source_before = self._answer_tool
        answer = self._answer()
        shown = len(answer)
        if delta.get("content") is not None:
            self._content_seen = True
            self._content.append(delta["content"])
        for call in delta.get("tool_calls") or ():
            index = int(call.get("index", 0))
            tool = self._tools.setdefault(index, _ToolCall())
            tool.id = call.get("id") or tool.id
            arguments = (call.get("function") or {}).get("arguments")
            if arguments:
                tool.arguments.append(arguments)
            if self._answer_tool is None or index < self._answer_tool:
                self._answer_tool = index
        if self._answer_tool != source_before:
            # The answer moved to a tool call: what was shown before was not the answer.
            return Delta("".join(self._answer()), reset=True)
        return Delta("".join(answer[shown:])) if len(answer) > shown else _NOTHING

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
        return Completion(
            content=content,
            finish_reason=self.finish_reason,
            usage=self.usage,
            refusal="".join(self._refusal) if self._refusal else None,
            request_id=self.request_id,
            tool_call_id=tool_call_id,
        )

    def _error(self, message: str, code: str | None = None) -> StreamError:
        return StreamError(message, code=code, request_id=self.request_id)

    def _error_event(self, error: Any) -> StreamError:
        if isinstance(error, Mapping):
            message = error.get("message") or json.dumps(error)[:500]
            code = error.get("code") or error.get("type")
        else:
            message, code = str(error), None
        return self._error(
            f"the API reported an error in the middle of the stream: {message}",
            None if code is None else str(code),
        )

"""Scripted answers of the fake model, and the HTTP responses they are served as.

A `Reply` says what the model does (answer, refuse, stop at the token limit, fail with an HTTP
error, drop the connection); `response_for` turns it into the exact response a chat
completions endpoint would give for a particular request: a ``chat.completion`` object, or
for ``stream: true`` a series of ``chat.completion.chunk`` server-sent events, both built by
`extractor.testing.wire`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import pydantic

from ..core.cost import Usage
from ..core.modes import compact_form_asked
from ..core.prompt import PATCH_REQUEST
from . import wire
from .exchange import ChunkedStream, SeenRequest

__all__ = ["Reply", "compact_answer"]


def compact_answer(target: Any, data: Any, *, patch: bool = False) -> Any:
    """What a model asked for a ``compact`` answer writes for ``data``, the keyed answer it
    would write in json mode (wrapped as ``{"result": ...}`` for a non-object target, as
    ``Reply.answer(value, target=...)`` writes it). ``target`` is what the code under test
    extracts (a type, a JSON Schema dict or file). With ``patch``, ``data`` is the reply to a
    patch re-ask (some top-level fields): written keyed at the top, its values compact.
    `FakeModel` does this by itself; a fake of your own in another process (a loopback
    server) calls it."""
    from ..core.target import Target

    positional = Target.of(target).positional
    return positional.patch(data) if patch else positional.answer(data)


# `Reply.data` of a reply given as text.
_TEXT: Any = object()


@dataclass(frozen=True)
class Reply:
    """One scripted turn of the fake model. Build it with the class methods.

    ``usage`` overrides the estimate (`extractor.testing.wire.Answer` says how it is made:
    with the token heuristic of ``extractor estimate``, over the messages, tools and
    response format, and over the answer). For streamed requests, ``chunk_chars`` is the
    size of each content delta and ``read_size`` (bytes) re-splits the whole event stream
    into network reads of that size, cutting through events and multi-byte characters as
    real networks do.
    """

    content: str | None = None
    refusal: str | None = None
    finish_reason: str = "stop"
    status: int = 200
    error: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    usage: Usage | None = None
    transport_error: type[httpx.TransportError] | None = None
    stream_error_after: int | None = None
    stream_cut_after: int | None = None
    chunk_chars: int = 4
    read_size: int | None = None
    #: The answer as data, when it was given as data: a request for the ``compact`` mode
    #: gets it written in compact form (objects as arrays of their values), so that tests
    #: script the same keyed answers whatever the mode.
    data: Any = field(default=_TEXT, repr=False)

    # -- constructors --------------------------------------------------------------------

    @classmethod
    def answer(
        cls, value: Any, *, target: Any = None, usage: Usage | None = None, **options: Any
    ) -> Reply:
        """The model answers ``value``. A string is sent as is (broken JSON, prose and fences
        included); a pydantic model instance as its JSON; anything else through
        ``json.dumps``. With ``target`` (what the code under test extracts, e.g.
        ``list[Person]``), ``value`` is a Python value of that type, written the way the
        library expects the model to answer for it (lists and other non-objects wrapped)."""
        if target is not None:
            from ..core.target import Target

            value = Target.of(target).to_answer(value)
        elif isinstance(value, pydantic.BaseModel):
            value = value.model_dump(mode="json")
        if isinstance(value, str):
            return cls(content=value, usage=usage, **options)
        content = json.dumps(value, ensure_ascii=False)
        return cls(content=content, usage=usage, data=value, **options)

    @classmethod
    def refuse(cls, message: str = "I'm sorry, I can't help with that.") -> Reply:
        """A ``message.refusal``, as structured-output models send when they decline."""
        return cls(refusal=message)

    @classmethod
    def content_filter(cls, partial: str = "") -> Reply:
        """The provider's content filter stopped the answer (``finish_reason: content_filter``)."""
        return cls(content=partial or None, finish_reason="content_filter")

    @classmethod
    def truncated(cls, partial: str, **options: Any) -> Reply:
        """The answer hit the token limit: ``partial`` then ``finish_reason: length``."""
        return cls(content=partial, finish_reason="length", **options)

    @classmethod
    def http_error(
        cls,
        status: int,
        message: str = "",
        *,
        code: str | None = None,
        type: str | None = None,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """An HTTP error with an OpenAI-style body ``{"error": {message, type, param, code}}``."""
        error = wire.error_body(
            status,
            message or f"The fake model was scripted to fail with HTTP {status}.",
            type=type,
            param=param,
            code=code,
        )["error"]
        return cls(status=status, error=error, headers=dict(headers or {}))

    @classmethod
    def rate_limited(
        cls, retry_after: float | None = 1.0, *, code: str = "rate_limit_exceeded"
    ) -> Reply:
        """429 with ``retry-after`` (seconds) when given; ``code="insufficient_quota"`` for
        an account out of credit, which clients must not retry."""
        headers = {} if retry_after is None else {"retry-after": f"{retry_after:g}"}
        message = (
            "You exceeded your current quota, please check your plan and billing details."
            if code == "insufficient_quota"
            else "Rate limit reached for requests. Please try again later."
        )
        return cls.http_error(429, message, code=code, headers=headers)

    @classmethod
    def disconnect(cls) -> Reply:
        """The connection drops before any answer (``httpx.ConnectError``)."""
        return cls(transport_error=httpx.ConnectError)

    @classmethod
    def timeout(cls) -> Reply:
        """No answer in time (``httpx.ReadTimeout``)."""
        return cls(transport_error=httpx.ReadTimeout)

    @classmethod
    def stream_error(cls, partial: str, message: str = "The server had an error.") -> Reply:
        """For streamed requests: ``partial`` arrives, then an ``{"error": ...}`` event under
        HTTP 200, as real APIs send when they fail mid-answer."""
        return cls(
            content=partial,
            stream_error_after=len(partial),
            error=wire.error_body(500, message)["error"],
        )

    @classmethod
    def stream_cut(cls, partial: str) -> Reply:
        """For streamed requests: ``partial`` arrives and then the stream just ends, with no
        finish reason and no ``[DONE]`` (a dropped connection)."""
        return cls(content=partial, stream_cut_after=len(partial))

    def with_options(self, **changes: Any) -> Reply:
        """A copy with fields changed, e.g. ``reply.with_options(read_size=7)``."""
        return replace(self, **changes)

    # -- on the wire ---------------------------------------------------------------------

    def _content_for(self, seen: SeenRequest) -> str | None:
        """The answer's text for this request: in compact form when it asks for that (a
        patch re-ask's reply keyed at the top, as `Positional.patch` writes it)."""
        if self.data is _TEXT or seen.json.get("tools"):
            return self.content
        compact = compact_form_asked(seen.system)
        if compact is None:
            return self.content
        if PATCH_REQUEST in seen.user:  # a patch re-ask: the fields asked for, keyed
            return json.dumps(compact.patch(self.data), ensure_ascii=False)
        return json.dumps(compact.answer(self.data), ensure_ascii=False)

    def response_for(
        self, request: httpx.Request, seen: SeenRequest, number: int
    ) -> httpx.Response:
        """The HTTP response a chat completions endpoint gives ``request`` for this reply.
        ``number`` (1-based) makes ids and ``x-request-id`` unique and predictable."""
        if self.transport_error is not None:
            raise self.transport_error(
                f"{self.transport_error.__name__} scripted by FakeModel", request=request
            )
        headers = {"x-request-id": f"req_fake_{number:04d}", **self.headers}
        if self.status >= 400:
            return httpx.Response(
                self.status,
                headers=headers,
                json={"error": dict(self.error or {})},
                request=request,
            )
        answer = wire.Answer(self._content_for(seen), self.refusal, self.finish_reason, self.usage)
        completion_id, created = f"chatcmpl-fake{number:04d}", 1_700_000_000 + number
        if not seen.stream:
            return httpx.Response(
                200,
                headers=headers,
                json=answer.completion(seen.json, id=completion_id, created=created),
                request=request,
            )
        failed = self.stream_error_after is not None
        cut_after = self.stream_error_after if failed else self.stream_cut_after
        events: list[dict[str, Any]] = answer.chunks(
            seen.json, id=completion_id, created=created, size=self.chunk_chars, cut_after=cut_after
        )
        if failed:
            events.append({"error": dict(self.error or {})})
        reads = wire.sse_events(events, done=cut_after is None)
        if self.read_size:
            raw = b"".join(reads)
            reads = [raw[i : i + self.read_size] for i in range(0, len(raw), self.read_size)]
        return httpx.Response(
            200,
            headers={**headers, "content-type": "text/event-stream; charset=utf-8"},
            stream=ChunkedStream(reads),
            request=request,
        )

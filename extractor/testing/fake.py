"""A scripted chat-completions model, served in-process through httpx.

Tests of code that calls extractor need a model that answers what the test says, shows what
it was asked, and costs nothing. `FakeModel` answers from a queue of scripted replies (then
from a function of the request, if given), through ``httpx.MockTransport`` or respx, and
keeps every request it saw.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

import httpx

from ..wire.rules import is_reasoning_model
from .exchange import ChunkedStream, SeenRequest
from .replies import Reply

if TYPE_CHECKING:
    from ..client import AsyncExtractor, Extractor

__all__ = ["FAKE_API_KEY", "FakeModel", "FakeModelExhausted", "Handler"]

#: The key `FakeModel.extractor` configures: obviously not a real one.
FAKE_API_KEY = "sk-fake-extractor-testing-key"

#: What a handler may return: a `Reply`, or a value to answer (dict, list, or raw string).
Handler = Callable[[SeenRequest], Any]


class FakeModelExhausted(AssertionError):
    """The code under test made more requests than the test scripted replies for.

    An AssertionError so pytest reports it as the test's failure, and so that no retry
    logic in the library mistakes it for a network problem.
    """


class FakeModel:
    """A fake OpenAI-compatible model: scripted replies in, recorded requests out.

    >>> fake = FakeModel()
    >>> fake.answer({"name": "Ada"}).answer({"name": "Grace"})   # doctest: +ELLIPSIS
    <FakeModel ...>
    >>> ex = fake.extractor()        # an Extractor wired to the fake, with a dummy key

    Replies are served in order. When the queue is empty, ``handler(request)`` answers if
    given (a `Reply`, or a dict/list/str to answer); otherwise the request fails the test
    with `FakeModelExhausted`. Requests for ``stream: true`` get the same replies as
    server-sent events.

    With ``check_requests`` (default), requests the real API would reject get its 400
    answer instead of a scripted reply: no ``model`` or ``messages``, JSON mode without
    the word "JSON" in the messages, and for gpt-5 and o-series models ``max_tokens``, or
    ``temperature``/``top_p`` without ``reasoning_effort: "none"``.
    """

    def __init__(
        self,
        replies: Iterable[Reply | Any] = (),
        *,
        handler: Handler | None = None,
        model: str = "gpt-5.1",
        check_requests: bool = True,
    ) -> None:
        self.model = model
        self.handler = handler
        self.check_requests = check_requests
        self.requests: list[SeenRequest] = []
        self.sleeps: list[float] = []
        #: Every streamed response body served, in order: ``.closed`` and ``.delivered``
        #: (reads handed out) show whether a client that stopped early closed the stream.
        self.streams: list[ChunkedStream] = []
        self._queue: deque[Reply] = deque(_as_reply(r) for r in replies)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<FakeModel {len(self._queue)} replies queued, {len(self.requests)} requests seen>"

    # -- scripting -----------------------------------------------------------------------

    def then(self, *replies: Reply | Any) -> FakeModel:
        """Queue replies (a `Reply`, or a value to answer)."""
        with self._lock:
            self._queue.extend(_as_reply(r) for r in replies)
        return self

    def answer(self, value: Any, **options: Any) -> FakeModel:
        """Queue an answer: a dict or list is sent as JSON, a string as is."""
        return self.then(Reply.answer(value, **options))

    def refuse(self, message: str = "I'm sorry, I can't help with that.") -> FakeModel:
        return self.then(Reply.refuse(message))

    def truncate(self, partial: str, **options: Any) -> FakeModel:
        """Queue an answer cut off by the token limit (``finish_reason: length``)."""
        return self.then(Reply.truncated(partial, **options))

    def error(self, status: int, message: str = "", **options: Any) -> FakeModel:
        """Queue an HTTP error; see `Reply.http_error` for ``code``, ``type``, ``headers``."""
        return self.then(Reply.http_error(status, message, **options))

    def rate_limit(self, retry_after: float | None = 1.0, **options: Any) -> FakeModel:
        return self.then(Reply.rate_limited(retry_after, **options))

    def disconnect(self) -> FakeModel:
        return self.then(Reply.disconnect())

    def timeout(self) -> FakeModel:
        return self.then(Reply.timeout())

    @property
    def pending(self) -> int:
        """Scripted replies not served yet."""
        return len(self._queue)

    def assert_all_used(self) -> None:
        """Fail if replies were scripted that no request consumed: the code under test did
        less than the test thinks (fewer re-asks, no retry)."""
        if self._queue:
            raise AssertionError(
                f"{len(self._queue)} scripted replies were never requested "
                f"({len(self.requests)} requests seen); next unused: {self._queue[0]!r}"
            )

    # -- what was seen -------------------------------------------------------------------

    @property
    def last(self) -> SeenRequest:
        if not self.requests:
            raise AssertionError("FakeModel has not received any request yet")
        return self.requests[-1]

    # -- serving -------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one HTTP request; usable directly as a respx ``side_effect``."""
        seen = SeenRequest.of(request)
        with self._lock:
            self.requests.append(seen)
            number = len(self.requests)
            rejection = self._rejection(seen) if self.check_requests else None
            reply = rejection or (self._queue.popleft() if self._queue else None)
        if reply is None:
            if self.handler is None:
                raise FakeModelExhausted(
                    f"FakeModel got request #{number} but no reply was scripted for it "
                    f"(queue empty, no handler). Last user message: {seen.user[:200]!r}"
                )
            reply = _as_reply(self.handler(seen))
        response = reply.response_for(request, seen, number)
        if isinstance(response.stream, ChunkedStream):
            with self._lock:
                self.streams.append(response.stream)
        return response

    def transport(self) -> httpx.MockTransport:
        """For ``httpx.Client(transport=...)`` (and async clients: MockTransport serves both)."""
        return httpx.MockTransport(self.handle)

    def async_transport(self) -> httpx.MockTransport:
        """For ``httpx.AsyncClient(transport=...)``."""
        return httpx.MockTransport(self.handle)

    def sleep(self, seconds: float) -> None:
        """A sleep that records instead of waiting: pass as ``Extractor(sleep=fake.sleep)``."""
        self.sleeps.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def extractor(self, **kwargs: Any) -> Extractor:
        """An `Extractor` wired to this fake: dummy key, the fake's model, no real sleeping
        between transport retries (the delays land in `sleeps`). ``kwargs`` override."""
        from ..client import Extractor

        options: dict[str, Any] = {
            "model": self.model,
            "api_key": FAKE_API_KEY,
            "http_client": httpx.Client(transport=self.transport()),
            "sleep": self.sleep,
            **kwargs,
        }
        return Extractor(**options)

    def async_extractor(self, **kwargs: Any) -> AsyncExtractor:
        """The `AsyncExtractor` counterpart of `extractor`."""
        from ..client import AsyncExtractor

        sleep: Callable[[float], Awaitable[None]] = self.async_sleep
        options: dict[str, Any] = {
            "model": self.model,
            "api_key": FAKE_API_KEY,
            "http_client": httpx.AsyncClient(transport=self.async_transport()),
            "sleep": sleep,
            **kwargs,
        }
        return AsyncExtractor(**options)

    # -- the real API's request checks ---------------------------------------------------

    def _rejection(self, seen: SeenRequest) -> Reply | None:
        if not seen.path.endswith("/chat/completions"):
            return Reply.http_error(404, f"Invalid URL ({seen.method} {seen.path})")
        body = seen.json
        if not isinstance(body.get("model"), str):
            return Reply.http_error(
                400,
                "you must provide a model parameter",
                param="model",
                code="missing_required_parameter",
            )
        if not seen.messages:
            return Reply.http_error(
                400,
                "Missing required parameter: 'messages'.",
                param="messages",
                code="missing_required_parameter",
            )
        response_format = body.get("response_format")
        if (
            isinstance(response_format, dict)
            and response_format.get("type") == "json_object"
            and "json" not in seen.prompt.lower()
        ):
            return Reply.http_error(
                400,
                "'messages' must contain the word 'json' in some form, to use "
                "'response_format' of type 'json_object'.",
                param="messages",
            )
        if is_reasoning_model(seen.model or ""):
            if "max_tokens" in body:
                return Reply.http_error(
                    400,
                    "Unsupported parameter: 'max_tokens' is not supported with this model. "
                    "Use 'max_completion_tokens' instead.",
                    param="max_tokens",
                    code="unsupported_parameter",
                )
            for name in ("temperature", "top_p"):
                if name in body and body.get("reasoning_effort") != "none":
                    return Reply.http_error(
                        400,
                        f"Unsupported value: '{name}' does not support {body[name]} with this "
                        "model. Only the default (1) value is supported.",
                        param=name,
                        code="unsupported_value",
                    )
        return None


def _as_reply(value: Reply | Any) -> Reply:
    return value if isinstance(value, Reply) else Reply.answer(value)

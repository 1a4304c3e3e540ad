"""A loopback fake of an OpenAI-compatible chat completions server, on real sockets.

End-to-end tests and ``benchmarks/batch.py`` run the real CLI (a subprocess with its own
httpx client) against it, so it has to speak real HTTP/1.1 with keep-alive: asyncio streams
for I/O and h11 (installed with httpx, declared in the dev extra) for the protocol. It runs its
own event loop in a background thread, listens on 127.0.0.1 on an ephemeral port, and keeps up
with several hundred requests per second.

What it answers is a function of the request (``handler``), so a test scripts the model per
record: the record's text is in the request, and ``ChatRequest.nth`` says how many times this
record was asked before, which is how "fail once, then answer" is written. Faults are replies:
429 with retry-after, 5xx, a dropped connection, a slow answer, or any content (invalid JSON,
fenced JSON, wrong types, ``finish_reason: length``, a refusal). What it sends is built by
``extractor.testing.wire``, as the fake model's answers are: a ``chat.completion``, or for
``stream: true`` its chunks as server-sent events, one HTTP chunk per event.

It bills like a provider: every 200 it sends is recorded with its usage, per record key, so a
test can check that what the job reports equals what was billed.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import h11

from extractor.core.cost import Usage
from extractor.testing import wire

__all__ = ["Bill", "ChatRequest", "FakeServer", "Reply", "person_answer", "person_handler"]


@dataclass
class ChatRequest:
    """One POST to /chat/completions, as the handler sees it."""

    body: dict[str, Any]
    headers: dict[str, str]
    key: str
    nth: int  # how many earlier requests had the same key

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages") or [])

    @property
    def text(self) -> str:
        """The first user message: where the record's text is (delimited by the prompt)."""
        for message in self.messages:
            if message.get("role") == "user":
                return _content_text(message.get("content"))
        return ""

    @property
    def is_reask(self) -> bool:
        return any(m.get("role") in ("assistant", "tool") for m in self.messages)

    @property
    def feedback(self) -> str:
        """The last user message of a re-ask (the validation feedback); empty otherwise."""
        if not self.is_reask:
            return ""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return _content_text(message.get("content"))
        return ""


@dataclass
class Reply:
    """What the server does with one request. Build with the class methods."""

    status: int = 200
    content: str | None = None
    finish_reason: str = "stop"
    refusal: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    raw_body: bytes | None = None
    raw_chunks: list[bytes] | None = None  # a 200 body sent chunked, piece by piece (no length)
    delay: float | None = None  # seconds before answering; None: the server's latency
    drop: bool = False  # close the connection without answering
    usage: tuple[int, int] | None = None  # (prompt, completion); None: estimated (wire.Answer)
    chunk_chars: int = 4  # for stream: true, the characters per content delta

    @classmethod
    def answer(cls, data: Any, **kw: Any) -> Reply:
        return cls(content=json.dumps(data), **kw)

    @classmethod
    def text(cls, content: str, **kw: Any) -> Reply:
        return cls(content=content, **kw)

    @classmethod
    def refuse(cls, reason: str = "I can't help with that.", **kw: Any) -> Reply:
        return cls(content=None, refusal=reason, **kw)

    @classmethod
    def truncated(cls, partial: str, **kw: Any) -> Reply:
        return cls(content=partial, finish_reason="length", **kw)

    @classmethod
    def rate_limited(cls, retry_after: float = 0.05, **kw: Any) -> Reply:
        headers = {
            "retry-after-ms": str(int(retry_after * 1000)),
            "retry-after": str(max(1, round(retry_after))),
        }
        return cls(status=429, headers=headers, error=_error(429, "Rate limit reached"), **kw)

    @classmethod
    def server_error(cls, status: int = 503, **kw: Any) -> Reply:
        return cls(status=status, error=_error(status, "The server is overloaded"), **kw)

    @classmethod
    def http_error(cls, status: int, message: str, code: str | None = None, **kw: Any) -> Reply:
        return cls(status=status, error=_error(status, message, code), **kw)

    @classmethod
    def dropped(cls, **kw: Any) -> Reply:
        return cls(drop=True, **kw)


def _error(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    return wire.error_body(status, message, code=code)["error"]


@dataclass(frozen=True)
class Bill:
    """One answered (200) request: what a provider would charge for."""

    key: str
    prompt_tokens: int
    completion_tokens: int


Handler = Callable[[ChatRequest], Reply]
KeyFunc = Callable[[dict[str, Any]], str]

_RECORD_KEY = re.compile(r"\brec-([\w-]+)")


def record_key(body: dict[str, Any]) -> str:
    """Key requests by the ``rec-<id>`` marker the tests put in each record's text."""
    for message in body.get("messages") or []:
        if message.get("role") == "user":
            found = _RECORD_KEY.search(_content_text(message.get("content")))
            if found:
                return found.group(1)
            break
    return ""


_PERSON = re.compile(r"name[:=]\s*(?P<name>[A-Za-z][\w ]*?)\s*[,;]\s*age[:=]\s*(?P<age>\d+)")


def person_answer(text: str) -> dict[str, Any]:
    """The right answer for a ``name: X, age: N`` record; the schema tests and benchmarks use."""
    found = _PERSON.search(text)
    if not found:
        return {"name": "", "age": 0}
    return {"name": found.group("name"), "age": int(found.group("age"))}


def person_handler(request: ChatRequest) -> Reply:
    """A well-behaved model for the person schema."""
    return Reply.answer(person_answer(request.text))


class FakeServer:
    """``with FakeServer(handler, latency=0.05) as server: ... server.base_url ...``"""

    def __init__(
        self,
        handler: Handler = person_handler,
        *,
        latency: float = 0.0,
        key: KeyFunc = record_key,
        host: str = "127.0.0.1",
    ) -> None:
        self.handler = handler
        self.latency = latency
        self._key = key
        self._host = host
        self._port = 0
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._seen: Counter[str] = Counter()
        self.bills: list[Bill] = []
        self.requests: list[ChatRequest] = []
        self.statuses: Counter[int] = Counter()
        self.authorizations: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self._port}/v1"

    def start(self) -> FakeServer:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="fakeserver", daemon=True)
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), loop)
        future.result(timeout=10)
        return self

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, self._host, 0, backlog=1024)
        self._port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return

        async def close() -> None:
            assert self._server is not None
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        assert self._thread is not None
        self._thread.join(timeout=10)
        loop.close()
        self._loop = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what happened -----------------------------------------------------------------------

    def billed(self, keys: set[str] | None = None) -> tuple[int, int]:
        """(prompt, completion) tokens billed, for all keys or only the given ones."""
        with self._lock:
            bills = [b for b in self.bills if keys is None or b.key in keys]
        return sum(b.prompt_tokens for b in bills), sum(b.completion_tokens for b in bills)

    def keys_requested(self) -> Counter[str]:
        with self._lock:
            return Counter(r.key for r in self.requests)

    def reset(self) -> None:
        """Forget requests and bills (keeps the per-key counts that drive scripted faults)."""
        with self._lock:
            self.bills.clear()
            self.requests.clear()
            self.statuses.clear()

    # -- HTTP --------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        conn = h11.Connection(h11.SERVER)
        request: h11.Request | None = None
        body = bytearray()
        try:
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(await reader.read(65536))
                elif isinstance(event, h11.Request):
                    request, body = event, bytearray()
                elif isinstance(event, h11.Data):
                    body += event.data
                elif isinstance(event, h11.EndOfMessage):
                    assert request is not None
                    if not await self._respond(conn, writer, request, bytes(body)):
                        return
                    if conn.our_state is h11.MUST_CLOSE:
                        return
                    conn.start_next_cycle()
                else:  # ConnectionClosed, or PAUSED after a protocol error
                    return
        except (ConnectionError, h11.RemoteProtocolError, asyncio.CancelledError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _respond(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, request: h11.Request, body: bytes
    ) -> bool:
        """Answer one request; False when the connection must be dropped."""
        headers = {k.decode().lower(): v.decode() for k, v in request.headers}
        if request.method != b"POST" or not request.target.endswith(b"/chat/completions"):
            return await self._other(conn, writer, request, headers, body)
        try:
            payload = json.loads(body)
        except ValueError:
            await self._send(conn, writer, 400, wire.error_body(400, "body is not JSON"), {})
            return True
        chat, reply = self.ask(payload, headers)
        delay = self.latency if reply.delay is None else reply.delay
        if delay > 0:
            await asyncio.sleep(delay)
        if reply.drop:
            return False
        number = next(self._ids)
        extra = {"x-request-id": f"req-{number}", **reply.headers}
        if reply.status != 200:
            error_body = {"error": reply.error or {"message": "error"}}
            await self._send(conn, writer, reply.status, error_body, extra, reply.raw_body)
            return True
        answer = self.bill_answer(chat, reply)
        completion_id, created = f"chatcmpl-{number}", int(time.time())
        if reply.raw_chunks is not None:
            await self._stream(conn, writer, reply.raw_chunks, extra, "application/json")
        elif payload.get("stream") is True and reply.raw_body is None:
            chunks = answer.chunks(
                payload, id=completion_id, created=created, size=reply.chunk_chars
            )
            await self._stream(conn, writer, wire.sse_events(chunks), extra)
        else:
            completion = answer.completion(payload, id=completion_id, created=created)
            await self._send(conn, writer, 200, completion, extra, reply.raw_body)
        return True

    async def _other(
        self,
        conn: h11.Connection,
        writer: asyncio.StreamWriter,
        request: h11.Request,
        headers: dict[str, str],
        body: bytes,
    ) -> bool:
        """Any request but a chat completion: not found here (a subclass may serve more)."""
        await self._send(conn, writer, 404, wire.error_body(404, "not found"), {})
        return True

    def ask(self, payload: dict[str, Any], headers: dict[str, str]) -> tuple[ChatRequest, Reply]:
        """Record one chat completion request and ask the handler for its reply."""
        key = self._key(payload)
        with self._lock:
            nth = self._seen[key]
            self._seen[key] += 1
            chat = ChatRequest(payload, headers, key, nth)
            self.requests.append(chat)
            if "authorization" in headers:
                self.authorizations.add(headers["authorization"])
        return chat, self.handler(chat)

    def bill_answer(self, chat: ChatRequest, reply: Reply) -> wire.Answer:
        """The answer to put on the wire for a 200 reply, billed as it is generated (as a
        provider bills, whether or not the client is still there to read it)."""
        answer = wire.Answer(
            reply.content,
            reply.refusal,
            reply.finish_reason,
            None if reply.usage is None else Usage(*reply.usage),
        )
        usage = answer.usage_for(chat.body)
        with self._lock:
            self.bills.append(Bill(chat.key, usage.prompt_tokens, usage.completion_tokens))
        return answer

    async def _send(
        self,
        conn: h11.Connection,
        writer: asyncio.StreamWriter,
        status: int,
        payload: Any,
        headers: dict[str, str],
        raw: bytes | None = None,
    ) -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        with self._lock:
            self.statuses[status] += 1
        head = [
            ("content-type", "application/json"),
            ("content-length", str(len(data))),
            *headers.items(),
        ]
        out = conn.send(h11.Response(status_code=status, headers=head))
        out += conn.send(h11.Data(data=data))
        out += conn.send(h11.EndOfMessage())
        writer.write(out)
        await writer.drain()

    async def _stream(
        self,
        conn: h11.Connection,
        writer: asyncio.StreamWriter,
        events: list[bytes],
        headers: dict[str, str],
        content_type: str = "text/event-stream; charset=utf-8",
    ) -> None:
        """A 200 event stream, each event written and drained on its own (chunked encoding:
        no content-length), so the client reads it piece by piece as from a real API."""
        with self._lock:
            self.statuses[200] += 1
        head = [("content-type", content_type), *headers.items()]
        writer.write(conn.send(h11.Response(status_code=200, headers=head)))
        for event in events:
            writer.write(conn.send(h11.Data(data=event)))
            await writer.drain()
        writer.write(conn.send(h11.EndOfMessage()))
        await writer.drain()


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""

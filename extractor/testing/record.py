"""Record real API exchanges once, replay them offline in tests.

`Recorder` is an httpx transport that forwards to a real one and appends each exchange to a
JSONL file, one ``{"request": ..., "response": ...}`` object per line, with credentials
removed: credential-looking headers on both sides, credential-looking query parameters, and
the bearer key itself wherever else it appears. `Replayer` serves those responses offline.
It matches a request on method, URL path and canonical JSON body; a request that matches no
recording raises `ReplayMismatch` with a diff against the closest one: a changed prompt must
fail the test, not get a stale answer.
"""

from __future__ import annotations

import difflib
import json
import os
import threading
from collections import defaultdict, deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from ..wire.secret import Secret
from .exchange import ChunkedStream, SeenRequest, canonical_json, is_secret_header, redact_headers

__all__ = ["Recorder", "ReplayMismatch", "Replayer", "cassette"]

_REDACTED = "[REDACTED]"
# Shorter header values ("1", "yes") are not keys, and replacing them would mangle the file.
_MIN_SECRET = 8
# Response headers that describe the recorded bytes' transfer, not the answer: replaying
# them would make httpx decode an already-decoded body.
_TRANSFER_HEADERS = frozenset(
    {"content-encoding", "content-length", "transfer-encoding", "connection"}
)


class ReplayMismatch(AssertionError):
    """A replayed request matches no recording (or all its recordings were used)."""


def _url(url: httpx.URL) -> str:
    """The URL with credential-looking query parameters blanked (``?api-key=...``)."""
    params = [
        (name, _REDACTED if is_secret_header(name) else value)
        for name, value in url.params.multi_items()
    ]
    return str(url.copy_with(params=params)) if params else str(url)


def _secrets(request: httpx.Request) -> list[str]:
    """The credential values the request carries (the bearer token, ``api-key``...), longest
    first, so that none can reach the file by another way (echoed in a body, an error)."""
    values = set()
    for name, value in request.headers.multi_items():
        if is_secret_header(name):
            scheme, _, token = value.partition(" ")
            if scheme.lower() in ("bearer", "basic", "token") and token.strip():
                value = token.strip()
            if len(value) >= _MIN_SECRET:
                values.add(value)
    return sorted(values, key=len, reverse=True)


def _request_entry(request: httpx.Request) -> dict[str, Any]:
    seen = SeenRequest.of(request)
    return {
        "method": seen.method,
        "url": _url(request.url),
        "headers": dict(seen.headers),
        "body": seen.body,
    }


def _response_entry(response: httpx.Response) -> dict[str, Any]:
    headers = {
        name: value
        for name, value in redact_headers(response.headers).items()
        if name not in _TRANSFER_HEADERS
    }
    entry: dict[str, Any] = {"status": response.status_code, "headers": headers}
    try:
        entry["json"] = response.json()
    except ValueError:
        entry["text"] = response.text
    return entry


def _key(method: str, url: str, body: Any) -> tuple[str, str, str]:
    return (method.upper(), httpx.URL(url).path, canonical_json(body))


class Recorder(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Forwards requests to ``transport`` (a real one by default) and records each exchange.

    The file is truncated when the recorder is made (``append=False``) and each exchange is
    written and flushed as one line as soon as it completes, so a crash loses nothing
    recorded so far. A streamed response is read whole before it is handed on: while
    recording, the caller gets the stream all at once.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        *,
        append: bool = False,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not append:
            self.path.write_text("", encoding="utf-8")
        self._transport = transport
        self._lock = threading.Lock()
        self.count = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        transport = self._transport or httpx.HTTPTransport()
        self._transport = transport
        if not isinstance(transport, httpx.BaseTransport):
            raise TypeError("this Recorder wraps an async transport; use it with httpx.AsyncClient")
        response = transport.handle_request(request)
        try:
            content = response.read()
        finally:
            response.close()
        return self._record(request, response, content)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self._transport or httpx.AsyncHTTPTransport()
        self._transport = transport
        if not isinstance(transport, httpx.AsyncBaseTransport):
            raise TypeError("this Recorder wraps a sync transport; use it with httpx.Client")
        response = await transport.handle_async_request(request)
        try:
            content = await response.aread()
        finally:
            await response.aclose()
        return self._record(request, response, content)

    def _record(
        self, request: httpx.Request, response: httpx.Response, content: bytes
    ) -> httpx.Response:
        entry = {"request": _request_entry(request), "response": _response_entry(response)}
        line = json.dumps(entry, ensure_ascii=False)
        for secret in _secrets(request):  # in plain and base64 forms
            line = Secret(secret).redact(line, _REDACTED)
        with self._lock, self.path.open("a", encoding="utf-8") as file:
            file.write(line + "\n")
            file.flush()
            self.count += 1
        headers = [
            (k, v) for k, v in response.headers.multi_items() if k.lower() not in _TRANSFER_HEADERS
        ]
        return httpx.Response(
            response.status_code, headers=headers, content=content, request=request
        )

    def close(self) -> None:
        if isinstance(self._transport, httpx.BaseTransport):
            self._transport.close()

    async def aclose(self) -> None:
        if isinstance(self._transport, httpx.AsyncBaseTransport):
            await self._transport.aclose()


class Replayer(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Serves a `Recorder` file offline, for sync and async clients alike.

    Recordings of the same request are served in recorded order (a 429 then its successful
    retry). Each is used once, unless ``repeat`` lets the last one serve again.
    """

    def __init__(self, path: str | os.PathLike[str], *, repeat: bool = False) -> None:
        self.path = Path(path)
        self.repeat = repeat
        self.requests: list[SeenRequest] = []
        self._entries = list(_read(self.path))
        self._pending: dict[tuple[str, str, str], deque[dict[str, Any]]] = defaultdict(deque)
        for entry in self._entries:
            req = entry["request"]
            self._pending[_key(req["method"], req["url"], req.get("body"))].append(entry)
        self._last: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    @property
    def unused(self) -> int:
        """Recordings not replayed yet."""
        return sum(len(queue) for queue in self._pending.values())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        seen = SeenRequest.of(request)
        key = _key(seen.method, seen.url, seen.body)
        with self._lock:
            self.requests.append(seen)
            queue = self._pending.get(key)
            if queue:
                entry = queue.popleft()
                self._last[key] = entry
            elif self.repeat and key in self._last:
                entry = self._last[key]
            else:
                raise ReplayMismatch(self._explain(seen, used_up=key in self._last))
        return _response(entry["response"], request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self.handle_request(request)

    def _explain(self, seen: SeenRequest, *, used_up: bool) -> str:
        where = f"{seen.method} {seen.path}"
        if used_up:
            return (
                f"{where}: every recording of this request in {self.path} was already "
                "replayed; record the extra call too, or use Replayer(..., repeat=True)."
            )
        if not self._entries:
            return f"{where}: {self.path} holds no recordings."
        actual = _pretty(seen.method, seen.path, seen.body)
        candidates = [
            _pretty(req["method"], httpx.URL(req["url"]).path, req.get("body"))
            for req in (entry["request"] for entry in self._entries)
        ]

        def similarity(item: tuple[int, str]) -> float:
            return difflib.SequenceMatcher(None, item[1], actual, autojunk=False).ratio()

        number, closest = max(enumerate(candidates, 1), key=similarity)
        diff = "\n".join(
            difflib.unified_diff(
                closest.splitlines(),
                actual.splitlines(),
                fromfile=f"recording #{number} in {self.path.name}",
                tofile="this request",
                lineterm="",
            )
        )
        return (
            f"{where} matches no recording in {self.path} (matched on method, URL path and "
            f"JSON body). Closest recording, #{number}, differs:\n{diff}\n"
            "If the change is intended, record the cassette again."
        )


def _pretty(method: str, path: str, body: Any) -> str:
    rendered = json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False)
    return f"{method.upper()} {path}\n{rendered}"


def _response(entry: dict[str, Any], request: httpx.Request) -> httpx.Response:
    headers = dict(entry.get("headers") or {})
    if "json" in entry:
        return httpx.Response(entry["status"], headers=headers, json=entry["json"], request=request)
    text: str = entry.get("text", "")
    if "text/event-stream" in headers.get("content-type", ""):
        # One read per event, as the server sent them.
        events = [part + "\n\n" for part in text.split("\n\n") if part]
        chunks = [event.encode() for event in events]
        return httpx.Response(
            entry["status"], headers=headers, stream=ChunkedStream(chunks), request=request
        )
    return httpx.Response(entry["status"], headers=headers, text=text, request=request)


def _read(path: Path) -> Iterator[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no recording file at {path}: record it first (cassette(..., record=True) or "
            "EXTRACTOR_RECORD=1 with a real key)"
        ) from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            complete = all(k in entry["request"] for k in ("method", "url")) and isinstance(
                entry["response"]["status"], int
            )
        except (ValueError, KeyError, TypeError):
            complete = False
        if not complete:
            raise ValueError(
                f"{path}:{number}: not a recorded exchange; the file must hold one "
                '{"request": {...}, "response": {...}} object per line, as Recorder writes.'
            )
        yield entry


def cassette(
    path: str | os.PathLike[str],
    *,
    record: bool | None = None,
    transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
) -> Recorder | Replayer:
    """A `Recorder` when recording, else a `Replayer` of ``path``.

    ``record`` defaults to the ``EXTRACTOR_RECORD`` environment variable (``1``/``true``), so
    the same test records against the real API once and replays offline ever after.
    """
    if record is None:
        record = os.environ.get("EXTRACTOR_RECORD", "").lower() in ("1", "true", "yes")
    return Recorder(path, transport) if record else Replayer(path)

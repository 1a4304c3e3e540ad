"""What the testing kit's transports see of a request, and how they answer with bytes.

Shared by the fake model and by record/replay, so that both show a test the same view of a
request (parsed body, headers without credentials) and stream their answers the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = [
    "ChunkedStream",
    "SeenRequest",
    "canonical_json",
    "is_secret_header",
    "message_text",
    "redact_headers",
]

# Header names that carry credentials or session state in the APIs people point extractor at
# (OpenAI, Azure, gateways, cloud proxies). Matched on the name's dash/underscore-separated
# words, so "x-api-key" and "x-amz-security-token" go while "x-ratelimit-remaining-tokens"
# (which rate-limit tests need) stays.
_SECRET_WORDS = frozenset(
    {
        "auth", "authorization", "apikey", "key", "token", "secret", "cookie", "session",
        "signature", "password", "credential", "credentials",
    }
)  # fmt: skip


# The source-text message: "<text>\n...\n</text>", the tag numbered when the text itself
# contains "</text>".
_SOURCE = re.compile(r"<(text\d*)>\n(.*)\n</\1>", re.DOTALL)


def is_secret_header(name: str) -> bool:
    words = re.split(r"[-_]", name.lower())
    return any(word in _SECRET_WORDS for word in words)


def redact_headers(headers: Mapping[str, str] | httpx.Headers) -> dict[str, str]:
    """Headers with every credential-looking one removed; names lower-cased."""
    items = headers.multi_items() if isinstance(headers, httpx.Headers) else headers.items()
    return {name.lower(): value for name, value in items if not is_secret_header(name)}


def canonical_json(value: Any) -> str:
    """One spelling per JSON value, so that equal bodies compare equal as text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _parse_body(content: bytes) -> Any:
    if not content:
        return None
    text = content.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


@dataclass(frozen=True)
class SeenRequest:
    """One request as a test wants to look at it.

    ``body`` is the parsed JSON body (or the raw text when it is not JSON); ``headers`` has
    the credentials removed, so asserting on it or printing it never shows a key.
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: Any

    @classmethod
    def of(cls, request: httpx.Request) -> SeenRequest:
        return cls(
            method=request.method,
            url=str(request.url),
            headers=redact_headers(request.headers),
            body=_parse_body(request.read()),
        )

    @property
    def path(self) -> str:
        return httpx.URL(self.url).path

    @property
    def json(self) -> dict[str, Any]:
        """The body as a JSON object (empty when it is not one)."""
        return self.body if isinstance(self.body, dict) else {}

    @property
    def model(self) -> str | None:
        model = self.json.get("model")
        return model if isinstance(model, str) else None

    @property
    def stream(self) -> bool:
        return self.json.get("stream") is True

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages = self.json.get("messages")
        return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []

    def contents(self, role: str) -> list[str]:
        """The text of every message with ``role``, in order (content parts joined)."""
        return [_text(m.get("content")) for m in self.messages if m.get("role") == role]

    @property
    def system(self) -> str:
        """All system (and developer) instructions, joined: what the model was told."""
        return "\n".join(self.contents("system") + self.contents("developer"))

    @property
    def user(self) -> str:
        """The last user message: the source text on a first attempt, the feedback on a
        re-ask."""
        users = self.contents("user")
        return users[-1] if users else ""

    @property
    def text(self) -> str:
        """The source text the library sent, without the tags it delimits it with (see
        ``extractor.core.prompt.source_message``); the first user message when none is tagged.
        What a handler usually answers from: re-asks and feedback are not part of it."""
        users = self.contents("user")
        for content in users:
            match = _SOURCE.fullmatch(content)
            if match:
                return match.group(2)
        return users[0] if users else ""

    @property
    def prompt(self) -> str:
        """Every message's text, joined: for asserting that something reached the model."""
        return "\n".join(message_text(m) for m in self.messages)


def message_text(message: Mapping[str, Any]) -> str:
    """A chat message's text: its content (parts joined) and any tool-call arguments."""
    text = _text(message.get("content"))
    for call in message.get("tool_calls") or []:
        if isinstance(call, dict):
            text += str((call.get("function") or {}).get("arguments") or "")
    return text


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}, ...]
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


@dataclass
class ChunkedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body delivered in the given reads, to sync and async clients alike.

    Real servers deliver SSE in pieces; handing them over one by one is what exercises a
    client's incremental parsing. ``closed`` and ``delivered`` let a test check that a
    client which stops early closes the response.
    """

    chunks: Sequence[bytes]
    delivered: int = 0
    closed: bool = field(default=False)

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            if self.closed:
                return
            self.delivered += 1
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            if self.closed:
                return
            self.delivered += 1
            yield chunk

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True

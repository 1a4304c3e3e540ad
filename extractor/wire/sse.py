"""Server-sent events, decoded from raw bytes as they come off the socket.

Sans-I/O so that the sync and async drivers share it: feed it whatever a network read
returned, get back the events that are now complete. It follows the WHATWG event-stream
rules (lines end in CR, LF or CRLF; ``:`` starts a comment; several ``data:`` lines join with
LF; a blank line dispatches) and takes care of the two things a per-line reader gets wrong:
a UTF-8 character split between two reads, and a CRLF split between two reads, which would
otherwise look like an extra blank line and dispatch an event early.

httpx-sse was passed over: it reads lines through an ``httpx.Response`` iterator, so it
cannot be fed bytes by a sans-I/O state machine, and it is not a dependency we have.
"""

from __future__ import annotations

import codecs
import re
from typing import NamedTuple

__all__ = ["SSEDecoder", "ServerSentEvent"]

_LINE_END = re.compile(r"\r\n|\r|\n")


class ServerSentEvent(NamedTuple):
    data: str
    event: str = "message"
    id: str = ""
    retry: int | None = None


class SSEDecoder:
    """Turns a byte stream into events; ``feed`` per read, ``close`` at end of stream."""

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial: list[str] = []  # text of the line not yet ended
        self._after_cr = False  # the last text ended in CR: a leading LF is its other half
        self._started = False  # the byte-order mark is only skipped at the very start
        self._data: list[str] = []
        self._event = ""
        self._id = ""
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        text = self._utf8.decode(chunk)
        if (
            # The usual read: exactly one "data: ..." line and the blank line ending it, with
            # nothing pending. Same result as the general path, in a fraction of the time.
            self._started
            and not self._partial
            and not self._data
            and not self._after_cr
            and text.startswith("data: ")
            and text.find("\n") == len(text) - 2
            and text.endswith("\n\n")
            and "\r" not in text
        ):
            event = ServerSentEvent(text[6:-2], self._event or "message", self._id, self._retry)
            self._event = ""
            return [event]
        return self._take(text)

    def close(self) -> list[ServerSentEvent]:
        """Flush what is left at end of stream.

        The spec drops an event not followed by a blank line; servers and gateways that end
        with ``data: [DONE]`` and no newline are common enough that the last event is
        dispatched instead. Its data may be cut short: the caller's JSON parse says so.
        """
        events = self._take(self._utf8.decode(b"", final=True))
        if self._partial:
            line = "".join(self._partial)
            self._partial = []
            self._line(line)
        event = self._dispatch()
        if event is not None:
            events.append(event)
        return events

    def _take(self, text: str) -> list[ServerSentEvent]:
        if not self._started and text:
            self._started = True
            if text.startswith("\ufeff"):
                text = text[1:]
        if self._after_cr and text:
            self._after_cr = False
            if text.startswith("\n"):
                text = text[1:]
        if not text:
            return []
        if "\r" in text:
            lines = _LINE_END.split(text)
            self._after_cr = text.endswith("\r")
        else:
            lines = text.split("\n")
        if len(lines) == 1:
            self._partial.append(text)
            return []
        if self._partial:
            self._partial.append(lines[0])
            lines[0] = "".join(self._partial)
        rest = lines.pop()
        self._partial = [rest] if rest else []
        events: list[ServerSentEvent] = []
        data = self._data
        for line in lines:
            if line.startswith("data: "):  # nearly every line of a completion stream
                data.append(line[6:])
            elif line:
                self._line(line)
            else:
                event = self._dispatch()
                if event is not None:
                    events.append(event)
                    data = self._data
        return events

    def _line(self, line: str) -> None:
        if line.startswith(":"):
            return
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)

    def _dispatch(self) -> ServerSentEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = ServerSentEvent(
            data="\n".join(self._data),
            event=self._event or "message",
            id=self._id,
            retry=self._retry,
        )
        self._data = []
        self._event = ""
        return event

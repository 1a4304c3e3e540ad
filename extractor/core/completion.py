"""What one attempt got back from the API, however it arrived.

A plain JSON response and a stream of SSE chunks both end up as a ``Completion``; from there
on the extraction loop does not care which it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from .cost import Usage

__all__ = ["Completion"]


@dataclass(frozen=True)
class Completion:
    """The first choice of a chat completion, reduced to what extraction needs.

    ``content`` is the text to parse: the message content, or in tools mode the forced tool
    call's arguments (then ``tool_call_id`` is set, for the re-ask turn). ``reasoning`` is
    thinking the provider sent with the answer (kept apart: it is not the answer).
    """

    content: str | None
    finish_reason: str | None
    usage: Usage
    refusal: str | None = None
    request_id: str | None = None
    tool_call_id: str | None = None
    reasoning: str | None = None

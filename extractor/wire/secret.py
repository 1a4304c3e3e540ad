"""The API key, held so that it cannot leak by accident.

No repr, log line or traceback variable dump shows a `Secret`; every text built from what a
server sent back goes through `Secret.redact` before it reaches an error message.
"""

from __future__ import annotations

__all__ = ["Secret"]


class Secret:
    """Holds the API key so that no repr, log line or traceback variable dump shows it."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<secret>"

    def redact(self, text: str) -> str:
        return text.replace(self.value, "<secret>") if self.value else text

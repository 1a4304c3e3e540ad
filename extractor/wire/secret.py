"""The API key, held so that it cannot leak by accident.

No repr, log line or traceback variable dump shows a `Secret`; every text built from what a
server sent back (or from a transport error) goes through `Secret.redact` before it reaches
an error message, and is cut to length only after that (a cut first could keep a prefix of
the key that the redaction no longer recognises).

A server or proxy may echo the key in its base64 form too (a ``Basic`` header, a cassette,
a dumped request), so those forms are redacted as well: the key's base64 at each of the three
byte alignments it can have inside a longer encoded text, minus the edge characters it shares
with its neighbours.

Keys shorter than `MIN_REDACTED` characters (``"k"``, ``"EMPTY"``: what tests and local
servers take) are not redacted: replacing every ``k`` in an answer protects nothing.
"""

from __future__ import annotations

import base64

__all__ = ["REDACTED", "Secret", "excerpt"]

REDACTED = "<secret>"
MIN_REDACTED = 8


class Secret:
    """Holds the API key so that no repr, log line or traceback variable dump shows it."""

    __slots__ = ("_forms", "value")

    def __init__(self, value: str) -> None:
        self.value = value
        self._forms = _forms(value)

    def __repr__(self) -> str:
        return REDACTED

    def redact(self, text: str, marker: str = REDACTED) -> str:
        """``text`` with every form of the key replaced by ``marker``."""
        for form in self._forms:
            if form in text:
                text = text.replace(form, marker)
        return text


def excerpt(text: str, limit: int, secret: Secret | None) -> str:
    """``text`` redacted, then cut to ``limit`` characters (in that order)."""
    if secret is not None:
        text = secret.redact(text)
    return text if len(text) <= limit else text[:limit] + "..."


def _forms(value: str) -> tuple[str, ...]:
    """The key, then its base64 cores, longest first so that no shorter form splits a longer."""
    if len(value) < MIN_REDACTED:
        return ()
    raw = value.encode()
    forms = {value}
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + raw).decode()
        # Characters wholly inside the key: from the first after the padding's bits to the
        # last before the bits that follow the key.
        core = encoded[-(-8 * pad // 6) : 8 * (pad + len(raw)) // 6]
        forms.add(core)
        forms.add(core.translate(_URLSAFE))
    return tuple(sorted(forms, key=len, reverse=True))


_URLSAFE = str.maketrans("+/", "-_")

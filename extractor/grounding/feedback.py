"""Ungrounded values as problems the model can act on, fed back in a re-ask exactly like
validation errors (``require_grounding=True``): a made-up value costs a retry instead of
landing in the data."""

from __future__ import annotations

from ..errors import ErrorDetail
from .align import Grounding

__all__ = ["ungrounded_details"]

MESSAGE = (
    "this value does not appear in the text; write it as the text gives it, or leave it out "
    "(null) if the text does not state it"
)


def ungrounded_details(grounding: Grounding) -> list[ErrorDetail]:
    return [ErrorDetail(leaf.path, MESSAGE, leaf.value) for leaf in grounding.ungrounded]

"""Test code that calls extractor offline: no network, no key, no cost.

- `FakeModel`: a scripted model served through ``httpx.MockTransport`` (or respx), which
  records every request it saw; `Reply` builds its answers (content, refusals, truncation,
  HTTP errors, dropped connections; streamed when the request asks for a stream).
- `Recorder` / `Replayer`: record real exchanges to a JSONL file without credentials, then
  replay them offline; a request that matches no recording fails with a diff.
- The pytest plugin (``extractor.testing.plugin``) provides the ``extractor_fake`` fixture.
- `extractor.testing.wire` (a public module, not re-exported here): the OpenAI payloads and
  event streams the fake model sends, as builders, for tests that answer through respx or
  their own server, and readers of streams for assertions.
- `compact_answer`: a keyed answer as the ``compact`` mode writes it, for fakes of your own.
- `estimate_tokens`: the token estimate the fake model bills with: the library's own, the one
  ``extractor estimate`` counts with.
"""

from ..core.tokens import estimate_tokens
from .exchange import SeenRequest
from .fake import FAKE_API_KEY, FakeModel, FakeModelExhausted, Handler
from .record import Recorder, Replayer, ReplayMismatch, cassette
from .replies import Reply, compact_answer

__all__ = [
    "FAKE_API_KEY",
    "FakeModel",
    "FakeModelExhausted",
    "Handler",
    "Recorder",
    "ReplayMismatch",
    "Replayer",
    "Reply",
    "SeenRequest",
    "cassette",
    "compact_answer",
    "estimate_tokens",
]

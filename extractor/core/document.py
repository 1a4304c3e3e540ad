"""A call over a text that one request cannot hold, or that is read twice: chunks, passes
and the merge, without I/O.

The text is cut into chunks (``grounding.split_text``: paragraph, then sentence, then word
boundaries, with a small overlap). Each chunk is extracted by its own `ExtractionLoop`, with
the call's plan, retries and re-asks; the budget counts what the whole call has spent. With
``passes=2`` each chunk is read a second time, told what the first reading found, for what it
missed. Every answer is grounded in its chunk, and the answers are merged (``grounding.merge``:
list items found twice in the overlap kept once, scalars from the first chunk that grounds
them, conflicts reported), then validated once more as a whole.

A chunk that fails after its retries is never dropped silently: the call raises `ChunkFailed`
holding what the other chunks found, or with ``partial_ok=True`` returns that, the failed
chunks listed in ``Extraction.failed_chunks``.

The drivers run the chunks' jobs concurrently and drive each loop exactly as a plain call's::

    document = plan_document(planner, target, text, options)   # None: a plain call
    for job in document.jobs:                                  # concurrently
        while (loop := job.next_loop()) is not None:
            try:
                drive(loop)
            except ExtractionError as exc:
                job.fail(exc)
    return document.result()
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..errors import ChunkFailed, ConfigurationError, ExtractionError, ValidationFailed
from . import prompt
from .cost import Cost, Usage
from .loop import ExtractionLoop
from .options import CallOptions
from .plan import Planner, check_text
from .result import Attempt, ChunkFailure, Extraction
from .schema import render
from .target import Target
from .tokens import estimate_tokens
from .validate import Invalid

if TYPE_CHECKING:
    from ..grounding import Chunk, ChunkValue, Merged

__all__ = [
    "DEFAULT_CHUNK_CONCURRENCY",
    "DOCUMENT_OPTIONS",
    "ChunkJob",
    "DocumentCall",
    "plan_document",
]

T = TypeVar("T")

DEFAULT_CHUNK_CONCURRENCY = 4
#: The options that make a call a document call; a stream, one request, refuses them.
DOCUMENT_OPTIONS = frozenset(
    {"chunk_size", "chunk_overlap", "chunk_concurrency", "passes", "partial_ok"}
)
MAX_PASSES = 3
# Automatic chunks fill at most this share of the model's input window: the rest is room for
# the prompt, the schema and, on a re-ask, the previous answer and the feedback.
_AUTO_SHARE = 0.5


def plan_document(
    planner: Planner, target: Any, text: str | None, call: CallOptions
) -> DocumentCall[Any] | None:
    """The chunked (or multi-pass) call for these arguments, or None when it is a plain call:
    no ``chunk_size`` cutting the text, a text that fits the model, and one pass."""
    check_text(text)
    options = planner.options(call)
    passes = options.get("passes", 1)
    if not isinstance(passes, int) or not 1 <= passes <= MAX_PASSES:
        raise ConfigurationError(f"passes must be 1 to {MAX_PASSES}, got {passes!r}")
    size = options.get("chunk_size")
    if text is None:
        if size is not None or passes > 1:
            raise ConfigurationError(
                "chunk_size= and passes= cut and read the text: pass it as text= (messages= "
                "are sent whole with every chunk)."
            )
        return None
    resolved = Target.of(target)
    if size is None:
        size = _automatic_size(planner, resolved, text, options)
        if size is None and passes == 1:
            return None  # the text fits in one request: a plain call
    from ..grounding import split_text  # a plain call (the text fits) never loads grounding

    if size is None:
        size = max(len(text), 2)  # several passes over a text that fits: one chunk
    elif not isinstance(size, int) or isinstance(size, bool):
        raise ConfigurationError(f"chunk_size must be a number of characters, got {size!r}")
    chunks = split_text(text, size, overlap=options.get("chunk_overlap"))
    if len(chunks) == 1 and passes == 1:
        return None
    concurrency = options.get("chunk_concurrency", DEFAULT_CHUNK_CONCURRENCY)
    if not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigurationError(f"chunk_concurrency must be at least 1, got {concurrency!r}")
    return DocumentCall(planner, resolved, chunks, call, passes=passes, concurrency=concurrency)


def _automatic_size(
    planner: Planner, target: Target[Any], text: str, options: CallOptions
) -> int | None:
    """A chunk size when the text would not fit the model's input, else None."""
    model = options.get("model") or planner.model
    limit = planner.rules_for(model).input_tokens
    text_tokens = estimate_tokens(text)
    overhead = estimate_tokens(target.prompt_schema) + estimate_tokens(
        options.get("instructions") or ""
    )
    if text_tokens + overhead <= limit or overhead >= limit * _AUTO_SHARE:
        # It fits; or no chunk would fit beside the prompt, and the one request is refused
        # before it is sent (`ExtractionLoop` checks every request against the window).
        return None
    chars_per_token = len(text) / text_tokens
    return max(2, int((limit * _AUTO_SHARE - overhead) * chars_per_token))


class ChunkJob:
    """One chunk's readings, one `ExtractionLoop` at a time (see the module's docstring)."""

    def __init__(self, document: DocumentCall[Any], chunk: Chunk) -> None:
        self.chunk = chunk
        self.loops: list[ExtractionLoop[Any]] = []
        self.parts: list[ChunkValue] = []
        self.error: ExtractionError | None = None
        self._document = document

    def next_loop(self) -> ExtractionLoop[Any] | None:
        """The loop of the next reading, or None when the chunk is done (or failed). Call it
        again after driving the loop it gave to success."""
        if self.error is not None:
            return None
        if self.loops:
            done = self.loops[-1]
            assert done.grounding is not None, "a chunk's loop always grounds its answer"
            from ..grounding import ChunkValue

            self.parts.append(
                ChunkValue(done.data, done.grounding.spans, self.chunk.start, self.chunk.index)
            )
        if len(self.loops) == self._document.passes:
            return None
        found = None if not self.parts else self.parts[-1].value
        loop = self._document.loop(self.chunk, found)
        self.loops.append(loop)
        return loop

    def fail(self, error: ExtractionError) -> None:
        """The current reading failed after its retries: the chunk stops here."""
        self.error = error


class DocumentCall(Generic[T]):
    """One call over a chunked text: its jobs, and the merged result."""

    def __init__(
        self,
        planner: Planner,
        target: Target[T],
        chunks: Sequence[Chunk],
        call: CallOptions,
        *,
        passes: int = 1,
        concurrency: int = DEFAULT_CHUNK_CONCURRENCY,
    ) -> None:
        self.target = target
        self.passes = passes
        self.concurrency = concurrency
        self._planner = planner
        self._call = call
        options = planner.options(call)
        self._ground = bool(options.get("ground") or options.get("require_grounding"))
        self._partial_ok = bool(options.get("partial_ok"))
        self._instructions = options.get("instructions")
        self.jobs = [ChunkJob(self, chunk) for chunk in chunks]
        # The plan every loop shares (model, price, budget, validation settings).
        self.plan = planner.plan(target, chunks[0].text, {**call, "ground": True})

    def loop(self, chunk: Chunk, found: Any = None) -> ExtractionLoop[T]:
        """The loop reading ``chunk``; a later reading is told what the earlier ``found``."""
        call: CallOptions = {**self._call, "ground": True}
        if found is not None:
            extra = prompt.second_pass(found)
            call["instructions"] = (
                f"{self._instructions}\n\n{extra}" if self._instructions else extra
            )
        return ExtractionLoop(self._planner.plan(self.target, chunk.text, call), spent=self.spent)

    def spent(self) -> Usage:
        """What the whole call has spent so far, every chunk and pass."""
        total = Usage()
        for job in self.jobs:
            for loop in list(job.loops):
                total += loop.usage
        return total

    @property
    def usage(self) -> Usage:
        return self.spent()

    @property
    def cost(self) -> Cost | None:
        return self.plan.price.cost(self.spent()) if self.plan.price else None

    @property
    def attempts(self) -> tuple[Attempt, ...]:
        return tuple(a for job in self.jobs for loop in list(job.loops) for a in loop.attempts)

    def result(self, merged: Merged | None = None) -> Extraction[T]:
        """The merged, validated extraction once every job is done; raises `ChunkFailed`
        (or the chunk's own error, for a text in one chunk) when a chunk failed and
        ``partial_ok`` is off. ``merged``: the chunks' answers already merged (by a stream,
        item by item), else they are merged here."""
        failed = [job for job in self.jobs if job.error is not None]
        failures = [
            ChunkFailure(job.chunk.index, job.chunk.start, job.chunk.end, job.error)
            for job in failed
            if job.error is not None
        ]
        parts = [part for job in self.jobs for part in job.parts]
        usage, cost, attempts = self.usage, self.cost, self.attempts
        partial: Extraction[T] | None = None
        invalid: ValidationFailed | None = None
        if parts:
            from ..grounding import merge

            merged = merged or merge(parts)
            try:
                value = self.target.validate(
                    self.target.wrap_data(merged.value),
                    strict=self.plan.strict,
                    context=self.plan.context,
                )
            except Invalid as exc:
                invalid = ValidationFailed(
                    "the chunks' answers, each valid, do not conform once merged:\n"
                    + "\n".join(f"  - {detail}" for detail in exc.details)
                    + "\nLoosen the target (a list's maxItems, say) or extract in one chunk.",
                    errors=exc.details,
                    raw=render(self.target.wrap_data(merged.value)),
                )
            else:
                partial = Extraction(
                    value=value,
                    usage=usage,
                    cost=cost,
                    attempts=attempts,
                    model=self.plan.model,
                    spans=merged.spans if self._ground else None,
                    chunks=len(self.jobs),
                    conflicts=tuple(merged.conflicts),
                    failed_chunks=tuple(failures),
                )
        error: ExtractionError | None = None
        if failures and (not self._partial_ok or partial is None):
            if len(self.jobs) == 1 and not parts:
                error = failed[0].error  # a text in one chunk fails as a plain call would
            else:
                message = _failure_message(failures, len(self.jobs), partial)
                error = ChunkFailed(message, failures=failures, partial=partial)
        elif invalid is not None:
            error = invalid
        if error is not None:
            error.usage, error.cost, error.attempts = usage, cost, attempts
            raise error
        assert partial is not None
        return partial


def _failure_message(
    failures: Sequence[ChunkFailure], chunks: int, partial: Extraction[Any] | None
) -> str:
    listing = "\n".join(f"  - {failure}" for failure in failures)
    kept = (
        "what the other chunks found is in .partial"
        if partial is not None
        else "no other chunk's answer could stand on its own"
    )
    return (
        f"{len(failures)} of {chunks} chunks failed after their retries:\n{listing}\n"
        f"{kept}. Pass partial_ok=True to get it returned with the failed chunks listed, or "
        "fix the cause above and extract again."
    )

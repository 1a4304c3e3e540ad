"""What every example shares: the ``--offline`` switch, and an extractor for either mode.

Online, the examples call the real API with the key from ``EXTRACTOR_API_KEY`` (or
``OPENAI_API_KEY``). With ``--offline`` they run against ``extractor.testing.FakeModel``, which
answers what each example scripts, so they run anywhere, free, in CI too.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from extractor import AsyncExtractor, Extractor
from extractor.testing import FakeModel


def parse_args(description: str | None, argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(description or "").strip().splitlines()[0])
    parser.add_argument(
        "--offline",
        action="store_true",
        help="answer from the testing kit's fake model instead of the real API (no key, no cost)",
    )
    parser.add_argument("--model", help="model to use online (default: EXTRACTOR_MODEL or gpt-5.1)")
    args = parser.parse_args(argv)
    if not args.offline and not (
        os.environ.get("EXTRACTOR_API_KEY") or os.environ.get("OPENAI_API_KEY")
    ):
        parser.exit(
            2,
            f"{parser.prog}: set EXTRACTOR_API_KEY (or OPENAI_API_KEY) to call the API, "
            "or run with --offline.\n",
        )
    return args


def extractor(args: argparse.Namespace, fake: FakeModel, **options: Any) -> Extractor:
    """The real `Extractor`, or with ``--offline`` one wired to ``fake``."""
    if args.offline:
        return fake.extractor(**options)
    return Extractor(model=args.model, **options)


def async_extractor(args: argparse.Namespace, fake: FakeModel, **options: Any) -> AsyncExtractor:
    if args.offline:
        return fake.async_extractor(**options)
    return AsyncExtractor(model=args.model, **options)


def fail(message: str) -> None:
    print(message, file=sys.stderr)
    raise SystemExit(1)

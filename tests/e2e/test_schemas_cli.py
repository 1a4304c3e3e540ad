"""The ready-made schemas through the command line, as the README shows them:
``extractor extract --schema schemas/invoice.json invoice.txt``, against the loopback server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.fakeserver import ChatRequest, FakeServer, Reply
from tests.schemas.test_schemas import NAMES, ROOT, SAMPLES, samples

ANSWERS = {text.strip(): expected for name in NAMES for text, expected in samples(name)}


def answer(request: ChatRequest) -> Reply:
    # The source text is in the user message between the library's delimiters.
    return next(Reply.answer(value) for text, value in ANSWERS.items() if text in request.text)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServer]:
    with FakeServer(answer) as fake:
        yield fake


# Every schema goes through `Extractor` in test_schemas_extract; here a few that differ in
# shape (nested $defs, the list form, patterns and formats), since each is a subprocess.
@pytest.mark.parametrize("name", ["invoice", "people", "event"])
def test_extract_command_with_a_ready_made_schema(name: str, server: FakeServer) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    env.update(EXTRACTOR_API_KEY="sk-test-cli", PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [
            sys.executable, "-m", "extractor", "extract",
            "--schema", f"schemas/{name}.json",
            "--base-url", server.base_url,
            str(SAMPLES.relative_to(ROOT) / f"{name}.txt"),
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == samples(name)[0][1]

"""Fixtures of the end-to-end tests: the loopback server and a working directory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_cli import PERSON_SCHEMA, scripted
from tests.fakeserver import FakeServer


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer(scripted, latency=0.005) as fake:
        yield fake


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "person.json").write_text(json.dumps(PERSON_SCHEMA))
    return tmp_path

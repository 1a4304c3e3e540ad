"""What `connect` does to Ray's own output, without starting Ray (``ray.init`` is replaced)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("ray")

from extractor.jobs import ray_job


@pytest.fixture
def levels() -> Iterator[None]:
    names = list(ray_job._QUIET_LOGGERS)
    saved = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def test_connect_silences_rays_chatter_but_keeps_its_warnings(
    monkeypatch: pytest.MonkeyPatch, levels: None
) -> None:
    """The batch command printed Ray's token-auth notice, its "progress bars disabled" warning
    and each dataset's start and end around our own summary."""
    seen: dict[str, Any] = {}
    monkeypatch.setattr(ray_job.ray, "init", lambda **kwargs: seen.update(kwargs))
    ray_job.connect(None)
    auth = logging.getLogger("ray._private.authentication.authentication_token_setup")
    assert not auth.isEnabledFor(logging.WARNING)
    assert not logging.getLogger("ray.data._internal.progress").isEnabledFor(logging.WARNING)
    data = logging.getLogger("ray.data._internal.execution.streaming_executor")
    assert not data.isEnabledFor(logging.INFO) and data.isEnabledFor(logging.WARNING)
    assert seen["log_to_driver"] is False

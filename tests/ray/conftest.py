"""Ray tests share one local Ray per test module: starting Ray costs seconds, so it is started
only for the modules in this folder that ask for it, never on any other test's path."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    """A local Ray with 2 CPUs for the module; yields its address for subprocesses."""
    ray = pytest.importorskip("ray")
    # The loopback server stands for a gateway billing in yuan, whose price is one setting
    # away; set before Ray starts, so that its workers inherit it.
    saved = os.environ.get("EXTRACTOR_PRICE")
    os.environ["EXTRACTOR_PRICE"] = "1.80/15.00 CNY"
    context = ray.init(num_cpus=2, include_dashboard=False, configure_logging=False)
    try:
        yield context.address_info["gcs_address"]
    finally:
        ray.shutdown()
        if saved is None:
            os.environ.pop("EXTRACTOR_PRICE", None)
        else:
            os.environ["EXTRACTOR_PRICE"] = saved

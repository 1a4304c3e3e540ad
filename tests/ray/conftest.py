"""Ray tests share one local Ray per test module: starting Ray costs seconds, so it is started
only for the modules in this folder that ask for it, never on any other test's path."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[str]:
    """A local Ray with 2 CPUs for the module; yields its address for subprocesses."""
    ray = pytest.importorskip("ray")
    context = ray.init(num_cpus=2, include_dashboard=False, configure_logging=False)
    try:
        yield context.address_info["gcs_address"]
    finally:
        ray.shutdown()

"""pytest plugin: the ``extractor_fake`` fixture.

Registered through the ``pytest11`` entry point, so installing extractor makes the fixture
available in any test suite:

    def test_reask(extractor_fake):
        extractor_fake.answer({"age": "old"}).answer({"age": 36})
        ex = extractor_fake.extractor()
        assert ex.extract(Person, "Ada, 36").age == 36
        assert "age" in extractor_fake.last.user      # the re-ask named the field

When the test passes, the fixture also fails it if scripted replies were left unused: the code
did fewer calls than the test expected.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .fake import FakeModel

__all__ = ["extractor_fake"]


@pytest.fixture
def extractor_fake(request: pytest.FixtureRequest) -> Iterator[FakeModel]:
    """A fresh `FakeModel`; mark a test ``@pytest.mark.extractor_fake_unused_ok`` to allow
    unused replies."""
    fake = FakeModel()
    yield fake
    report = getattr(request.node, "_extractor_call_report", None)
    if (
        report is not None
        and report.passed
        and not request.node.get_closest_marker("extractor_fake_unused_ok")
    ):
        fake.assert_all_used()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "extractor_fake_unused_ok: scripted fake replies may remain unused"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    # Old-style hookwrapper on purpose: the plugin loads in every suite of every project that
    # installs extractor, whatever its pytest version.
    outcome = yield
    if call.when == "call":
        item._extractor_call_report = outcome.get_result()  # type: ignore[attr-defined]

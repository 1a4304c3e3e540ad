"""The pytest plugin: ``extractor_fake`` fixture, and the unused-replies check."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]


def plugin_args() -> list[str]:
    """Load the plugin by hand unless the installed package registers it (``pytest11``):
    loading it twice is an error."""
    installed = any(ep.value == "extractor.testing.plugin" for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", "extractor.testing.plugin"]


USES_FIXTURE = """
import httpx
from extractor.testing import FakeModel

URL = "https://api.example.test/v1/chat/completions"
BODY = {"model": "gpt-5.1", "messages": [{"role": "user", "content": "json please"}]}

def test_used(extractor_fake):
    assert isinstance(extractor_fake, FakeModel)
    extractor_fake.answer({"a": 1})
    with httpx.Client(transport=extractor_fake.transport()) as client:
        assert client.post(URL, json=BODY).status_code == 200
    assert extractor_fake.last.user == "json please"

def test_fresh_per_test(extractor_fake):
    assert extractor_fake.requests == [] and extractor_fake.pending == 0

def test_unused(extractor_fake):
    extractor_fake.answer({"a": 1}).answer({"never": "requested"})

@pytest.mark.extractor_fake_unused_ok
def test_unused_allowed(extractor_fake):
    extractor_fake.answer({"a": 1})

def test_failing_anyway(extractor_fake):
    extractor_fake.answer({"a": 1})
    assert False, "the test's own failure"
"""


def test_fixture_and_unused_reply_check(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user="import pytest\n" + USES_FIXTURE)
    result = pytester.runpytest(*plugin_args(), "-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(passed=4, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_unused*",
            "*2 scripted replies were never requested (0 requests seen)*",
        ]
    )
    # A test that failed on its own is not buried under a second, teardown error.
    assert "ERROR at teardown of test_failing_anyway" not in result.stdout.str()
    assert "ERROR at teardown of test_unused_allowed" not in result.stdout.str()

"""The API key never shows: not in reprs, errors, logs or tracebacks."""

from __future__ import annotations

import logging
import traceback

import pytest
import respx
from pydantic import BaseModel

from extractor import AsyncExtractor, AuthenticationError, Extractor, ValidationFailed
from tests.helpers import BASE_URL, KEY, URL, error, reply


class Person(BaseModel):
    name: str


def test_reprs_hide_the_key():
    for ex in (Extractor(api_key=KEY), AsyncExtractor(api_key=KEY)):
        assert KEY not in repr(ex) and KEY not in str(vars(ex))
        assert "gpt-5.1" in repr(ex)


def test_server_echo_of_the_key_is_redacted():
    ex = Extractor(api_key=KEY, base_url=BASE_URL)
    with respx.mock:
        respx.post(URL).mock(return_value=error(401, f"Incorrect API key provided: {KEY}"))
        with pytest.raises(AuthenticationError) as info:
            ex.extract(Person, "x")
    rendered = "".join(traceback.format_exception(info.value))
    assert KEY not in rendered and "<secret>" in rendered


def test_debug_logs_never_contain_the_key(caplog):
    caplog.set_level(logging.DEBUG)
    ex = Extractor(api_key=KEY, base_url=BASE_URL, sleep=lambda s: None)
    with respx.mock:
        respx.post(URL).mock(side_effect=[error(500), reply({"x": 1}), reply({"name": "A"})])
        ex.extract(Person, "x")
        respx.post(URL).mock(return_value=reply({"x": 1}))
        with pytest.raises(ValidationFailed) as info:
            ex.extract(Person, "x", max_retries=0)
    assert any("attempt 1" in r.getMessage() for r in caplog.records)
    assert KEY not in caplog.text
    assert KEY not in "".join(traceback.format_exception(info.value))

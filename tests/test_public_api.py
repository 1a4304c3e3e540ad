"""The public API changes only on purpose: these lists are what users may import."""

from __future__ import annotations

import pytest

import extractor
import extractor.testing
from extractor import AsyncExtractor, ConfigurationError, Extractor
from extractor.testing import FakeModel

PUBLIC = [
    "APIConnectionError", "APIError", "APITimeoutError", "AsyncExtractionStream",
    "AsyncExtractor", "Attempt", "AuthenticationError", "BadRequestError", "BudgetExceeded",
    "CallOptions", "ChunkFailed", "ChunkFailure", "Conflict", "ConfigurationError", "Cost", "Done",
    "ErrorDetail", "Extraction", "ExtractionError", "ExtractionStream", "Extractor",
    "ExtractorOptions", "InputError",
    "ItemEvent", "ItemInvalid", "ItemReady", "JobAborted", "ModelRules", "NotFoundError",
    "OutputError", "ParseError", "PermissionDeniedError", "Price", "RateLimitError",
    "RecordResult", "RefusalError", "Restart", "ServerError", "Snapshot", "Span", "StreamError",
    "StreamEvent", "TruncatedError", "Usage", "ValidationFailed", "inferred", "loads",
    "render_html",
]  # fmt: skip


def test_the_public_api_is_pinned() -> None:
    assert sorted(extractor.__all__) == sorted(PUBLIC)
    for name in extractor.__all__:
        assert getattr(extractor, name) is not None


def test_every_public_error_is_in_the_error_tree() -> None:
    errors = [getattr(extractor, name) for name in PUBLIC if name.endswith(("Error", "Exceeded"))]
    errors += [extractor.ValidationFailed, extractor.JobAborted]
    for error in errors:
        assert issubclass(error, extractor.ExtractionError), error
        assert error.__module__ == "extractor.errors", error


@pytest.mark.parametrize(
    ("make", "typo", "suggestion"),
    [
        (lambda **kw: Extractor(api_key="k", **kw), "max_retires", "max_retries"),
        (lambda **kw: AsyncExtractor(api_key="k", **kw), "temprature", "temperature"),
        (lambda **kw: Extractor(api_key="k", **kw), "max_transport_retry", "max_transport_retries"),
    ],
)
def test_a_misspelt_extractor_option_names_the_closest_one(make, typo, suggestion) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigurationError, match=rf"unknown option '{typo}'.*'{suggestion}'"):
        make(**{typo: 1})


def test_a_misspelt_call_option_is_refused_before_anything_is_sent() -> None:
    fake = FakeModel()
    ex = fake.extractor()
    with pytest.raises(ConfigurationError, match=r"'temprature'.*did you mean 'temperature'"):
        ex.extract(dict, "text", temprature=0.2)  # type: ignore[call-overload]
    with pytest.raises(ConfigurationError, match=r"'max_retires'.*'max_retries'"):
        ex.request_body(dict, "text", max_retires=0)  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="'strct'"):
        list(ex.extract_many(dict, ["a"], strct=True))  # type: ignore[call-overload]
    with pytest.raises(ConfigurationError, match="'modes'"):
        ex.stream(dict, "text", modes="json")  # type: ignore[call-overload]
    assert fake.requests == []


async def test_a_misspelt_option_is_refused_by_the_async_calls_too() -> None:
    fake = FakeModel()
    aex = fake.async_extractor()
    with pytest.raises(ConfigurationError, match="'temprature'"):
        await aex.extract(dict, "text", temprature=0.2)  # type: ignore[call-overload]
    with pytest.raises(ConfigurationError, match="'strct'"):
        aex.extract_many(dict, ["a"], strct=True)  # type: ignore[call-overload]
    assert fake.requests == []


def test_an_option_set_as_a_default_reaches_every_call() -> None:
    fake = FakeModel().answer({"a": 1})
    ex = fake.extractor(temperature=0.2, reasoning_effort="none")
    ex.extract(dict, "text")
    assert fake.requests[0].json["temperature"] == 0.2


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"headers": "x"}, "headers= must map"),
        ({"headers": {"x-team": 1}}, "headers= must map"),
        ({"rules": "x"}, "rules= must be a ModelRules"),
        ({"price": 3}, "price= must be a Price"),
        ({"prices": {"gpt-5.1": 3}}, "prices= must map"),
    ],
)
def test_a_setting_of_the_wrong_type_is_a_configuration_error(
    setting: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Extractor(api_key="k", **setting)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=message):
        AsyncExtractor(api_key="k", **setting)  # type: ignore[arg-type]

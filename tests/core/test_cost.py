import re
from decimal import Decimal

import pytest

from extractor import ConfigurationError, Extractor, Price, Usage
from extractor.core.prices import PriceTable
from extractor.wire.decode import read_usage


def test_usage_survives_the_round_trip_through_an_output_file() -> None:
    usage = Usage(prompt_tokens=120, completion_tokens=30, cached_tokens=64, reasoning_tokens=12)
    assert Usage.from_dict(usage.to_dict()) == usage
    assert Usage.from_dict(None) == Usage()


def test_usage_is_read_from_the_api_shape_with_its_details() -> None:
    api = {
        "prompt_tokens": 120,
        "completion_tokens": 30,
        "total_tokens": 150,
        "prompt_tokens_details": {"cached_tokens": 64},
        "completion_tokens_details": {"reasoning_tokens": 12},
    }
    assert read_usage(api) == Usage(120, 30, 64, 12)
    assert read_usage({"prompt_tokens": None}) == Usage()


def test_cost_bills_cached_input_at_its_own_price() -> None:
    price = Price(input="1.80", output="15.00", cached_input="0.18")
    cost = price.cost(Usage(prompt_tokens=1_000_000, completion_tokens=0, cached_tokens=500_000))
    assert cost.amount == Decimal("0.99")


def test_list_price_belongs_to_the_endpoint_and_the_model() -> None:
    openai = PriceTable(host="api.openai.com")
    price = openai.get("gpt-5.1")
    assert price is not None and price.currency == "USD"
    assert (price.input, price.cached_input, price.output) == (
        Decimal("1.25"),
        Decimal("0.125"),
        Decimal("10.00"),
    )
    assert "api.openai.com" in price.source
    assert openai.get("gpt-5.1-2025-11-13") is price  # a dated snapshot is the same model
    assert openai.get("gpt-5.1-mini") is None  # another model, not a snapshot
    assert openai.get("gpt-5.1-chat-latest") is None
    assert PriceTable(host="gateway.example").get("gpt-5.1") is None  # another provider's bill


def test_caller_prices_and_the_fallback_come_before_the_list_price() -> None:
    gateway = Price.parse("1.80/15.00 CNY", source="$EXTRACTOR_PRICE")
    mine = Price("0.5", "1.5", currency="EUR")
    table = PriceTable({"gpt-5.1-mini": mine}, host="api.openai.com", fallback=gateway)
    assert table.get("gpt-5.1-mini") is mine
    assert table.get("gpt-5.1") is gateway
    assert table.get("anything-else") is gateway


def test_price_specs_parse_with_their_currency_or_fail_clearly() -> None:
    price = Price.parse("1.25/0.125/10.00 usd", source="--price")
    assert (price.input, price.cached_input, price.output, price.currency) == (
        Decimal("1.25"),
        Decimal("0.125"),
        Decimal("10.00"),
        "USD",
    )
    assert Price.parse("1.80/15.00 CNY").cached_input is None
    assert price.describe() == "1.25 in / 0.125 cached in / 10.00 out USD per 1M tokens; --price"
    for bad in ("1.80/15.00", "1.80 CNY", "a/b CNY", "1/2/3/4 USD", "-1/2 USD", "1/2 dollars"):
        with pytest.raises(ValueError, match="price"):
            Price.parse(bad)


def test_the_environment_price_applies_to_any_model_at_any_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EXTRACTOR_PRICE", "1.80/15.00 CNY")
    ex = Extractor("some-model", api_key="k", base_url="https://gateway.example/v1")
    price = ex.price_for("some-model")
    assert price is not None and price.currency == "CNY" and price.source == "$EXTRACTOR_PRICE"
    assert Extractor(api_key="k", price=Price("1", "2")).price_for("gpt-5.1") == Price("1", "2")
    monkeypatch.setenv("EXTRACTOR_PRICE", "cheap")
    with pytest.raises(ConfigurationError, match="EXTRACTOR_PRICE"):
        Extractor(api_key="k")
    monkeypatch.delenv("EXTRACTOR_PRICE")
    assert (
        Extractor(api_key="k", base_url="https://gateway.example/v1").price_for("gpt-5.1") is None
    )
    assert Extractor(api_key="k").price_for("gpt-5.1") is not None  # api.openai.com by default


@pytest.mark.parametrize(
    ("figures", "message"),
    [
        (("abc", "1"), "input='abc' is not a number"),
        (("1", "-2"), "output='-2' must be a non-negative number"),
        (("1", "2", "nan"), "cached_input='nan' must be a non-negative number"),
        ((None, "1"), "input= must be a number"),
    ],
)
def test_a_price_that_is_not_a_non_negative_number_is_a_configuration_error(
    figures: tuple[object, ...], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        Price(*figures)  # type: ignore[arg-type]

from decimal import Decimal

from extractor import Price, Usage
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

"""The tokenizer-free token estimates behind `extractor estimate` and --tpm."""

from __future__ import annotations

from extractor.core.tokens import answer_tokens, estimate_tokens, request_tokens


def test_ascii_text_is_about_four_characters_per_token() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd" * 10) == 10
    assert estimate_tokens("abcde") == 2  # rounded up


def test_other_scripts_count_a_token_per_character() -> None:
    assert estimate_tokens("東京都") == 3
    assert estimate_tokens("Tokyo 東京") == 2 + 2  # "Tokyo " is 6 ASCII characters


def test_request_tokens_from_the_serialized_body() -> None:
    assert request_tokens(b"x" * 400) == 100


def test_answer_tokens_follow_the_schema_shape() -> None:
    person = {"type": "object", "properties": {"name": {"type": "string"}, "age": {}}}
    assert answer_tokens(person) == 2 + 8 * 2
    assert answer_tokens(person, keyed=False) == 2 + 5 * 2  # compact answers: no keys
    people = {
        "type": "object",
        "properties": {"people": {"type": "array", "items": {"$ref": "#/$defs/P"}}},
        "$defs": {"P": person},
    }
    assert answer_tokens(people) == 2 + 8 * 3 * 2  # a list counts as three items
    either = {"anyOf": [person, {"type": "null"}]}
    assert answer_tokens(either) == answer_tokens(person)

"""Quickstart: one pydantic model, one text, one typed result.

python examples/quickstart.py             # real API: needs EXTRACTOR_API_KEY
python examples/quickstart.py --offline   # the testing kit's fake model: no key, no cost
"""

from __future__ import annotations

from _support import extractor, parse_args
from pydantic import BaseModel, Field

from extractor.testing import FakeModel


# 1. Say what you want. Field descriptions go into the prompt: they are your instructions.
class Person(BaseModel):
    name: str = Field(description="Full name as written")
    born: int | None = Field(default=None, description="Year of birth, if stated")
    occupation: str | None = Field(default=None, description="What the person does, in a few words")


TEXT = (
    "Ada Lovelace (born 1815 in London) was an English mathematician, best known for her "
    "notes on Charles Babbage's proposed Analytical Engine."
)


def main() -> None:
    args = parse_args(__doc__)
    # --offline: the fake model answers this instead of the real API.
    fake = FakeModel().answer(Person(name="Ada Lovelace", born=1815, occupation="mathematician"))

    # 2. Make an extractor. Online it reads EXTRACTOR_API_KEY / EXTRACTOR_MODEL.
    with extractor(args, fake) as ex:
        # 3. Extract: you get a validated Person, or an exception that says what went wrong.
        result = ex.extract_result(Person, TEXT)

    person = result.value
    print(f"{person.name}, born {person.born}: {person.occupation}")
    # Every call reports what it used and cost (summed over retries, if any).
    tokens, attempts = result.usage.total_tokens, len(result.attempts)
    print(f"{tokens} tokens in {attempts} attempt(s), cost {result.cost}")


if __name__ == "__main__":
    main()

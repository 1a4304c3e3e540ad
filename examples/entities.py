"""A list of entities: every company mentioned in a text, each with typed fields.

``extract(list[Company], text)`` works directly: JSON mode answers with an object, so the
library wraps the list on the wire and hands you back a plain ``list[Company]``.

    python examples/entities.py [--offline]
"""

from __future__ import annotations

from typing import Literal

from _support import extractor, parse_args
from pydantic import BaseModel, Field

from extractor.testing import FakeModel


class Company(BaseModel):
    name: str = Field(description="Company name as written, without legal form")
    relation: Literal["acquirer", "acquired", "investor", "competitor", "other"] = Field(
        description="The company's part in the story"
    )
    amount_usd: float | None = Field(
        default=None, description="Money the company paid or invested, in US dollars, if stated"
    )


TEXT = """\
Northwind Analytics has agreed to buy the Berlin start-up Quillstack for $420 million, the
companies said on Tuesday. Quillstack's early backer, Larkspur Ventures, will see a tenfold
return. Analysts expect rival Contoso Data to respond with price cuts."""


def main() -> None:
    args = parse_args(__doc__)
    fake = FakeModel().answer(
        [
            Company(name="Northwind Analytics", relation="acquirer", amount_usd=420e6),
            Company(name="Quillstack", relation="acquired"),
            Company(name="Larkspur Ventures", relation="investor"),
            Company(name="Contoso Data", relation="competitor"),
        ],
        target=list[Company],  # answer the way the library expects for a list target
    )
    with extractor(args, fake) as ex:
        companies = ex.extract(
            list[Company],
            TEXT,
            instructions="List every company mentioned, in order of first mention.",
        )

    for company in companies:
        paid = f"  ${company.amount_usd:,.0f}" if company.amount_usd else ""
        print(f"{company.relation:<11} {company.name}{paid}")


if __name__ == "__main__":
    main()

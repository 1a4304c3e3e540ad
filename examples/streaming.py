"""Streaming to the terminal: see fields and list items while the model is still writing.

``ex.stream(Target, text)`` yields events: `Snapshot` (the value so far, typed; fields not
complete yet are None), `Restart` (the answer was rejected and is being re-asked: forget what
was shown), and `Done` (the validated value, the same as ``extract`` returns).
``ex.stream_items(Item, text)`` yields each element of a list as soon as it is complete and
validated. Use both in a ``with`` block: leaving it early closes the connection.

    python examples/streaming.py [--offline]
"""

from __future__ import annotations

from _support import extractor, parse_args
from pydantic import BaseModel, Field

from extractor.streaming import Done, ItemInvalid, ItemReady, Restart, Snapshot
from extractor.testing import FakeModel, Reply


class Ingredient(BaseModel):
    name: str = Field(description="Ingredient name")
    amount: str | None = Field(default=None, description="Quantity with its unit, as written")


class Recipe(BaseModel):
    title: str = Field(description="Name of the dish")
    servings: int | None = Field(default=None, description="Number of servings")
    ingredients: list[Ingredient] = Field(description="Every ingredient, in order")
    steps: list[str] = Field(description="Method, one short sentence per step")


TEXT = """\
Grandma's lemon drizzle (serves 8). Beat 225 g butter with 225 g caster sugar, add 4 eggs one
at a time, then fold in 275 g self-raising flour and the zest of 2 lemons. Bake 45 minutes at
180 °C. Mix the juice of 1½ lemons with 85 g sugar and pour over the warm cake."""

RECIPE = Recipe(
    title="Grandma's lemon drizzle",
    servings=8,
    ingredients=[
        Ingredient(name="butter", amount="225 g"),
        Ingredient(name="caster sugar", amount="225 g"),
        Ingredient(name="eggs", amount="4"),
        Ingredient(name="self-raising flour", amount="275 g"),
        Ingredient(name="lemons", amount="3½"),
        Ingredient(name="sugar", amount="85 g"),
    ],
    steps=[
        "Beat the butter with the caster sugar.",
        "Add the eggs one at a time.",
        "Fold in the flour and the lemon zest.",
        "Bake 45 minutes at 180 °C.",
        "Pour the lemon juice mixed with sugar over the warm cake.",
    ],
)


def main() -> None:
    args = parse_args(__doc__)
    # --offline: the fake model streams these answers in small deltas, as the real API does.
    fake = FakeModel()
    fake.then(Reply.answer(RECIPE, chunk_chars=6))
    fake.then(Reply.answer(RECIPE.ingredients, target=list[Ingredient], chunk_chars=6))

    with extractor(args, fake) as ex:
        print("-- ex.stream(Recipe, ...): fields as they complete")
        printed: dict[str, int] = {}  # field name -> how much of it is on screen
        with ex.stream(Recipe, TEXT) as events:
            for event in events:
                if isinstance(event, Snapshot):  # a partial Recipe: unfinished fields are None
                    show(event.value, printed, final=False)
                elif isinstance(event, Restart):
                    print(f"  (answer rejected, asking again: {event.errors[0]})")
                    printed.clear()
                elif isinstance(event, Done):  # validated, exactly what extract() returns
                    show(event.value, printed, final=True)
            print(f"  {events.result.usage.total_tokens} tokens, cost {events.result.cost}")

        print("-- ex.stream_items(Ingredient, ...): each item once complete and valid")
        with ex.stream_items(Ingredient, TEXT, instructions="List the ingredients.") as items:
            for item in items:
                if isinstance(item, ItemReady):
                    print(f"  {item.index + 1}. {item.value.name}: {item.value.amount}")
                elif isinstance(item, ItemInvalid):
                    print(f"  item {item.index + 1} is invalid: {item.errors[0]}")


def show(recipe: Recipe, printed: dict[str, int], *, final: bool) -> None:
    """Print what is new in this snapshot. A list's last element may still be growing, so it
    is printed once the next one starts, or at the end."""
    for name, value in recipe:
        if isinstance(value, list):
            complete = value if final else value[:-1]
            for number, item in enumerate(
                complete[printed.get(name, 0) :], printed.get(name, 0) + 1
            ):
                print(f"  {name} {number}: {item}")
            printed[name] = max(printed.get(name, 0), len(complete))
        elif value is not None and name not in printed:
            print(f"  {name}: {value}")
            printed[name] = 1


if __name__ == "__main__":
    main()

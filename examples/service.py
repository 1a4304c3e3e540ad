"""An async web service that returns typed extraction results (Starlette).

``POST /triage`` with ``{"text": "..."}`` answers the ticket's triage as JSON, validated
against the `Triage` model; extraction failures become clear HTTP errors. One `AsyncExtractor`
serves every request concurrently.

This script starts the app in-process (httpx's ASGI transport, no server or port), sends it
one request and prints the typed response. To serve it for real, see `app_from_environment`.
Needs Starlette: ``pip install "typed-extractor[examples]"``.

    python examples/service.py [--offline]
"""

from __future__ import annotations

import asyncio
from typing import Literal

import httpx
from _support import async_extractor, parse_args
from pydantic import BaseModel, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from extractor import APIError, AsyncExtractor, ExtractionError
from extractor.testing import FakeModel


class Triage(BaseModel):
    category: Literal["billing", "bug", "account", "how_to", "other"] = Field(
        description="What the ticket is about"
    )
    urgency: Literal["low", "normal", "high", "critical"] = Field(
        description="critical: outage or money lost now; high: customer blocked"
    )
    summary: str = Field(max_length=200, description="The problem in one sentence")


class TicketIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)


def create_app(ex: AsyncExtractor) -> Starlette:
    async def triage(request: Request) -> JSONResponse:
        try:
            ticket = TicketIn.model_validate_json(await request.body())
        except ValidationError as exc:
            return JSONResponse(
                {"error": exc.errors(include_url=False, include_context=False)}, status_code=422
            )
        try:
            result = await ex.extract_result(Triage, ticket.text)
        except APIError as exc:
            # The model's API failed, even after its retries: a gateway error, not the client's.
            return JSONResponse({"error": exc.message}, status_code=502)
        except ExtractionError as exc:
            # No valid answer for this text: a refusal, a truncation, re-asks spent.
            return JSONResponse({"error": exc.message}, status_code=422)
        return JSONResponse(
            {
                "triage": result.value.model_dump(),
                "cost": str(result.cost),
                "attempts": len(result.attempts),
            }
        )

    return Starlette(routes=[Route("/triage", triage, methods=["POST"])])


TICKET = (
    "Since this morning every export to CSV fails with error E1203, "
    "and our payroll run is due today!"
)


async def main() -> None:
    args = parse_args(__doc__)
    fake = FakeModel().answer(
        Triage(
            category="bug",
            urgency="high",
            summary="CSV export fails with E1203; payroll is due today.",
        )
    )
    async with async_extractor(args, fake) as ex:
        app = create_app(ex)
        # In-process: requests go straight to the app, no network.
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://app"
        ) as client:
            response = await client.post("/triage", json={"text": TICKET})
    response.raise_for_status()
    triage = Triage.model_validate(response.json()["triage"])  # typed again on the client side
    print(f"HTTP {response.status_code}: {triage!r}")
    print(f"cost {response.json()['cost']}")


def app_from_environment() -> Starlette:
    """The app on the real API, for an ASGI server: from examples/, run
    ``uvicorn --factory service:app_from_environment`` (EXTRACTOR_API_KEY set)."""
    return create_app(AsyncExtractor())


if __name__ == "__main__":
    asyncio.run(main())

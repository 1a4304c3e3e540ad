"""What loads when: ``import extractor`` loads no client, and a plain sync ``extract`` loads
none of the optional machinery (asyncio, tenacity, jsonschema, streams, extract_many, the
lenient parser, grounding, local repair) until a call needs it. Checked in fresh interpreters."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import extractor

ROOT = Path(__file__).resolve().parents[1]
OPTIONAL = (
    "asyncio",
    "tenacity",
    "jsonschema",
    "extractor.streaming",
    "extractor.core.session",
    "extractor.many",
    "extractor.parse",
    "extractor.grounding",
    "extractor.core.repair",
)

PLAIN_EXTRACT = """
import httpx
from pydantic import BaseModel
from extractor import Extractor

class Person(BaseModel):
    name: str

ANSWER = {"choices": [{"message": {"content": '{"name": "Ada"}'}, "finish_reason": "stop"}]}
client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=ANSWER)))
ex = Extractor(api_key="k", base_url="https://api.test/v1", http_client=client)
assert ex.extract(Person, "Ada Lovelace").name == "Ada"
"""


def loaded(code: str) -> list[str]:
    """The modules of ``OPTIONAL`` (and httpx) that ``code`` loaded in a fresh interpreter."""
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    modules = set(json.loads(out.stdout.splitlines()[-1]))
    return [name for name in (*OPTIONAL, "httpx") if name in modules]


def test_import_extractor_loads_no_client() -> None:
    assert loaded("import extractor") == []


def test_a_plain_sync_extract_loads_none_of_the_optional_machinery() -> None:
    assert loaded(PLAIN_EXTRACT) == ["httpx"]


def test_each_optional_part_loads_when_first_needed() -> None:
    schema_target = PLAIN_EXTRACT.replace(
        "ex.extract(Person,", "ex.extract({'type': 'object'}, 'x') and ex.extract(Person,"
    )
    assert "jsonschema" in loaded(schema_target)
    assert "extractor.parse" in loaded("from extractor import loads")
    grounded = PLAIN_EXTRACT.replace('"Ada Lovelace")', '"Ada Lovelace", ground=True)')
    assert "extractor.grounding" in loaded(grounded)
    assert "asyncio" in loaded("from extractor import AsyncExtractor; AsyncExtractor(api_key='k')")
    invalid = PLAIN_EXTRACT.replace("""'{"name": "Ada"}'""", """'{"name": 5}'""").replace(
        'assert ex.extract(Person, "Ada Lovelace").name == "Ada"',
        "import contextlib\nwith contextlib.suppress(Exception): ex.extract(Person, 'Ada')",
    )
    assert "extractor.core.repair" in loaded(invalid)


def test_every_public_name_is_importable_and_listed() -> None:
    for name in extractor.__all__:
        assert getattr(extractor, name) is not None
    assert set(extractor.__all__) <= set(dir(extractor))

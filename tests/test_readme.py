"""Every Python block of the README runs as written, against the testing kit's fake model.

The blocks are run unchanged: ``Extractor()`` is the real class, with a dummy key in the
environment, and respx routes its requests to a `FakeModel` that answers from the text (so a
block's own text decides its answer, and a new block with a new text fails here until it is
given one). Functions named ``test_*`` that a block defines are called too, with a fresh fake
for an ``extractor_fake`` argument, as the pytest plugin would give. A block that relies on a
variable, an import or a model it does not define fails this test. The one exception is the
Ray example (its requests leave from worker processes, beyond respx, and it reads cloud
storage): it is only compiled here; tests/ray runs ``extract_dataset`` end to end.
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
import types
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from extractor import Extractor
from extractor.testing import FakeModel, Recorder, SeenRequest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```python\n(.*?)^```", README, flags=re.DOTALL | re.MULTILINE)
SAMPLES = ROOT / "schemas" / "samples"

PEOPLE = [{"name": "Ada Lovelace", "age": 36}, {"name": "Charles Babbage", "age": None}]
ORDER = {
    "customer": "Dana Whitfield",
    "items": [{"sku": "KB-204", "qty": 3}, {"sku": "MS-11", "qty": 2}],
}


def answer(request: SeenRequest) -> Any:
    """The model: the right answer for each text the README uses."""
    text = request.text
    if text == (SAMPLES / "invoice.txt").read_text():
        return json.loads((SAMPLES / "invoice.expected.json").read_text())
    if text.startswith("Order from Dana Whitfield"):
        return ORDER
    if text.startswith("Dana Whitfield orders"):
        lines = [{"product": "Recyclingpapier A4", "quantity": 4, "unit_price": 23.9}]
        return {"customer": "Dana Whitfield", "delivery": "2024-03-05", "lines": lines}
    if "Meeting" in text:  # a chunk of the long minutes: the items it holds
        items = re.findall(r"(Ana) will (send report \d+) by Friday", text)
        return {"action_items": [{"owner": owner, "task": task} for owner, task in items]}
    if "Ada Lovelace" in text:
        wanted_list = "\nresult: " in request.system  # a list target is wrapped on the wire
        return {"result": PEOPLE} if wanted_list else PEOPLE[0]
    raise AssertionError(f"the README test has no answer for the text {text!r}; add one")


def test_the_readme_has_python_blocks() -> None:
    assert len(BLOCKS) >= 10


@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_readme_block_runs_as_written(
    number: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("EXTRACTOR_BASE_URL", "OPENAI_BASE_URL", "EXTRACTOR_MODEL", "EXTRACTOR_PRICE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("EXTRACTOR_RECORD", raising=False)
    monkeypatch.setenv("EXTRACTOR_API_KEY", "sk-readme-test")
    (tmp_path / "schemas").symlink_to(ROOT / "schemas")
    monkeypatch.chdir(tmp_path)  # relative paths as from a checkout; nothing written in it
    _record_cassette(tmp_path / "tests" / "cassettes" / "invoice.jsonl")

    if "import ray" in BLOCKS[number]:
        compile(BLOCKS[number], f"README.md block {number + 1}", "exec")
        pytest.skip("needs a Ray cluster and its storage; tests/ray runs extract_dataset")
    fake = FakeModel(handler=answer)
    # A real module, as a pasted script has: pydantic resolves annotations through it.
    module = types.ModuleType(f"readme_block_{number + 1}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    with respx.mock(assert_all_called=False) as router:
        router.post(url__regex=r".*/chat/completions$").mock(side_effect=fake.handle)
        exec(compile(BLOCKS[number], f"README.md block {number + 1}", "exec"), module.__dict__)
        for name, function in list(vars(module).items()):
            if name.startswith("test_") and callable(function):
                _call(function)


def _call(function: Any) -> None:
    """Call a test function a block defines, with the fixtures the pytest plugin provides."""
    fakes: dict[str, FakeModel] = {}
    arguments = {}
    for parameter in inspect.signature(function).parameters:
        assert parameter == "extractor_fake", f"no fixture {parameter!r} for the README"
        fakes[parameter] = arguments[parameter] = FakeModel()
    function(**arguments)
    for fake in fakes.values():
        fake.assert_all_used()


def _record_cassette(path: Path) -> None:
    """The recording the README's replay example replays, made from the fake model the way
    ``EXTRACTOR_RECORD=1`` makes it from the real API."""
    path.parent.mkdir(parents=True)
    fake = FakeModel(handler=answer)
    recorder = Recorder(path, transport=fake.transport())
    with Extractor(api_key="sk-readme-test", http_client=httpx.Client(transport=recorder)) as ex:
        ex.extract("schemas/invoice.json", (SAMPLES / "invoice.txt").read_text())


def test_the_exit_code_table_is_the_commands_exit_codes() -> None:
    from extractor import cli

    codes = {value for name, value in vars(cli).items() if name.startswith("EXIT_")}
    table = {int(code) for code in re.findall(r"^\| (\d+) \|", README, flags=re.MULTILINE)}
    assert table == codes


def test_every_command_line_option_is_in_the_readme() -> None:
    from extractor.cli import _parser

    commands = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in commands.choices.items():
        assert f"extractor {name}" in README
        for action in command._actions:
            spellings = [f"`{option}" for option in action.option_strings]
            if "--help" in action.option_strings:
                continue
            if spellings:
                assert any(s in README for s in spellings), f"{name} {spellings} not in README"

"""The ``compact`` output mode end to end: through the testing kit's fake model, streams,
grounding, the loopback fake server and the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from extractor import Extractor
from extractor.core.prompt import PATCH_REQUEST
from extractor.core.target import Target
from extractor.streaming import Done, Restart, Snapshot
from extractor.testing import FakeModel, compact_answer
from tests.batchserver import BatchServer
from tests.e2e.test_cli import cli, read_lines, write_jsonl
from tests.fakeserver import ChatRequest, FakeServer, Reply

KEY = "sk-test-compact-0123456789"


class Address(BaseModel):
    city: str
    zip: str | None = None


class Line(BaseModel):
    sku: str
    qty: int = 1


class Order(BaseModel):
    customer: str
    ship_to: Address
    lines: list[Line]
    totals: dict[str, float] = {}
    note: str = "none"


ORDER = {
    "customer": "Ada",
    "ship_to": {"city": "Paris", "zip": "75001"},
    "lines": [{"sku": "KB-1", "qty": 2}, {"sku": "MS-2", "qty": 1}],
    "totals": {"net": 3.5},
    "note": "gift",
}
TEXT = "Ada, Paris 75001: 2 x KB-1, 1 x MS-2 (net 3.5), a gift"


def test_the_fake_model_answers_a_compact_request_in_compact_form() -> None:
    fake = FakeModel().answer(ORDER)
    result = fake.extractor().extract_result(Order, TEXT, mode="compact")
    assert result.value == Order.model_validate(ORDER)
    raw = json.loads(result.attempts[0].raw or "")
    assert raw == {
        "values": ["Ada", ["Paris", "75001"], [["KB-1", 2], ["MS-2", 1]], {"net": 3.5}, "gift"]
    }
    system = fake.last.system
    assert "JSON" in system and "write tuples as arrays of their values in order" in system
    assert "ship_to: [" in system
    # The same script answers json mode keyed.
    fake = FakeModel().answer(ORDER)
    keyed = fake.extractor().extract_result(Order, TEXT)
    assert json.loads(keyed.attempts[0].raw or "") == ORDER
    assert len(raw_text(result)) < 0.7 * len(raw_text(keyed))


def raw_text(result: Any) -> str:
    return str(result.attempts[0].raw)


def test_absent_optional_values_take_their_defaults() -> None:
    compact = {"values": ["Ada", ["Paris", None], [["KB-1", None]], None, None]}
    fake = FakeModel().answer(json.dumps(compact))
    order = fake.extractor().extract(Order, TEXT, mode="compact")
    assert order == Order(customer="Ada", ship_to=Address(city="Paris"), lines=[Line(sku="KB-1")])


def test_a_wrong_number_of_values_is_reasked_naming_the_fields() -> None:
    short = {"values": ["Ada", ["Paris"], [["KB-1", 2], ["MS-2", 1]], {}, "gift"]}
    fake = FakeModel().answer(json.dumps(short)).answer(ORDER)
    result = fake.extractor().extract_result(Order, TEXT, mode="compact")
    assert result.value.ship_to.zip == "75001"
    reask = fake.last.user
    assert "ship_to: expected an array of 2 values, in this order: city, zip; got 1" in reask


def test_a_keyed_answer_is_accepted() -> None:
    fake = FakeModel().answer(json.dumps(ORDER))
    assert fake.extractor().extract(Order, TEXT, mode="compact") == Order.model_validate(ORDER)


def test_a_json_schema_target_and_a_list_target() -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "score": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
        },
        "required": ["name", "tags"],
    }
    fake = FakeModel().answer({"name": "a", "tags": ["x"], "score": 3})
    assert fake.extractor().extract(schema, "t", mode="compact") == {
        "name": "a",
        "tags": ["x"],
        "score": 3,
    }
    lines = [Line(sku="a", qty=2), Line(sku="b")]
    fake = FakeModel().answer(lines, target=list[Line])
    assert fake.extractor().extract(list[Line], "t", mode="compact") == lines


def test_stream_snapshots_fill_objects_from_array_prefixes() -> None:
    fake = FakeModel().answer(ORDER)
    with fake.extractor().stream(Order, TEXT, mode="compact") as stream:
        events = list(stream)
    snapshots = [event.value for event in events if isinstance(event, Snapshot)]
    assert isinstance(events[-1], Done) and events[-1].value == Order.model_validate(ORDER)
    assert all(isinstance(snapshot, Order) for snapshot in snapshots)
    assert any(s.customer == "Ada" and s.lines is None for s in snapshots)
    assert any(
        s.ship_to is not None and s.ship_to.city == "Paris" and not s.lines for s in snapshots
    )


def test_stream_items_of_a_list_target() -> None:
    lines = [Line(sku="a", qty=2), Line(sku="b", qty=3)]
    fake = FakeModel().answer(lines, target=list[Line])
    with fake.extractor().stream_items(Line, "t", mode="compact") as stream:
        items = [event.value for event in stream if type(event).__name__ == "ItemReady"]
    assert items == lines


def test_grounding_finds_the_values_of_a_compact_answer() -> None:
    fake = FakeModel().answer(ORDER)
    result = fake.extractor().extract_result(Order, TEXT, mode="compact", ground=True)
    assert result.spans is not None
    assert {"customer", "ship_to.zip", "lines[1].sku", "totals.net"} <= set(result.spans)


def compact_person(request: ChatRequest) -> Reply:
    """The loopback model: compact requests get compact answers (it knows the target); a
    text with SHORT gets one value too few the first time."""
    answer = {"name": request.text.split(",")[0].split()[-1], "age": 36}
    if "tuples as arrays" not in (request.messages[0].get("content") or ""):
        return Reply.answer(answer)
    if "SHORT" in request.text and request.nth == 0:
        return Reply.answer({"values": [answer["name"]]})
    return Reply.answer(compact_answer(PERSON, answer))


PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}


def test_through_the_loopback_server_and_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "person.json").write_text(json.dumps(PERSON))
    with FakeServer(compact_person) as server:
        ex = Extractor(api_key=KEY, base_url=server.base_url)
        assert ex.extract(PERSON, "rec-1 Ada, 36", mode="compact") == {"name": "Ada", "age": 36}
        done = cli(
            tmp_path,
            "extract",
            "--schema",
            "person.json",
            "--text",
            "rec-2 Grace, 36",
            "--mode",
            "compact",
            "--base-url",
            server.base_url,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {"name": "Grace", "age": 36}
        write_jsonl(
            tmp_path / "in.jsonl", [{"id": i, "text": f"rec-{i} P{i}, 36"} for i in range(3)]
        )
        args = ["batch", "in.jsonl", "--schema", "person.json", "-o", "out.jsonl", "--no-progress"]
        done = cli(tmp_path, *args, "--mode", "compact", "--base-url", server.base_url)
        assert done.returncode == 0, done.stderr
        lines = read_lines(tmp_path / "out.jsonl")
        assert sorted(line["data"]["name"] for line in lines) == ["P0", "P1", "P2"]
    estimates = [
        cli(tmp_path, "estimate", "in.jsonl", "--schema", "person.json", *mode).stdout
        for mode in ((), ("--mode", "compact"))
    ]
    assert "output tokens:  ~54 (18 per answer)" in estimates[0]
    assert "output tokens:  ~36 (12 per answer)" in estimates[1]


def test_through_the_batch_api_with_a_reask_round(tmp_path: Path) -> None:
    (tmp_path / "person.json").write_text(json.dumps(PERSON))
    rows = [{"id": i, "text": f"rec-{i} P{i}, 36{' SHORT' if i == 1 else ''}"} for i in range(3)]
    write_jsonl(tmp_path / "in.jsonl", rows)
    with BatchServer(compact_person) as server:
        args = ["batch", "in.jsonl", "--schema", "person.json", "-o", "out.jsonl", "--no-progress"]
        args += ["--batch-api", "--poll-interval", "0.01", "--mode", "compact"]
        done = cli(tmp_path, *args, "--base-url", server.base_url)
    assert done.returncode == 0, done.stderr
    lines = {line["id"]: line for line in read_lines(tmp_path / "out.jsonl")}
    assert {i: line["data"] for i, line in lines.items()} == {
        i: {"name": f"P{i}", "age": 36} for i in range(3)
    }
    assert lines[1]["attempts"] == 2 and lines[0]["attempts"] == 1


async def test_async_extract_and_extract_many_with_a_handler() -> None:
    def model(request: Any) -> dict[str, Any]:  # answered keyed, served compact
        return {"sku": request.text.strip(), "qty": 2}

    fake = FakeModel(handler=model)
    aex = fake.async_extractor()
    assert await aex.extract(Line, "KB-1", mode="compact") == Line(sku="KB-1", qty=2)
    results = {
        r.id: r.value
        async for r in aex.extract_many(Line, [("a", "A"), ("b", "B")], mode="compact")
    }
    assert results == {"a": Line(sku="A", qty=2), "b": Line(sku="B", qty=2)}
    served = [
        json.loads(a.raw or "")
        for a in (await aex.extract_result(Line, "C", mode="compact")).attempts
    ]
    assert served == [{"values": ["C", 2]}]


def test_examples_are_shown_in_compact_form() -> None:
    fake = FakeModel().answer(ORDER)
    example = Order(customer="Bo", ship_to=Address(city="Rome"), lines=[Line(sku="X")])
    fake.extractor().extract(Order, TEXT, mode="compact", examples=[("Bo, Rome: X", example)])
    system = fake.last.system
    assert 'JSON: {"values":["Bo",["Rome",null],[["X",1]],{},"none"]}' in system


def test_a_patch_reask_asks_for_the_failing_fields_and_reads_compact_values() -> None:
    wrong = {
        "values": ["Ada", ["Paris", "75001"], [["KB-1", "two"], ["MS-2", 1]], {"net": 3.5}, "gift"]
    }
    patch = {"lines": ORDER["lines"]}  # as a test scripts it: keyed; served in compact form
    fake = FakeModel().answer(json.dumps(wrong)).answer(patch)
    result = fake.extractor().extract_result(Order, TEXT, mode="compact")
    assert result.value == Order.model_validate(ORDER)
    reask = fake.last.user
    assert "lines[0].qty" in reask and reask.endswith(PATCH_REQUEST + '["lines"]')
    served = json.loads(result.attempts[1].raw or "")
    assert served == {"lines": [["KB-1", 2], ["MS-2", 1]]}  # keyed at the top, compact inside
    assert result.attempts[1].patch == ("lines",)


def test_a_whole_answer_in_reply_to_a_patch_is_taken_whole() -> None:
    wrong = {"values": ["Ada", ["Paris", "75001"], [["KB-1", "two"]], {"net": 3.5}, "gift"]}
    fake = FakeModel().answer(json.dumps(wrong)).answer(json.dumps(compact_answer(Order, ORDER)))
    assert fake.extractor().extract(Order, TEXT, mode="compact") == Order.model_validate(ORDER)


def test_a_wrong_length_inside_a_patch_is_reasked() -> None:
    wrong = {"values": ["Ada", ["Paris", "75001"], [["KB-1", "two"]], {"net": 3.5}, "gift"]}
    short_patch = json.dumps({"lines": [["KB-1"]]})
    fake = FakeModel().answer(json.dumps(wrong)).answer(short_patch).answer(ORDER)
    result = fake.extractor().extract_result(Order, TEXT, mode="compact")
    assert result.value == Order.model_validate(ORDER)
    assert "lines[0]: expected an array of 2 values, in this order: sku, qty" in fake.last.user


def test_a_streamed_patch_reply_previews_the_merged_answer() -> None:
    wrong = {"values": ["Ada", ["Paris", "75001"], [["KB-1", "two"]], {"net": 3.5}, "gift"]}
    fake = FakeModel().answer(json.dumps(wrong)).answer({"lines": ORDER["lines"]})
    with fake.extractor().stream(Order, TEXT, mode="compact") as stream:
        events = list(stream)
    restart = next(i for i, e in enumerate(events) if isinstance(e, Restart))
    after = [e.value for e in events[restart + 1 :] if isinstance(e, Snapshot)]
    assert after and all(s.customer == "Ada" and s.ship_to.city == "Paris" for s in after)
    assert any(s.lines and s.lines[0].sku == "KB-1" and s.lines[0].qty is None for s in after)
    assert events[-1].value == Order.model_validate(ORDER)


def test_compact_answer_writes_whole_answers_and_patches() -> None:
    assert compact_answer(Order, ORDER)["values"][2] == [["KB-1", 2], ["MS-2", 1]]
    patch = {"ship_to": {"city": "Rome", "zip": None}}
    assert compact_answer(Order, patch, patch=True) == {"ship_to": ["Rome", None]}


def test_the_fake_finds_the_form_only_for_compact_requests_it_can_read() -> None:
    from extractor.core.modes import compact_form_asked

    fake = FakeModel().answer(ORDER)
    fake.extractor().extract(Order, TEXT, mode="compact")
    system = fake.last.system
    assert compact_form_asked(system) is Target.of(Order).positional
    assert compact_form_asked(system.replace("customer: string", "client: string")) is None
    assert (
        compact_form_asked(
            FakeModel().answer(ORDER).extractor().request_body(Order, "t")["messages"][0]["content"]
        )
        is None
    )


class Reading(BaseModel):
    """A property called like the compact wrapper: a patch of it looks like a whole answer."""

    name: str
    values: list[float]


def test_a_patch_of_a_property_called_values_is_read_as_that_property() -> None:
    # Read as a whole answer in its wrapper, the patch's two numbers were the tuple
    # (name=1.5, values=2.5): a correct reply rejected, and one more request paid for.
    fake = FakeModel().answer('{"values": ["temp", [1.5, "x"]]}').answer('{"values": [1.5, 2.5]}')
    result = fake.extractor().extract_result(Reading, "temp: 1.5, 2.5", mode="compact")
    assert result.value == Reading(name="temp", values=[1.5, 2.5])
    assert len(result.attempts) == 2 and result.attempts[1].patch == ("values",)


def test_a_streamed_patch_of_a_property_called_values_previews_that_property() -> None:
    fake = FakeModel().answer('{"values": ["temp", [1.5, "x"]]}').answer('{"values": [1.5, 2.5]}')
    with fake.extractor().stream(Reading, "temp: 1.5, 2.5", mode="compact") as stream:
        events = list(stream)
    restart = next(i for i, e in enumerate(events) if isinstance(e, Restart))
    after = [e.value for e in events[restart + 1 :] if isinstance(e, Snapshot)]
    assert after and all(s.name == "temp" for s in after)
    assert events[-1].value == Reading(name="temp", values=[1.5, 2.5])


def test_a_whole_answer_in_reply_to_a_patch_of_values_is_read_as_the_patch() -> None:
    # The one ambiguous reply: asked for "values", it is taken as what was asked for (a
    # list that is not of numbers here), re-asked, and nothing wrong is kept.
    fake = FakeModel().answer('{"values": ["temp", [1.5, "x"]]}')
    fake.answer('{"values": ["temp", [1.5, 2.5]]}')
    fake.answer('{"values": [1.5, 2.5]}')
    result = fake.extractor().extract_result(Reading, "temp: 1.5, 2.5", mode="compact")
    assert result.value == Reading(name="temp", values=[1.5, 2.5])


class Profile(BaseModel):
    name: str
    age: int
    nick: str = "none"


def test_a_whole_compact_answer_in_reply_to_a_patch_says_absent_with_null() -> None:
    # The tuple is a whole answer by its form: its null for nick says "absent", and the
    # nick of the answer before must not come back.
    fake = FakeModel().answer('{"values": ["Ada", "thirty", "Countess"]}')
    fake.answer('{"values": ["Ada", 36, null]}')
    result = fake.extractor().extract_result(Profile, "Ada, 36", mode="compact")
    assert result.value == Profile(name="Ada", age=36)
    assert result.attempts[1].patch == ("age",)


class Series(BaseModel):
    values: list[float]


def test_a_keyed_answer_of_a_lone_property_called_values_is_accepted() -> None:
    # {"values": [1.0, 2.0]} was read as the compact wrapper around a one-value tuple: two
    # values for one field (re-asked), and with one item, values=1.0 (re-asked).
    for keyed in ('{"values": [1.0, 2.0]}', '{"values": [1.0]}', '{"values": []}'):
        fake = FakeModel().answer(keyed)
        result = fake.extractor().extract_result(Series, "1.0, 2.0", mode="compact")
        assert result.value == Series.model_validate_json(keyed)
        assert len(result.attempts) == 1
    for compact, value in (('{"values": [[1.0, 2.0]]}', [1.0, 2.0]), ('{"values": [[]]}', [])):
        fake = FakeModel().answer(compact)
        assert fake.extractor().extract(Series, "1.0, 2.0", mode="compact").values == value

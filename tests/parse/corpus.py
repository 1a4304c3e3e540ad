# ruff: noqa: RUF001  (smart quotes and odd spaces are what these cases are about)
"""Broken answers, each with the value a careful reader would take from it.

Written for this project after reading the public test suites of repair libraries and LLM
output parsers (json_repair, jsonrepair, dirty-json, partial-json-parser, LangChain's and
instructor's output parsers): the kinds of damage are theirs, the cases and the expected
values are ours. Where two readings are possible, the expected value keeps more of the
structure, and ``REFUSED`` marks text where every reading is a guess, or where there is no
object or array to recover: the right answer there is a ParseError (and a re-ask).

Used by ``tests/parse`` (every case, and every case split into chunks) and by
``benchmarks/parse.py`` (recovered cases next to json_repair).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

REFUSED: Any = type("Refused", (), {"__repr__": lambda self: "REFUSED"})()


@dataclass(frozen=True)
class Case:
    group: str
    text: str
    expected: Any


def same(a: Any, b: Any) -> bool:
    """Equal with JSON types kept apart: ``1``, ``1.0`` and ``True`` are three values."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


_RAW: dict[str, list[tuple[str, Any]]] = {
    "silently wrong before": [
        (
            '{"key1": ["value1", "value2"}, "key2": ["value3", "value4"]}',
            {"key1": ["value1", "value2"], "key2": ["value3", "value4"]},
        ),
        ('["a" 2]', ["a", 2]),
        ('{\n  "firstName": "John"\n  lastName: Smith', {"firstName": "John", "lastName": "Smith"}),
        ('{"b": "xxxxx" true}', {"b": "xxxxx"}),
        (
            '{"array":[{"key": "value"], "key2": "value2"}',
            {"array": [{"key": "value"}], "key2": "value2"},
        ),
        ('{"a": {"b": 1}}, "c": 2}', {"a": {"b": 1}, "c": 2}),
        ('{"key": "value"}, "key2": "value2"}', {"key": "value", "key2": "value2"}),
        ('["a" 2, "b"]', ["a", 2, "b"]),
        (
            '{\n  "firstName": "John"\n  lastName: "Smith"\n}',
            {"firstName": "John", "lastName": "Smith"},
        ),
        ('{"ok": "yes" false, "n": 1}', {"ok": "yes", "n": 1}),
        ('{"a": "x" y}', REFUSED),
        ('{"rows": [[1, 2], [3, 4}, "total": 2}', {"rows": [[1, 2], [3, 4]], "total": 2}),
    ],
    "stray or missing brackets": [
        ('[{"key":"value"}},{"key":"value"}]', [{"key": "value"}, {"key": "value"}]),
        ('{"a": [1, 2]], "b": 3}', {"a": [1, 2], "b": 3}),
        ('[{"a": 1], {"b": 2}]', [{"a": 1}, {"b": 2}]),
        ('{"a": 1}}', {"a": 1}),
        ('{"a": 1}}]}', {"a": 1}),
        ('{"a":2]', {"a": 2}),
        ('{"a":2,]', {"a": 2}),
        ("[2,}", [2]),
        ("[}", []),
        ("{]", {}),
        ('[{"b":2]', [{"b": 2}]),
        ('{"a":{"b":2}', {"a": {"b": 2}}),
        ('{\n"values":[1,2,3\n}', {"values": [1, 2, 3]}),
        ("[1,[}]", [1, []]),
        ('{"a": 1, "b": [}', {"a": 1, "b": []}),
        ('{"a": [1, 2]]', {"a": [1, 2]}),
        (
            '{"items": [{"id": 1}, {"id": 2}], "count": 2]',
            {"items": [{"id": 1}, {"id": 2}], "count": 2},
        ),
        ('{"a": [{"b": 1}, {"c": 2]}', {"a": [{"b": 1}, {"c": 2}]}),
        ("[[1, 2], [3, 4]]]", [[1, 2], [3, 4]]),
        ("{", {}),
        ("[", []),
        ('{"employees":["John", "Anna",', {"employees": ["John", "Anna"]}),
        ('{"key1": {"key2": [1, 2, 3', {"key1": {"key2": [1, 2, 3]}}),
        ("[[1\n\n]", [[1]]),
        ('[{"a": 1, "b": [2]], {"c": 3}]', [{"a": 1, "b": [2]}, {"c": 3}]),
        ('{"a": [1]], 2]}', {"a": [1, 2]}),
        ('{"result": [{"a": 1}]], {"a": 2}]}', {"result": [{"a": 1}, {"a": 2}]}),
    ],
    "truncated": [
        (
            '{"name": "John", "age": 30, "city": "New York',
            {"name": "John", "age": 30, "city": "New York"},
        ),
        ('{"a": "cut off', {"a": "cut off"}),
        ('["one", "tw', ["one", "tw"]),
        ('{"a": 1, "b', {"a": 1}),
        ('{"a": 1, "b":', {"a": 1}),
        ('{"a": 1, "b": tr', {"a": 1}),
        ('{"a": 12', {"a": 12}),
        ("[1, 2,", [1, 2]),
        ('{"text":"Hello Sergey,I hop', {"text": "Hello Sergey,I hop"}),
        ('{"message": "it\'s working', {"message": "it's working"}),
        ('{"q": "He said "hi" and le', {"q": 'He said "hi" and le'}),
        ('{"foo":"bar\\u20', {"foo": "bar"}),
        ('{"employees":["John", "Anna", "Peter', {"employees": ["John", "Anna", "Peter"]}),
        ('```json\n{"a": [1, {"b": 2\n```', {"a": [1, {"b": 2}]}),
        ('```json\n{"a": "cut\n```', {"a": "cut"}),
    ],
    "missing closing quote": [
        (
            '{"name": "John", "age": 30, "city": "New York, "gender": "male"}',
            {"name": "John", "age": 30, "city": "New York", "gender": "male"},
        ),
        ('{"a":"b,"c":"d"}', {"a": "b", "c": "d"}),
        ('{"a":"b,c,"d":"e"}', {"a": "b,c", "d": "e"}),
        ('{"a": "foo\n"b": 1}', {"a": "foo", "b": 1}),
        ('[\n"abc,\n"def"\n]', ["abc", "def"]),
        ('{"url":"https://www.example.com/}', {"url": "https://www.example.com/"}),
        ('{"time":"12:20}', {"time": "12:20"}),
        ('{"key": "value}', {"key": "value"}),
        ('["abc]\n', ["abc"]),
        ('[\n[\n"abc\n]\n]\n', [["abc"]]),
        ('{"key": "value}```', {"key": "value"}),
    ],
    "quotes inside strings": [
        ('{"q": "He said "hi" twice", "n": 1}', {"q": 'He said "hi" twice', "n": 1}),
        ("{'a': 'it's', 'b': 'x'}", {"a": "it's", "b": "x"}),
        ('{"size": "5" wide"}', {"size": '5" wide'}),
        ('{"key": "apple "bee" carrot"}', {"key": 'apple "bee" carrot'}),
        ('["lorem "ipsum" sic"]', ['lorem "ipsum" sic']),
        ('{"key": "v"alue", "key2": "value2"}', {"key": 'v"alue', "key2": "value2"}),
        ('{"tv": "The TV has a 24" screen"}', {"tv": 'The TV has a 24" screen'}),
        ('{"re": "[\'"]+", "n": 1}', {"re": "['\"]+", "n": 1}),
        ('{"pattern": "^["\']?\\\\w+["\']?$"}', {"pattern": "^[\"']?\\w+[\"']?$"}),
        ('["foo)" 2]', ["foo)", 2]),
        ('["," 2', [",", 2]),
        (
            '{"content": "[LINK]("https://google.com")"}',
            {"content": '[LINK]("https://google.com")'},
        ),
    ],
    "unquoted values": [
        ('{"city": New York}', {"city": "New York"}),
        ('{"name": John, "age": 30}', {"name": "John", "age": 30}),
        (
            "{'key': 'string', 'key2': false, \"key3\": null, \"key4\": unquoted}",
            {"key": "string", "key2": False, "key3": None, "key4": "unquoted"},
        ),
        ("{greeting: hello world}", {"greeting": "hello world"}),
        ('{greeting: hello world\nnext: "line"}', {"greeting": "hello world", "next": "line"}),
        ("{url:https://www.example.com/}", {"url": "https://www.example.com/"}),
        ('{url:https://www.example.com/,"id":2}', {"url": "https://www.example.com/", "id": 2}),
        ("[a,b]", ["a", "b"]),
        ('["This is C(2)", This is F(3)]', ["This is C(2)", "This is F(3)"]),
        ('{"date":2024-10-18T18:35:22.229Z}', {"date": "2024-10-18T18:35:22.229Z"}),
        (
            '{"rowId": 57eeeeb1-450b-482c-81b9-4be77e95dee2}',
            {"rowId": "57eeeeb1-450b-482c-81b9-4be77e95dee2"},
        ),
        ('{"key": value "key2" : "value2" }', {"key": "value", "key2": "value2"}),
        ("{key:value,key2:value2}", {"key": "value", "key2": "value2"}),
        ('["a" b]', ["a", "b"]),
        ('{"status": ok}', {"status": "ok"}),
        ('{"a": 1, "b": bogus, "c": 2}', {"a": 1, "b": "bogus", "c": 2}),
        ("[1, 2notanumber]", [1, "2notanumber"]),
        ('{"key": 1notanumber }', {"key": "1notanumber"}),
        ('{"key": 1/3}', {"key": "1/3"}),
        ('{"key": 10-20}', {"key": "10-20"}),
        ('{"key": 1.1.1}', {"key": "1.1.1"}),
        ('{"trueish": trueble}', {"trueish": "trueble"}),
    ],
    "ellipsis": [
        ("[1, 2, 3, ...]", [1, 2, 3]),
        ("[1, 2, ... , 3]", [1, 2, 3]),
        ("[1, 2, '...', 3]", [1, 2, "...", 3]),
        ("[true, false, null, ...]", [True, False, None]),
        ("[1,2,3,...,9]", [1, 2, 3, 9]),
        ("[...,7,8,9]", [7, 8, 9]),
        ("[...]", []),
        ('{"a":2,"b":3,...}', {"a": 2, "b": 3}),
        ('{"a":2,"b":3,...,"z":26}', {"a": 2, "b": 3, "z": 26}),
        ('{"nested":{"a":2,"b":3, ... }}', {"nested": {"a": 2, "b": 3}}),
        ('{"items": ["a", "b", …]}', {"items": ["a", "b"]}),
        ('{"a": 1, …}', {"a": 1}),
        ('{"array":[1,2,3,/*more*/.../*more*/]}', {"array": [1, 2, 3]}),
    ],
    "numbers": [
        ('{"amount": -2,000.00}', {"amount": -2000.0}),
        ('{"population": 1,234,567, "year": 2020}', {"population": 1234567, "year": 2020}),
        ('{"key": .25}', {"key": 0.25}),
        ('{"key": -.5}', {"key": -0.5}),
        ('{"key": 1. }', {"key": 1.0}),
        ('{"key": 1e }', {"key": 1.0}),
        ('{"key": 1e10 }', {"key": 1e10}),
        ('{"a": 1, "b": 2e-', {"a": 1}),
        ('{"mask": 0x1F}', {"mask": 31}),
        ('{"value": 82_461_110}', {"value": 82461110}),
        ('{"n": +5}', {"n": 5}),
        ('{"zip": 02134}', {"zip": "02134"}),
        ("[0789]", ["0789"]),
        ('{"n": 05}', {"n": "05"}),
        ("[1, 2, 3]", [1, 2, 3]),
        ("[105,12", [105, 12]),
        ('{"version": 1.2.3}', {"version": "1.2.3"}),
    ],
    "keys and colons": [
        ('{"a" 1}', {"a": 1}),
        ('{"a" "b"}', {"a": "b"}),
        ('{"a" true}', {"a": True}),
        ('{"a" null, "b" 2}', {"a": None, "b": 2}),
        ('{"value_1": true, COMMENT "value_2": "data"}', {"value_1": True, "value_2": "data"}),
        ('[{"key": "value", COMMENT "notes": "x"}]', [{"key": "value", "notes": "x"}]),
        ("{a: 1, $b_2: 2, c-d: 3}", {"a": 1, "$b_2": 2, "c-d": 3}),
        ("{2: 2}", {"2": 2}),
        ("{'': 1}", {"": 1}),
        ('{"" : true, "key2": "value2"}', {"": True, "key2": "value2"}),
        ('{"key": "value", 5: "value"}', {"key": "value", "5": "value"}),
        ('{"items",: [1, 2]}', REFUSED),
    ],
    "missing values": [
        ('{"a": , "b": 1}', {"a": None, "b": 1}),
        ('{"a":}', {"a": None}),
        ('{"a":,"b":2}', {"a": None, "b": 2}),
        ('{"key": , "key2": "value2"}', {"key": None, "key2": "value2"}),
    ],
    "commas": [
        ('{"a": [1, 2,],}', {"a": [1, 2]}),
        ('{"a": 1 "b": 2}', {"a": 1, "b": 2}),
        ("[1 2 3]", [1, 2, 3]),
        ("[, 1,, 2]", [1, 2]),
        ('{\n, "a": 1,, "b": 2}', {"a": 1, "b": 2}),
        ('{"a":2\n"b":3\n}', {"a": 2, "b": 3}),
        ('{"array": [{}{}]}', {"array": [{}, {}]}),
        ('{"array": [\n1\n2\n]}', {"array": [1, 2]}),
        ('["a" "b" "c" 1', ["a", "b", "c", 1]),
        ('{"key": ["value" "value1" "value2"]}', {"key": ["value", "value1", "value2"]}),
        ('[{"i":1}{"i":2}]', [{"i": 1}, {"i": 2}]),
        ("[1,2,3,\n]", [1, 2, 3]),
        ('{"a":2  ,  }', {"a": 2}),
    ],
    "non-ASCII whitespace": [
        ('{"a":\u00a0"foo\u00a0bar"}', {"a": "foo\u00a0bar"}),
        ('{"a":\u2000"foo"}', {"a": "foo"}),
        ('{"a":\u200b"foo"}', {"a": "foo"}),
        ('{"a":\u202f"foo"}', {"a": "foo"}),
        ('{"a":\u205f"foo"}', {"a": "foo"}),
        ('{"a":\u3000"foo"}', {"a": "foo"}),
        ('{"a":\ufeff"foo"}', {"a": "foo"}),
        ('{\u3000"name":\u3000"李",\u3000"age":\u300030}', {"name": "李", "age": 30}),
        ("[1,\u00a02,\u00a03]", [1, 2, 3]),
    ],
    "smart and back quotes": [
        ("{“a”: “b”}", {"a": "b"}),
        ("{‘a’: ‘b’}", {"a": "b"}),
        ('{“slanted_delimiter”: "value"}', {"slanted_delimiter": "value"}),
        ("{`a´:`b´}", {"a": "b"}),
        ("{`a`: `b`}", {"a": "b"}),
        ('{"a": "Rounded “ quote"}', {"a": "Rounded “ quote"}),
        ("{pattern: '’'}", {"pattern": "’"}),
        ("{“name”: “Ada”, “langs”: [“en”, “fr”]}", {"name": "Ada", "langs": ["en", "fr"]}),
    ],
    "fences and prose": [
        ('```json\n{"a": 1}\n```', {"a": 1}),
        ('```python\n{"a": "b"}\n```', {"a": "b"}),
        ('```javascript\n{"a": [1, 2]}\n```', {"a": [1, 2]}),
        ('```yaml\n{"a": 1}\n```', {"a": 1}),
        ('Here you go:\n```py\n[{"x": 1}]\n```', [{"x": 1}]),
        ('````{ "key": "value" }```', {"key": "value"}),
        ('{    "a": "",    "b": [ { "c": 1} ] \n}```', {"a": "", "b": [{"c": 1}]}),
        (
            "Based on the information extracted, here is the filled JSON output:"
            " ```json { 'a': 'b' } ```",
            {"a": "b"},
        ),
        ('Sure! Here it is: {"a": 1}. Hope it helps.', {"a": 1}),
        ("stringbeforeobject {}", {}),
        ('callback_123({"a": 1});', {"a": 1}),
        ('Step [2/3]: here is the JSON {"a": 1}', {"a": 1}),
        ('Options were [1, 2]; the answer is {"choice": 2}.', {"choice": 2}),
        (
            ' - { "test_key": ["test_value", "test_value2"] }',
            {"test_key": ["test_value", "test_value2"]},
        ),
        ('<json>{"a": 1}</json>', {"a": 1}),
        ('```json\n{"a": 1}\n```\n```json\n{"b": 2}\n```', {"a": 1}),
        ("/* foo */ {}", {}),
        ("{} // comment", {}),
    ],
    "comments": [
        ('{"a": 1, // the answer\n"b": 2}', {"a": 1, "b": 2}),
        ('{"a": /* inline */ 1}', {"a": 1}),
        ('{"a": 1, # hash comment\n"b": 2}', {"a": 1, "b": 2}),
        ('{"a":"foo",/*hello*/"b":"bar"}', {"a": "foo", "b": "bar"}),
        ('["a"/* foo */]', ["a"]),
        ('{"a":"(b)"/* foo */}', {"a": "(b)"}),
        ('{"a": "/* not a comment */"}', {"a": "/* not a comment */"}),
    ],
    "python and javascript": [
        ('{"a": True, "b": False, "c": None}', {"a": True, "b": False, "c": None}),
        ("{'a': 'it\\'s'}", {"a": "it's"}),
        ('{"coords": (1, 2), "ok": true}', {"coords": [1, 2], "ok": True}),
        ('{"empty": ()}', {"empty": []}),
        ('{"pairs": ((1, 2), (3, 4))}', {"pairs": [[1, 2], [3, 4]]}),
        ('{"names": ("a", "b")}', {"names": ["a", "b"]}),
        ('{"a":undefined}', {"a": None}),
        ("[undefined]", [None]),
        ('{"n": NumberLong(2)}', {"n": 2}),
        ('{"n": NumberLong("2")}', {"n": "2"}),
        ('{"_id": ObjectId("507f1f77bcf86cd799439011")}', {"_id": "507f1f77bcf86cd799439011"}),
        ('{"at": ISODate("2024-01-02T03:04:05Z")}', {"at": "2024-01-02T03:04:05Z"}),
        ('{"n": NumberInt(7), "d": NumberDecimal("1.5")}', {"n": 7, "d": "1.5"}),
        ("{regex: /standalone-styles.css/}", {"regex": "/standalone-styles.css/"}),
        ('{"re": /^[a-z]+$/i, "n": 1}', {"re": "/^[a-z]+$/i", "n": 1}),
        ('{"key": TRUE, "key2": FALSE, "key3": Null}', {"key": True, "key2": False, "key3": None}),
        ('{"a": NaN}', {"a": float("nan")}),
    ],
    "escapes and control characters": [
        ('{"a": "line\nbreak"}', {"a": "line\nbreak"}),
        ('{"path": "C:\\Users\\me"}', {"path": "C:\\Users\\me"}),
        ('{"key\t_": "value"}', {"key\t_": "value"}),
        ('{"key": "valu\\\'e"}', {"key": "valu'e"}),
        ('{"a": "caf\\u00e9"', {"a": "café"}),
    ],
    "more from peer suites": [
        ('{"this": that, "another": maybe}', {"this": "that", "another": "maybe"}),
        ("[this, that,]", ["this", "that"]),
        ("[a,[b,d,],[c,],]", ["a", ["b", "d"], ["c"]]),
        ("{\"action\": 'this has ${} in it'}", {"action": "this has ${} in it"}),
        ('{ "test": 5. }', {"test": 5.0}),
        ('{\n   "some": [a,b,c,],\n   "b": a\n}', {"some": ["a", "b", "c"], "b": "a"}),
        ('[3, "some "quoted" text", 2]', [3, 'some "quoted" text', 2]),
        (
            '{"test0": false, "test": "some "quoted" text", "test1": 5}',
            {"test0": False, "test": 'some "quoted" text', "test1": 5},
        ),
        ('```json\n{\n    "foo": "```bar```"\n}\n```', {"foo": "```bar```"}),
        (
            '```json\n{\n    "action": "Final Answer",\n'
            '    "action_input": "<div id="1">x</div>"\n}\n```',
            {"action": "Final Answer", "action_input": '<div id="1">x</div>'},
        ),
        (
            'Thought: I need to use the search tool\n\nAction:\n```\n{\n  "foo": "bar"\n}\n```',
            {"foo": "bar"},
        ),
        ('`{"x": true}`', {"x": True}),
        ('{"a": {"b": {"c": [1, 2, {"d": "e"', {"a": {"b": {"c": [1, 2, {"d": "e"}]}}}),
        ('[{"name": "a"}, {"name": "b"}, {"na', [{"name": "a"}, {"name": "b"}, {}]),
        (
            '{"key": "value", "key2": [1, 2, 3], "key3": {"nested": tr',
            {"key": "value", "key2": [1, 2, 3], "key3": {}},
        ),
        ('{"text": "line one\\nline two", "n": 2,', {"text": "line one\nline two", "n": 2}),
        ('{"a": "\\"quoted\\" word"}', {"a": '"quoted" word'}),
        ("{'name': 'O\\'Brien', 'age': 40}", {"name": "O'Brien", "age": 40}),
        (
            '{"items": [\n  {"id": 1, "tags": ["x", "y"]},\n  {"id": 2, "tags": ["z"]}\n'
            '  {"id": 3, "tags": []}\n]}',
            {
                "items": [
                    {"id": 1, "tags": ["x", "y"]},
                    {"id": 2, "tags": ["z"]},
                    {"id": 3, "tags": []},
                ]
            },
        ),
        ('{"price": 12.50, "currency": "EUR", }', {"price": 12.5, "currency": "EUR"}),
        ('{"a": [1, 2, 3,,, 4]}', {"a": [1, 2, 3, 4]}),
        ('{"empty": "", "space": " ", "quote": "\\""}', {"empty": "", "space": " ", "quote": '"'}),
        ('{"emoji": "\U0001f600", "accent": "café"}', {"emoji": "\U0001f600", "accent": "café"}),
        (
            '{"k": [true, false, null, True, False, None]}',
            {"k": [True, False, None, True, False, None]},
        ),
        ('{"date": "2024-01-01", "ok": yes}', {"date": "2024-01-01", "ok": "yes"}),
        (
            '{"names": ["Ann", "Bob", "Cy"], "count": three}',
            {"names": ["Ann", "Bob", "Cy"], "count": "three"},
        ),
        ('Here is the JSON:\n\n{"a": 1}\n\nAnd here is another: {"b": 2}', {"a": 1}),
        (
            '{"summary": "The model said: \'ok\'", "score": 0.9}',
            {"summary": "The model said: 'ok'", "score": 0.9},
        ),
        (
            '{"nested": {"deep": {"deeper": {"deepest": 1}}}}}}',
            {"nested": {"deep": {"deeper": {"deepest": 1}}}},
        ),
        ('{"list": [[1, 2], [3, 4]], "name": "m"', {"list": [[1, 2], [3, 4]], "name": "m"}),
        (
            '{"a": 1, "b": 2, "c": 3\n\nNote: the values are estimates.',
            {"a": 1, "b": 2, "c": 3, "Note": "the values are estimates."},
        ),
        ('[\n  "alpha",\n  "beta"\n  "gamma"\n]', ["alpha", "beta", "gamma"]),
        ('{"html": "<a href=\\"x\\">link</a>"}', {"html": '<a href="x">link</a>'}),
        ('{"path": "C:\\\\dir\\\\file.txt"}', {"path": "C:\\dir\\file.txt"}),
        ('{"a": "multi\nline\nvalue", "b": 2}', {"a": "multi\nline\nvalue", "b": 2}),
        ('{"a": 1} {"b": 2}', {"a": 1}),
        (
            "{'a': None, 'b': True, 'c': [1, 2, (3, 4)]}",
            {"a": None, "b": True, "c": [1, 2, [3, 4]]},
        ),
        ('{"temperature": -3.5e-2, "n": -0}', {"temperature": -0.035, "n": 0}),
        (
            '{"comment": "use // for comments", "x": 1 // trailing\n}',
            {"comment": "use // for comments", "x": 1},
        ),
        ('{"a": /* block */ [1, /* two */ 2]}', {"a": [1, 2]}),
        ('{"title": "Part "A" and "B"", "id": 7}', {"title": 'Part "A" and "B"', "id": 7}),
        ('{"reason": "He said "no"."}', {"reason": 'He said "no".'}),
        ('{"a": "x",\n"b": "unterminated\n"c": 3}', {"a": "x", "b": "unterminated", "c": 3}),
        ('{"q": "Is it 5"?", "a": "yes"}', {"q": 'Is it 5"?', "a": "yes"}),
        ('{"inches": 12", "feet": 1}', {"inches": "12", "feet": 1}),
        ('["a", "b"] is the list', ["a", "b"]),
        ('I think {"answer": 42} is right, but {"answer": 43} also', {"answer": 42}),
        ('{"a": [1, 2, 3]', {"a": [1, 2, 3]}),
        ('{"a": {"b": [1, 2}}', {"a": {"b": [1, 2]}}),
        ('{"a": [{"b": 1}}]', {"a": [{"b": 1}]}),
    ],
    "more python and javascript": [
        ('{"d": new Date(2020, 1, 2)}', REFUSED),
        ('{"n": NumberLong(2), "id": ObjectId("5f1")}', {"n": 2, "id": "5f1"}),
        ("{'t': (1,), 'e': ()}", {"t": [1], "e": []}),
        (
            '{"a": undefined, "b": NaN, "c": -Infinity}',
            {"a": None, "b": float("nan"), "c": float("-inf")},
        ),
        ("{\n  name: 'x', // js style\n  tags: ['a', 'b',],\n}", {"name": "x", "tags": ["a", "b"]}),
        ('{"re": /a\\/b/g}', {"re": "/a\\/b/g"}),
    ],
    "more numbers": [
        ('{"a": 1,000, "b": 2}', {"a": 1000, "b": 2}),
        ("[1,000, 2]", REFUSED),
        # A number cut short validates: these used to parse as 1, 1, 12, 1.234 and 1, the
        # rest dropped as "a value without a key".
        ('{"x": 1,5}', REFUSED),  # 1.5 written with a decimal comma
        ('{"x": 1 234}', REFUSED),  # 1234 grouped with a space
        ('{"x": 12,34, "y": 2}', REFUSED),
        ('{"total": 1.234,5}', REFUSED),  # 1234.5 in German
        ('{"sizes": 1, 5}', REFUSED),  # [1, 5]?
        ('{"x": 1,5 "y": 2}', REFUSED),  # the 5 dropped as stray text before a key
        ('{"x": 1 234\n"y": 2}', REFUSED),
        ('{"b": 2 true}', {"b": 2}),  # not a number: nothing it could be part of
        # In a list, a space and three digits after a number: 1234, or 1 and 234? These were
        # read as two items.
        ("[1 234]", REFUSED),
        ('{"a": [12 345 678]}', REFUSED),
        ("[1\u00a0234,5]", REFUSED),
        ("[1 234.5]", REFUSED),
        ("[1 2 3]", [1, 2, 3]),  # no digit groups: the commas are what is missing
        ("[1  234]", [1, 234]),
        ('{"pct": 50%}', {"pct": "50%"}),
        ('{"price": $5.00}', {"price": "$5.00"}),
        ('{"n": 1e5, "m": 1E-5}', {"n": 100000.0, "m": 1e-05}),
        ('{"big": 12345678901234567890}', {"big": 12345678901234567890}),
        ('{"n": 0.}', {"n": 0.0}),
        ('{"n": -.0}', {"n": -0.0}),
        ('{"v": 1_000.5}', {"v": 1000.5}),
    ],
    "more from repair suites": [
        ('{"key": ""value"}', {"key": "value"}),
        (
            '{"key": "lorem ipsum ... "sic " tamet. ..."}',
            {"key": 'lorem ipsum ... "sic " tamet. ...'},
        ),
        (
            '{"comment": "lorem, "ipsum" sic "tamet". To improve"}',
            {"comment": 'lorem, "ipsum" sic "tamet". To improve'},
        ),
        ('[{"key": "v"alu,e", "key2": "value2"}]', [{"key": 'v"alu,e', "key2": "value2"}]),
        ('{ "content": "[LINK](" }', {"content": "[LINK]("}),
        ('{ "content": "[LINK](", "key": true }', {"content": "[LINK](", "key": True}),
        ('{"key": "```json"', {"key": "```json"}),
        ('{"response": "```json{}"', {"response": "```json{}"}),
        (
            '{ "words": abcdef", "numbers": 12345", "words2": ghijkl" }',
            {"words": "abcdef", "numbers": "12345", "words2": "ghijkl"},
        ),
        (
            '{"number": 1,"reason": "According...""ans": "YES"}',
            {"number": 1, "reason": "According...", "ans": "YES"},
        ),
        ('{"key": "Lorem "ipsum" s,"}', {"key": 'Lorem "ipsum" s,'}),
        (
            '{"lorem_ipsum": "sic tamet, quick brown fox. }',
            {"lorem_ipsum": "sic tamet, quick brown fox."},
        ),
        ('{"key":value, " key2":"value2" }', {"key": "value", " key2": "value2"}),
        (
            "{'text': 'words{words in brackets}more words'}",
            {"text": "words{words in brackets}more words"},
        ),
        ("{text:words{words in brackets}}", {"text": "words{words in brackets}"}),
        ('{"key": "value, value2"```', {"key": "value, value2"}),
        ('{"key": "value"}, ["abc"]', {"key": "value"}),
        ('("a", "b", "c")', ["a", "b", "c"]),
        (
            '{"bad_one":["Lorem Ipsum", "consectetur" comment" ], "good_one":[ "elit", "sed"]}',
            {"bad_one": ["Lorem Ipsum", "consectetur", "comment"], "good_one": ["elit", "sed"]},
        ),
        ('["hello, world]', ["hello, world"]),
        ('["This is C(2)", "This is F(3)]', ["This is C(2)", "This is F(3)"]),
        (
            '{"message": "with, multiple, commma\'s, you see?',
            {"message": "with, multiple, commma's, you see?"},
        ),
        ('[a","b"]', ["a", "b"]),
        ('{"a":foo","b":"bar"}', {"a": "foo", "b": "bar"}),
        ("{'a' 'b'}", {"a": "b"}),
        ("{\u201ca\u201d \u201cb\u201d}", {"a": "b"}),
        ("{\"greeting\": 'hello' +\n 'world'}", {"greeting": "helloworld"}),
        ('{"array": [\na\nb\n]}', {"array": ["a", "b"]}),
        ("callback_123({});", {}),
        ("[{'a': 1, 'b': None}, {'a': 2, 'b': True}]", [{"a": 1, "b": None}, {"a": 2, "b": True}]),
        ('{"key": "value"} trailing text with {braces}', {"key": "value"}),
        (
            '{"a": 1, "b": [1, 2, 3], "c": {"d": 4}} // done',
            {"a": 1, "b": [1, 2, 3], "c": {"d": 4}},
        ),
        ('{"unicode": "\\u00e9\\u00e8", "raw": "é"}', {"unicode": "éè", "raw": "é"}),
        ('{"key": "val\\ue"}', {"key": "val\\ue"}),
        ('{"a": "b"\n"c": "d"}', {"a": "b", "c": "d"}),
        (
            "{\n  name: John,\n  age: 30,\n  city: New York\n}",
            {"name": "John", "age": 30, "city": "New York"},
        ),
        ('{"n": 1\n, "m": 2\n}', {"n": 1, "m": 2}),
    ],
    "nothing to recover": [
        ("", REFUSED),
        ("no json here", REFUSED),
        ("tru", REFUSED),
        ("42,", REFUSED),
        ('"just a string', REFUSED),
        ('{"a": @}', REFUSED),
        ("}", REFUSED),
        ("]", REFUSED),
        ("I cannot help with that.", REFUSED),
        ('Step [2/3]: {"a": 1, bogus}', REFUSED),
    ],
}

CASES: list[Case] = [
    Case(group, text, value) for group, cases in _RAW.items() for text, value in cases
]

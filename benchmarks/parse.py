"""The lenient parser against the libraries it replaces, measured in one run.

    PYTHONPATH=. python benchmarks/parse.py

Prints: (0) the cases of the corpus (tests/parse/corpus.py) recovered, refused and misread,
against json_repair.loads on the same cases; (1) the fast path on valid JSON against
json.loads; (2) the repair path on broken JSON against json_repair.loads; (3) how the repair
path scales with input size; (4) the incremental parser fed 8-character chunks against
partial_json_parser re-run on the growing buffer at every chunk (how peers stream), and how
both scale; (5) hostile inputs of 1 MB, each of which must parse or fail in under a second;
(6) the nesting depths at which validation and serialisation fail, which set MAX_DEPTH.
Times are CPU time (the machine may be shared), the best of a few runs.
"""

from __future__ import annotations

import functools
import itertools
import json
import json.scanner
import random
import time
from collections.abc import Callable
from typing import Any

import json_repair
import partial_json_parser

from extractor.errors import ParseError
from extractor.parse import MAX_DEPTH, IncrementalParser, loads, parse
from tests.parse.corpus import CASES, REFUSED, same

BASELINE_CAP_SECONDS = 20.0  # a baseline still running after this long is stopped and said so


def best_of(fn: Callable[[], Any], repeat: int = 3) -> float:
    """CPU seconds of the fastest run: steadier than wall time on a machine shared with others."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def records(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "id": i,
            "name": f'Customer {i} \u00e9 "quoted"',
            "email": f"user{i}@example.com",
            "active": rng.random() < 0.5,
            "score": round(rng.uniform(0, 100), 3),
            "tags": rng.sample(["new", "vip", "churn", "trial", "b2b"], 2),
            "manager": None,
        }
        for i in range(count)
    ]


def valid_json(size: int) -> str:
    """Pretty-printed JSON of about ``size`` characters, like a model's answer."""
    per_record = len(json.dumps(records(50), indent=2)) / 50
    return json.dumps({"customers": records(int(size / per_record))}, indent=2)


def broken_dense(size: int) -> str:
    """Fenced, a trailing comma in every object and array, and the closers cut off."""
    body = valid_json(size).replace("\n    }", ",\n    }").replace("\n    ]", ",\n    ]")
    return "Here is the data:\n```json\n" + body.rstrip("}]\n ,") + "\n```"


def broken_sparse(size: int) -> str:
    """Fenced with prose around, one trailing comma, and the closers cut off."""
    body = valid_json(size)
    body = body.replace('"manager": null\n    }', '"manager": null,\n    }', 1)
    return "Sure! Here is the JSON:\n```json\n" + body[:-8] + "\n```\nLet me know."


def pathological(size: int) -> dict[str, str]:
    """Inputs built to defeat the fast paths, each about ``size`` characters."""
    paths = json.dumps([{"path": f"C:\\Users\\u{i}\\file.txt", "n": i} for i in range(size // 40)])
    lines = json.dumps([{"text": f"line {i}\nnext", "n": i} for i in range(size // 30)])
    deep = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)  # inside one more array
    return {
        "dense breakage": broken_dense(size),
        "single quotes, keys": "{" + ",".join(f"k{i}: 'v{i}'" for i in range(size // 12)) + "}",
        "invalid escapes": paths.replace("\\\\", "\\")[:size],
        "raw newlines": lines.replace("\\n", "\n")[:size],
        "deep subtrees": "[" + ",".join([deep] * (size // (len(deep) + 1))) + "]",
        "bracket noise": "[note] {name} " * (size // 14) + '{"a": 1}',
    }


def ratio_row(label: str, sizes: list[str], times: list[float]) -> None:
    ratios = [b / a for a, b in itertools.pairwise(times)]
    cells = "  ".join(f"{s}: {t * 1000:7.1f} ms" for s, t in zip(sizes, times, strict=True))
    print(f"  {label:<22} {cells}  x{', x'.join(f'{r:.2f}' for r in ratios)} per doubling")


def pure_python_json() -> json.JSONDecoder:
    """The standard library's own pure-Python decoder: what a Python parse loop costs."""
    decoder = json.JSONDecoder()
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    return decoder


def corpus_scores(read: Callable[[str], Any], refusals: tuple[Any, ...]) -> tuple[int, int, int]:
    """(right, refused, wrong) over the corpus. Right: the expected value, or a refusal where
    nothing is safe to take (a ParseError, or for json_repair the empty answer it gives);
    refused: nothing where a value was expected; wrong: a value other than the expected one,
    which is what validation would let through silently when it fits the schema."""
    right = refused = wrong = 0
    for case in CASES:
        try:
            value = read(case.text)
        except Exception:  # json_repair raises its own errors on some inputs
            value = REFUSED
        if any(value is r or (type(value) is type(r) and value == r) for r in refusals):
            value = REFUSED
        if case.expected is REFUSED:
            right += value is REFUSED
            wrong += value is not REFUSED
        elif value is REFUSED:
            refused += 1
        elif same(value, case.expected):
            right += 1
        else:
            wrong += 1
    return right, refused, wrong


def read_ours(text: str) -> Any:
    try:
        return loads(text)
    except ParseError:
        return REFUSED


def hostile(size: int) -> dict[str, str]:
    """Inputs of ``size`` characters built against the slow paths: one repair per few
    characters, quotes that keep the parser guessing, brackets that never start a root."""

    def rep(unit: str, head: str = "") -> str:
        return head + unit * ((size - len(head)) // len(unit))

    return {
        "'{' * n": rep("{"),
        "'[' * n": rep("["),
        "'\"' * n": rep('"'),
        "'`' * n": rep("`"),
        "'[note] ' * n": rep("[note] "),
        "prose words": rep("word "),
        "'a\" x ' in a string": rep('a" x ', '{"s": "'),
        "strings that swallow keys": rep('"a" x "b": 1, ', "["),
        '"it\'s" items': rep("'it's' ", "["),
        "smart quotes": rep("\u201c", "["),
        "'x\"' in a string": rep('x"', '["'),
        "unquoted items": rep("a, ", "["),
        "unquoted members": rep("a:b,", "{"),
        "keys without colons": rep('"a" ', "{"),
        "lost quotes": rep('x, "b', '{"a": "'),
        "'1,2' groups": rep("1,2", '{"n": '),
        "ellipses": rep("\u2026", "["),
        "tuples": rep('"a":(1),', "{"),
        "NaN items": rep("NaN, ", "["),
        "stray closers": rep('{"a":1}}, "b":'),
        "no-break spaces": rep("\u00a0", "["),
    }


def depth_limits() -> dict[str, int]:
    """The shallowest nesting at which each consumer of a parsed answer fails, with an
    empty stack and the default recursion limit (inside an application, earlier)."""
    import copy
    import sys

    import jsonschema
    from pydantic import BaseModel, ValidationError

    class Node(BaseModel):
        c: Node | None = None

    recursive = jsonschema.Draft202012Validator(
        {
            "$defs": {"n": {"type": "object", "properties": {"c": {"$ref": "#/$defs/n"}}}},
            "$ref": "#/$defs/n",
        }
    )

    def nested(depth: int) -> dict[str, Any]:
        value: dict[str, Any] = {}
        for _ in range(depth - 1):
            value = {"c": value}
        return value

    checks: dict[str, Callable[[Any], Any]] = {
        "jsonschema, recursive $ref": recursive.validate,
        "pydantic, recursive model": Node.model_validate,
        "copy.deepcopy": copy.deepcopy,
        "json.dumps": json.dumps,
    }
    limits = {}
    for name, check in checks.items():
        low, high = 1, 4 * sys.getrecursionlimit()
        while low < high:  # the first depth that fails
            mid = (low + high) // 2
            try:
                check(nested(mid))
                low = mid + 1
            except (RecursionError, ValidationError):
                high = mid
        limits[name] = low
    return limits


def main() -> None:
    mb = 1_000_000

    print(f"(0) corpus: {len(CASES)} broken answers with expected values (tests/parse/corpus.py)")
    ours_score = corpus_scores(read_ours, ())
    theirs_score = corpus_scores(json_repair.loads, ("", None))
    ours = best_of(lambda: [read_ours(case.text) for case in CASES])
    base = best_of(lambda: [json_repair.loads(case.text) for case in CASES], repeat=1)
    for label, (right, refused, wrong), seconds in [
        ("extractor.loads", ours_score, ours),
        ("json_repair.loads", theirs_score, base),
    ]:
        print(
            f"  {label:<18} right {right:3d} / {len(CASES)}  refused {refused:3d}  "
            f"wrong {wrong:3d}  in {seconds * 1000:6.1f} ms"
        )

    print("(1) valid JSON, ~1 MB: parse() fast path vs json.loads")
    text = valid_json(mb)
    ours = best_of(lambda: parse(text))
    base = best_of(lambda: json.loads(text))
    json_base = base
    print(
        f"  {len(text) / mb:.2f} MB  parse {ours * 1000:.1f} ms  json.loads {base * 1000:.1f} ms"
        f"  overhead {ours / base:.2f}x"
    )

    print("\n(2) broken JSON, ~1 MB: parse() repair path vs json_repair.loads")
    for label, make in [("dense breakage", broken_dense), ("sparse breakage", broken_sparse)]:
        broken = make(mb)
        result = parse(broken)
        same = "same value" if result.value == json_repair.loads(broken) else "VALUES DIFFER"
        ours = best_of(functools.partial(parse, broken))
        base = best_of(functools.partial(json_repair.loads, broken), repeat=1)
        print(
            f"  {label:<16} {len(broken) / mb:.2f} MB  parse {ours * 1000:6.1f} ms  "
            f"json_repair {base * 1000:7.1f} ms  speedup {base / ours:4.1f}x  ({same};"
            f" repairs: {', '.join(result.repairs)})"
        )
    decoder = pure_python_json()
    floor = best_of(lambda: decoder.decode(text))
    print(
        f"  for scale: the stdlib's pure-Python JSON decoder takes {floor * 1000:.1f} ms on the"
        " valid 1 MB document"
    )

    print("\n(3) repair path linearity: time per size, and ratio per doubling (2.00 = linear)")
    labels = ["250 KB", "500 KB", "1 MB", "2 MB"]
    sizes = [250_000, 500_000, 1_000_000, 2_000_000]
    inputs = [pathological(size) for size in sizes]
    for shape in inputs[0]:
        times = []
        for shapes in inputs:
            parser_input = shapes[shape]
            times.append(best_of(functools.partial(parse, parser_input), repeat=3))
        ratio_row(f"parse, {shape}", labels, times)
    dense = [shapes["dense breakage"] for shapes in inputs]
    ratio_row(
        "json_repair, dense",
        labels,
        [best_of(functools.partial(json_repair.loads, t), 1) for t in dense],
    )

    print("\n(4) incremental: {items: [{sku, qty, price}, ...]} fed in 8-character chunks")

    def document(count: int) -> str:
        rng = random.Random(count)
        items = [
            {
                "sku": f"SKU-{i:05d}",
                "qty": rng.randint(1, 50),
                "price": round(rng.uniform(1, 500), 2),
            }
            for i in range(count)
        ]
        return json.dumps({"items": items})

    def chunks_of(doc: str) -> list[str]:
        return [doc[i : i + 8] for i in range(0, len(doc), 8)]

    def ours_streaming(chunks: list[str]) -> None:
        parser = IncrementalParser(item_path=("items",))
        for chunk in chunks:
            parser.feed(chunk)
            parser.pop_items()
        parser.finish()

    def peers_streaming(chunks: list[str]) -> tuple[float, int]:
        """partial_json_parser.loads on the whole buffer after every chunk; (seconds, chunks)."""
        buffer = ""
        start = time.process_time()
        for done, chunk in enumerate(chunks, 1):
            buffer += chunk
            partial_json_parser.loads(buffer)
            elapsed = time.process_time() - start
            if elapsed > BASELINE_CAP_SECONDS:
                return elapsed, done
        return time.process_time() - start, len(chunks)

    counts = [100, 200, 400, 800]
    docs = [document(count) for count in counts]
    chunked = [chunks_of(doc) for doc in docs]
    ours_times = [best_of(functools.partial(ours_streaming, c), repeat=5) for c in chunked]
    peers = [peers_streaming(c) for c in chunked]
    ours, (base, done), chunks = ours_times[-1], peers[-1], chunked[-1]
    capped = ""
    if done < len(chunks):
        capped = f" (CAPPED at {BASELINE_CAP_SECONDS:.0f} s, {done} of {len(chunks)} chunks)"
    print(
        f"  800 items, {len(docs[-1]) / 1000:.1f} KB, {len(chunks)} chunks: IncrementalParser "
        f"{ours * 1000:.1f} ms ({ours / len(chunks) * 1e6:.1f} us per chunk); "
        f"partial_json_parser re-run on the buffer {base * 1000:.0f} ms{capped}: "
        f"{base / ours:.0f}x"
    )
    labels = [f"{count} items" for count in counts]
    ratio_row("IncrementalParser", labels, ours_times)
    ratio_row("partial_json_parser", labels, [seconds for seconds, _ in peers])
    if any(done < len(c) for (_, done), c in zip(peers, chunked, strict=True)):
        print("  (partial_json_parser rows that hit the cap are lower bounds)")

    print("\n(5) hostile inputs of 1 MB: every one must parse or fail in under a second")
    worst = 0.0
    for label, text in hostile(mb).items():
        outcome = "value"
        start = time.process_time()
        try:
            loads(text)
        except ParseError:
            outcome = "ParseError"
        seconds = time.process_time() - start
        worst = max(worst, seconds)
        print(f"  {label:<24} {seconds * 1000:7.1f} ms  {outcome}")
    print(
        f"  worst {worst * 1000:.1f} ms (json.loads, 1 MB of valid JSON: {json_base * 1000:.1f} ms)"
    )

    print(f"\n(6) nesting: MAX_DEPTH is {MAX_DEPTH}; depth at which each consumer fails")
    for name, depth in depth_limits().items():
        print(f"  {name:<28} {depth}")


if __name__ == "__main__":
    main()

"""The lenient parser against the libraries it replaces, measured in one run.

    PYTHONPATH=. python benchmarks/parse.py

Prints: (1) the fast path on valid JSON against json.loads; (2) the repair path on broken
JSON against json_repair.loads; (3) how the repair path scales with input size; (4) the
incremental parser fed 8-character chunks against partial_json_parser re-run on the growing
buffer at every chunk (how peers stream), and how both scale. Times are CPU time (the machine
may be shared), the best of a few runs.
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

from extractor.parse import IncrementalParser, parse

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
    deep = "[" * 1500 + "]" * 1500
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


def main() -> None:
    mb = 1_000_000

    print("(1) valid JSON, ~1 MB: parse() fast path vs json.loads")
    text = valid_json(mb)
    ours = best_of(lambda: parse(text))
    base = best_of(lambda: json.loads(text))
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


if __name__ == "__main__":
    main()

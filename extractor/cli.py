"""The ``extractor`` command (also ``python -m extractor``).

    extractor extract  --schema SCHEMA [--text TEXT | FILE | -]
    extractor batch    INPUT --schema SCHEMA --output OUT.jsonl [...]
    extractor estimate INPUT --schema SCHEMA
    extractor prompt   --schema SCHEMA [--text TEXT]
    extractor export   OUT.jsonl TABLE.parquet

SCHEMA is a JSON Schema file or ``module:Name``, a pydantic model (or any type) importable
from the current directory. Argument parsing and exit codes only: the work is in ``jobs/``.

Exit codes:
    0    done: the value was printed (extract), or every input record is in OUT or the errors
         file (batch), whether it succeeded or failed
    1    extract failed; or a batch job stopped on an error no record can get past (bad API
         key, no quota, unknown model); the records done so far are kept
    2    bad usage or configuration: unknown option, missing schema, bad module:Name,
         unreadable input or output, settings changed since OUT was made; nothing was sent
    3    batch stopped by --budget; rerun the same command (with a new budget) to go on
    4    batch stopped on an outage (records failing in a row after their transport retries,
         or the Batch API's Files/Batches endpoints); nothing was filed as failed; rerun later
    5    batch could not write its output (disk full); rerun once there is room
    6    another process is running this batch job (same OUT)
    130  interrupted (Ctrl-C or SIGTERM); rerun the same command to go on
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import logging
import math
import os
import signal
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, get_args

import httpx

from ._version import __version__
from .client import DEFAULT_TIMEOUT, AsyncExtractor, Extractor, ExtractorOptions
from .core.cost import Usage
from .core.modes import ModeName, output_mode
from .core.options import CallOptions
from .core.prices import Price
from .core.result import spans_to_dict
from .core.target import Target
from .core.tokens import MESSAGE_OVERHEAD, estimate_tokens
from .errors import ConfigurationError, ExtractionError, InputError, OutputError
from .grounding import render_html
from .jobs.inputs import (
    ALL,
    DEFAULT_ID_FIELD,
    Keep,
    detect_format,
    open_input,
    read_records,
    sniff,
)
from .jobs.lock import JobLocked

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BUDGET = 3
EXIT_OUTAGE = 4
EXIT_WRITE = 5
EXIT_LOCKED = 6
EXIT_INTERRUPTED = 130

# Transport retries per request in a batch: a long job rides out rate limits and blips
# instead of filing records as failed (the job also pauses everyone on a 429).
BATCH_TRANSPORT_RETRIES = 6


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own exit code is 2 as well
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="extractor",
        description="Typed, validated extraction with LLMs over OpenAI-compatible APIs.",
        epilog="Exit codes: 0 done, 1 failed, 2 bad usage, 3 budget reached, 4 API outage, "
        "5 cannot write the output, 6 job already running, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--schema", required=True, help="JSON Schema file, or module:Name")
        _model_options(sub)
        sub.add_argument(
            "--ground", action="store_true", help="add where each value is in the text (spans)"
        )
        sub.add_argument(
            "--require-grounding",
            action="store_true",
            help="re-ask when a value is not in the text (implies --ground)",
        )
        sub.add_argument(
            "--chunk-size", type=_positive, help="cut longer texts into chunks of N characters"
        )
        sub.add_argument(
            "--passes", type=int, choices=(1, 2, 3), help="read each chunk again for what it missed"
        )
        sub.add_argument(
            "-v", "--verbose", action="store_true", help="log each attempt and retry to stderr"
        )

    def inputs(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "input",
            help="JSONL, CSV/TSV (with a header row), Parquet or text file (one record per "
            "line), or - for stdin (JSONL or text)",
        )
        sub.add_argument(
            "--id-field",
            help="id field or column, required in every record when given (default: id where "
            "present, else the line number)",
        )
        sub.add_argument("--text-field", default="text", help="text field or column (default text)")
        sub.add_argument(
            "--delimiter",
            type=_delimiter,
            help="CSV delimiter, e.g. ';' or tab (default: sniffed from the header)",
        )

    extract = commands.add_parser("extract", help="extract from one text; print the JSON")
    common(extract)
    extract.add_argument("file", nargs="?", help="file holding the text, or - for stdin")
    extract.add_argument("--text", help="the text itself")
    extract.add_argument("--max-retries", type=_natural, default=3, help="re-asks (default 3)")
    extract.add_argument(
        "--html", type=Path, help="also write a page of the text with each value highlighted"
    )

    extract.add_argument("--timeout", type=_seconds, help="seconds per request (default 300)")

    batch = commands.add_parser("batch", help="extract from every record of a file")
    common(batch)
    inputs(batch)
    batch.add_argument("--output", "-o", required=True, type=Path, help="OUT.jsonl")
    batch.add_argument("--errors", type=Path, help="failed records (default OUT.errors.jsonl)")
    batch.add_argument(
        "--keep-fields",
        type=_field_names,
        metavar="NAME,...|all",
        help="copy these fields (columns) of each input record, or all but the id and text, "
        'into its output line as "input", so the output can be joined back to the input',
    )
    batch.add_argument(
        "--parquet",
        type=Path,
        metavar="TABLE.parquet",
        help="when the job is complete, also write OUT's records as a Parquet table (id, the "
        "extracted fields, the kept input fields; needs the parquet extra)",
    )
    batch.add_argument("--concurrency", type=_positive, default=8, help="in flight (default 8)")
    batch.add_argument("--rpm", type=_positive, help="requests per minute, at most")
    batch.add_argument("--tpm", type=_positive, help="tokens per minute, at most")
    batch.add_argument("--max-retries", type=_natural, default=3, help="re-asks (default 3)")
    batch.add_argument(
        "--transport-retries",
        type=_natural,
        default=BATCH_TRANSPORT_RETRIES,
        help="retries of one request after a connection error, timeout, 429 or 5xx, with "
        f"backoff (default {BATCH_TRANSPORT_RETRIES})",
    )
    batch.add_argument(
        "--budget",
        type=_amount,
        help="start no new record once this run has spent this much (in the price's currency; "
        "needs a known price, see --price)",
    )
    batch.add_argument("--cache", type=Path, help="sqlite cache file of validated answers")
    batch.add_argument("--retry-errors", action="store_true", help="redo the failed records")
    batch.add_argument(
        "--allow-changes",
        action="store_true",
        help="go on with an output made with other settings (schema, model, prompt, "
        "parameters): the records done stay as they are, the rest use this run's settings",
    )
    batch.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="where records run: this process (default), or a Ray cluster (extra: ray)",
    )
    batch.add_argument("--address", help="with --engine ray: the cluster (default: a local Ray)")
    batch.add_argument(
        "--workers", type=_positive, help="with --engine ray: worker actors (default 2)"
    )
    batch.add_argument("--timeout", type=_seconds, help="seconds per request (default 300)")
    batch.add_argument("--no-progress", action="store_true", help="no progress bar or lines")
    batch.add_argument(
        "--progress-interval",
        type=_seconds,
        default=10.0,
        help="seconds between progress lines when there is no live bar (default 10)",
    )
    _batch_api_arguments(batch)

    estimate = commands.add_parser("estimate", help="count records, estimate tokens and cost")
    common(estimate)
    inputs(estimate)

    export = commands.add_parser(
        "export", help="write a batch job's OUT.jsonl as a Parquet table (the parquet extra)"
    )
    export.add_argument("output", type=Path, help="the job's OUT.jsonl")
    export.add_argument("table", type=Path, help="the Parquet file to write")

    prompt = commands.add_parser("prompt", help="print the request body that would be sent")
    common(prompt)
    prompt.add_argument("--text", default="<the text to extract from>", help="a sample text")
    return parser


def _model_options(sub: argparse.ArgumentParser) -> None:
    """The options that decide the request: model, endpoint, prompt, parameters, price."""
    sub.add_argument("--model", help="model name (default: $EXTRACTOR_MODEL or gpt-5.1)")
    sub.add_argument(
        "--base-url",
        help="API base URL (default: $EXTRACTOR_BASE_URL, $OPENAI_BASE_URL, or OpenAI)",
    )
    sub.add_argument("--instructions", help="extra guidance for the model")
    sub.add_argument(
        "--mode",
        choices=get_args(ModeName),
        help="json: JSON mode (default); json_schema: strict structured outputs; tools: a "
        "forced function call; compact: JSON mode with objects answered as arrays of their "
        "values (no keys: fewer output tokens)",
    )
    sub.add_argument("--temperature", type=_number, help="sampling temperature")
    sub.add_argument(
        "--reasoning-effort",
        metavar="EFFORT",
        help="reasoning effort of reasoning models (none, minimal, low, medium, high)",
    )
    sub.add_argument(
        "--max-tokens",
        type=_positive,
        help="cap on each answer's tokens (sent as max_completion_tokens where required)",
    )
    sub.add_argument(
        "--price",
        type=_price,
        metavar="IN/OUT CUR",
        help='price per million tokens, e.g. "1.80/15.00 CNY" or "1.25/0.125/10.00 USD" '
        "(input/cached input/output); default: $EXTRACTOR_PRICE, else the endpoint's list "
        "price for the model, if known",
    )


def _batch_api_arguments(batch: argparse.ArgumentParser) -> None:
    """``batch --batch-api``: the requests go through the provider's Batch API."""
    group = batch.add_argument_group("Batch API (half price, answers within 24 hours)")
    group.add_argument(
        "--batch-api", action="store_true", help="send the requests through the Batch API"
    )
    group.add_argument(
        "--batch-price-factor",
        type=_amount,
        default=Decimal("0.5"),
        help="batch price as a fraction of the live price (default 0.5)",
    )
    group.add_argument(
        "--reask-live", action="store_true", help="send re-asks to the live API, not a new batch"
    )
    group.add_argument(
        "--poll-interval", type=float, default=30.0, help="seconds between polls (default 30)"
    )
    group.add_argument(
        "--batch-max-requests",
        type=_positive,
        default=50_000,
        help="requests per batch file, at most (default 50,000, the provider's limit)",
    )
    group.add_argument(
        "--batch-max-bytes",
        type=_positive,
        default=200 * 1024 * 1024,
        help="bytes per batch file, at most (default 200 MB, the provider's limit)",
    )


def _batch_api_job(
    args: argparse.Namespace,
    config: Any,
    extractor: AsyncExtractor,
    target: Target[Any],
    client: httpx.AsyncClient,
    **job: Any,
) -> Any:
    """The Batch API job of ``batch --batch-api``."""
    from .jobs.batch_api import BatchApi, BatchApiJob, BatchLimits
    from .wire.endpoint import Endpoint

    endpoint = Endpoint(base_url=args.base_url, api_key=None)
    return BatchApiJob(
        config,
        extractor,
        target,
        BatchApi(client, endpoint),
        limits=BatchLimits(args.batch_max_requests, args.batch_max_bytes),
        price_factor=args.batch_price_factor,
        reask_live=args.reask_live,
        poll_interval=args.poll_interval,
        **job,
    )


def _positive(value: str) -> int:
    number = _natural(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return number


def _natural(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {value}")
    return number


def _amount(value: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise argparse.ArgumentTypeError(f"must be a finite amount of zero or more: {value}")
    return amount


def _number(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"not a finite number: {value!r}")
    return number


def _seconds(value: str) -> float:
    seconds = _number(value)
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {value}")
    return seconds


def _price(value: str) -> Price:
    try:
        return Price.parse(value, source="--price")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _delimiter(value: str) -> str:
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    delimiter = named.get(value.lower(), value)
    if len(delimiter) != 1:
        raise argparse.ArgumentTypeError(
            f"a delimiter is one character (or tab, comma, semicolon, pipe), not {value!r}"
        )
    return delimiter


def _field_names(value: str) -> Keep:
    if value.strip() == "all":
        return ALL
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    if not names:
        raise argparse.ArgumentTypeError("name at least one field (--keep-fields a,b), or all")
    return names


def load_schema(spec: str) -> Target[Any]:
    """A JSON Schema file, or ``module:Name`` importable from the current directory."""
    if os.path.exists(spec) or ":" not in spec or spec.endswith(".json"):
        return Target.of(spec)
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigurationError(f"--schema {spec!r}: write module:Name, e.g. models:Invoice")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(
            f"--schema {spec!r}: cannot import {module_name!r} ({exc}). The module must be "
            "importable from the current directory (or the Python path)."
        ) from None
    except Exception as exc:  # the user's module failed while importing
        raise ConfigurationError(
            f"--schema {spec!r}: importing {module_name!r} failed: {type(exc).__name__}: {exc}"
        ) from None
    obj: Any = module
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ConfigurationError(
                f"--schema {spec!r}: {module_name!r} has no {attribute!r}."
            ) from None
    return Target.of(obj)


def _options(args: argparse.Namespace) -> CallOptions:
    """The call options the command line gives."""
    options = CallOptions()
    if getattr(args, "max_retries", None) is not None:
        options["max_retries"] = args.max_retries
    if args.instructions:
        options["instructions"] = args.instructions
    if args.mode is not None:
        options["mode"] = args.mode
    if args.temperature is not None:
        options["temperature"] = args.temperature
    if args.reasoning_effort is not None:
        options["reasoning_effort"] = args.reasoning_effort
    if args.max_tokens is not None:
        options["max_tokens"] = args.max_tokens
    if getattr(args, "ground", False) or getattr(args, "html", None):
        options["ground"] = True
    if getattr(args, "require_grounding", False):
        options["require_grounding"] = True
    if getattr(args, "chunk_size", None):
        options["chunk_size"] = args.chunk_size
    if getattr(args, "passes", None):
        options["passes"] = args.passes
    return options


def _settings(args: argparse.Namespace) -> ExtractorOptions:
    """The extractor's own settings the command line gives."""
    settings = ExtractorOptions()
    if args.price is not None:
        settings["price"] = args.price
    if getattr(args, "timeout", None) is not None:
        settings["timeout"] = httpx.Timeout(args.timeout, connect=min(10.0, args.timeout))
    return settings


def _dump(value: Any, pretty: bool) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2 if pretty else None, default=str)


# -- commands ----------------------------------------------------------------------------------


def _cmd_prompt(args: argparse.Namespace) -> int:
    target = load_schema(args.schema)
    extractor = Extractor(model=args.model, base_url=args.base_url, **_settings(args))
    body = extractor.request_body(target, args.text, **_options(args))
    print(_dump(body, pretty=True))
    return EXIT_OK


def _cmd_extract(args: argparse.Namespace) -> int:
    target = load_schema(args.schema)
    if args.text is not None and args.file is not None:
        raise ConfigurationError("give the text with --text or as FILE, not both")
    if args.text is not None:
        text = args.text
    elif args.file not in (None, "-"):
        try:
            text = Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {args.file!r}: {exc}") from None
    elif args.file == "-" or not sys.stdin.isatty():
        text = sys.stdin.read()
    else:
        raise ConfigurationError("no text: pass --text TEXT, a FILE, or - to read stdin")
    if not text.strip():
        # Most often stdin that was not meant as input (a script, cron): an answer to an empty
        # text would be paid for and mean nothing.
        source = "--text" if args.text is not None else repr(args.file or "-")
        raise ConfigurationError(f"the text from {source} is empty: nothing to extract from")
    if args.html is not None and not args.html.parent.is_dir():
        # Checked before the request: afterwards the paid-for value would be lost.
        raise ConfigurationError(
            f"cannot write the page to {str(args.html)!r}: no directory {str(args.html.parent)!r}"
        )
    options = _options(args)
    with Extractor(model=args.model, base_url=args.base_url, **_settings(args)) as extractor:
        try:
            result = extractor.extract_result(target, text, **options)
        except ConfigurationError:
            raise
        except ExtractionError as exc:
            print(f"extractor: {type(exc).__name__}: {exc}", file=sys.stderr)
            return EXIT_FAILED
    data = target.plain(result.value)
    if args.html is not None and result.spans is not None:
        page = render_html(text, data, result.spans, title=f"{target.name}: extracted values")
        try:
            args.html.write_text(page, encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"cannot write the page to {str(args.html)!r}: {exc}") from None
    if result.spans is not None and (args.ground or args.require_grounding):
        output: Any = {"data": data, "spans": spans_to_dict(result.spans)}
    else:
        output = data
    print(_dump(output, pretty=sys.stdout.isatty()))
    return EXIT_OK


def _cmd_estimate(args: argparse.Namespace) -> int:
    target = load_schema(args.schema)
    extractor = Extractor(model=args.model, base_url=args.base_url, **_settings(args))
    options = _options(args)
    # One character stands for the record's text (an empty text is refused): the prompt
    # around it is what every request pays.
    body = extractor.request_body(target, "-", **options)
    fixed = sum(
        estimate_tokens(str(message.get("content") or "")) + MESSAGE_OVERHEAD
        for message in body["messages"]
    )
    per_answer = output_mode(options.get("mode", "json")).answer_tokens(target)
    records = unreadable = text_tokens = 0
    stream = open_input(args.input)
    try:
        fmt, stream = _format(args.input, stream)
        reader = read_records(
            stream,
            fmt,
            id_field=args.id_field,
            text_field=args.text_field,
            delimiter=args.delimiter,
        )
        for record in reader:
            if record.text is None:
                unreadable += 1
                continue
            records += 1
            text_tokens += estimate_tokens(record.text)
    finally:
        stream.close()
    usage = Usage(
        prompt_tokens=records * fixed + text_tokens, completion_tokens=records * per_answer
    )
    price = extractor.price_for(body["model"])
    print(
        f"records:        {records}"
        + (f" (+{unreadable} unreadable, they would go to the errors file)" if unreadable else "")
    )
    print(
        f"input tokens:   ~{usage.prompt_tokens} ({fixed} per request for the prompt and "
        f"schema, {text_tokens} for the texts)"
    )
    print(f"output tokens:  ~{usage.completion_tokens} ({per_answer} per answer)")
    if price is None:
        print(
            f"cost:           unknown: no price for the model {body['model']!r} at this "
            'endpoint; give one with --price "IN/OUT CURRENCY" or $EXTRACTOR_PRICE'
        )
    else:
        cost = price.cost(usage)
        print(
            f"cost:           ~{cost.amount:.4f} {cost.currency} ({body['model']} at "
            f"{price.describe()})"
        )
    print(
        "(estimated without a tokenizer: ~4 characters per token for ASCII text, ~1 per "
        "character otherwise; re-asks add to this)"
    )
    return EXIT_OK


def _format(path: str, stream: Any) -> tuple[Any, Any]:
    if path == "-":
        stream, head = sniff(stream)
        return detect_format(path, head), stream
    return detect_format(path), stream


def _sidecar(output: Path, suffix: str) -> Path:
    """A file next to OUT named after it: ``out.jsonl`` -> ``out.errors.jsonl``,
    ``out.job.json``, ``out.lock``."""
    return output.with_name(output.name.removesuffix(".jsonl") + suffix)


def _record_settings(
    args: argparse.Namespace,
    extractor: AsyncExtractor,
    target: Target[Any],
    config: Any,
    reporter: Any,
) -> None:
    """Compare this run's settings with those OUT was made with (stop on a difference unless
    --allow-changes), check there is room to write, and record them: all before anything is
    sent. Raises `OSError` when the disk is full."""
    from .jobs.manifest import check_settings, job_settings, write_manifest
    from .jobs.outputs import check_space

    manifest = _sidecar(config.output, ".job.json")
    settings = job_settings(
        extractor,
        target,
        config.options,
        id_field=config.id_field or DEFAULT_ID_FIELD,
        text_field=config.text_field,
    )
    previous, changes = check_settings(
        manifest, settings, allow_changes=args.allow_changes, output=config.output
    )
    if changes:
        reporter.message(
            "continuing with changed settings (--allow-changes): " + "; ".join(changes)
        )
    elif previous is None and any(
        path.exists() and path.stat().st_size for path in (config.output, config.errors)
    ):
        reporter.message(
            f"no record of the settings {config.output} was made with; recording this run's "
            f"in {manifest.name}"
        )
    check_space(config.output.parent)
    write_manifest(manifest, settings, previous)


def _cmd_batch(args: argparse.Namespace) -> int:
    from .jobs.cache import Cache
    from .jobs.config import JobConfig
    from .jobs.inputs import count_records
    from .jobs.local import Job
    from .jobs.lock import JobLock
    from .jobs.progress import make_reporter
    from .jobs.ratelimit import LimitedTransport, RateLimiter
    from .wire.pool import ShardedTransport

    target = load_schema(args.schema)
    output: Path = args.output
    errors: Path = args.errors or _sidecar(output, ".errors.jsonl")
    if output.resolve() == errors.resolve():
        raise ConfigurationError("--errors must be another file than --output")
    for path in (output, errors):
        if not path.parent.is_dir():
            raise ConfigurationError(
                f"cannot write {str(path)!r}: no directory {str(path.parent)!r}"
            )
        if path.is_dir():
            raise ConfigurationError(
                f"cannot write {str(path)!r}: it is a directory; give the path of a file"
            )
    if args.batch_api and args.engine == "ray":
        # Ray would run the records live, at the full price the user chose --batch-api to halve.
        raise ConfigurationError("--batch-api runs on the local engine; drop --engine ray")
    if args.reask_live and not args.batch_api:
        raise ConfigurationError("--reask-live goes with --batch-api (re-asks are live anyway)")
    # Check the input before creating anything.
    stream = open_input(args.input)
    fmt, stream = _format(args.input, stream)
    config = JobConfig(
        output=output,
        errors=errors,
        format=fmt,
        id_field=args.id_field,
        text_field=args.text_field,
        delimiter=args.delimiter,
        keep=args.keep_fields,
        concurrency=args.concurrency,
        budget=args.budget,
        retry_errors=args.retry_errors,
        options=_options(args),
    )
    total = None
    if args.input != "-":
        total = lambda: count_records(args.input, fmt)  # noqa: E731
    if args.engine == "ray":
        try:
            return _batch_on_ray(args, config, target, stream, total)
        finally:
            stream.close()
    if args.address is not None or args.workers is not None:
        raise ConfigurationError("--address and --workers go with --engine ray")
    caches: list[Cache] = []

    async def run() -> int:
        limiter = RateLimiter(args.rpm, args.tpm)
        transport = LimitedTransport(ShardedTransport(args.concurrency), limiter)
        settings = _settings(args)
        settings["max_transport_retries"] = args.transport_retries
        timeout = settings.get("timeout", DEFAULT_TIMEOUT)
        async with httpx.AsyncClient(transport=transport, timeout=timeout) as client:
            extractor = AsyncExtractor(
                model=args.model, base_url=args.base_url, http_client=client, **settings
            )
            # No key is a configuration error: say so before any file is created.
            extractor.check_key()
            reporter = make_reporter(enabled=not args.no_progress, interval=args.progress_interval)
            with JobLock(_sidecar(output, ".lock")):
                try:
                    _record_settings(args, extractor, target, config, reporter)
                except OSError as exc:
                    print(f"extractor: cannot start: {exc.strerror or exc}", file=sys.stderr)
                    return EXIT_WRITE
                cache = Cache(args.cache) if args.cache else None
                if cache is not None:
                    caches.append(cache)
                if args.batch_api:
                    from .jobs.batch_api import batch_summary

                    batch_job = _batch_api_job(
                        args, config, extractor, target, client, stream=stream,
                        reporter=reporter, total=total, cache=cache,
                    )  # fmt: skip
                    return await _run_job(batch_job, extra=lambda: batch_summary(batch_job))
                job = Job(
                    config,
                    extractor,
                    target,
                    stream=stream,
                    cache=cache,
                    reporter=reporter,
                    total=total,
                )
                return await _run_job(job)

    try:
        code = asyncio.run(run())
    finally:
        stream.close()
        for cache in caches:
            cache.close()
    if code == EXIT_OK and args.parquet is not None:
        return _export(output, args.parquet)
    return code


def _cmd_export(args: argparse.Namespace) -> int:
    if not args.output.is_file():
        raise InputError(f"cannot read {str(args.output)!r}: no such file")
    return _export(args.output, args.table)


def _export(output: Path, table: Path) -> int:
    from .jobs.parquet import write_parquet

    try:
        rows = write_parquet(output, table)
    except OSError as exc:
        print(f"extractor: cannot write {str(table)!r}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_WRITE
    print(f"extractor: wrote {rows} records to {table}", file=sys.stderr)
    return EXIT_OK


def _batch_on_ray(
    args: argparse.Namespace,
    config: Any,
    target: Any,
    stream: Any,
    total: Any,
) -> int:
    """``extractor batch --engine ray``: the same job, its records run on a Ray cluster."""
    try:
        from .jobs.ray_dataset import DEFAULT_WORKERS, worker_spec
        from .jobs.ray_job import RayJob, connect
        from .jobs.ray_worker import RemoteCache
    except ImportError as exc:
        raise ConfigurationError(
            f"--engine ray needs Ray ({exc}): pip install 'typed-extractor[ray]'"
        ) from None
    from .jobs.lock import JobLock
    from .jobs.progress import make_reporter

    settings = _settings(args)
    settings["max_transport_retries"] = args.transport_retries
    driver = AsyncExtractor(model=args.model, base_url=args.base_url, **settings)
    driver.check_key()  # before Ray starts and before any file is created
    reporter = make_reporter(enabled=not args.no_progress, interval=args.progress_interval)
    with JobLock(_sidecar(config.output, ".lock")):
        try:
            _record_settings(args, driver, target, config, reporter)
        except OSError as exc:
            print(f"extractor: cannot start: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_WRITE
        connect(args.address)
        workers = args.workers or DEFAULT_WORKERS
        cache = RemoteCache.start(args.cache) if args.cache else None
        spec = worker_spec(
            target,
            workers=workers,
            concurrency=args.concurrency,
            rpm=args.rpm,
            tpm=args.tpm,
            budget=args.budget,
            cache=cache,
            model=args.model,
            api_key=None,
            base_url=args.base_url,
            extractor_options=settings,
            options=config.options,
            id_column="key",
        )
        job = RayJob(
            config,
            driver,
            target,
            stream=stream,
            reporter=reporter,
            total=total,
            spec=spec,
            workers=workers,
        )
        try:
            return asyncio.run(_run_job(job))
        finally:
            if cache is not None:
                cache.close()


async def _run_job(job: Any, *, extra: Callable[[], str] | None = None) -> int:
    """Run a batch job (any engine) with Ctrl-C and SIGTERM as its interrupt; print the
    summary (and the engine's ``extra`` lines); the exit code."""
    from .errors import JobAborted
    from .jobs.progress import summary

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, job.interrupt)
    try:
        stats = await job.run()
    except JobAborted as aborted:
        print(summary(job.stats), file=sys.stderr)
        print(
            f"extractor: stopped: {type(aborted.error).__name__}: {aborted.error}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except OSError as exc:  # an engine without its own write-error stop, or a repair that failed
        print(summary(job.stats), file=sys.stderr)
        print(
            f"extractor: stopped: cannot write the output: {exc.strerror or exc}; free some "
            "space (or fix the output) and rerun the same command to go on.",
            file=sys.stderr,
        )
        return EXIT_WRITE
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(signum)
    print(summary(stats), file=sys.stderr)
    if extra is not None:
        print(extra(), file=sys.stderr)
    if stats.stopped == "outage":
        print(
            f"extractor: stopped: the API failed {stats.undone} records in a row or left them "
            f"in flight ({getattr(job, 'outage', '')}). Nothing was filed as failed; rerun the "
            "same command later to go on.",
            file=sys.stderr,
        )
        return EXIT_OUTAGE
    if stats.stopped == "write error":
        print(
            f"extractor: stopped: {getattr(job, 'write_error', '')}. No record was started "
            "after that; free some space (or fix the output) and rerun the same command to go "
            "on.",
            file=sys.stderr,
        )
        return EXIT_WRITE
    if stats.stopped == "interrupted":
        return EXIT_INTERRUPTED
    if stats.stopped == "budget":
        return EXIT_BUDGET
    return EXIT_OK


_COMMANDS = {
    "extract": _cmd_extract,
    "batch": _cmd_batch,
    "estimate": _cmd_estimate,
    "prompt": _cmd_prompt,
    "export": _cmd_export,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if getattr(args, "verbose", False):
        logging.basicConfig(format="%(asctime)s %(name)s %(levelname)s %(message)s")
        logging.getLogger("extractor").setLevel(logging.DEBUG)
    try:
        return _COMMANDS[args.command](args)
    except JobLocked as exc:
        print(f"extractor: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except ConfigurationError as exc:
        print(f"extractor: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("extractor: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK

"""What decides a job's answers, recorded next to its output so that a rerun can tell.

A rerun skips the records already in OUT. That is right when the settings are the same, and
silently wrong when the schema, the model or the prompt changed in between: OUT would mix
answers to two different questions. So the job writes ``OUT.job.json`` (next to OUT, like the
errors file) holding the settings that decide the answers, and a rerun compares: on a
difference it stops before anything is sent, saying what changed and how to go on.

A sidecar file rather than a header line in OUT: OUT stays plain JSONL, one record per line,
that any tool reads; the settings can be rewritten atomically (a rerun that deliberately
continues with new settings appends them to the history) without rewriting OUT; and a job
whose OUT is still empty is recorded too.

Recorded: the schema (in full, so a change can be described), the model, the output mode,
the instructions and examples, the sampling and length parameters, and the input fields the
id and text are read from. Not recorded: what changes how a job runs but not what an answer
says (concurrency, rate limits, budget, re-ask count, endpoint, cache).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..client import AsyncExtractor
from ..core.options import CallOptions
from ..core.target import Target
from ..errors import ConfigurationError, OutputError

__all__ = ["SettingsChanged", "check_settings", "job_settings", "write_manifest"]

_VERSION = 1
# The call options that decide what an answer says (beside the schema and the model).
_DECIDING = (
    "mode",
    "instructions",
    "examples",
    "messages",
    "strict",
    "temperature",
    "top_p",
    "max_tokens",
    "seed",
    "reasoning_effort",
    "extra_body",
)


class SettingsChanged(ConfigurationError):
    """A rerun's settings differ from those the output was made with."""


def _canonical(value: Any) -> Any:
    """JSON-able, stable form of an option's value (pydantic values, tuples, sets)."""
    return json.loads(json.dumps(value, sort_keys=True, ensure_ascii=False, default=_plain))


def _plain(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return repr(value)


def job_settings(
    extractor: AsyncExtractor,
    target: Target[Any],
    options: CallOptions,
    *,
    id_field: str,
    text_field: str,
) -> dict[str, Any]:
    """The settings that decide a job's answers, as recorded in its manifest."""
    merged: dict[str, Any] = {**extractor.planner.defaults, **options}
    settings: dict[str, Any] = {
        "schema": _canonical(target.schema),
        "model": merged.get("model") or extractor.model,
        "mode": merged.get("mode", "json"),
    }
    for name in _DECIDING[1:]:
        if merged.get(name) is not None:
            settings[name] = _canonical(merged[name])
    settings["id_field"] = id_field
    settings["text_field"] = text_field
    return settings


def _read(path: Path) -> dict[str, Any] | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputError(f"cannot read {str(path)!r}: {exc.strerror}") from None
    try:
        manifest = json.loads(raw)
        if not isinstance(manifest, dict) or not isinstance(manifest.get("settings"), dict):
            raise ValueError
    except ValueError:
        raise OutputError(
            f"{str(path)!r} is not a job manifest written by extractor (it records the "
            "settings of the job whose output is next to it); restore it, or delete it to "
            "record the current settings."
        ) from None
    return manifest


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _describe(name: str, old: Any, new: Any) -> str:
    if name == "schema":
        return "the schema: " + _schema_change(old, new)
    if old is None:
        return f"{name}: now {_short(new)} (not set before)"
    if new is None:
        return f"{name}: was {_short(old)}, now not set"
    return f"{name}: was {_short(old)}, now {_short(new)}"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else f"{text[:40]}... (sha256 {_digest(value)})"


def _schema_change(old: Any, new: Any) -> str:
    def fields(schema: Any) -> dict[str, Any]:
        found = schema.get("properties") if isinstance(schema, dict) else None
        return found if isinstance(found, dict) else {}

    before, after = fields(old), fields(new)
    parts = []
    if added := sorted(set(after) - set(before)):
        parts.append("fields added: " + ", ".join(added))
    if removed := sorted(set(before) - set(after)):
        parts.append("fields removed: " + ", ".join(removed))
    if changed := sorted(k for k in set(before) & set(after) if before[k] != after[k]):
        parts.append("fields changed: " + ", ".join(changed))
    return "; ".join(parts) or f"sha256 {_digest(old)} -> {_digest(new)}"


def check_settings(
    path: Path, settings: Mapping[str, Any], *, allow_changes: bool, output: Path
) -> tuple[dict[str, Any] | None, list[str]]:
    """The manifest found at ``path`` (None for a new job) and the differences from
    ``settings``, one description each. Raises `SettingsChanged` for differences unless
    ``allow_changes``."""
    manifest = _read(path)
    if manifest is None:
        return None, []
    recorded: dict[str, Any] = manifest["settings"]
    names = sorted(set(recorded) | set(settings), key=_order)
    changes = [
        _describe(name, recorded.get(name), settings.get(name))
        for name in names
        if recorded.get(name) != settings.get(name)
    ]
    if changes and not allow_changes:
        listed = "".join(f"\n  - {change}" for change in changes)
        raise SettingsChanged(
            f"{str(output)!r} was made with other settings than this run's, so its answers "
            f"are not what this run would give:{listed}\nNothing was sent. To start afresh, "
            "choose another --output (or delete the output, its errors file and "
            f"{path.name}); to keep the records already done and do the rest with the new "
            "settings, rerun with --allow-changes."
        )
    return manifest, changes


def _order(name: str) -> tuple[int, str]:
    known = ("schema", "model", *_DECIDING, "id_field", "text_field")
    return (known.index(name) if name in known else len(known), name)


def write_manifest(
    path: Path, settings: Mapping[str, Any], previous: Mapping[str, Any] | None
) -> None:
    """Record ``settings`` atomically; settings replaced by ``--allow-changes`` go to the
    history, so OUT's mixed origins stay on record. Raises `OSError` when it cannot be
    written (a full disk shows here, before anything is sent)."""
    history = list(previous.get("history", [])) if previous else []
    if previous is not None and previous["settings"] != dict(settings):
        history.append({"settings": previous["settings"], "until": _now()})
    manifest: dict[str, Any] = {
        "version": _VERSION,
        "settings": dict(settings),
        "updated": _now(),
    }
    if history:
        manifest["history"] = history
    data = json.dumps(manifest, ensure_ascii=False, indent=1).encode() + b"\n"
    temporary = path.with_name(path.name + ".tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

"""The schemas the project's tests know: the ready-made ones in schemas/ and every pydantic
model the tests declare, as targets. Property tests over "every schema we have" use this."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from extractor.core.target import Target
from extractor.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[1]

# Test modules that declare pydantic models (imported for their classes only).
_MODEL_MODULES = (
    "tests.test_client", "tests.test_many", "tests.test_streaming", "tests.test_hostile",
    "tests.wire.test_body", "tests.wire.test_providers", "tests.wire.test_property",
    "tests.core.test_plan", "tests.core.test_partial", "tests.core.test_prompt_schema",
    "tests.core.test_loop", "tests.grounding.test_leaves", "tests.grounding.test_extract_grounded",
    "tests.grounding.test_extract_long", "tests.e2e.test_cli", "tests.testing.test_extractor",
    "tests.testing.test_stream",
)  # fmt: skip


def schema_files() -> list[Path]:
    return sorted((ROOT / "schemas").glob("*.json"))


def models() -> list[type[BaseModel]]:
    """The pydantic models declared at the top level of the test modules that have any."""
    found: list[type[BaseModel]] = []
    for name in _MODEL_MODULES:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
                and not value.__pydantic_generic_metadata__["parameters"]
            ):
                found.append(value)
    return found


def targets() -> list[tuple[str, Target[Any]]]:
    """(id, target) for every schema file and test model whose target can be built."""
    out: list[tuple[str, Target[Any]]] = [(path.name, Target.of(path)) for path in schema_files()]
    for model in models():
        try:
            target = Target.of(model)
        except ConfigurationError:  # a model only meant to be refused is not corpus
            continue
        out.append((f"{model.__module__}.{model.__qualname__}", target))
    return out

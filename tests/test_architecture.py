"""The package's shape, checked from the source so that it stays as docs/architecture.md
draws it: no import cycles between modules (type-only imports included), and a sans-I/O core
that never imports httpx or asyncio, not even through the modules it imports."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "extractor"

# The sans-I/O part: the loop, planning, the stream session, the parser, and the pure parts
# of the wire protocol they build bodies and read answers with.
SANS_IO = ("extractor.core", "extractor.parse", "extractor.grounding")
IO_MODULES = ("httpx", "asyncio", "anyio", "httpcore")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, name: str) -> set[str]:
    """Every module ``path`` imports, absolute, inside the package or not (type-only too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    internal: dict[str, set[str]] = {}
    external: dict[str, set[str]] = {}
    for name, path in modules.items():
        imported = _imports(path, name)
        internal[name] = {m for m in imported if m in modules and m != name}
        external[name] = {m.split(".")[0] for m in imported if m.split(".")[0] != "extractor"}
    return internal, external


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _is_package_of(package: str, module: str) -> bool:
    return module.startswith(package + ".")


def test_no_import_cycles_between_modules() -> None:
    internal, _ = _graph()
    # A package's __init__ re-exporting its own modules is not a cycle between modules.
    graph = {
        name: {m for m in deps if not _is_package_of(name, m) and not _is_package_of(m, name)}
        for name, deps in internal.items()
    }
    assert _cycles(graph) == []


def test_the_sans_io_core_never_reaches_httpx_or_asyncio() -> None:
    internal, external = _graph()
    offenders = {}
    for start in internal:
        if not start.startswith(SANS_IO):
            continue
        seen, todo = {start}, [start]
        while todo:
            module = todo.pop()
            bad = external[module] & set(IO_MODULES)
            if bad:
                offenders[start] = (module, sorted(bad))
                break
            for nxt in internal[module] - seen:
                # importing a subpackage runs its __init__, which must stay empty of I/O too
                seen.add(nxt)
                todo.append(nxt)
    assert offenders == {}


def test_the_checks_see_a_cycle_and_an_io_import() -> None:
    """The two checks above must be able to fail."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    sample = PACKAGE / "core" / "loop.py"
    assert "extractor.core.plan" in _imports(sample, "extractor.core.loop")

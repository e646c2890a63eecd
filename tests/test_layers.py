"""The package layout is the architecture: every import points down the layers, and no import
closes a circle. docs/design.md opens with the same picture.

Every import counts, including those inside functions and under `TYPE_CHECKING`: a type that
needs an upper layer is a dependency on it all the same.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "competencymap"

# Lowest first. A package may import its own modules and those of any package listed before it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("_common",),
    ("model",),
    ("frameworks", "statements", "encoding"),
    ("retrieval",),
    ("mapping",),
    ("engine",),
    ("catalog",),
    ("workflows",),
    ("exports",),
    ("service",),
    ("cli",),
    ("__init__", "__main__"),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def top_package(module: str) -> str:
    """`competencymap.mapping.scoring` -> `mapping`; the package itself -> `__init__`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module) for every competencymap import in a file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "competencymap":
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "competencymap":
                continue
            submodules = [f"{module}.{alias.name}" for alias in node.names if _is_module(f"{module}.{alias.name}")]
            if len(submodules) < len(node.names):  # a name defined in the module itself
                yield node.lineno, module
            for submodule in submodules:  # `from competencymap.x import submodule`
                yield node.lineno, submodule


def _is_module(dotted: str) -> bool:
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def all_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def upward_imports() -> list[str]:
    problems = []
    for path in all_modules():
        mine = top_package(module_name(path))
        for line, module in imported_modules(path):
            theirs = top_package(module)
            if theirs == mine:
                continue
            if theirs not in RANK or mine not in RANK:
                problems.append(f"{path.relative_to(PACKAGE)}:{line}: {module} is in no layer")
            elif RANK[theirs] >= RANK[mine]:
                problems.append(f"{path.relative_to(PACKAGE)}:{line}: {mine} imports {module} (not below it)")
    return problems


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in all_modules():
        name = module_name(path)
        graph.setdefault(name, set()).update(m for _, m in imported_modules(path) if m != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
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
    return found


def test_every_package_has_a_layer() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    packages |= {p.stem for p in PACKAGE.glob("*.py")}
    assert packages <= set(RANK), f"add to LAYERS: {sorted(packages - set(RANK))}"


def test_imports_point_down() -> None:
    problems = upward_imports()
    assert not problems, "\n".join(problems)


def test_no_import_closes_a_circle() -> None:
    found = cycles(import_graph())
    assert not found, "\n".join(" <-> ".join(c) for c in found)


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ],
)
def test_the_circle_finder_finds_circles(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert cycles(graph) == expected


def test_the_layer_check_sees_an_upward_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "competencymap"
    (fake / "model").mkdir(parents=True)
    (fake / "engine.py").write_text("X = 1\n")
    (fake / "model" / "__init__.py").write_text("def f():\n    from competencymap.engine import X\n    return X\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake)
    assert upward_imports() == ["model/__init__.py:2: model imports competencymap.engine (not below it)"]

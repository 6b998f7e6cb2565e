"""The package's floors: imports run one way, and no two modules import each other, even indirectly."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "zenith"
# Each floor may import only the floors listed for it (and itself).
ALLOWED = {
    "lakehouse": {"lakehouse"},
    "pipeline": {"pipeline", "lakehouse"},
    "databricks": {"databricks", "lakehouse"},
    "demo": {"demo", "lakehouse"},
}
# Inside the pipeline, each layer's folder stands on the ground floor alone, and so do the analytics and
# the parameters; the health wing also reads the parameters. The run (the rest) chains them all.
PIPELINE_ROOMS = {
    "bronze": {"bronze"},
    "silver": {"silver"},
    "gold": {"gold"},
    "health": {"health", "params"},
    "analytics": {"analytics"},
    "params": {"params"},
}


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The ``zenith`` modules a file imports, anywhere in it (functions and TYPE_CHECKING too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            candidates = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found.update(name for name in candidates if name in known)
    return found


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package modules it imports (a module importing its own parent package excluded)."""
    files = {module_name(path, package): path for path in package.rglob("*.py")}
    known = set(files)
    return {
        name: {m for m in imported_modules(path, known) if m != name and not name.startswith(m + ".")}
        for name, path in files.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def floor(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ALLOWED) else "top"


def test_the_zenith_package_has_no_import_cycle():
    assert find_cycle(import_graph()) is None


def test_the_cycle_finder_reports_a_cycle_through_three_modules():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_imports_inside_functions(tmp_path):
    package = tmp_path / "zenith"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "a.py").write_text("def f():\n    from zenith.sub import b\n")
    (package / "sub" / "b.py").write_text("from zenith.sub.a import f\n")
    graph = import_graph(package)
    assert graph["zenith.sub.a"] == {"zenith.sub.b"}
    assert find_cycle(graph) == ["zenith.sub.a", "zenith.sub.b", "zenith.sub.a"]


@pytest.mark.parametrize("lower", sorted(ALLOWED))
def test_a_lower_floor_never_imports_a_higher_one(lower):
    graph = import_graph()
    wrong = {
        (module, imported)
        for module, imports in graph.items()
        if floor(module) == lower
        for imported in imports
        if floor(imported) not in ALLOWED[lower]
    }
    assert wrong == set()


def room(module: str) -> str:
    """The folder (``bronze``, ``health``...) or the module (``run``, ``params``...) of a pipeline module."""
    return module.split(".")[2]


@pytest.mark.parametrize("name", sorted(PIPELINE_ROOMS))
def test_a_layer_imports_no_other_layer(name):
    graph = import_graph()
    wrong = {
        (module, imported)
        for module, imports in graph.items()
        if floor(module) == "pipeline" and module != "zenith.pipeline" and room(module) == name
        for imported in imports
        if floor(imported) == "pipeline" and room(imported) not in PIPELINE_ROOMS[name]
    }
    assert wrong == set()


def test_the_layer_folders_exist_with_their_plan():
    for layer in ("bronze", "silver", "gold"):
        assert (PACKAGE / "pipeline" / layer / "layer.py").is_file()


def test_no_pipeline_module_is_over_250_lines_nor_a_function_over_60():
    long_modules, long_functions = {}, {}
    for path in (PACKAGE / "pipeline").rglob("*.py"):
        text = path.read_text()
        if (lines := len(text.splitlines())) > 250:
            long_modules[module_name(path)] = lines
        for node in ast.walk(ast.parse(text)):
            is_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            if is_function and (length := node.end_lineno - node.lineno + 1) > 60:
                long_functions[f"{module_name(path)}.{node.name}"] = length
    assert (long_modules, long_functions) == ({}, {})


def test_the_pipeline_run_is_under_100_lines():
    tree = ast.parse((PACKAGE / "pipeline" / "run.py").read_text())
    run = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "PipelineRun")
    assert run.end_lineno - run.lineno + 1 < 100


def test_nothing_imports_the_cli():
    graph = import_graph()
    importers = {m for m, imports in graph.items() if any(i.startswith("zenith.cli") for i in imports)}
    assert {m for m in importers if not m.startswith("zenith.cli")} == set()


def test_no_module_is_over_300_lines():
    long = {path.name: n for path in PACKAGE.rglob("*.py") if (n := len(path.read_text().splitlines())) > 300}
    assert long == {}

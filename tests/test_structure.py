"""The library's shape, checked by reading its source (``ast``; nothing is imported).

* No import cycle between gan_lib's modules, counting imports inside functions too (a lazy
  import still ties the two modules together: neither can be read or moved alone).
* No function over ``MAX_FUNCTION_LINES`` lines, no module over ``MAX_MODULE_LINES``.
* At most ``MAX_LOOSE_MODULES`` modules loose at the top (the rest live in folders that show the
  layers: data, models, training, run, metrics, viz); no class built at import time with
  ``dataclasses.make_dataclass`` (no editor can read it); no private or ``compat.v1`` TensorFlow
  API.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

# The gan_lib that the tests import: the checkout's, or the installed copy where the tests run
# without one beside them (CI's Colab leg). find_spec locates it without running its code.
PACKAGE = Path(importlib.util.find_spec("gan_lib").origin).parent
MAX_FUNCTION_LINES = 50  # docstring included: end_lineno - lineno + 1
MAX_MODULE_LINES = 250
MAX_LOOSE_MODULES = 8  # besides __init__ and __main__
# classes built at import time; TensorFlow's private tracking calls, internals and v1 layer
FORBIDDEN = ("make_dataclass", "_track_trackable", "_setattr_tracking", "compat.v1",
             "tensorflow.python")


def _modules() -> dict[str, Path]:
    """Module name (``gan_lib.data.cats``; a package is its ``__init__``) -> file."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imported(name: str, path: Path, node: ast.Import | ast.ImportFrom,
              modules: dict[str, Path]) -> set[str]:
    """The gan_lib modules one import statement in module ``name`` reaches: ``import X.Y`` ->
    ``X.Y``; ``from X import a`` -> ``X.a`` when that is a module, else ``X``."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name in modules}
    base = node.module or ""
    if node.level:  # relative: from the package that holds this module
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        package = package[:len(package) - node.level + 1]
        base = ".".join(package + ([base] if base else []))
    targets = {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}
    return {t for t in targets if t in modules}


def _typing_only(tree: ast.Module) -> set[ast.AST]:
    """The import nodes under ``if TYPE_CHECKING:``: for annotations, never run."""
    return {node for block in ast.walk(tree)
            if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
            for stmt in block.body for node in ast.walk(stmt)}


def import_graph() -> dict[str, set[str]]:
    """Module -> the gan_lib modules it imports, at module level or inside a function (imports
    under ``if TYPE_CHECKING:``, for type annotations only, are not run and do not count)."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        typing_only = _typing_only(tree)
        graph[name] = {target for node in ast.walk(tree)
                       if isinstance(node, (ast.Import, ast.ImportFrom))
                       and node not in typing_only
                       for target in _imported(name, path, node, modules)} - {name}
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module (the cycles)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    assert "gan_lib.run.folder" in graph and "gan_lib.data.download" in graph  # read at all
    cycles = strongly_connected(graph)
    assert not cycles, ("import cycles (modules that import each other, lazily or not): "
                        + "; ".join(" <-> ".join(c) for c in cycles))


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [["a", "b", "c"]]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_no_function_is_longer_than_a_screen():
    long = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{name}.{node.name} ({lines} lines)")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: " + ", ".join(long)


def test_no_module_is_too_long():
    long = [f"{name} ({n} lines)" for name, path in _modules().items()
            if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES]
    assert not long, f"modules over {MAX_MODULE_LINES} lines: " + ", ".join(long)


def test_few_modules_sit_loose_at_the_top():
    loose = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))
    assert len(loose) <= MAX_LOOSE_MODULES, loose


def test_no_class_built_at_import_and_no_private_tensorflow_api():
    found = {f"{path.relative_to(PACKAGE)}: {word}" for path in PACKAGE.rglob("*.py")
             for word in FORBIDDEN if word in path.read_text()}
    assert not found, sorted(found)

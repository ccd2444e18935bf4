"""The directions between our apps (STYLE "The base app depends on nothing above it"; issue 16).

Read from the source with `ast`, without importing anything:
- `core` imports none of our apps; `crm`, the base app, imports none of the apps above it
  (complaints, analytics, exchange, demo): they add to its pages through crm.extensions.
- No cycle among our modules' module-level imports.
- No import of our own modules inside a function (the usual way to dodge a cycle), except in
  AppConfig.ready(), where Django wants an app's models, signals and registrations imported.

Each failure names the file, the line and the import. KNOWN lists the cases still open in files
other helpers own; each entry says whose it is, and the test fails when one is fixed so that the
list only shrinks.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("core", "crm", "notifications", "complaints", "tasks", "analytics", "exchange", "demo", "config")
# An app may import the apps before it in this order, never one after it.
LAYERS = {
    "core": 0,
    "crm": 1,
    "notifications": 2,
    "complaints": 3,
    "tasks": 4,
    "analytics": 5,
    "exchange": 6,
    "demo": 7,
    "config": 8,
}
FORBIDDEN = {
    "core": {"crm", "complaints", "tasks", "analytics", "exchange", "demo"},
    "crm": {"complaints", "tasks", "analytics", "exchange", "demo"},
}

# Still open in other helpers' files (issue 16): (module, imported module) of an import inside a function.
KNOWN_FUNCTION_IMPORTS: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module (a submodule when `from package import submodule`)
    line: int
    in_function: str | None  # the enclosing function's name, None at module level
    in_ready: bool  # inside AppConfig.ready()

    def __str__(self):
        where = f" (in {self.in_function}())" if self.in_function else ""
        return f"{self.module.replace('.', '/')}.py:{self.line} imports {self.target}{where}"


def module_files() -> dict[str, Path]:
    files = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            files[name] = path
    return files


MODULES = module_files()


def _resolve(module: str, path: Path, level: int, name: str | None) -> str:
    if not level:
        return name or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _ours(target: str) -> bool:
    return target.split(".")[0] in APPS


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: str, path: Path, source: str | None = None) -> list[Import]:
    """Our modules that `module` (the file at `path`, or `source`) imports, with where it does."""
    found = []

    def visit(node, function: str | None, in_ready: bool):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue  # typing only: never runs
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name, in_ready or (path.name == "apps.py" and child.name == "ready"))
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(Import(module, alias.name, child.lineno, function, in_ready))
            elif isinstance(child, ast.ImportFrom):
                base = _resolve(module, path, child.level, child.module)
                for alias in child.names:
                    submodule = f"{base}.{alias.name}"
                    target = submodule if submodule in MODULES else base
                    found.append(Import(module, target, child.lineno, function, in_ready))
            visit(child, function, in_ready)

    source = path.read_text(encoding="utf-8") if source is None else source
    visit(ast.parse(source, str(path)), None, False)
    return [i for i in found if _ours(i.target)]


IMPORTS = [i for module, path in MODULES.items() for i in imports_of(module, path)]


def _app(module: str) -> str:
    return module.split(".")[0]


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_the_lower_apps_import_no_app_above_them(app):
    wrong = [str(i) for i in IMPORTS if _app(i.module) == app and _app(i.target) in FORBIDDEN[app]]
    assert not wrong, f"{app} imports an app above it:\n" + "\n".join(wrong)


def test_no_app_imports_one_above_it():
    """The full order core < crm < complaints < analytics < exchange < demo, at module level and inside functions."""
    wrong = [str(i) for i in IMPORTS if LAYERS[_app(i.target)] > LAYERS[_app(i.module)]]
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_no_import_inside_a_function_except_in_app_ready():
    found = {(i.module, i.target): i for i in IMPORTS if i.in_function and not i.in_ready}
    new = [str(i) for key, i in sorted(found.items()) if key not in KNOWN_FUNCTION_IMPORTS]
    assert not new, "imports inside functions (move them to the top; break the cycle instead):\n" + "\n".join(new)
    fixed = sorted(KNOWN_FUNCTION_IMPORTS - set(found))
    assert not fixed, f"fixed, remove from KNOWN_FUNCTION_IMPORTS: {fixed}"


def _packages(target: str) -> list[str]:
    """The modules importing `target` runs: its parent packages, then itself."""
    parts = target.split(".")
    return [".".join(parts[: n + 1]) for n in range(len(parts)) if ".".join(parts[: n + 1]) in MODULES]


def module_graph() -> dict[str, dict[str, int]]:
    """module -> {module it imports at module level: line}."""
    graph: dict[str, dict[str, int]] = {module: {} for module in MODULES}
    for i in IMPORTS:
        if i.in_function:
            continue
        for target in _packages(i.target):
            # A module inside a package runs only once its package has started: no edge back to it.
            if target != i.module and not i.module.startswith(target + "."):
                graph[i.module].setdefault(target, i.line)
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def connect(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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
            connect(node)
    return found


def test_no_import_cycle_at_module_level():
    graph = module_graph()
    described = []
    for component in cycles(graph):
        members = set(component)
        edges = [
            f"  {module.replace('.', '/')}.py:{line} imports {target}"
            for module in component
            for target, line in sorted(graph[module].items())
            if target in members
        ]
        described.append(" <-> ".join(component) + "\n" + "\n".join(edges))
    assert not described, "import cycles:\n" + "\n".join(described)


def test_the_checks_see_what_they_look_for():
    """The checker itself: it finds a function-level import, a forbidden import and a cycle."""
    source = "from analytics.models import Tier\n\ndef f():\n    from complaints import models\n"
    parsed = imports_of("crm.fake", ROOT / "crm" / "fake.py", source)
    assert [(i.target, i.line, i.in_function) for i in parsed] == [
        ("analytics.models", 1, None),
        ("complaints.models", 4, "f"),
    ]
    assert cycles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}) == [["a", "b", "c"]]
    assert "crm.extensions" in MODULES and "analytics.customer_figures" in MODULES

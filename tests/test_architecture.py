"""The floor plan of app/ (README "Architecture"), read from the code's own imports.

Packages sit on floors; a module imports only from its own floor or lower ones, and the import
graph has no circle. The top of app/ stays small and no module grows past 400 lines.
"""

import ast
import fnmatch
from pathlib import Path

import pytest

from app.config import ROOT

APP = ROOT / "app"
#: Lowest floor first: packages, and the modules of app/ between them (runtime and deps are what the
#: routers stand on; main and the command line are the roof). errors and config are under every floor.
FLOORS = ["rdf", "store", "build", "writes", "draft", "review", "sparql", "ld", "api", "web", "server", "runtime",
          "routers", "main"]
GROUND = {"app", "app.errors", "app.config"}
ROOF = {"app.main", "app.cli", "app.__main__"}
MAX_TOP_MODULES = 8
MAX_LINES = 400
#: A package past this is doing two jobs: split it.
MAX_PACKAGE_MODULES = 15
MAX_PACKAGE_LINES = 2500


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The app modules ``path`` imports (at any place in the file: lazy imports count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {f"{node.module}.{alias.name}" for alias in node.names} | {node.module}
    return {name for name in found if name == "app" or name.startswith("app.")}


MODULES = {module_name(p): p for p in sorted(APP.rglob("*.py"))}
GRAPH = {name: {m for m in imports_of(path) if m in MODULES and m != name} for name, path in MODULES.items()}


def floor(module: str) -> int:
    if module in GROUND:
        return -1
    if module in ROOF:
        return FLOORS.index("main")
    if module in ("app.runtime", "app.deps"):
        return FLOORS.index("runtime")
    return FLOORS.index(module.split(".")[1])


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_imports_nothing_from_a_higher_floor(module: str) -> None:
    upward = sorted(m for m in GRAPH[module] if floor(m) > floor(module))
    assert upward == [], f"{module} (floor {floor(module)}) imports from higher floors: {upward}"


def test_import_graph_has_no_circle() -> None:
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(GRAPH[module]):
            if state.get(target) == 1:
                cycle = path[path.index(target):] + [target]
                raise AssertionError("import circle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)


def test_top_of_app_holds_at_most_eight_modules() -> None:
    top = sorted(p.name for p in APP.glob("*.py"))
    assert len(top) <= MAX_TOP_MODULES, top


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_at_most_400_lines(module: str) -> None:
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module}: {lines} lines"


PACKAGES = sorted({module_name(p.parent / "__init__.py") for p in APP.rglob("*.py")})


@pytest.mark.parametrize("package", PACKAGES)
def test_package_holds_at_most_15_modules_and_2500_lines(package: str) -> None:
    """Counted per package (its own .py files, ``__init__`` included; a subpackage counts on its own)."""
    folder = ROOT.joinpath(*package.split("."))
    files = sorted(folder.glob("*.py"))
    lines = sum(len(f.read_text(encoding="utf-8").splitlines()) for f in files)
    assert len(files) <= MAX_PACKAGE_MODULES, f"{package}: {len(files)} modules"
    assert lines <= MAX_PACKAGE_LINES, f"{package}: {lines} lines"


def test_every_package_is_installed() -> None:
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {module_name(p.parent / "__init__.py") for p in APP.rglob("__init__.py")}
    assert {p for p in packages if not any(fnmatch.fnmatchcase(p, pattern) for pattern in include)} == set()

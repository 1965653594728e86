"""Which top-level package imports which: read from the source with `ast`, nothing imported.

Every `import x` / `from x import y` counts, wherever it is: at module level, inside a function,
under `if TYPE_CHECKING:`, in a `try`. `importlib.import_module("x")` with a literal name counts
too. Relative imports stay inside their own package and are skipped.

`forbidden_imports(root, rules)` lists imports a rule forbids; `package_cycles(root)` lists the
imports that close a cycle between top-level packages. Both answer with `Violation`s that name
the file and line, so a failing test says where to look.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

#: Directories never scanned (virtualenvs, caches).
SKIPPED_DIRS = frozenset({".venv", "venv", "__pycache__", ".git", "node_modules"})
#: `python -m package` entry points: executed, never imported, so they close no import cycle.
ENTRY_POINT = "__main__.py"


@dataclass(frozen=True, order=True)
class Import:
    path: Path  # relative to the scanned root
    line: int
    module: str  # absolute dotted name as written

    @property
    def package(self) -> str:
        """The top-level package the importing file belongs to."""
        return self.path.parts[0]

    @property
    def target(self) -> str:
        """The top-level name imported."""
        return self.module.split(".")[0]

    def violation(self, text: str) -> Violation:
        return Violation(self.path.as_posix(), self.line, text)


@dataclass(frozen=True, order=True)
class Violation:
    file: str  # relative to the scanned root, e.g. "payments/service.py"
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.text}"


@dataclass(frozen=True)
class Rule:
    """`package` (except files under `allowed_under`) must not import any of `forbidden`."""

    package: str
    forbidden: frozenset[str]
    allowed_under: tuple[str, ...] = ()
    skip_entry_points: bool = False

    def applies_to(self, imp: Import) -> bool:
        if imp.package != self.package:
            return False
        relative = imp.path.as_posix()
        if any(relative.startswith(prefix.rstrip("/") + "/") for prefix in self.allowed_under):
            return False
        return not (self.skip_entry_points and imp.path.name == ENTRY_POINT)


def top_level_packages(root: Path) -> list[str]:
    """Directories directly under `root` that are Python packages (hold an `__init__.py`)."""
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and p.name not in SKIPPED_DIRS and (p / "__init__.py").is_file()
    )


def _python_files(package_dir: Path) -> Iterator[Path]:
    for path in sorted(package_dir.rglob("*.py")):
        if not SKIPPED_DIRS.intersection(path.relative_to(package_dir).parts):
            yield path


def _import_module_name(node: ast.Call) -> str | None:
    """`importlib.import_module("x.y")` or `import_module("x.y")` with a literal name."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in {"import_module", "__import__"} or not node.args:
        return None
    first = node.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def imports_in(source: str) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) for every import in `source`, at any depth."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                yield node.lineno, node.module
        elif isinstance(node, ast.Call):
            name = _import_module_name(node)
            if name and not name.startswith("."):
                yield node.lineno, name


def scan(root: Path, packages: Iterable[str] | None = None) -> list[Import]:
    """Every import in every `.py` file of the given top-level packages (all by default)."""
    found: list[Import] = []
    for package in packages if packages is not None else top_level_packages(root):
        for path in _python_files(root / package):
            relative = path.relative_to(root)
            for line, module in imports_in(path.read_text(encoding="utf-8")):
                found.append(Import(relative, line, module))
    return sorted(found)


def forbidden_imports(root: Path, rules: Iterable[Rule]) -> list[Violation]:
    rules = list(rules)
    imports = scan(root, sorted({rule.package for rule in rules if (root / rule.package).is_dir()}))
    return sorted(
        imp.violation(f"{imp.package} must not import {imp.target} ({imp.module})")
        for imp in imports
        for rule in rules
        if rule.applies_to(imp) and imp.target in rule.forbidden
    )


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the groups of nodes that can all reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def package_cycles(root: Path, packages: Iterable[str] | None = None) -> list[Violation]:
    """Each import from one top-level package to another that lies on a cycle between them.

    `__main__.py` files are left out: they are run (`python -m bot`), never imported.
    """
    chosen = set(packages if packages is not None else top_level_packages(root))
    edges: dict[tuple[str, str], list[Import]] = defaultdict(list)
    for imp in scan(root, sorted(chosen)):
        if imp.path.name != ENTRY_POINT and imp.target in chosen and imp.target != imp.package:
            edges[(imp.package, imp.target)].append(imp)
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in edges:
        graph[source].add(target)
    violations: list[Violation] = []
    for group in _strongly_connected(graph):
        if len(group) < 2:
            continue
        cycle = " <-> ".join(sorted(group))
        for (source, target), found in sorted(edges.items()):
            if source in group and target in group:
                violations.extend(
                    imp.violation(f"{source} imports {imp.module}: cycle {cycle}") for imp in found
                )
    return sorted(violations)

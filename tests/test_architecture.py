"""Imports point one way, with no cycle between modules.

app -> bot, handoff, knowledge_base; bot -> knowledge_base; bench -> the product (never tests); the
product never imports bench or tests. Imports inside functions count too: a lazy import that closes
a loop is still a loop."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = {"app", "bot", "handoff", "knowledge_base"}
ALLOWED = {"app": {"bot", "handoff", "knowledge_base"}, "bot": {"knowledge_base"}, "knowledge_base": set(),
           "handoff": set(), "bench": PRODUCT, "widget": set()}
OURS = set(ALLOWED) | {"tests"}


def _modules() -> dict[str, Path]:
    found = {}
    for package in ALLOWED:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations/versions" in path.as_posix():  # alembic revisions are loaded by file, not imported
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imported(path: Path, module: str) -> list[str]:
    """Every dotted name the file imports, relative imports resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            names += [base] + [f"{base}.{a.name}" for a in node.names]
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_one_way(package: str) -> None:
    bad = []
    for module, path in _modules().items():
        if module.split(".")[0] != package:
            continue
        for name in _imported(path, module):
            top = name.split(".")[0]
            if top in OURS and top != package and top not in ALLOWED[package]:
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert sorted(set(bad)) == []


def test_no_import_cycles() -> None:
    modules = _modules()

    def owner(name: str) -> str | None:  # the module a dotted name lives in
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for name in _imported(path, module):
            target = owner(name)
            # a package's own __init__ is not an edge back from its modules
            if target and target != module and not module.startswith(target + "."):
                graph[module].add(target)
    # Tarjan's strongly connected components, iteratively
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    assert cycles == []


def test_route_modules_do_not_import_each_other() -> None:
    """Each router under app/routes/ is optional and stands alone (app/main.py's OPTIONAL_ROUTES):
    what two routers share lives in a module of its own, not in one of them."""
    bad = []
    for module, path in _modules().items():
        if module.startswith("app.routes.") and module != "app.routes":
            bad += [f"{module} imports {name}" for name in _imported(path, module)
                    if name.startswith("app.routes.") and not name.startswith(module)]
    assert bad == []

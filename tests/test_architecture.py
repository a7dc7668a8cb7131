"""Imports point one way: app -> bot, handoff, knowledge_base; bot -> knowledge_base; the rest use nothing of ours."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {"app": {"bot", "handoff", "knowledge_base"}, "bot": {"knowledge_base"}, "knowledge_base": set(), "handoff": set()}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_one_way(package: str) -> None:
    ours = set(ALLOWED)
    bad = []
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
            for name in names:
                top = name.split(".")[0]
                if top in ours and top != package and top not in ALLOWED[package]:
                    bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert bad == []

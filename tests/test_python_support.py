"""The oldest supported Python (3.9, README) can import the project's modules: an annotation
evaluated when its function is defined may not use `X | Y` (PEP 604, a TypeError before
3.10) unless the module defers annotations (`from __future__ import annotations`). Checked
by reading the source, so it runs on any Python; the Python 3.9 CI job and `./ipcc userspace
debian:11` run a real 3.9."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("fixtures", "reports", "tools", "tests", "suites")


def _defers_annotations(tree: ast.Module) -> bool:
    return any(isinstance(n, ast.ImportFrom) and n.module == "__future__"
               and any(a.name == "annotations" for a in n.names) for n in tree.body)


def _has_union(node) -> bool:
    return node is not None and any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.BitOr)
                                    for n in ast.walk(node))


def runtime_unions(source: str) -> list[int]:
    """Lines whose annotations Python evaluates at definition time and that use `|`."""
    tree = ast.parse(source)
    if _defers_annotations(tree):
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            anns = [node.returns, *(x.annotation for x in a.posonlyargs + a.args + a.kwonlyargs),
                    a.vararg.annotation if a.vararg else None, a.kwarg.annotation if a.kwarg else None]
            if any(_has_union(x) for x in anns):
                found.append(node.lineno)
        elif isinstance(node, (ast.Module, ast.ClassDef)):
            found += [s.lineno for s in node.body
                      if isinstance(s, ast.AnnAssign) and _has_union(s.annotation)]
    return sorted(found)


def test_the_check_finds_a_runtime_union():
    """A def with `-> str | None` and no deferred annotations is found; with them it is not."""
    assert runtime_unions("def f() -> str | None:\n    pass\n") == [1]
    assert runtime_unions("from __future__ import annotations\ndef f() -> str | None:\n    pass\n") == []
    assert runtime_unions("def f():\n    x: int | None = 1\n") == []   # locals are not evaluated


FILES = sorted(p for d in CHECKED for p in (ROOT / d).rglob("*.py")
               if "node_modules" not in p.parts and (ROOT / "reports" / "out") not in p.parents)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_on_python_3_9(path):
    """No annotation of this module breaks its import on Python 3.9."""
    lines = runtime_unions(path.read_text())
    assert not lines, (f"{path.relative_to(ROOT)}: lines {lines} use X | Y in annotations evaluated "
                       "at import; add `from __future__ import annotations` (Python 3.9 is supported)")

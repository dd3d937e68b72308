"""Evaluation code stays apart: no runtime module imports ``hiprot.evaluation``; only the front
ends (``hiprot.cli``), scripts and tests may."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "hiprot"
ALLOWED = ("evaluation", "cli")


def imported_modules(source: str, package: str) -> set[str]:
    """Every module the code ``source`` of a module in ``package`` imports, as absolute names."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def evaluation_imports(path: Path) -> list[str]:
    package = ".".join(path.relative_to(SRC.parent).parent.parts)
    return sorted(m for m in imported_modules(path.read_text(), package) if "evaluation" in m)


def test_no_runtime_module_imports_the_evaluation_package():
    runtime = [p for p in SRC.rglob("*.py") if p.relative_to(SRC).parts[0] not in ALLOWED]
    assert len(runtime) > 50
    offenders = {str(p.relative_to(SRC)): evaluation_imports(p) for p in runtime}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_check_sees_absolute_and_relative_imports_of_it():
    assert "hiprot.evaluation.broad" in imported_modules(
        "from hiprot.evaluation import broad", "hiprot.fusion"
    )
    assert "hiprot.evaluation" in imported_modules("import hiprot.evaluation", "hiprot.fusion")
    assert "hiprot.evaluation.angles" in imported_modules(
        "from ..evaluation import angles", "hiprot.fusion"
    )

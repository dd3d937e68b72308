"""Imports point down the layers: a test that parses every module under src/hiprot.

Layers, lowest first (a module may import its own layer and those below):

0. foundation — errors, units, geometry, quat, columns, chip catalogue, config,
   samples, anatomy (ISB frame definitions), files (safe reads, atomic private
   writes), state (the device's state directory), saturation (samples at full scale),
   live_angles (what the live pipeline emits), activities (what the person did when), the
   package itself (its version);
1. measurement and algorithms — sensors, sim, fusion, calibration, kinematics,
   resample;
2. analysis — gait, exercise and rotation-test metrics, reports;
3. storage and publishing — recording, csvio, mqtt;
4. pipeline — processing, pipeline (and deferred_pipeline, which builds it on a thread),
   run_loop, sinks, sources, service, export;
5. front ends — cli, dashboard, ``python -m hiprot``; and evaluation (scoring
   against truth, dataset loaders) beside them.

Two more rules: only evaluation itself and the front ends import evaluation (no
runtime package does), and the simulator is imported only by itself, the
simulated rig's source (``sources``), the front ends and evaluation — never by
processing code. Today's exceptions are listed in ``ALLOWED`` with their reason;
later work removes them, and the test fails when a listed import is gone, so the
list only shrinks. Imports under ``if TYPE_CHECKING:`` and inside functions
count like any other: they are dependencies all the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundation", (
        "hiprot", "hiprot.errors", "hiprot.units", "hiprot.geometry", "hiprot.quat",
        "hiprot.columns", "hiprot.chip_catalogue", "hiprot.config", "hiprot.samples",
        "hiprot.anatomy", "hiprot.files", "hiprot.state", "hiprot.saturation", "hiprot.live_angles",
        "hiprot.activities",
    )),
    ("measurement and algorithms", (
        "hiprot.sensors", "hiprot.sim", "hiprot.fusion", "hiprot.calibration",
        "hiprot.kinematics", "hiprot.resample",
    )),
    ("analysis", ("hiprot.analysis",)),
    ("storage and publishing", ("hiprot.recording", "hiprot.csvio", "hiprot.mqtt")),
    ("pipeline", (
        "hiprot.processing", "hiprot.pipeline", "hiprot.run_loop", "hiprot.sinks", "hiprot.sources",
        "hiprot.service", "hiprot.export", "hiprot.deferred_pipeline",
    )),
    ("front ends", ("hiprot.cli", "hiprot.dashboard", "hiprot.__main__", "hiprot.evaluation")),
)  # fmt: skip
FRONT_ENDS = ("hiprot.cli", "hiprot.dashboard", "hiprot.__main__")
EVALUATION = "hiprot.evaluation"
SIMULATOR = "hiprot.sim"
SIMULATOR_USERS = ("hiprot.sim", "hiprot.sources", *FRONT_ENDS, EVALUATION)

# (importer, imported): today's imports against the rules, each with why it is still there.
ALLOWED: dict[tuple[str, str], str] = {
    ("hiprot.analysis.batch", "hiprot.csvio"): "batch analysis writes angle tables; belongs to the pipeline",
    ("hiprot.analysis.batch", "hiprot.processing"): "batch analysis runs processing; belongs to the pipeline",
    ("hiprot.analysis.batch", "hiprot.recording"): "batch analysis loads sessions; belongs to the pipeline",
    ("hiprot.analysis.report", "hiprot.processing"): "the report reads ProcessedSession instead of its own inputs",
    ("hiprot.analysis.session", "hiprot.processing"): "analysis takes a ProcessedSession instead of a typed angle table",
    ("hiprot.sim.session", "hiprot.csvio"): "the simulator writes its own session directory",
}  # fmt: skip


def layer_of(module: str) -> int | None:
    """Index in ``LAYERS`` of the longest prefix naming ``module`` (the package ``hiprot``
    itself only by its exact name), None when no layer names it."""
    best, index = -1, None
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            names_it = module == prefix or (prefix != "hiprot" and module.startswith(prefix + "."))
            if names_it and len(prefix) > best:
                best, index = len(prefix), i
    return index


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(tree: ast.Module, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The hiprot modules ``tree`` imports (``from P import name``: ``P.name`` when a module)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "hiprot"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - node.level + 1]
                parent = ".".join(base + ([node.module] if node.module else []))
            else:
                parent = node.module or ""
            if parent.split(".")[0] != "hiprot":
                continue
            for alias in node.names:
                child = f"{parent}.{alias.name}"
                found.add(child if child in known else parent)
    found.discard(module)
    return found


def import_map(root: Path) -> dict[str, set[str]]:
    """Every module under ``root``/hiprot and the hiprot modules it imports."""
    files = {module_name(p, root): p for p in sorted((root / "hiprot").rglob("*.py"))}
    known = set(files)
    return {
        name: imports_of(ast.parse(path.read_text()), name, path.name == "__init__.py", known)
        for name, path in files.items()
    }


def unlayered(imports: dict[str, set[str]]) -> set[str]:
    """Modules (importing or imported) that no layer names."""
    return {n for m, i in imports.items() for n in {m, *i} if layer_of(n) is None}


def violations(imports: dict[str, set[str]]) -> dict[tuple[str, str], str]:
    """Each (importer, imported) pair against the rules, and which rule."""
    out = {}
    for importer, imported_set in imports.items():
        for imported in imported_set:
            low, high = layer_of(importer), layer_of(imported)
            if low is None or high is None:
                continue  # named by test_every_module_has_a_layer
            if _within(imported, (EVALUATION,)) and not _within(
                importer, (EVALUATION, *FRONT_ENDS)
            ):
                out[importer, imported] = "a runtime package imports evaluation"
            elif high > low:
                out[importer, imported] = f"{LAYERS[low][0]} imports {LAYERS[high][0]}"
            elif _within(imported, (SIMULATOR,)) and not _within(importer, SIMULATOR_USERS):
                out[importer, imported] = "processing code imports the simulator"
    return out


def test_every_module_has_a_layer():
    assert not unlayered(import_map(SRC)), f"add to LAYERS in {Path(__file__).name}"


def test_imports_point_down_the_layers():
    found = violations(import_map(SRC))
    new = {pair: why for pair, why in found.items() if pair not in ALLOWED}
    assert not new, "imports against the layers (docs/architecture.md):\n" + "\n".join(
        f"  {a} -> {b}: {why}" for (a, b), why in sorted(new.items())
    )


def test_the_allowed_exceptions_still_exist():
    """An exception that is fixed leaves the list, so the list only shrinks."""
    gone = sorted(set(ALLOWED) - set(violations(import_map(SRC))))
    assert not gone, "remove from ALLOWED (fixed): " + ", ".join(f"{a} -> {b}" for a, b in gone)


def _fake_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_checker_finds_upward_simulator_and_evaluation_imports(tmp_path):
    _fake_tree(
        tmp_path,
        {
            "hiprot/__init__.py": "",
            "hiprot/quat.py": "import numpy\n",
            "hiprot/kinematics/__init__.py": "",
            "hiprot/kinematics/angles.py": "from hiprot import quat\nfrom hiprot.analysis import gait\n",
            "hiprot/analysis/__init__.py": "",
            "hiprot/analysis/gait.py": "from .. import quat\nfrom hiprot.kinematics.angles import x\n",
            "hiprot/fusion/__init__.py": "def f():\n    from hiprot.sim import truth\n",
            "hiprot/sim/__init__.py": "",
            "hiprot/sim/truth.py": "",
            "hiprot/evaluation/__init__.py": "from hiprot.sim import truth\n",
            "hiprot/cli/__init__.py": "from hiprot.evaluation import score\n",
            "hiprot/mqtt/__init__.py": "import hiprot.evaluation\nfrom hiprot.cli import main\n",
        },
    )
    imports = import_map(tmp_path)
    assert imports["hiprot.analysis.gait"] == {"hiprot.quat", "hiprot.kinematics.angles"}
    assert violations(imports) == {
        ("hiprot.kinematics.angles", "hiprot.analysis.gait"): (
            "measurement and algorithms imports analysis"
        ),
        ("hiprot.fusion", "hiprot.sim.truth"): "processing code imports the simulator",
        ("hiprot.mqtt", "hiprot.evaluation"): "a runtime package imports evaluation",
        ("hiprot.mqtt", "hiprot.cli"): "storage and publishing imports front ends",
    }


def test_a_module_outside_every_layer_is_named(tmp_path):
    _fake_tree(
        tmp_path,
        {
            "hiprot/__init__.py": "",
            "hiprot/gadgets.py": "from hiprot import quat\nimport hiprot.widgets\n",
        },
    )
    assert unlayered(import_map(tmp_path)) == {"hiprot.gadgets", "hiprot.widgets"}

"""The simulator is a frozen ruler: no processing code reads its parameters.

Accuracy figures are only fair if the product cannot see the simulator's realism
magnitudes, chip error models or truth: a processing stage that imported them could
be tuned to the ruler instead of to people. Only the simulator itself, the simulated
rig (``sources.py``), the command-line front ends and the evaluation code that scores
against the truth may import ``hiprot.sim`` (tests and scripts are outside ``src``).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "hiprot"
ALLOWED = (
    "sim/",
    "sources.py",
    "cli/",
    "evaluation/",
)


def sim_imports(source: str) -> list[str]:
    """Every way ``source`` imports ``hiprot.sim`` (statically or by a module-name string)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("hiprot.sim")]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("hiprot.sim"):
                found.append(node.module)
            elif node.module == "hiprot" and any(a.name == "sim" for a in node.names):
                found.append("hiprot.sim")
        elif isinstance(node, ast.Call):
            found += [
                arg.value
                for arg in node.args
                if isinstance(arg, ast.Constant)
                and isinstance(arg.value, str)
                and arg.value.startswith("hiprot.sim")
            ]
    return found


def test_the_checker_finds_every_form_of_import():
    source = (
        "import hiprot.sim.chips\n"
        "from hiprot.sim.realism import STA_ATTENUATION\n"
        "from hiprot import sim\n"
        "import importlib\n"
        "importlib.import_module('hiprot.sim.mounting')\n"
        "from hiprot import simulation_free, quat\n"
    )
    assert sim_imports(source) == [
        "hiprot.sim.chips",
        "hiprot.sim.realism",
        "hiprot.sim",
        "hiprot.sim.mounting",
    ]


def test_no_processing_code_imports_the_simulator():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if relative.startswith(ALLOWED):
            continue
        offenders += [f"{relative}: {name}" for name in sim_imports(path.read_text())]
    assert not offenders, "processing code must not read the simulator: " + "; ".join(offenders)

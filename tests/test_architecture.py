"""The import direction of DESIGN.md, checked by walking every module with `ast`.

A module may import nerkit modules of a lower layer, or modules of its own unit
(the same top-level module or package); anything else is a layering violation.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "nerkit"

# unit -> layer; a unit is a top-level module or subpackage of nerkit
LAYERS = {
    "errors": 0, "types": 0, "checksums": 0,
    "schemes": 1, "vocab": 1,
    "crf": 2, "encoders": 2, "data": 2,
    "models": 3, "evaluation": 3,
    "artifacts": 4,
    "training": 5, "predict": 5,
    "api": 6, "extract": 6, "export": 6, "ensemble": 6,
    "server": 7, "annotate": 7, "cli": 8, "__main__": 9,
}  # fmt: skip
WEB_STACK = {"typer", "fastapi", "uvicorn", "starlette"}


def _unit(module_path: Path) -> str:
    parts = module_path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _modules() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE]


def test_every_unit_has_a_layer():
    units = {_unit(p) for p in _modules()}
    assert units <= set(LAYERS), f"add {sorted(units - set(LAYERS))} to LAYERS and DESIGN.md"


def test_imports_only_point_to_lower_layers():
    problems = []
    for path in _modules():
        unit = _unit(path)
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] != "nerkit" or len(parts) < 2 or parts[1] not in LAYERS:
                continue
            target = parts[1]
            if target != unit and LAYERS[target] >= LAYERS[unit]:
                problems.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not problems, "imports against the layer order:\n" + "\n".join(problems)


def test_crf_imports_only_torch_numpy_and_itself():
    for path in (PACKAGE / "crf").rglob("*.py"):
        for name in _imports(path):
            root = name.split(".")[0]
            allowed = {"torch", "numpy", "nerkit", "__future__", "math", "typing"}
            assert root in allowed, (path, name)
            if root == "nerkit":
                assert name.startswith("nerkit.crf"), (path, name)


def test_only_front_ends_import_the_web_stack():
    for path in _modules():
        if _unit(path) in {"cli", "server", "annotate"}:
            continue
        for name in _imports(path):
            assert name.split(".")[0] not in WEB_STACK, f"{path} imports {name}"


def test_importing_nerkit_loads_nothing_heavy():
    heavy = "{'torch', 'transformers', 'typer', 'fastapi'}"
    code = f"import sys, nerkit; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

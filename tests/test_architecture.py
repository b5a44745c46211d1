"""The import direction of DESIGN.md, checked by walking every module with `ast`.

A module may import nerkit modules of a lower layer, or modules of its own unit
(the same top-level module or package); anything else is a layering violation.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "nerkit"

# unit -> layer; a unit is a top-level module or subpackage of nerkit
LAYERS = {
    "errors": 0, "types": 0, "checksums": 0, "config": 0, "defaults": 0,
    "schemes": 1, "vocab": 1, "lexicon": 1,
    "crf": 2, "encoders": 2, "data": 2, "runtime": 2,
    "evaluation": 3,
    "tasks": 4,
    "artifacts": 5,
    "training": 6, "predict": 6, "pipeline": 6,
    "api": 7, "extract": 7, "export": 7,
    "server": 8, "annotate": 8,
    "cli": 9,
    "__main__": 10,
}  # fmt: skip
# imports allowed within one layer, on top of the lower layers
SIDEWAYS = {
    "config": {"errors"}, "lexicon": {"vocab"}, "predict": {"pipeline"}, "encoders": {"runtime"},
}  # fmt: skip
# the torch-free low floor: what each of these units may import of nerkit
TORCH_FREE = {
    "lexicon": {"errors", "types", "vocab", "checksums"},
    "config": {"errors"},
    "defaults": set(),
}
DATA_FOLDERS = {"resources"}  # shipped files (the default model), no code
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
    for folder in DATA_FOLDERS:  # a data folder holds no module, so it needs no layer
        assert (PACKAGE / folder).is_dir() and not list((PACKAGE / folder).rglob("*.py"))


def test_imports_only_point_to_lower_layers():
    problems = []
    for path in _modules():
        unit = _unit(path)
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] != "nerkit" or len(parts) < 2 or parts[1] not in LAYERS:
                continue
            target = parts[1]
            if target in SIDEWAYS.get(unit, ()):
                continue
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


def test_torch_free_units_import_only_their_allowed_nerkit_units_and_no_torch():
    for unit, allowed in TORCH_FREE.items():
        paths = [PACKAGE / f"{unit}.py"] if (PACKAGE / f"{unit}.py").is_file() else []
        paths += list((PACKAGE / unit).rglob("*.py")) if (PACKAGE / unit).is_dir() else []
        for path in paths:
            for name in _imports(path):
                parts = name.split(".")
                assert parts[0] not in {"torch", "transformers"}, (path, name)
                if parts[0] == "nerkit" and len(parts) > 1 and parts[1] in LAYERS:
                    assert parts[1] in allowed | {unit}, (path, name)


@pytest.mark.parametrize("module", ["nerkit", "nerkit.config", "nerkit.tasks"])
def test_importing_nerkit_its_config_or_the_task_registry_loads_nothing_heavy(module):
    heavy = "{'torch', 'transformers', 'typer', 'fastapi'}"
    code = f"import sys, {module}; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_reading_a_config_of_every_task_loads_no_torch():
    heavy = "{'torch', 'transformers'}"
    code = (
        "import sys; from nerkit.tasks import parse_config; "
        "parse_config({'data': {'train': 'x'}}); "
        "parse_config({'task': 'classification', 'data': {'train': 'x'}}); "
        f"print(sorted({heavy} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

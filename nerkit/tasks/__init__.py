"""The tasks nerkit trains and runs, one package each behind one protocol (`tasks.base`).

    tagging         entity spans from per-token tags (BIO/BIOES/... with a CRF or softmax)
    classification  labels of whole texts (single- or multi-label) from pooled token states
    relations       relations (and attributes) between given entities, from marked texts
    joint           entities and the relations between them from one encoder

A run config's `task` field picks the package (default: tagging, so configs and model
directories written before tasks existed keep working). `load_config` reads and
validates a config of any task; `get_task` returns the task object that builds, trains,
evaluates and loads its models. Importing this package loads no torch: the config classes
are torch-free and the task modules are imported when asked for.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nerkit.config import RunConfig, apply_overrides, read_raw_config, validate
from nerkit.errors import ConfigError

if TYPE_CHECKING:
    from nerkit.tasks.base import Task

__all__ = ["TASKS", "config_class", "get_task", "load_config", "parse_config"]

# task name -> (module of its config class, class name, module of its Task object)
TASKS: dict[str, tuple[str, str, str]] = {
    "tagging": ("nerkit.tasks.tagging.config", "TaggingConfig", "nerkit.tasks.tagging.task"),
    "classification": (
        "nerkit.tasks.classification.config",
        "ClassificationConfig",
        "nerkit.tasks.classification.task",
    ),
    "relations": (
        "nerkit.tasks.relations.config",
        "RelationsConfig",
        "nerkit.tasks.relations.task",
    ),
    "joint": ("nerkit.tasks.joint.config", "JointConfig", "nerkit.tasks.joint.task"),
}


def _check(name: Any) -> str:
    if name not in TASKS:
        raise ConfigError(
            f"task: expected one of {', '.join(TASKS)}, got {name!r} "
            "(leave it out for a tagging run)"
        )
    return str(name)


def config_class(task: str) -> type[RunConfig]:
    """Return the run config class of a task."""
    module, name, _ = TASKS[_check(task)]
    return getattr(import_module(module), name)  # type: ignore[no-any-return]


def get_task(task: str) -> Task:
    """Return the `Task` object of a task name (imports torch)."""
    return import_module(TASKS[_check(task)][2]).TASK  # type: ignore[no-any-return]


def parse_config(raw: dict[str, Any], source: str = "config") -> Any:
    """Validate a plain dict into its task's run config; raise ConfigError naming bad keys."""
    return validate(config_class(raw.get("task", "tagging")), raw, source)


def load_config(
    source: Path | str | RunConfig | dict[str, Any], overrides: list[str] | tuple[str, ...] = ()
) -> Any:
    """Return the validated config from a file, a dict or a config, with overrides applied."""
    if isinstance(source, RunConfig):
        if not overrides:
            return source
        raw, name = source.model_dump(mode="json"), "config"
    elif isinstance(source, dict):
        raw, name = source, "config"
    else:
        raw, name = read_raw_config(Path(source)), str(source)
    return parse_config(apply_overrides(raw, overrides), name)

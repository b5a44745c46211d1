"""Pipeline directories: an NER model and relation or attribute models saved as one directory.

    pipeline.json   {"format": "nerkit-pipeline/1", "members": {"ner": "ner",
                     "relations": "relations", ...}, "sha256": {member: sha256 of its
                     metadata.json}, "schema": a Schema dict or null, versions, created}
    ner/            a tagging model directory (copied)
    relations/      a relation model directory (`task: relations`, `targets: relations`)
    values/         a tagging model whose spans are candidate attribute values
    attributes/     an attribute model (`task: relations`, `targets: attributes`)

`ner` is always there; `relations`, or `values` with `attributes`, or all four (`MEMBERS`,
`check_members`). Directories of the first format version held exactly ner and relations,
so they still load.

The members are copies (without training state: checkpoint and log), so the directory is
self-contained and can be moved whole. Each member's metadata.json records the sha256 of its
own files (`nerkit.artifacts`); pipeline.json records the sha256 of each metadata.json, so
a member swapped or edited after the build is an `ArtifactError` when the pipeline loads.
`schema` is the schema given at build time (it prunes candidate pairs and filters relation
labels, see `nerkit.pipeline.predictor`); null means the relation model's saved schema.
"""

from __future__ import annotations

import datetime as _dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerkit.artifacts import is_ensemble_dir, load_model, versions, write_json
from nerkit.checksums import file_sha256
from nerkit.data.schema import Schema
from nerkit.errors import ArtifactError, ConfigError, NerkitError
from nerkit.schemes import split_tag
from nerkit.tasks.base import LoadedModel

__all__ = [
    "MEMBERS",
    "PIPELINE_FILE",
    "Manifest",
    "build_pipeline",
    "check_members",
    "is_pipeline_dir",
    "read_manifest",
]

PIPELINE_FILE = "pipeline.json"
FORMAT = "nerkit-pipeline/1"
# member -> (the task it must be, the model.targets of a relation-task member, its option)
MEMBERS = {
    "ner": ("tagging", None, "--ner"),
    "relations": ("relations", "relations", "--relations"),
    "values": ("tagging", None, "--values"),
    "attributes": ("relations", "attributes", "--attributes"),
}
_TRAINING_STATE = ("checkpoint.pt", "checkpoint.pt.tmp", "train_log.jsonl")


@dataclass(frozen=True)
class Manifest:
    """What pipeline.json says: the member directories and the schema given at build time."""

    path: Path
    members: dict[str, Path]
    schema: Schema | None
    info: dict[str, Any]


def is_pipeline_dir(path: Path | str) -> bool:
    """Return True when `path` is a directory written by `build_pipeline`."""
    return (Path(path) / PIPELINE_FILE).is_file()


def check_members(names: set[str] | list[str]) -> None:
    """Raise ConfigError unless `names` is ner + relations, ner + values + attributes, or all."""
    names = set(names)
    unknown = sorted(names - set(MEMBERS))
    if unknown:
        raise ConfigError(f"unknown pipeline members {unknown} (known: {', '.join(MEMBERS)})")
    if "ner" not in names:
        raise ConfigError("a pipeline needs an NER model (--ner)")
    if ("values" in names) != ("attributes" in names):
        raise ConfigError(
            "attributes need both a value tagger (--values) and an attribute model "
            "(--attributes): the tagger proposes the values, the model names them"
        )
    if not names & {"relations", "attributes"}:
        raise ConfigError("a pipeline needs a relation model (--relations), an attribute "
                          "model (--attributes with --values), or both")  # fmt: skip


def _load_member(name: str, path: Path) -> LoadedModel:
    """Return the loaded member; raise ArtifactError when it is not a model of its task."""
    if is_pipeline_dir(path) or is_ensemble_dir(path):
        kind = "a pipeline" if is_pipeline_dir(path) else "an ensemble"
        raise ArtifactError(f"the {name} member {path} is {kind}: give a model directory")
    loaded = load_model(path)
    task, targets, option = MEMBERS[name]
    if loaded.config.task != task:
        raise ArtifactError(
            f"the {name} member {path} is a {loaded.config.task} model, expected a {task} "
            f"model ({option} takes a {'tagging' if task == 'tagging' else 'relation-task'} "
            "model directory)"
        )
    if targets is not None and loaded.config.model.targets != targets:
        raise ArtifactError(
            f"{path} is a model with model.targets: {loaded.config.model.targets}; the "
            f"{name} member must have model.targets: {targets}"
        )
    return loaded


def check_schema(schema: Schema, ner: LoadedModel, relations: LoadedModel) -> None:
    """Raise ConfigError when a build-time schema names types or labels the models lack."""
    labels = {label for tag in ner.model.output_labels if (label := split_tag(tag)[1])}
    types = {t for r in schema.relations for pair in r.pairs for t in pair}
    unknown = sorted(types - labels)
    if unknown:
        raise ConfigError(
            f"the schema's entity types {unknown} are not labels of the NER model "
            f"({', '.join(sorted(labels))}): the pipeline schema is written in NER types"
        )
    known = {r["name"] for r in relations.metadata["schema"]["relations"]}
    missing = sorted(set(schema.relation_labels) - known)
    if missing:
        raise ConfigError(
            f"the schema's relations {missing} are not predicted by the relation model "
            f"({', '.join(sorted(known))})"
        )


def build_pipeline(
    output: Path | str,
    ner: Path | str,
    relations: Path | str | None = None,
    schema: Schema | None = None,
    overwrite: bool = False,
    *,
    values: Path | str | None = None,
    attributes: Path | str | None = None,
) -> Path:
    """Write a pipeline directory of copies of the member models; return its path.

    Members: `ner`, and `relations`, or `values` with `attributes`, or all four. Every member
    is loaded first (its checksums checked, its task and the schema's types and labels
    against it), so a bad member fails now, not at the first request. `schema` prunes the
    relation pairs (it needs `relations`). An `output` that exists and is not empty is
    refused unless `overwrite`.
    """
    given = {"ner": ner, "relations": relations, "values": values, "attributes": attributes}
    output = Path(output)
    sources = {name: Path(path) for name, path in given.items() if path is not None}
    check_members(sources)
    loaded = {name: _load_member(name, path) for name, path in sources.items()}
    for name in sources.keys() & {"relations", "attributes"}:
        if "schema" not in loaded[name].metadata:
            raise ArtifactError(f"{sources[name]}/metadata.json has no schema (re-train)")
    if schema is not None:
        if "relations" not in loaded:
            raise ConfigError("a pipeline schema prunes relation pairs: it needs --relations")
        check_schema(schema, loaded["ner"], loaded["relations"])
    if output.exists() and (not output.is_dir() or any(output.iterdir())) and not overwrite:
        raise NerkitError(
            f"{output} exists and is not empty (choose another --output, or --overwrite)"
        )
    staging = output.with_name(output.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        for name, source in sources.items():
            shutil.copytree(source, staging / name, ignore=shutil.ignore_patterns(*_TRAINING_STATE))
        manifest = {
            "format": FORMAT,
            "members": {name: name for name in sources},
            "sha256": {name: file_sha256(staging / name / "metadata.json") for name in sources},
            "schema": schema.to_dict() if schema is not None else None,
            **versions(),
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        write_json(staging / PIPELINE_FILE, manifest)
        if output.exists():
            shutil.rmtree(output) if output.is_dir() else output.unlink()
        staging.rename(output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return output


def read_manifest(directory: Path | str) -> Manifest:
    """Return the checked manifest of a pipeline directory; raise ArtifactError if it is bad."""
    directory = Path(directory)
    path = directory / PIPELINE_FILE
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ArtifactError(f"{path} cannot be read: {error} (build the pipeline again)") from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        found = info.get("format") if isinstance(info, dict) else info
        raise ArtifactError(
            f"{path}: format {found!r} is not supported, expected {FORMAT!r} (build the "
            "pipeline again with 'nerkit pipeline build', or use the nerkit that wrote it)"
        )
    members = info.get("members")
    try:
        check_members(members if isinstance(members, dict) else [])
    except ConfigError as error:
        raise ArtifactError(f"{path}: members {members!r}: {error}") from None
    paths = {name: directory / str(members[name]) for name in MEMBERS if name in members}
    for name, member in paths.items():
        metadata = member / "metadata.json"
        if not metadata.is_file():
            raise ArtifactError(f"{metadata} is missing (copy the whole pipeline directory)")
        if file_sha256(metadata) != (info.get("sha256") or {}).get(name):
            raise ArtifactError(
                f"{metadata} has changed since the pipeline was built (its sha256 differs from "
                f"{PIPELINE_FILE}'s): build the pipeline again"
            )
    try:
        schema = Schema.from_dict(info["schema"]) if info.get("schema") is not None else None
    except ConfigError as error:
        raise ArtifactError(f"{path}: schema: {error}") from None
    return Manifest(directory, paths, schema, info)

"""Pipeline directories: an NER model and a relation model saved as one directory.

    pipeline.json   {"format": "nerkit-pipeline/1", "members": {"ner": "ner",
                     "relations": "relations"}, "sha256": {member: sha256 of its
                     metadata.json}, "schema": a Schema dict or null, versions, created}
    ner/            a tagging model directory (copied)
    relations/      a relation model directory (`task: relations`, `targets: relations`)

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

__all__ = ["PIPELINE_FILE", "Manifest", "build_pipeline", "is_pipeline_dir", "read_manifest"]

PIPELINE_FILE = "pipeline.json"
FORMAT = "nerkit-pipeline/1"
MEMBERS = {"ner": "tagging", "relations": "relations"}  # member -> the task it must be
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


def _load_member(name: str, path: Path) -> LoadedModel:
    """Return the loaded member; raise ArtifactError when it is not a model of its task."""
    if is_pipeline_dir(path) or is_ensemble_dir(path):
        kind = "a pipeline" if is_pipeline_dir(path) else "an ensemble"
        raise ArtifactError(f"the {name} member {path} is {kind}: give a model directory")
    loaded = load_model(path)
    task = loaded.config.task
    if task != MEMBERS[name]:
        raise ArtifactError(
            f"the {name} member {path} is a {task} model, expected a {MEMBERS[name]} model "
            f"(--ner takes a tagging model, --relations a relation model)"
        )
    if name == "relations" and loaded.config.model.targets != "relations":
        raise ArtifactError(
            f"{path} is an attribute model (model.targets: attributes); the relations member "
            "must classify relations (model.targets: relations)"
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
    relations: Path | str,
    schema: Schema | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a pipeline directory of copies of `ner` and `relations`; return its path.

    Both members are loaded first (their checksums checked, their tasks and the schema's
    types and labels against them), so a bad member fails now, not at the first request.
    An `output` that exists and is not empty is refused unless `overwrite`.
    """
    output, sources = Path(output), {"ner": Path(ner), "relations": Path(relations)}
    loaded = {name: _load_member(name, path) for name, path in sources.items()}
    if "schema" not in loaded["relations"].metadata:
        raise ArtifactError(f"{sources['relations']}/metadata.json has no schema (re-train)")
    if schema is not None:
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
    if not isinstance(members, dict) or set(members) != set(MEMBERS):
        raise ArtifactError(f"{path}: expected the members {sorted(MEMBERS)}, found {members!r}")
    paths = {name: directory / str(members[name]) for name in MEMBERS}
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

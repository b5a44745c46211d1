"""Model directories of every task, and ensemble directories: save, load, check.

A model directory holds everything needed to rebuild a model of any task, nothing else:
    config.json          the resolved run config (task, data/model/train sections)
    labels.json          what the head outputs, in id order: tags (tagging), classes
                         (classification)
    vocab.json           the vocabularies (`Vocabs.to_dict`)
    weights.safetensors  the state dict
    metadata.json        format version, task, nerkit/torch versions, training-data
                         sha256, dev/test scores, creation date
    lexicon.tsv.gz       models with lexicon features only: the pruned lexicon
                         (`nerkit.lexicon.Lexicon.save`); vocab.json records its digest
    encoder/             pretrained encoders only: the transformer's config.json and the
                         tokenizer files (its weights are in weights.safetensors), so the
                         directory loads without the original encoder or a network

`metadata.json`'s `task` (absent: tagging, for directories written before tasks existed)
picks the task that rebuilds the model (`nerkit.tasks.get_task`). An ensemble directory
holds only `ensemble.json`, listing member model directories by relative path.

Every file is written to a temporary name and renamed, so a crash never leaves a
half-written file. A missing or incompatible file raises `ArtifactError` naming the
file and what to do.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Sequence
from importlib import metadata as _importlib_metadata
from pathlib import Path
from typing import Any

import torch
from pydantic import ValidationError
from safetensors.torch import load_file
from safetensors.torch import save as safetensors_save

from nerkit.checksums import file_sha256
from nerkit.config import RunConfig
from nerkit.data.safe_write import atomic_write_bytes
from nerkit.encoders import is_pretrained
from nerkit.encoders.features import Vocabs
from nerkit.errors import ArtifactError, ConfigError, NerkitError
from nerkit.tasks import config_class, get_task
from nerkit.tasks.base import LoadedModel

FORMAT_VERSION = 1
ENCODER_DIR = "encoder"  # pretrained encoders only: transformer config + tokenizer files
FILES = ("config.json", "labels.json", "vocab.json", "weights.safetensors", "metadata.json")
CHECKED = FILES[:4]  # metadata.json records the sha256 of these
LEXICON_FILE = "lexicon.tsv.gz"  # checked as well, in the directories that have one
ENSEMBLE_FILE = "ensemble.json"
_ENSEMBLE_FORMAT = "nerkit-ensemble/1"

__all__ = [
    "ENSEMBLE_FILE",
    "FILES",
    "FORMAT_VERSION",
    "LoadedModel",
    "file_sha256",
    "is_ensemble_dir",
    "load_ensemble",
    "load_model",
    "member_dirs",
    "save_ensemble",
    "save_model",
    "versions",
    "write_json",
]


def versions() -> dict[str, str]:
    """Return the nerkit and torch versions that write or read an artifact."""
    try:
        nerkit_version = _importlib_metadata.version("nerkit")
    except _importlib_metadata.PackageNotFoundError:  # pragma: no cover
        nerkit_version = "unknown"
    return {"nerkit": nerkit_version, "torch": torch.__version__}


def write_json(path: Path, value: Any) -> None:
    """Write `value` as indented UTF-8 JSON, atomically (temporary file + rename)."""
    text = json.dumps(value, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))


def _write_weights(path: Path, state: dict[str, Any], header: dict[str, str] | None = None) -> None:
    atomic_write_bytes(path, safetensors_save(state, metadata=header))


def save_model(
    directory: Path | str,
    model: Any,
    config: RunConfig,
    vocabs: Vocabs,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write a model directory (created if needed); return its path.

    `model` is a task's module: it has `output_labels` (labels.json) and `token_encoder`.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.detach().contiguous() for name, tensor in model.state_dict().items()}
    _write_weights(directory / "weights.safetensors", state)
    write_json(directory / "config.json", config.model_dump(mode="json"))
    write_json(directory / "labels.json", list(model.output_labels))
    write_json(directory / "vocab.json", vocabs.to_dict())
    checked = list(CHECKED)
    if vocabs.lexicon is not None:
        atomic_write_bytes(directory / LEXICON_FILE, vocabs.lexicon.to_bytes())
        checked.append(LEXICON_FILE)
    else:
        (directory / LEXICON_FILE).unlink(missing_ok=True)  # another run's, in a reused dir
    if model.token_encoder.subwords is not None:  # pretrained: config + tokenizer in encoder/
        from nerkit.encoders.pretrained import save_files

        save_files(model.token_encoder.encoder, directory / ENCODER_DIR)
    info = {
        "format_version": FORMAT_VERSION,
        "task": config.task,
        **versions(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **(metadata or {}),
        "sha256": {name: file_sha256(directory / name) for name in checked},
    }
    write_json(directory / "metadata.json", info)
    return directory


def _verify(directory: Path, info: dict[str, Any]) -> None:
    """Raise ArtifactError when a file differs from the checksum metadata.json records.

    Directories written before checksums were recorded are checked as far as they can be
    (a shipped model records its weights' sha256).
    """
    recorded = dict(info.get("sha256") or {})
    shipped = info.get("shipped")
    if isinstance(shipped, dict) and "weights_sha256" in shipped:
        recorded.setdefault("weights.safetensors", shipped["weights_sha256"])
    for name, expected in recorded.items():
        path = directory / name
        if name in (*CHECKED, LEXICON_FILE) and path.is_file() and file_sha256(path) != expected:
            raise ArtifactError(
                f"{path} has changed since the model was saved (its sha256 differs from "
                "metadata.json's): re-train, or copy the whole directory again"
            )


def _read_json(directory: Path, name: str) -> Any:
    path = directory / name
    if not path.is_file():
        raise ArtifactError(
            f"{path} is missing (a model directory holds {', '.join(FILES)}; "
            "point to a directory written by 'nerkit train')"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ArtifactError(
            f"{path} is not valid JSON: {error} (re-save or re-train the model)"
        ) from None


def _check_metadata(directory: Path, info: Any) -> dict[str, Any]:
    if not isinstance(info, dict) or "format_version" not in info:
        raise ArtifactError(f"{directory / 'metadata.json'} has no 'format_version' (re-train)")
    if info["format_version"] != FORMAT_VERSION:
        raise ArtifactError(
            f"{directory / 'metadata.json'}: format_version {info['format_version']!r} is not "
            f"supported, expected {FORMAT_VERSION} (re-train with this nerkit version, "
            f"or install the nerkit version {info.get('nerkit', '?')} that wrote it)"
        )
    return info


def _read_config(directory: Path) -> RunConfig:
    raw = _read_json(directory, "config.json")
    if not isinstance(raw, dict):
        raise ArtifactError(f"{directory / 'config.json'} must hold a JSON object (re-train)")
    try:
        cls = config_class(raw.get("task", "tagging"))
        return cls.model_validate(raw)
    except ConfigError as error:
        raise ArtifactError(f"{directory / 'config.json'}: {error}") from None
    except ValidationError as error:
        raise ArtifactError(
            f"{directory / 'config.json'} does not match this nerkit version: "
            f"{error.errors()[0]['loc']}: {error.errors()[0]['msg']} (re-train the model)"
        ) from None


def load_model(directory: Path | str) -> LoadedModel:
    """Return (model in eval mode, config, vocabs, metadata) from a model directory."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ArtifactError(f"model directory {str(directory)!r} does not exist")
    info = _check_metadata(directory, _read_json(directory, "metadata.json"))
    _verify(directory, info)
    config = _read_config(directory)
    labels = _read_json(directory, "labels.json")
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise ArtifactError(f"{directory / 'labels.json'} must be a JSON list of strings")
    if len(set(labels)) != len(labels):
        raise ArtifactError(f"{directory / 'labels.json'} lists a label twice (re-train)")
    raw_vocabs = _read_json(directory, "vocab.json")
    lexicon = (
        _read_lexicon(directory)
        if isinstance(raw_vocabs, dict) and "lexicon" in raw_vocabs
        else None
    )
    try:
        vocabs = Vocabs.from_dict(raw_vocabs, lexicon)
    except (ValueError, TypeError, AttributeError) as error:
        raise ArtifactError(f"{directory / 'vocab.json'} is malformed: {error}") from None
    task = get_task(config.task)
    local = config.model_copy(update={"model": _local_model_config(directory, config)})
    try:
        model = task.build(local, vocabs.sizes(), labels)
    except NerkitError as error:  # e.g. labels.json holds tags outside the config's scheme
        raise ArtifactError(f"{directory}: the model cannot be built: {error}") from None
    vocabs.subwords = model.token_encoder.subwords
    _load_weights(directory, model, task.upgrade_state_dict)
    model.eval()
    return LoadedModel(model, config, vocabs, info)


def _read_lexicon(directory: Path) -> Any:
    """Return the model's lexicon (`LEXICON_FILE`); raise ArtifactError when it is unusable."""
    from nerkit.lexicon import Lexicon

    path = directory / LEXICON_FILE
    if not path.is_file():
        raise ArtifactError(
            f"{path} is missing (vocab.json names a lexicon; copy the whole model directory)"
        )
    try:
        return Lexicon.load(path)
    except NerkitError as error:
        raise ArtifactError(f"{path} cannot be read: {error} (re-train the model)") from None


def _local_model_config(directory: Path, config: Any) -> Any:
    """Return the model config, a pretrained encoder pointed at the model's own encoder/."""
    if not is_pretrained(config.model.encoder):
        return config.model
    local = directory / ENCODER_DIR
    if not (local / "config.json").is_file():
        raise ArtifactError(
            f"{local} is missing (a model with a pretrained encoder keeps its config and "
            "tokenizer there; copy the whole model directory)"
        )
    encoder = config.model.encoder.model_copy(update={"name_or_path": str(local)})
    return config.model.model_copy(update={"encoder": encoder})


def _load_weights(directory: Path, model: Any, upgrade: Any) -> None:
    path = directory / "weights.safetensors"
    if not path.is_file():
        raise ArtifactError(f"{path} is missing (re-save or re-train the model)") from None
    try:
        state = load_file(str(path))
    except PermissionError:
        raise ArtifactError(f"{path} cannot be read: permission denied") from None
    except Exception as error:  # safetensors raises its own untyped errors
        raise ArtifactError(f"{path} cannot be read: {error} (re-save or re-train)") from None
    broken = [name for name, tensor in state.items() if not torch.isfinite(tensor).all()]
    if broken:
        raise ArtifactError(f"{path} holds NaN or infinite weights in {broken[0]!r} (re-train)")
    try:
        model.load_state_dict(upgrade(state), strict=True)
    except RuntimeError as error:
        lines = [line.strip() for line in str(error).splitlines()]
        first = next((line for line in lines[1:] if line), lines[0])  # the first mismatch
        raise ArtifactError(
            f"{path} does not fit the model in config.json/vocab.json: {first} "
            "(the files come from different runs; re-train or copy the whole directory)"
        ) from None


def write_temperature(directory: Path, temperature: float, record: dict[str, Any]) -> None:
    """Store the confidence temperature T in weights.safetensors and `record` in metadata.json.

    T is the head's `temperature` entry (a directory without one loads with T = 1); the
    weights file is rewritten atomically with its header kept, and a shipped model's recorded
    weights checksum follows the new file.
    """
    from safetensors import safe_open

    weights = Path(directory) / "weights.safetensors"
    with safe_open(str(weights), "pt") as handle:
        header = handle.metadata()
    state = load_file(str(weights))
    key = next((name for name in state if name.endswith("temperature")), "head.temperature")
    state[key] = torch.tensor(float(temperature), dtype=torch.float32)
    _write_weights(weights, state, header)
    path = Path(directory) / "metadata.json"
    info = json.loads(path.read_text(encoding="utf-8"))
    info["calibration"] = record
    digest = file_sha256(weights)  # the weights file changed: so do its checksums
    if isinstance(info.get("shipped"), dict) and "weights_sha256" in info["shipped"]:
        info["shipped"]["weights_sha256"] = digest
    if isinstance(info.get("sha256"), dict):
        info["sha256"]["weights.safetensors"] = digest
    write_json(path, info)


# --- ensembles -------------------------------------------------------------------------


def is_ensemble_dir(path: Path | str) -> bool:
    """Return True when `path` is a directory written by `save_ensemble`."""
    return (Path(path) / ENSEMBLE_FILE).is_file()


def member_dirs(source: Path | str | Sequence[Path | str]) -> list[Path]:
    """Return the member model directories of an ensemble directory or a list of directories."""
    if not isinstance(source, (str, Path)):
        return [Path(member) for member in source]
    directory = Path(source)
    path = directory / ENSEMBLE_FILE
    if not path.is_file():
        raise ArtifactError(
            f"{directory} is not an ensemble: expected {ENSEMBLE_FILE} in it "
            "(write one with nerkit.artifacts.save_ensemble, or pass a list of model dirs)"
        )
    try:
        members = json.loads(path.read_text(encoding="utf-8"))["members"]
        return [directory / member for member in members]
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError):
        raise ArtifactError(
            f"{path}: expected a JSON object with a 'members' list of model directories"
        ) from None


SHARED_METADATA = ("schema",)


def load_ensemble(source: Path | str | Sequence[Path | str]) -> LoadedModel:
    """Return the members of an ensemble as one loaded model, like `load_model`.

    Members must be of one task and fit together (the task checks: same tags, scheme,
    vocabularies, ...); a mismatch is an `ArtifactError` that names the member.
    """
    paths = member_dirs(source)
    if not paths:
        raise ArtifactError("an ensemble needs at least one model directory, got none")
    members = [load_model(path) for path in paths]
    tasks = {member.config.task for member in members}
    if len(tasks) > 1:
        raise ArtifactError(f"ensemble members must be of one task, got {sorted(tasks)}")
    first = members[0]
    try:
        model = get_task(first.config.task).ensemble(members)
    except ArtifactError as error:
        numbered = ", ".join(f"{k} = {path}" for k, path in enumerate(paths, start=1))
        raise ArtifactError(f"{error} [members: {numbered}]") from None
    metadata = {
        # what the members share and a predictor reads (a relation model's schema)
        **{key: first.metadata[key] for key in SHARED_METADATA if key in first.metadata},
        "task": first.config.task,
        "kind": "ensemble",
        "name": f"ensemble of {len(paths)}: " + ", ".join(p.resolve().name for p in paths),
        "members": [
            {"path": str(p), "dev": m.metadata.get("dev"), "test": m.metadata.get("test")}
            for p, m in zip(paths, members, strict=True)
        ],
    }
    return LoadedModel(model, first.config, first.vocabs, metadata)


def save_ensemble(directory: Path | str, members: Sequence[Path | str]) -> Path:
    """Write an ensemble directory listing `members` (model directories); return its path.

    Members are stored relative to `directory`, so the ensemble and its members can be
    moved together. Every member is loaded once to check that they fit together.
    """
    directory = Path(directory)
    load_ensemble(members)  # fail now, not when the ensemble is first used
    directory.mkdir(parents=True, exist_ok=True)
    relative = [os.path.relpath(Path(member).resolve(), directory.resolve()) for member in members]
    write_json(directory / ENSEMBLE_FILE, {"format": _ENSEMBLE_FORMAT, "members": relative})
    return directory

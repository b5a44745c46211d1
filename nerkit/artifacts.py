"""A saved model directory: everything needed to rebuild a tagger, nothing else.

Files:
    config.json          the resolved `Config` (data/model/train sections)
    labels.json          the tag list, in id order
    vocab.json           the vocabularies (`Vocabs.to_dict`)
    weights.safetensors  the state dict
    metadata.json        format version, nerkit/torch versions, training-data sha256,
                         dev/test scores, creation date
    encoder/             pretrained encoders only: the transformer's config.json and the
                         tokenizer files (its weights are in weights.safetensors), so the
                         directory loads without the original encoder or a network

Every file is written to a temporary name and renamed, so a crash never leaves a
half-written file. A missing or incompatible file raises `ArtifactError` naming the
file and what to do.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from importlib import metadata as _importlib_metadata
from pathlib import Path
from typing import Any

import torch
from pydantic import ValidationError
from safetensors.torch import load_file, save_file

from nerkit.checksums import file_sha256
from nerkit.encoders import is_pretrained
from nerkit.errors import ArtifactError
from nerkit.models.config import Config, ModelConfig
from nerkit.models.features import Vocabs
from nerkit.models.tagger import Tagger

FORMAT_VERSION = 1
ENCODER_DIR = "encoder"  # pretrained encoders only: transformer config + tokenizer files
FILES = ("config.json", "labels.json", "vocab.json", "weights.safetensors", "metadata.json")

__all__ = ["FILES", "FORMAT_VERSION", "file_sha256", "load_model", "save_model", "versions"]


def versions() -> dict[str, str]:
    """Return the nerkit and torch versions that write or read an artifact."""
    try:
        nerkit_version = _importlib_metadata.version("nerkit")
    except _importlib_metadata.PackageNotFoundError:  # pragma: no cover
        nerkit_version = "unknown"
    return {"nerkit": nerkit_version, "torch": torch.__version__}


def _write_atomic(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _write_json(path: Path, value: Any) -> None:
    _write_atomic(path, (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))


def save_model(
    directory: Path | str,
    model: Tagger,
    config: Config,
    vocabs: Vocabs,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write a model directory (created if needed); return its path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.detach().contiguous() for name, tensor in model.state_dict().items()}
    temporary = directory / "weights.safetensors.tmp"
    save_file(state, str(temporary))
    os.replace(temporary, directory / "weights.safetensors")
    _write_json(directory / "config.json", config.model_dump(mode="json"))
    _write_json(directory / "labels.json", list(model.tags))
    _write_json(directory / "vocab.json", vocabs.to_dict())
    if model.subwords is not None:  # a pretrained encoder: its config + tokenizer in encoder/
        from nerkit.encoders.pretrained import save_files

        save_files(model.encoder, directory / ENCODER_DIR)
    info = {
        "format_version": FORMAT_VERSION,
        **versions(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **(metadata or {}),
    }
    _write_json(directory / "metadata.json", info)
    return directory


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


def load_model(directory: Path | str) -> tuple[Tagger, Config, Vocabs, dict[str, Any]]:
    """Return (model in eval mode, config, vocabs, metadata) from a model directory."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ArtifactError(f"model directory {str(directory)!r} does not exist")
    info = _check_metadata(directory, _read_json(directory, "metadata.json"))
    try:
        config = Config.model_validate(_read_json(directory, "config.json"))
    except ValidationError as error:
        raise ArtifactError(
            f"{directory / 'config.json'} does not match this nerkit version: "
            f"{error.errors()[0]['loc']}: {error.errors()[0]['msg']} (re-train the model)"
        ) from None
    tags = _read_json(directory, "labels.json")
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise ArtifactError(f"{directory / 'labels.json'} must be a JSON list of tag strings")
    try:
        vocabs = Vocabs.from_dict(_read_json(directory, "vocab.json"))
    except (ValueError, TypeError) as error:
        raise ArtifactError(f"{directory / 'vocab.json'} is malformed: {error}") from None
    model = Tagger(_local_model_config(directory, config), vocabs.sizes(), tags)
    vocabs.subwords = model.subwords
    _load_weights(directory, model)
    model.eval()
    return model, config, vocabs, info


def _local_model_config(directory: Path, config: Config) -> ModelConfig:
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


def _load_weights(directory: Path, model: Tagger) -> None:
    path = directory / "weights.safetensors"
    if not path.is_file():
        raise ArtifactError(f"{path} is missing (re-save or re-train the model)") from None
    try:
        state = load_file(str(path))
    except Exception as error:  # safetensors raises its own untyped errors
        raise ArtifactError(f"{path} cannot be read: {error} (re-save or re-train)") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        first = str(error).splitlines()[0]
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

    model = load_model(directory)[0]
    key = next(name for name in model.state_dict() if name.endswith("temperature"))
    weights = Path(directory) / "weights.safetensors"
    with safe_open(str(weights), "pt") as handle:
        header = handle.metadata()
    state = load_file(str(weights))
    state[key] = torch.tensor(float(temperature), dtype=torch.float32)
    temporary = weights.with_name(weights.name + ".tmp")
    save_file(state, str(temporary), metadata=header)
    os.replace(temporary, weights)
    path = Path(directory) / "metadata.json"
    info = json.loads(path.read_text(encoding="utf-8"))
    info["calibration"] = record
    if isinstance(info.get("shipped"), dict) and "weights_sha256" in info["shipped"]:
        info["shipped"]["weights_sha256"] = file_sha256(weights)  # the weights file changed
    _write_json(path, info)

"""Ensembles of saved models: load several model directories as one predictor.

Train N models from one config changing only `train.seed`, then either pass their
directories to `EnsemblePredictor([dir1, dir2, ...])`, or write an ensemble directory
once with `save_ensemble(out_dir, [dir1, ...])` (an ``ensemble.json`` that lists the
members by relative path) and load that: `EnsemblePredictor(out_dir)`. The predictor
has the whole `Predictor` interface (`predict`, `predict_tokens`, `predict_nbest`,
`info`); its tag scores are the members' mean emissions decoded once by the averaged
CRF (`nerkit.models.ensemble.Ensemble`).

Members must agree on tags, scheme, head, tokenization, vocabularies and
`data.max_length`; a mismatch is an `ArtifactError` that names the member.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nerkit.artifacts import load_model
from nerkit.errors import ArtifactError
from nerkit.models.config import Config
from nerkit.models.ensemble import Ensemble
from nerkit.models.features import Vocabs
from nerkit.predict import Predictor

__all__ = ["ENSEMBLE_FILE", "EnsemblePredictor", "load_ensemble", "member_dirs", "save_ensemble"]

ENSEMBLE_FILE = "ensemble.json"
_FORMAT = "nerkit-ensemble/1"

Source = Path | str | Sequence[Path | str]


def is_ensemble_dir(path: Path | str) -> bool:
    """Return True when `path` is a directory written by `save_ensemble`."""
    return (Path(path) / ENSEMBLE_FILE).is_file()


def save_ensemble(directory: Path | str, members: Sequence[Path | str]) -> Path:
    """Write an ensemble directory listing `members` (model directories); return its path.

    Members are stored relative to `directory`, so the ensemble and its members can be
    moved together. Every member is loaded once to check that they fit together.
    """
    directory = Path(directory)
    load_ensemble(members)  # fail now, not when the ensemble is first used
    directory.mkdir(parents=True, exist_ok=True)
    relative = [os.path.relpath(Path(member).resolve(), directory.resolve()) for member in members]
    content = {"format": _FORMAT, "members": relative}
    path = directory / ENSEMBLE_FILE
    path.write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return directory


def member_dirs(source: Source) -> list[Path]:
    """Return the member model directories of an ensemble directory or a list of directories."""
    if isinstance(source, (str, Path)):
        directory = Path(source)
        path = directory / ENSEMBLE_FILE
        if not path.is_file():
            raise ArtifactError(
                f"{directory} is not an ensemble: expected {ENSEMBLE_FILE} in it "
                "(write one with nerkit.ensemble.save_ensemble, or pass a list of model dirs)"
            )
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
            members = content["members"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise ArtifactError(
                f"{path}: expected a JSON object with a 'members' list of model directories"
            ) from None
        return [directory / member for member in members]
    return [Path(member) for member in source]


def _check_vocabs(first: tuple[Config, Vocabs], other: tuple[Config, Vocabs], where: Path) -> None:
    (config, vocabs), (other_config, other_vocabs) = first, other
    if vocabs.to_dict() != other_vocabs.to_dict():
        raise ArtifactError(
            f"ensemble member {where} has other vocabularies than the first member "
            "(train every member from the same config and data, changing only train.seed)"
        )
    if config.data.max_length != other_config.data.max_length:
        raise ArtifactError(
            f"ensemble member {where} has data.max_length {other_config.data.max_length}, "
            f"the first member {config.data.max_length} (they must be equal)"
        )


def load_ensemble(source: Source) -> tuple[Ensemble, Config, Vocabs, dict[str, Any]]:
    """Return (ensemble, config, vocabs, metadata) like `nerkit.artifacts.load_model`."""
    paths = member_dirs(source)
    if not paths:
        raise ArtifactError("an ensemble needs at least one model directory, got none")
    loaded = [load_model(path) for path in paths]
    _, config, vocabs, _ = loaded[0]
    for path, (_, other_config, other_vocabs, _) in zip(paths[1:], loaded[1:], strict=True):
        _check_vocabs((config, vocabs), (other_config, other_vocabs), path)
    try:
        ensemble = Ensemble([model for model, _, _, _ in loaded])
    except ValueError as error:
        raise ArtifactError(str(error)) from None
    metadata = {
        "name": f"ensemble of {len(paths)}: " + ", ".join(p.resolve().name for p in paths),
        "members": [{"path": str(p), "dev": m.get("dev"), "test": m.get("test")}
                    for p, (_, _, _, m) in zip(paths, loaded, strict=True)],
    }  # fmt: skip
    return ensemble, config, vocabs, metadata


class EnsemblePredictor(Predictor):
    """A `Predictor` over an ensemble directory or a list of model directories."""

    def __init__(self, source: Source, precision: str = "fp32") -> None:
        path = Path(source) if isinstance(source, (str, Path)) else Path(source[0]).parent
        self._attach(path, load_ensemble(source), precision)

    @classmethod
    def from_dir(cls, model_dir: Path | str, precision: str = "fp32") -> EnsemblePredictor:
        """Return the predictor of an ensemble directory."""
        return cls(model_dir, precision)

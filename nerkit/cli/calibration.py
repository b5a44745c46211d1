"""CLI command `calibrate`: fit a model's confidence temperature on held-out data and store it.

    nerkit calibrate MODEL_DIR [DEV_FILE] [--format F] [--scheme S] [--objective nll|ece]
                     [--dry-run] [--json]

Without DEV_FILE the held-out set is the model's own dev set, rebuilt from its config.json
exactly as training built it (`data.dev`, or the same seeded carve from `data.train` through
`nerkit.training.data.load_splits`), so T is never fitted on training or test sentences.

The temperature is stored in the model directory: the head's `temperature` entry of
weights.safetensors (a directory without it loads with T = 1) and, for people, a
`calibration` record in metadata.json. The fitting itself is `nerkit.models.calibration`;
`held_out_examples` and `calibrate_directory` are plain functions that the benchmarks use too.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from nerkit.cli._app import app
from nerkit.errors import NerkitError

__all__ = ["calibrate", "calibrate_directory", "held_out_examples", "write_temperature"]


def held_out_examples(
    model_dir: Path, dev: Path | None = None, format: str | None = None, scheme: str | None = None
) -> tuple[list[Any], dict[str, Any]]:
    """Return the held-out examples and a JSON-ready description of where they came from."""
    from nerkit.artifacts import load_model
    from nerkit.checksums import file_sha256
    from nerkit.training.data import load_splits, read_examples

    _, config, _, info = load_model(model_dir)
    data = config.data.model_copy(update={"scheme": scheme}) if scheme else config.data
    if dev is not None:
        examples = read_examples(dev, data, format)
        return examples, {"path": str(dev), "sha256": file_sha256(dev), "examples": len(examples)}
    if data.dev is None and data.dev_fraction == 0:
        raise NerkitError(
            f"{model_dir} was trained without a dev set (data.dev_fraction 0): "
            "pass a held-out DEV_FILE that is neither training nor test data"
        )
    expected = ((info.get("data") or {}).get("train") or {}).get("sha256")
    trained_on = Path(data.train)
    if (
        data.dev is None
        and expected
        and trained_on.is_file()
        and file_sha256(trained_on) != expected
    ):
        raise NerkitError(
            f"{data.train} is not the file {model_dir} was trained on (sha256 differs), so "
            "the carved dev set would not be held out: pass a DEV_FILE"
        )
    examples = load_splits(config.model_copy(update={"data": data})).dev
    source = str(data.dev) if data.dev else f"{data.train} (dev carve {data.dev_fraction:g})"
    return examples, {"path": source, "examples": len(examples), "seed": config.train.seed}


def write_temperature(model_dir: Path, temperature: float, record: dict[str, Any]) -> None:
    """Store T in the head's entry of weights.safetensors and `record` in metadata.json."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from nerkit.artifacts import load_model
    from nerkit.checksums import file_sha256

    model = load_model(model_dir)[0]
    key = next(name for name in model.state_dict() if name.endswith("temperature"))
    weights = model_dir / "weights.safetensors"
    with safe_open(str(weights), "pt") as handle:
        header = handle.metadata()
    state = load_file(str(weights))
    state[key] = _scalar(temperature)
    temporary = weights.with_name(weights.name + ".tmp")
    save_file(state, str(temporary), metadata=header)
    os.replace(temporary, weights)
    path = model_dir / "metadata.json"
    info = json.loads(path.read_text(encoding="utf-8"))
    info["calibration"] = record
    if isinstance(info.get("shipped"), dict) and "weights_sha256" in info["shipped"]:
        info["shipped"]["weights_sha256"] = file_sha256(weights)  # the weights file changed
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def _scalar(value: float) -> Any:
    import torch

    return torch.tensor(float(value), dtype=torch.float32)


def calibrate_directory(
    model_dir: Path,
    dev: Path | None = None,
    format: str | None = None,
    scheme: str | None = None,
    objective: Literal["nll", "ece"] = "nll",
    write: bool = True,
) -> dict[str, Any]:
    """Fit T on held-out data, store it unless `write` is false; return the record."""
    from nerkit.artifacts import load_model
    from nerkit.models.calibration import calibrate as fit
    from nerkit.models.calibration import collect_entities

    examples, source = held_out_examples(model_dir, dev, format, scheme)
    if not examples:
        raise NerkitError(f"the held-out data {source['path']} holds no example")
    model, config, vocabs, _ = load_model(model_dir)
    entities = collect_entities(model, vocabs, examples, max_length=config.data.max_length)
    if len(entities) == 0:
        raise NerkitError(
            f"the model predicts no entity on {source['path']}: nothing to calibrate on"
        )
    result = fit(entities, objective)
    record = {**result.to_dict(), "objective": objective, "held_out": source,
              "date": dt.date.today().isoformat()}  # fmt: skip
    if write:
        write_temperature(model_dir, result.temperature, record)
    return record


@app.command()
def calibrate(
    model_dir: Annotated[Path, typer.Argument(help="A model directory written by 'nerkit train'.")],
    dev: Annotated[
        Path | None,
        typer.Argument(
            help="Held-out labelled data (not training, not test). Default: the model's own "
            "dev set, rebuilt from its config.json."
        ),
    ] = None,
    format: Annotated[
        str | None, typer.Option("--format", "-f", help="Data format (default: the training one).")
    ] = None,
    scheme: Annotated[
        str | None, typer.Option("--scheme", help="Tag scheme of a CoNLL DEV_FILE.")
    ] = None,
    objective: Annotated[
        Literal["nll", "ece"],
        typer.Option("--objective", help="Minimise the NLL (default) or the ECE of correctness."),
    ] = "nll",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Fit and print T, write nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the record as JSON.")] = False,
) -> None:
    """Fit the temperature of MODEL_DIR's confidences on held-out data and store it there."""
    if dev is not None and not dev.exists():
        raise NerkitError(f"held-out data {str(dev)!r} does not exist")
    record = calibrate_directory(model_dir, dev, format, scheme, objective, write=not dry_run)
    if as_json:
        typer.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    typer.echo(
        f"temperature {record['temperature']:.4f} on {record['entities']} predicted entities "
        f"of {record['held_out']['path']}: NLL {record['nll_before']:.4f} -> "
        f"{record['nll_after']:.4f}, ECE {record['ece_before']:.4f} -> {record['ece_after']:.4f}"
        + (" (dry run, nothing written)" if dry_run else f"; written to {model_dir}")
    )

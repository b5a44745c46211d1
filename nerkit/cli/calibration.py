"""CLI command `calibrate`: fit a model's confidence temperature on held-out data and store it.

    nerkit calibrate MODEL_DIR [DEV_FILE] [--format F] [--scheme S] [--objective nll|ece]
                     [--dry-run] [--json]

Without DEV_FILE the held-out set is the model's own dev set, rebuilt from its config.json
exactly as training built it (`data.dev`, or the same seeded carve from `data.train` through
`nerkit.training.run.read_splits`), so T is never fitted on training or test sentences.

The temperature is stored in the model directory: the head's `temperature` entry of
weights.safetensors (a directory without it loads with T = 1) and, for people, a
`calibration` record in metadata.json. The command is a thin call to `nerkit.api.calibrate`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer

from nerkit import api
from nerkit.cli._app import app
from nerkit.errors import NerkitError

__all__ = ["calibrate"]


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
    record = api.calibrate(model_dir, dev, format, scheme, objective, write=not dry_run)
    if as_json:
        typer.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    typer.echo(
        f"temperature {record['temperature']:.4f} on {record['entities']} predicted entities "
        f"of {record['held_out']['path']}: NLL {record['nll_before']:.4f} -> "
        f"{record['nll_after']:.4f}, ECE {record['ece_before']:.4f} -> {record['ece_after']:.4f}"
        + (" (dry run, nothing written)" if dry_run else f"; written to {model_dir}")
    )

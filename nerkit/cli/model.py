"""CLI commands over models: `train`, `evaluate`, `predict`.

Each command parses its arguments, calls `nerkit.api` and prints. `nerkit.api` is
imported inside the commands so `nerkit --help` stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from nerkit.cli._app import app
from nerkit.defaults import BATCH_SIZE, PRECISION
from nerkit.errors import NerkitError

MODEL_MARKERS = ("metadata.json", "ensemble.json", "pipeline.json")  # what makes a model dir


@app.command()
def train(
    config: Annotated[Path, typer.Argument(help="Training config (YAML or TOML).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory for the model.")],
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a config value, e.g. --set train.lr=0.001."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue a killed run from its checkpoint.")
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a model already in OUTPUT.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on a terminal.")] = True,
) -> None:
    """Train the model CONFIG describes (any task) and save the best epoch to OUTPUT."""
    from nerkit import api

    if not config.is_file():
        raise NerkitError(f"config file {str(config)!r} does not exist")
    result = api.train(
        config, output, overrides=overrides or (), resume=resume, overwrite=overwrite,
        progress=progress,
    )  # fmt: skip
    message = f"best dev score {result.best_score:.4f} at epoch {result.best_epoch}"
    if result.best_score < 0:
        message = f"trained {result.epochs_run} epochs (no dev set)"
    if result.test:
        message += f"; test {_scores(result.test)}"
    typer.echo(f"{message}; saved to {output}")


def _scores(scores: dict[str, float]) -> str:
    shown = [(k, v) for k, v in scores.items() if k != "decode_sents_per_s"]
    return ", ".join(f"{key} {100 * value:.2f}" for key, value in shown)


@app.command()
def evaluate(
    model_dir: Annotated[Path, typer.Argument(help="A model directory written by 'nerkit train'.")],
    data: Annotated[Path, typer.Argument(help="Labelled data to score the model on.")],
    format: Annotated[
        str | None, typer.Option("--format", "-f", help="Data format (default: the training one).")
    ] = None,
    scheme: Annotated[
        str | None,
        typer.Option(help="Tag scheme of a CoNLL file (default: the training data's)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
) -> None:
    """Score a saved model on labelled DATA: per-label and overall scores of its task."""
    from nerkit import api

    report = api.evaluate(model_dir, data, format=format, scheme=scheme)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        typer.echo(report.format_table())


def _is_model_dir(argument: str) -> bool:
    """Return True when `argument` names a model or ensemble directory (not just any dir)."""
    path = Path(argument)
    return bool(argument) and any((path / name).is_file() for name in MODEL_MARKERS)


def _split_model_dir(arguments: list[str]) -> tuple[Path | None, list[str]]:
    """Return (model directory, texts): a first argument that is a model directory is the model.

    An empty string or a directory that holds no model is a text like any other.
    """
    if arguments and _is_model_dir(arguments[0]):
        return Path(arguments[0]), arguments[1:]
    return None, arguments


def _read_texts(source: str) -> list[str]:
    """Return one text per line of a file, or of stdin for '-'; blank lines are kept as ''.

    Lines end at "\n" only (a trailing "\r" is dropped), so text k is line k even when a
    line holds U+2028, a form feed or a lone "\r".
    """
    if source == "-":
        name, data = "<stdin>", sys.stdin.buffer.read()
    else:
        path = Path(source)
        if not path.is_file():
            raise NerkitError(f"input file {source!r} does not exist (one text per line, or '-')")
        try:
            name, data = source, path.read_bytes()
        except OSError as error:
            raise NerkitError(f"cannot read {source}: {error.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        found = data[error.start : error.start + 1]
        raise NerkitError(f"{name}:{line}: expected UTF-8, found the byte {found!r}") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    return [line[:-1] if line.endswith("\r") else line for line in lines]


@app.command()
def predict(
    arguments: Annotated[
        list[str] | None,
        typer.Argument(
            help="[MODEL_DIR] [TEXT...]: an existing directory first is the model "
            "(default: the shipped model); '-' reads texts from stdin, one per line.",
            show_default=False,
            metavar="[MODEL_DIR] [TEXT]...",
        ),
    ] = None,
    input: Annotated[
        str | None, typer.Option("--input", "-i", help="File with one text per line, or '-'.")
    ] = None,
    format: Annotated[
        Literal["jsonl", "table"], typer.Option("--format", help="Output format.")
    ] = "jsonl",
    batch_size: Annotated[int, typer.Option(min=1, help="Texts per batch.")] = BATCH_SIZE,
    precision: Annotated[
        str,
        typer.Option(help="auto (bf16 where the CPU has it natively, else fp32), fp32 or bf16."),
    ] = PRECISION,
    runtime: Annotated[
        str, typer.Option(help="torch, or onnx to run MODEL_DIR/model.onnx.")
    ] = "torch",
) -> None:
    """Predict texts: entities (taggers), labels (classifiers), or entities and relations
    (pipelines), as JSON lines or a table."""
    from nerkit import api

    model_dir, texts = _split_model_dir(list(arguments or []))
    if texts == ["-"]:
        texts = _read_texts("-")
    if input is not None:
        texts = [*texts, *_read_texts(input)]
    if not texts:
        raise NerkitError("no text to tag (give TEXT arguments, --input FILE, or '-' for stdin)")
    predictor = api.load(model_dir, precision=precision, runtime=runtime)
    found = predictor.predict(texts, batch_size=batch_size)
    if predictor.task == "pipeline":
        _print_pipeline(texts, found, format)
        return
    key = "labels" if predictor.task == "classification" else "entities"
    for text, outputs in zip(texts, found, strict=True):
        if format == "jsonl":
            record = {"text": text, key: [output.to_dict() for output in outputs]}
            typer.echo(json.dumps(record, ensure_ascii=False))
            continue
        typer.echo(text)
        for x in outputs:
            if key == "labels":
                typer.echo(f"  {x.label}\t{x.score:.3f}")
            else:
                typer.echo(f"  {x.start}\t{x.end}\t{x.label}\t{x.text}\t{x.score:.3f}")


def _print_pipeline(texts: list[str], results: list[Any], format: str) -> None:
    """Print a pipeline's entities, relations and attributes per text, as JSON lines or a table.

    The table lists the entities as taggers do, then one line per relation (head, label,
    tail and the relation's probability), then one per attribute (entity, name, value).
    """
    for text, result in zip(texts, results, strict=True):
        if format == "jsonl":
            typer.echo(json.dumps({"text": text, **result.to_dict()}, ensure_ascii=False))
            continue
        typer.echo(text)
        for x in result.entities:
            typer.echo(f"  {x.start}\t{x.end}\t{x.label}\t{x.text}\t{x.score:.3f}")
        for r in result.relations:
            typer.echo(
                f"  {r.head.text} ({r.head.label}) -[{r.label}]-> {r.tail.text} "
                f"({r.tail.label})\t{r.score:.3f}"
            )
        for a in result.attributes:
            entity = f"{a.entity.text} ({a.entity.label})"
            typer.echo(f"  {entity} .{a.name} = {a.value.text}\t{a.score:.3f}")

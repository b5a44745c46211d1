"""CLI commands for data files: ``nerkit convert`` and ``nerkit stats``.

Both are thin: they call `nerkit.data.formats.read`/`write` and `nerkit.data.stats`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from nerkit.cli._app import app
from nerkit.data.formats import FORMATS, detect_format, read, write
from nerkit.data.spans import resolve_overlaps
from nerkit.data.stats import DatasetStats, compute_stats
from nerkit.errors import NerkitError
from nerkit.types import Example, Relation

_FORMAT_HELP = f"One of: {', '.join(FORMATS)}."


def _read_options(format: str, scheme: str | None) -> dict[str, Any]:
    return {"scheme": scheme} if format == "conll" and scheme else {}


def _resolved(examples: Iterable[Example], policy: str | None) -> Iterator[Example]:
    for example in examples:
        if policy and example.meta.get("overlaps"):
            spans = tuple(resolve_overlaps(example.spans, policy))  # type: ignore[arg-type]
            index = {span: i for i, span in enumerate(spans)}
            old = example.spans
            relations = tuple(
                Relation(index[old[r.head]], index[old[r.tail]], r.label)
                for r in example.relations
                if old[r.head] in index and old[r.tail] in index
            )
            example = Example(
                example.text, spans, example.tokens, relations, example.id, example.meta
            )
        yield example


@app.command()
def convert(
    source: Annotated[Path, typer.Argument(exists=True, help="Input file (or brat directory).")],
    target: Annotated[Path, typer.Argument(help="Output file (or brat directory).")],
    from_format: Annotated[
        str | None,
        typer.Option("--from", help=f"Input format (detected when left out). {_FORMAT_HELP}"),
    ] = None,
    to_format: Annotated[
        str, typer.Option("--to", help=f"Output format. {_FORMAT_HELP}")
    ] = "jsonl",
    scheme: Annotated[str, typer.Option(help="Tag scheme of CoNLL output.")] = "BIO",
    in_scheme: Annotated[
        str | None, typer.Option(help="Tag scheme of CoNLL input (detected when left out).")
    ] = None,
    tokenize: Annotated[
        str, typer.Option(help="Tokens of CoNLL output when the input has none: word or char.")
    ] = "word",
    overlaps: Annotated[
        str | None,
        typer.Option(
            help="Resolve overlapping spans first: longest, first or error (flat formats)."
        ),
    ] = None,
) -> None:
    """Convert a data file from one format to another, keeping character offsets exact."""
    if tokenize not in ("word", "char"):
        raise NerkitError(f"--tokenize must be word or char, got {tokenize!r}")
    if overlaps not in (None, "longest", "first", "error"):
        raise NerkitError(f"--overlaps must be longest, first or error, got {overlaps!r}")
    source_format = from_format or detect_format(source)
    counted = {"spans": 0}

    def counting(examples: Iterable[Example]) -> Iterator[Example]:
        for example in examples:
            counted["spans"] += len(example.spans)
            yield example

    examples = _resolved(read(source, source_format, **_read_options(source_format, in_scheme)),
                         overlaps)  # fmt: skip
    options = {"scheme": scheme, "tokenize_mode": tokenize} if to_format == "conll" else {}
    existed = target.exists()
    try:
        documents = write(counting(examples), target, to_format, **options)
    except NerkitError:
        if not existed and target.is_file():
            target.unlink()  # do not leave half a file behind
        raise
    typer.echo(
        f"wrote {documents} documents with {counted['spans']} spans "
        f"({source_format} -> {to_format}) to {target}"
    )


def _render(stats: DatasetStats) -> str:
    lines = [
        f"documents          {stats.documents} ({stats.empty_documents} empty)",
        f"characters         {stats.characters}",
    ]
    if stats.tokens is not None:
        lines.append(f"tokens             {stats.tokens}")
    lines.append(f"entities           {stats.entities}")
    lines += [f"  {label:<16} {count}" for label, count in stats.entities_per_label.items()]
    lines.append(
        f"length (chars)     min {stats.length_min}  mean {stats.length_mean}  "
        f"median {stats.length_median}  max {stats.length_max}  >510: {stats.longer_than_510}"
    )
    if stats.scheme_violations is not None:
        lines.append(
            f"scheme             {stats.scheme}: {stats.scheme_violations} violations in "
            f"{stats.documents_with_violations} documents"
        )
    lines.append(f"overlapping spans  in {stats.documents_with_overlaps} documents")
    return "\n".join(lines)


@app.command()
def stats(
    file: Annotated[Path, typer.Argument(exists=True, help="Data file (or brat directory).")],
    format: Annotated[
        str | None, typer.Option("--format", help=f"Detected when left out. {_FORMAT_HELP}")
    ] = None,
    scheme: Annotated[
        str | None, typer.Option(help="Tag scheme of CoNLL input (detected when left out).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print dataset statistics: documents, characters, entities per label, lengths, problems."""
    data_format = format or detect_format(file)
    result = compute_stats(read(file, data_format, **_read_options(data_format, scheme)))
    if as_json:
        typer.echo(json.dumps({"format": data_format, **result.to_dict()}, ensure_ascii=False))
    else:
        typer.echo(f"format             {data_format}\n{_render(result)}")

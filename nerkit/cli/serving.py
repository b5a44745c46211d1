"""CLI commands for using a trained model at scale: `serve`, `extract`, `export`.

Each command parses its arguments, calls the library (`nerkit.server`, `nerkit.extract`,
`nerkit.export`) and prints. Heavy modules are imported inside the commands so
`nerkit --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nerkit.cli._app import app
from nerkit.defaults import BATCH_SIZE, PRECISION, SHARD_LINES, SPLIT_CHARS
from nerkit.errors import NerkitError

ModelDir = Annotated[Path, typer.Argument(help="A model directory written by 'nerkit train'.")]
Runtime = Annotated[str, typer.Option(help="torch, or onnx to run MODEL_DIR/model.onnx.")]
Precision = Annotated[
    str,
    typer.Option(
        help="auto (bf16 where the CPU has AVX512-BF16/AMX, else fp32), fp32, or bf16 "
        "(tag scores in bfloat16: ~2x faster)."
    ),
]


def _require(module: str, extra: str) -> None:
    """Raise a one-line NerkitError naming the extra to install when `module` is missing."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise NerkitError(f"this command needs {module} (pip install 'nerkit[{extra}]')")


def _model_dir(model_dir: Path | None) -> Path:
    """Return the model directory to use: the given one (checked) or the shipped model."""
    from nerkit.api import resolve_model_dir

    if model_dir is not None:
        _check_model_dir(model_dir)
    return resolve_model_dir(model_dir)


def _check_bindable(host: str, port: int) -> None:
    """Raise NerkitError when (host, port) cannot be listened on: before the model loads."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise NerkitError(f"cannot listen on {host}:{port}: unknown host ({error})") from None
    family, kind, _, _, address = infos[0]
    with socket.socket(family, kind) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            raise NerkitError(
                f"cannot listen on {host}:{port}: {error.strerror} (choose another --port, "
                "or stop the process that holds it)"
            ) from None


def _check_model_dir(model_dir: Path) -> None:
    if not model_dir.is_dir():
        raise NerkitError(
            f"model directory {str(model_dir)!r} does not exist (pass a directory written by "
            "'nerkit train')"
        )


@app.command()
def serve(
    model_dir: Annotated[
        Path | None,
        typer.Argument(help="A model directory (default: the shipped model).", show_default=False),
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to bind; 0.0.0.0 exposes the server.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port.")] = 8000,
    max_batch: Annotated[int, typer.Option(min=1, help="Most texts per gathered batch.")] = 64,
    max_wait_ms: Annotated[
        float,
        typer.Option(
            min=0,
            max=10_000,
            help="Longest wait for a batch to fill, in ms (0: none; batches "
            "then form from requests that arrive while the model is busy).",
        ),
    ] = 0.0,
    batching: Annotated[
        bool, typer.Option(help="Gather concurrent requests into shared model calls.")
    ] = True,
    max_texts: Annotated[int, typer.Option(min=1, help="Most texts per request.")] = 256,
    max_text_chars: Annotated[int, typer.Option(min=1, help="Most characters per text.")] = 10_000,
    max_body_bytes: Annotated[
        int, typer.Option(min=1, help="Largest request body in bytes.")
    ] = 2_000_000,
    max_request_chars: Annotated[
        int, typer.Option(min=1, help="Most characters per request, all texts together.")
    ] = 200_000,
    max_connections: Annotated[
        int, typer.Option(min=1, help="Most concurrent connections; more are answered 503.")
    ] = 1000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    precision: Precision = PRECISION,
    runtime: Runtime = "torch",
) -> None:
    """Serve MODEL_DIR over HTTP: POST /extract or /classify, GET /health, /model, /docs."""
    _require("fastapi", "serve")
    _require("uvicorn", "serve")
    import uvicorn

    from nerkit import api
    from nerkit.server import ServerSettings, create_app

    model_dir = _model_dir(model_dir)
    _check_bindable(host, port)
    settings = ServerSettings(
        batching=batching,
        max_batch=max_batch,
        max_wait_ms=max_wait_ms,
        max_texts=max_texts,
        max_text_chars=max_text_chars,
        max_request_chars=max_request_chars,
        max_body_bytes=max_body_bytes,
    )
    application = create_app(api.load(model_dir, precision=precision, runtime=runtime), settings)
    typer.echo(f"serving {model_dir} on http://{host}:{port} (docs at /docs)", err=True)
    uvicorn.run(
        application, host=host, port=port, log_level=log_level,
        limit_concurrency=max_connections, timeout_keep_alive=5,
    )  # fmt: skip


@app.command()
def extract(
    arguments: Annotated[
        list[Path],
        typer.Argument(
            help="[MODEL_DIR] INPUT...: a directory first is the model (default: the shipped "
            "model); inputs are text or JSONL files (.gz read as gzip).",
            show_default=False,
            metavar="[MODEL_DIR] INPUT...",
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Output JSON lines (.gz written as gzip).")
    ],
    workers: Annotated[
        int, typer.Option(min=0, help="Worker processes (0: one per CPU core; 1: this one).")
    ] = 0,
    input_format: Annotated[
        str, typer.Option("--input-format", help="'text' (one document per line) or 'jsonl'.")
    ] = "text",
    text_field: Annotated[str, typer.Option(help="JSONL field holding the text.")] = "text",
    id_field: Annotated[str, typer.Option(help="JSONL field copied to the output as id.")] = "id",
    keep_text: Annotated[bool, typer.Option(help="Copy each text into the output.")] = False,
    shard_lines: Annotated[
        int, typer.Option(min=1, help="Documents per shard (unit of resumption).")
    ] = SHARD_LINES,
    batch_size: Annotated[int, typer.Option(min=1, help="Sentences per model batch.")] = BATCH_SIZE,
    split_chars: Annotated[
        int, typer.Option(min=0, help="Split documents longer than this into sentences (0: never).")
    ] = SPLIT_CHARS,
    pair_window: Annotated[
        int,
        typer.Option(
            min=0,
            help="Pipelines: relations and attributes also across up to this many sentences.",
        ),
    ] = 0,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on a terminal.")] = True,
    precision: Precision = PRECISION,
    runtime: Runtime = "torch",
) -> None:
    """Tag or classify every document of INPUTS with MODEL_DIR into OUTPUT; a rerun resumes."""
    from nerkit.extract import ExtractOptions
    from nerkit.extract import extract as run_extract

    given, inputs = (arguments[0], arguments[1:]) if arguments[0].is_dir() else (None, arguments)
    model_dir = _model_dir(given)
    options = ExtractOptions(
        input_format=input_format,  # type: ignore[arg-type]  (validated by ExtractOptions)
        text_field=text_field,
        id_field=id_field,
        workers=workers,
        shard_lines=shard_lines,
        batch_size=batch_size,
        split_chars=split_chars,
        pair_window=pair_window,
        keep_text=keep_text,
        precision=precision,
        runtime=runtime,
    )
    summary = run_extract(model_dir, list(inputs), output, options, progress=progress)
    rate = summary.documents / summary.seconds if summary.seconds else 0.0
    resumed = f", {summary.skipped_shards} shards reused" if summary.skipped_shards else ""
    typer.echo(
        f"{summary.documents} documents -> {output} in {summary.seconds:.1f} s "
        f"({rate:.0f} docs/s{resumed})",
        err=True,
    )


@app.command()
def export(
    model_dir: ModelDir,
    format: Annotated[str, typer.Option("--format", help="Export format: onnx.")] = "onnx",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: in MODEL_DIR).")
    ] = None,
    quantize: Annotated[
        str | None, typer.Option(help="Quantize the weights: int8 (dynamic quantization).")
    ] = None,
) -> None:
    """Export MODEL_DIR as one ONNX graph: features -> encoder -> CRF decoding."""
    _require("onnx", "export")
    _require("onnxruntime", "export")
    from nerkit.export import export_onnx

    _check_model_dir(model_dir)
    if format != "onnx":
        raise NerkitError(f"export format must be 'onnx', got {format!r}")
    path = export_onnx(model_dir, output, quantize=quantize)
    typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")

"""Score a file of predictions against a gold file: what ``nerkit score`` runs.

Both files are read with `nerkit.data.formats.read` (any format; character spans), paired
document by document in order, and must hold the same texts. Modes:

- ``conlleval``: the spans as the readers give them. CoNLL tags are chunked leniently, like
  conlleval.pl (``O I-PER`` is a PER chunk); span formats (jsonl, cluener, ...) are taken as
  they are.
- ``strict``: for CoNLL sentences whose tags break the scheme (the reader's
  ``meta["violations"]``), the tags are re-chunked keeping only well-formed chunks
  (seqeval's strict mode); well-formed sentences chunk identically in both modes, and span
  formats have no tags, so for them both modes agree.

A strict re-chunk needs the raw tags, which the reader does not keep: they are read back from
the sentence's lines (``meta["line"]`` and one line per token; tag in the last column).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerkit.data.formats import detect_format, read
from nerkit.errors import NerkitError
from nerkit.evaluation.errors_report import ErrorReport, error_report
from nerkit.evaluation.metrics import MODES, Mode, Report, score_spans
from nerkit.schemes import parse_scheme, tags_to_spans
from nerkit.types import Example, Span

__all__ = ["FileScore", "score_files"]

_SHOWN_CHARS = 40


@dataclass(frozen=True)
class FileScore:
    """The scores of a prediction file: the span `report` and the `errors` breakdown."""

    report: Report
    errors: ErrorReport
    documents: int
    mode: str
    formats: tuple[str, str]

    def to_dict(self, max_cases: int | None = None) -> dict[str, Any]:
        """Return the report's dict plus mode, documents, formats and the ``errors`` dict."""
        return {
            **self.report.to_dict(),
            "mode": self.mode,
            "documents": self.documents,
            "formats": {"gold": self.formats[0], "pred": self.formats[1]},
            "errors": self.errors.to_dict(max_cases=max_cases),
        }


def _where(path: Path, example: Example, index: int) -> str:
    line = example.meta.get("line")
    return f"{path}:{line}" if line is not None else f"{path} document {index}"


def _check_pairs(
    gold_path: Path, gold: list[Example], pred_path: Path, pred: list[Example]
) -> None:
    """Raise a NerkitError unless both files hold the same texts in the same order."""
    for i, (g, p) in enumerate(zip(gold, pred)):
        if g.text != p.text:
            raise NerkitError(
                f"document {i} differs: gold {_where(gold_path, g, i)} has "
                f"{g.text[:_SHOWN_CHARS]!r} but prediction {_where(pred_path, p, i)} has "
                f"{p.text[:_SHOWN_CHARS]!r} (both files must hold the same documents in order)"
            )
    if len(gold) != len(pred):
        raise NerkitError(
            f"{gold_path} has {len(gold)} documents but {pred_path} has {len(pred)} "
            "(both files must hold the same documents in order)"
        )


def _file_lines(path: Path) -> list[str]:
    text = path.read_bytes().decode("utf-8", errors="replace").removeprefix("\ufeff")
    return [line.rstrip("\r") for line in text.split("\n")]


def _strict_conll_spans(path: Path, example: Example, lines: list[str]) -> tuple[Span, ...]:
    """Return the well-formed chunks of a CoNLL sentence, re-read from its lines, as char spans."""
    tokens = example.tokens or ()
    first = int(example.meta["line"]) - 1
    rows = [line.split() for line in lines[first : first + len(tokens)]]
    if [row[0] if row else None for row in rows] != [token.text for token in tokens]:
        raise NerkitError(
            f"{path}:{first + 1}: cannot read the tags of this sentence back for strict "
            "scoring; the file changed while it was read (score again)"
        )
    scheme = parse_scheme(str(example.meta["scheme"]))
    chunks = tags_to_spans([row[-1] for row in rows], scheme, strict=True)
    return tuple(Span(tokens[c.start].start, tokens[c.end - 1].end, c.label) for c in chunks)


def _spans(path: Path, examples: list[Example], mode: Mode) -> list[tuple[Span, ...]]:
    """Return the spans of each document under `mode` (see the module docstring)."""
    if mode == "conlleval":
        return [example.spans for example in examples]
    lines: list[str] | None = None
    spans = []
    for example in examples:
        if example.meta.get("violations") and example.tokens and "line" in example.meta:
            lines = _file_lines(path) if lines is None else lines
            spans.append(_strict_conll_spans(path, example, lines))
        else:
            spans.append(example.spans)
    return spans


def _options(format: str, scheme: str | None) -> dict[str, Any]:
    return {"scheme": scheme} if format == "conll" and scheme is not None else {}


def score_files(
    gold_path: Path | str,
    pred_path: Path | str,
    *,
    format: str | None = None,
    mode: Mode = "conlleval",
    scheme: str | None = None,
) -> FileScore:
    """Return the scores of the predictions in `pred_path` against the gold `gold_path`.

    `format` applies to both files; None detects each file's format on its own. `scheme` is
    the tagging scheme of CoNLL files; None lets the reader detect it per file.
    """
    if mode not in MODES:
        raise NerkitError(f"unknown evaluation mode {mode!r}; expected one of {', '.join(MODES)}")
    gold_path, pred_path = Path(gold_path), Path(pred_path)
    formats = (format or detect_format(gold_path), format or detect_format(pred_path))
    gold = list(read(gold_path, formats[0], **_options(formats[0], scheme)))
    pred = list(read(pred_path, formats[1], **_options(formats[1], scheme)))
    _check_pairs(gold_path, gold, pred_path, pred)
    gold_spans, pred_spans = _spans(gold_path, gold, mode), _spans(pred_path, pred, mode)
    return FileScore(
        score_spans(gold_spans, pred_spans),
        error_report(gold_spans, pred_spans),
        len(gold),
        mode,
        formats,
    )

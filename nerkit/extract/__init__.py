"""Bulk extraction: tag large corpora with a saved model, streaming, multi-process, resumable.

Input: plain text (one document per line) or JSON lines (the text in a configurable field),
gzip-compressed when the name ends in ``.gz``. Output: JSON lines, one per input document
and in input order, ``{"line": n, "id"?: ..., "file"?: ..., "text"?: ..., "entities": [...]}``
(a classification model writes ``"labels": [{"label", "score"}, ...]`` instead of entities;
a pipeline also writes ``"relations"`` and ``"attributes"``, found within each sentence piece)
(``file`` appears when several inputs are given, ``id`` when a JSONL record has one, ``text``
with `keep_text`); entity offsets index the original document.

How it runs. The input is read as a stream and cut into shards of `shard_lines` documents,
so memory stays constant whatever the corpus size. Each shard is tagged (in-process, or by
one of N worker processes that each load the model once and use one torch thread) and
written to ``OUT.parts/00000.jsonl.gz`` ... followed by a ``00000.done`` marker. A restart
with the same inputs and options skips shards that have a marker; at the end the shards
are concatenated into OUT and the parts directory is removed.

Long documents are split into sentences (`split_sentences`) before tagging so that batches
hold pieces of similar length; entity offsets are shifted back into the document.

Modules: `options` (ExtractOptions, ExtractSummary), `reading` (input lines, records,
shards), `parts` (the resumable parts directory), `run` (`extract` and the workers).
"""

from __future__ import annotations

from nerkit.data.sentences import split_sentences
from nerkit.extract.options import ExtractOptions, ExtractSummary
from nerkit.extract.run import extract

__all__ = ["ExtractOptions", "ExtractSummary", "extract", "split_sentences"]

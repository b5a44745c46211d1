"""The MSRA test file the benchmarks share, and its sentences as plain strings."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MSRA_TEST = ROOT.parent / "shared" / "data" / "msra" / "msra_test_bio"


def msra_sentences(path: Path = MSRA_TEST, limit: int | None = None) -> list[str]:
    """Return up to `limit` sentences of a char-per-line BIO file, characters joined."""
    sentences: list[str] = []
    current: list[str] = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                current.append(line.split()[0])
            elif current:
                sentences.append("".join(current))
                current = []
    if current:
        sentences.append("".join(current))
    return sentences[:limit]

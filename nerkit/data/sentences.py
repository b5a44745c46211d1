"""Sentence splitting with exact offsets into the original text (torch-free).

Bulk extraction cuts long documents into sentences so that batches hold pieces of similar
length; entity offsets are shifted back into the document, which is why every piece is a
substring of the original text.
"""

from __future__ import annotations

import re

__all__ = ["split_sentences"]

# A sentence ends after Chinese 。！？； (with any closing quotes or brackets), after . ! ?
# followed by whitespace and a capital letter or an opening quote, or at a line break.
_BOUNDARY = re.compile(
    r"[。！？；]+[”’」』）)\]]*"
    r"|[.!?]+[\"'’”)\]]*(?=\s+[A-Z\"“‘(])"
    r"|\n"
)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) character offsets of the sentences of `text`, in order.

    Pieces never include surrounding whitespace; whitespace-only pieces are dropped, so an
    empty or blank text has no sentences. ``text[start:end]`` is always a substring of the
    original, which is what lets entity offsets be shifted back exactly.
    """
    pieces, begin = [], 0
    for match in _BOUNDARY.finditer(text):
        end = match.start() if match.group() == "\n" else match.end()
        pieces.append((begin, end))
        begin = match.end()
    pieces.append((begin, len(text)))
    result = []
    for start, end in pieces:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            result.append((start, end))
    return result

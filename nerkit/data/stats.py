"""Dataset statistics: documents, characters, tokens, entities, relations and attributes per
label, lengths, problems.

`compute_stats` consumes any iterable of Examples (it streams; only the per-document lengths
are kept, for the median). Scheme violations come from ``Example.meta["violations"]`` (set by
the CoNLL reader) and overlaps from ``Example.meta["overlaps"]`` (set by every reader).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from nerkit.types import Example

__all__ = ["LONG_DOCUMENT", "DatasetStats", "compute_stats"]

LONG_DOCUMENT = 510  # characters; a BERT-style encoder sees at most 512 positions incl. [CLS]/[SEP]


@dataclass
class DatasetStats:
    """Summary counts of a dataset; `to_dict` gives the JSON form."""

    documents: int = 0
    empty_documents: int = 0
    characters: int = 0
    tokens: int | None = None
    entities: int = 0
    entities_per_label: dict[str, int] = field(default_factory=dict)
    relations: int = 0
    relations_per_label: dict[str, int] = field(default_factory=dict)
    attributes: int = 0
    attributes_per_name: dict[str, int] = field(default_factory=dict)
    length_min: int = 0
    length_mean: float = 0.0
    length_median: float = 0.0
    length_max: int = 0
    longer_than_510: int = 0
    scheme: str | None = None
    scheme_violations: int | None = None
    documents_with_violations: int | None = None
    documents_with_overlaps: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict with every field."""
        return asdict(self)


def compute_stats(examples: Iterable[Example]) -> DatasetStats:
    """Return the statistics of a stream of Examples (lengths are in characters)."""
    stats = DatasetStats()
    labels: Counter[str] = Counter()
    relations: Counter[str] = Counter()
    attributes: Counter[str] = Counter()
    lengths: list[int] = []
    tokens, all_tokenised = 0, True
    violations, violating_docs, has_scheme = 0, 0, False
    for example in examples:
        lengths.append(len(example.text))
        labels.update(span.label for span in example.spans)
        relations.update(relation.label for relation in example.relations)
        attributes.update(attribute.name for attribute in example.attributes)
        if example.tokens is None:
            all_tokenised = False
        else:
            tokens += len(example.tokens)
        if "scheme" in example.meta:
            has_scheme = True
            stats.scheme = example.meta["scheme"]
            bad = len(example.meta.get("violations", ()))
            violations += bad
            violating_docs += bad > 0
        stats.documents_with_overlaps += bool(example.meta.get("overlaps"))
    stats.documents = len(lengths)
    stats.empty_documents = sum(1 for n in lengths if n == 0)
    stats.characters = sum(lengths)
    stats.tokens = tokens if all_tokenised and lengths else None
    stats.entities = sum(labels.values())
    stats.entities_per_label = dict(sorted(labels.items()))
    stats.relations = sum(relations.values())
    stats.relations_per_label = dict(sorted(relations.items()))
    stats.attributes = sum(attributes.values())
    stats.attributes_per_name = dict(sorted(attributes.items()))
    if lengths:
        stats.length_min, stats.length_max = min(lengths), max(lengths)
        stats.length_mean = round(statistics.fmean(lengths), 2)
        stats.length_median = float(statistics.median(lengths))
        stats.longer_than_510 = sum(1 for n in lengths if n > LONG_DOCUMENT)
    if has_scheme:
        stats.scheme_violations, stats.documents_with_violations = violations, violating_docs
    return stats

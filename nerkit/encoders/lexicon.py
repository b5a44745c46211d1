"""SoftLexicon word features: the frequency-weighted word embeddings of a token's B/M/E/S sets.

`nerkit.lexicon.LexiconMatcher.batch_sets` turns sentences into word ids and weights;
`SoftLexiconEmbedding` pools them into one vector per set (one `nn.EmbeddingBag` call:
lookup, weighting and sum fused) and concatenates the four
(Ma et al., "Simplify the Usage of Lexicon in Chinese NER", ACL 2020). Row 0 of the table
is padding (zero; with weight 0 it never reaches the output nor gets a gradient), row 1 the
NONE word of an empty set, rows 2.. the lexicon's words. Word vectors to initialise the
table are read from word2vec text files or from the compact float16 ``.npz`` tables that
`save_word_vectors` writes. `prepare_lexicon` is the training-time recipe of
`model.features.lexicon`: read, prune to the training data, reweight, read the vectors.

Shapes: B batch, T padded length, K entries per set, D word vector size.
    ids      (B, T, 4, K) long   word ids, 0 on padding
    weights  (B, T, 4, K) float  z(w) / Z(t): a token's weights sum to 1, 0 on padding
    output   (B, T, 4 * D) float the sets B, M, E, S one after another
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from nerkit.encoders.config import TokenModelConfig
from nerkit.errors import ConfigError, DataFormatError
from nerkit.lexicon import Lexicon

logger = logging.getLogger(__name__)

__all__ = [
    "PreparedLexicon",
    "SoftLexiconEmbedding",
    "prepare_lexicon",
    "read_word_vectors",
    "save_word_vectors",
]


@dataclass
class PreparedLexicon:
    """The pruned lexicon of a new model and the word vectors to copy into its table."""

    lexicon: Lexicon
    vectors: dict[str, np.ndarray] | None = None


def prepare_lexicon(
    sentences: Sequence[Sequence[str]], config: TokenModelConfig
) -> PreparedLexicon | None:
    """Return `model.features.lexicon` pruned to the training sentences, or None when unset.

    Kept: the words found `lexicon_min_count` times in `sentences`, plus the
    `lexicon_most_frequent` most frequent words. With `lexicon_weights: corpus` the
    frequencies are recounted in `sentences` (`Lexicon.recount`).
    """
    features = config.features
    if features.lexicon is None:
        return None
    full = Lexicon.read(features.lexicon)
    lexicon = full.prune(
        keep=sentences, most_frequent=features.lexicon_most_frequent,
        min_count=features.lexicon_min_count,
    )  # fmt: skip
    if len(lexicon) == 0:
        raise ConfigError(
            f"model.features.lexicon: none of the {len(full)} words of {features.lexicon} "
            "occurs in the training data (raise model.features.lexicon_most_frequent, or "
            "check that the lexicon is spelt as the data is)"
        )
    if features.lexicon_weights == "corpus":
        lexicon = lexicon.recount(sentences)
    logger.info("lexicon: %d of %d words kept", len(lexicon), len(full))
    vectors = None
    if features.lexicon_vectors is not None:
        vectors = read_word_vectors(features.lexicon_vectors, features.lexicon_dim, set(lexicon))
    return PreparedLexicon(lexicon, vectors)


class SoftLexiconEmbedding(nn.Module):
    """Pool the word embeddings of each B/M/E/S set by weight and concatenate the four sets.

    Args:
        num_words: Rows of the table: the lexicon's words + 2 (padding and NONE).
        dim: Word vector size, D; the output has 4 * D features (`output_dim`).
        dropout: Dropout on the pooled vectors.
        scale: Multiplies the pooled vectors; Ma et al. use 4 (weights over the four sets
            sum to 1, so a set's vector is on average a quarter of a word vector).
        freeze: Keep the table fixed (e.g. when it holds pretrained vectors).
    """

    def __init__(
        self,
        num_words: int,
        dim: int,
        dropout: float = 0.0,
        scale: float = 1.0,
        freeze: bool = False,
    ) -> None:
        super().__init__()
        if num_words < 2 or dim < 1:
            raise ValueError(
                f"expected num_words >= 2 (padding and NONE) and dim >= 1, "
                f"found num_words={num_words} dim={dim}"
            )
        # EmbeddingBag: gather, weight and sum in one kernel, without the (B, T, 4, K, D)
        # intermediate of embedding-multiply-sum (8x faster at D=50 on MSRA batches, 20x at
        # D=128). No padding_idx (it would not export to ONNX): padding has weight 0, so row 0
        # never reaches the output and its gradient is 0.
        self.embedding = nn.EmbeddingBag(num_words, dim, mode="sum")
        with torch.no_grad():
            self.embedding.weight[0] = 0.0
        self.embedding.weight.requires_grad_(not freeze)
        self.dropout = nn.Dropout(dropout)
        self.scale = scale
        self.output_dim = 4 * dim

    def forward(self, ids: Tensor, weights: Tensor) -> Tensor:
        """Return the four pooled set vectors of every token, (B, T, 4 * D)."""
        if ids.shape != weights.shape or ids.dim() != 4 or ids.size(2) != 4:
            raise ValueError(
                "expected ids and weights of one shape (B, T, 4, K), found "
                f"{tuple(ids.shape)} and {tuple(weights.shape)}"
            )
        batch, length, _, k = ids.shape
        table = self.embedding.weight
        if torch.onnx.is_in_onnx_export():
            # ONNX has no EmbeddingBag (the exporter writes a Loop over every bag, 2x slower
            # in onnxruntime): gather, multiply and sum are one node each there
            vectors = nn.functional.embedding(ids, table)  # (B, T, 4, K, D)
            pooled = (vectors * weights.unsqueeze(4).to(table.dtype)).sum(dim=3)
        else:
            # one bag per (token, set): sum over K of weight * word vector, (B * T * 4, D)
            pooled = self.embedding(
                ids.reshape(-1, k), per_sample_weights=weights.reshape(-1, k).to(table.dtype)
            )
        return self.dropout(pooled.reshape(batch, length, 4 * table.size(1)) * self.scale)

    def load_vectors(
        self, words: Sequence[str], vectors: Mapping[str, np.ndarray], rescale: bool = True
    ) -> int:
        """Copy the vector of every word that has one into its row; return how many were found.

        `words` are the strings of the rows in id order (`Lexicon.id_words()`); the padding
        row 0 is never written. With `rescale`, the rows left random are rescaled to the
        standard deviation of the copied vectors, as `nerkit.training.pretrained` does for
        token vectors, so that they do not dominate the pretrained ones.
        """
        table = self.embedding.weight
        if len(words) != table.size(0):
            raise ValueError(f"expected {table.size(0)} row words, found {len(words)}")
        found = torch.zeros(table.size(0), dtype=torch.bool)
        with torch.no_grad():
            for index, word in enumerate(words):
                vector = vectors.get(word) if index > 0 else None
                if vector is None:
                    continue
                if len(vector) != table.size(1):
                    raise ConfigError(
                        f"word vectors: expected dimension {table.size(1)}, found "
                        f"{len(vector)} for {word!r} (set the lexicon dimension to the vectors')"
                    )
                table[index] = torch.as_tensor(np.asarray(vector, dtype=np.float32))
                found[index] = True
            rest = ~found
            rest[0] = False
            if rescale and found.any() and rest.sum() > 1:
                table[rest] *= table[found].std() / table[rest].std()
        count = int(found.sum())
        logger.info("word vectors for %d of %d lexicon rows", count, table.size(0))
        return count


def read_word_vectors(
    path: Path | str, dim: int | None = None, keep: set[str] | None = None
) -> dict[str, np.ndarray]:
    """Return word -> float32 vector from a word2vec text file (``.gz`` too) or a ``.npz``.

    `dim` checks the dimension; `keep` reads only those words (a lexicon's), which saves
    memory on large files. Raise DataFormatError on a malformed line.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"word vectors: expected a word2vec text or .npz file, found no {path}")
    if path.suffix == ".npz":
        vectors = _read_npz(path)
        found = len(next(iter(vectors.values()))) if vectors else dim
        if dim is not None and found != dim:
            raise DataFormatError(path, 1, f"expected vectors of dimension {dim}, found {found}")
        return {w: v for w, v in vectors.items() if keep is None or w in keep}
    opener = gzip.open if path.suffix == ".gz" else open
    vectors = {}
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            parts = line.rstrip().split(" ")
            if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                continue  # word2vec header
            dim = len(parts) - 1 if dim is None else dim
            if len(parts) != dim + 1:
                raise DataFormatError(
                    path, number, f"expected a word and {dim} numbers, got {len(parts)} fields",
                    hint="set the lexicon dimension to the dimension of the vectors",
                )  # fmt: skip
            if (keep is None or parts[0] in keep) and parts[0] not in vectors:
                try:
                    vectors[parts[0]] = np.array(parts[1:], dtype=np.float32)
                except ValueError:
                    raise DataFormatError(path, number, "a vector value is not a number") from None
    return vectors


def save_word_vectors(path: Path | str, vectors: Mapping[str, np.ndarray]) -> None:
    """Write vectors as a compact ``.npz``: the words and a float16 table (read as float32)."""
    words = list(vectors)
    table = np.stack([np.asarray(vectors[w], dtype=np.float16) for w in words]) if words else None
    if table is None:
        raise ValueError("no vectors to save")
    np.savez_compressed(path, words=np.array(words, dtype=np.str_), vectors=table)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            words, table = data["words"].tolist(), data["vectors"].astype(np.float32)
    except (KeyError, ValueError, OSError) as error:
        raise DataFormatError(
            path, 1, f"expected an .npz with 'words' and 'vectors', found {error}",
            hint="write it with nerkit.encoders.lexicon.save_word_vectors",
        ) from None  # fmt: skip
    return dict(zip(words, table))

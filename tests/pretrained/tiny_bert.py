"""A tiny random BERT (2 layers, hidden 32) and WordPiece tokenizer, saved to a directory.

Nothing is downloaded: the vocabulary is written by hand (CJK characters, Latin pieces,
digits, punctuation) and the weights are drawn from a seeded generator.
"""

from __future__ import annotations

from pathlib import Path

import torch

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CJK = list("张三在北京工作李四去了上海王五是华为的程师总部深圳中国人大学生")
LATIN = ["alice", "lives", "in", "paris", "bob", "joined", "google", "london", "the", "a",
         "##s", "##e", "##d", "##ing", "lon", "##don", "goo", "##gle", "par", "##is"]  # fmt: skip
CHARS = list("abcdefghijklmnopqrstuvwxyz0123456789.,。，") + [f"##{c}" for c in "abcdefghijk"]


def write_tiny_bert(directory: Path, *, max_positions: int = 64, seed: int = 0) -> Path:
    """Write config, weights and tokenizer of a tiny BERT into `directory`; return it."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    vocab = list(dict.fromkeys(SPECIALS + CJK + LATIN + CHARS))
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast.from_pretrained(str(directory), do_lower_case=True)
    tokenizer.save_pretrained(str(directory))
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=max_positions,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
    )  # fmt: skip
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = BertModel(config, add_pooling_layer=False)
    model.save_pretrained(str(directory))
    return directory

"""Sub-word windows: exact per-window states, entities on window edges, and config errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from models.tiny import triples, write_corpus

from nerkit import api
from nerkit.encoders import BertConfig, build_encoder
from nerkit.encoders.pretrained import assign_windows
from nerkit.errors import ConfigError
from nerkit.tasks import load_config
from nerkit.types import Example, Span
from pretrained.test_taggers import bert_config

PACKAGE = Path(__file__).resolve().parents[2] / "nerkit"


def test_long_sequences_take_each_sub_word_from_its_most_central_window(tiny_bert, gen):
    encoder = build_encoder(BertConfig(name_or_path=str(tiny_bert), max_positions=6), 0).eval()
    assert (encoder.window, encoder.stride) == (4, 2)
    n = 11
    pieces = torch.randint(5, 60, (1, n), generator=gen)
    with torch.no_grad():
        states = encoder._subword_states(pieces, torch.arange(n)[None])[0]
        bounds, choice = assign_windows(n, 4, 2)
        for i, k in enumerate(choice):
            start, end = bounds[k]
            ids = torch.tensor([[encoder.cls_id, *pieces[0, start:end].tolist(), encoder.sep_id]])
            alone = encoder.transformer(input_ids=ids).last_hidden_state[0, 1 + i - start]
            torch.testing.assert_close(states[i], alone, atol=1e-5, rtol=0)


def _edge_examples() -> list[Example]:
    # window 6 sub-words (max_positions 8), stride 3: windows start at 0, 3, 6, ...;
    # entities start/end exactly on those edges and straddle them
    texts = [
        ("张三在北京工作上海华为的程师", [(3, 5, "LOC"), (6, 9, "LOC")]),
        ("工作在上海张三是华为的程师北京", [(5, 7, "PER"), (8, 10, "ORG"), (13, 15, "LOC")]),
        ("北京张三去了上海华为的总部深圳", [(0, 2, "LOC"), (2, 4, "PER"), (6, 8, "LOC"),
                                  (13, 15, "LOC")]),
    ]  # fmt: skip
    return [Example(text, tuple(Span(*s) for s in spans)) for text, spans in texts]


@pytest.mark.parametrize("head", ["crf", "softmax"])
def test_entities_on_window_edges_are_found_whole(tmp_path, tiny_bert, head):
    examples = _edge_examples()
    config = bert_config(write_corpus(tmp_path, examples), tiny_bert, "bert_bilstm", head,
                         max_positions=8, stride=3)  # fmt: skip
    config["train"]["epochs"] = 60
    assert api.train(config, tmp_path / "model", progress=False).best_score == 1.0
    predictor = api.load(tmp_path / "model")
    texts = [example.text for example in examples]
    batched = predictor.predict(texts, batch_size=8)
    gold = [[(s.start, s.end, s.label) for s in example.spans] for example in examples]
    assert [triples(entities) for entities in batched] == gold
    assert [triples(predictor.predict([text])[0]) for text in texts] == gold


def test_stride_larger_than_a_window_is_a_config_error(tmp_path, tiny_bert):
    config = bert_config(write_corpus(tmp_path), tiny_bert, "bert", "crf",
                         max_positions=8, stride=7)  # fmt: skip
    with pytest.raises(ConfigError, match="stride 7 is larger than a window's 6 sub-words"):
        load_config(config)


def test_missing_encoder_directory_says_how_to_get_one(tmp_path):
    config = BertConfig(name_or_path=str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match=r"does not exist .*nerkit encoders fetch me5-small"):
        build_encoder(config, 0)


def test_transformers_is_imported_only_by_the_pretrained_module_and_only_when_used():
    importers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "import transformers" in (text := path.read_text(encoding="utf-8"))
        or "from transformers" in text
    )
    assert importers == ["encoders/pretrained.py"]
    probe = (
        "import sys, nerkit, nerkit.api, nerkit.artifacts, nerkit.predict, nerkit.training.run\n"
        "import nerkit.tasks.tagging.task, nerkit.encoders.token\n"
        "from nerkit.tasks.tagging.config import ModelConfig\n"
        "from nerkit.tasks.tagging.model import Tagger\n"
        "Tagger(ModelConfig(), {'tokens': 10}, ['O', 'B-X', 'I-X', 'E-X', 'S-X'])\n"
        "print('transformers' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

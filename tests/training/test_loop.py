"""The training loop: resume equivalence, determinism, batching, the epoch log."""

from __future__ import annotations

import json

import pytest
import torch
from models.tiny import tiny_config, write_corpus
from safetensors.torch import load_file

from nerkit import api
from nerkit.encoders.batching import bucketed_batches
from nerkit.errors import ConfigError
from nerkit.training.loop import CHECKPOINT, LOG


class Killed(Exception):
    """Stands for the process being killed after an epoch."""


def _kill_after(epoch: int):
    def callback(info: dict) -> None:  # the loop's epoch-end info dict
        if info["epoch"] == epoch:
            raise Killed

    return callback


def _weights(directory):
    return load_file(str(directory / "weights.safetensors"))


def _config(tmp_path, **train):
    # dropout on, so that resuming must restore the global RNG state too
    config = tiny_config(write_corpus(tmp_path), **{"epochs": 3, **train})
    config["model"]["features"]["dropout"] = 0.3
    config["model"]["encoder"] = {**config["model"]["encoder"], "dropout": 0.3}
    config["train"].update(batch_size=2, warmup=0.2)
    config["data"].pop("dev")  # no dev set: every epoch is saved, the last one wins
    config["data"]["dev_fraction"] = 0.0
    return config


def test_resumed_run_ends_with_the_weights_of_an_uninterrupted_run(tmp_path):
    config = _config(tmp_path)
    api.train(config, tmp_path / "straight", progress=False)
    with pytest.raises(Killed):
        api.train(config, tmp_path / "resumed", progress=False, on_epoch_end=_kill_after(1))
    assert (tmp_path / "resumed" / CHECKPOINT).is_file()
    result = api.train(config, tmp_path / "resumed", resume=True, progress=False)
    assert result.epochs_run == 3
    straight, resumed = _weights(tmp_path / "straight"), _weights(tmp_path / "resumed")
    assert straight.keys() == resumed.keys()
    for name in straight:
        torch.testing.assert_close(straight[name], resumed[name], rtol=0, atol=0)
    assert not (tmp_path / "resumed" / CHECKPOINT).exists()  # deleted when the run finishes
    lines = (tmp_path / "resumed" / LOG).read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3]


def test_training_is_deterministic_and_leaves_the_global_rng_alone(tmp_path):
    config = _config(tmp_path, epochs=2)
    state = torch.get_rng_state()
    api.train(config, tmp_path / "a", progress=False)
    assert torch.equal(torch.get_rng_state(), state)
    api.train(config, tmp_path / "b", progress=False)
    a, b = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert all(torch.equal(a[name], b[name]) for name in a)


def test_resume_without_a_checkpoint_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="nothing to resume"):
        api.train(_config(tmp_path), tmp_path / "fresh", resume=True, progress=False)


def test_log_has_one_line_per_epoch_with_dev_scores(tmp_path):
    config = tiny_config(write_corpus(tmp_path), epochs=2)
    epochs, steps = [], []
    result = api.train(config, tmp_path / "model", progress=False,
                       on_epoch_end=epochs.append, on_step=steps.append)  # fmt: skip
    lines = [json.loads(line) for line in (tmp_path / "model" / LOG).read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2]
    assert {"loss", "dev_precision", "dev_recall", "dev_f1", "seconds", "train_sents_per_s"} <= set(
        lines[0]
    )
    assert result.history == lines
    # the callbacks get the loop's info dicts; the epoch-end one carries the dev scores
    keys = {"epoch", "loss", "score", "scores", "is_best", "seconds", "examples_per_s", "lr"}
    assert [info["epoch"] for info in epochs] == [1, 2] and all(keys <= set(i) for i in epochs)
    assert [info["scores"]["f1"] for info in epochs] == [line["dev_f1"] for line in lines]
    assert [info["score"] for info in epochs] == [line["dev_f1"] for line in lines]
    assert len(steps) == 2 and {info["epoch"] for info in steps} == {1, 2}  # one batch of 6
    assert result.examples_per_second > 0
    assert result.sentences_per_second == result.examples_per_second


def test_early_stopping_stops_after_patience_epochs_without_improvement(tmp_path):
    config = tiny_config(write_corpus(tmp_path), epochs=30, patience=2, lr=1e-9)
    result = api.train(config, tmp_path / "model", progress=False)
    assert result.epochs_run == result.best_epoch + 2


def test_bucketed_batches_cover_every_index_once_with_similar_lengths():
    lengths = [(7 * i) % 23 + 1 for i in range(100)]
    batches = bucketed_batches(lengths, 8, torch.Generator().manual_seed(0), chunk_batches=100)
    assert sorted(i for batch in batches for i in batch) == list(range(100))
    spreads = [max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches]
    assert max(spreads) <= 2  # one chunk: sorted by length before splitting
    again = bucketed_batches(lengths, 8, torch.Generator().manual_seed(0), chunk_batches=100)
    assert again == batches


def test_carved_dev_set_is_used_when_no_dev_file_is_given(tmp_path):
    config = tiny_config(write_corpus(tmp_path), epochs=1)
    config["data"].pop("dev")
    config["data"]["dev_fraction"] = 0.5
    result = api.train(config, tmp_path / "model", progress=False)
    metadata = json.loads((tmp_path / "model" / "metadata.json").read_text())
    assert metadata["data"]["train"]["examples"] == 3
    assert "dev_f1" in result.history[0]


def test_dev_seed_fixes_the_carve_while_train_seed_varies(tmp_path):
    from nerkit.tasks import load_config
    from nerkit.training.run import read_splits

    raw = tiny_config(write_corpus(tmp_path), epochs=1)
    raw["data"].pop("dev")
    raw["data"]["dev_fraction"] = 0.5

    def dev_texts(*overrides: str) -> list[str]:
        return [e.text for e in read_splits(load_config(raw, list(overrides))).dev]

    seeds = range(10)
    by_train_seed = {tuple(dev_texts(f"train.seed={s}")) for s in seeds}
    assert len(by_train_seed) > 1  # without dev_seed the carve follows train.seed
    fixed = {tuple(dev_texts(f"train.seed={s}", "data.dev_seed=7")) for s in seeds}
    assert fixed == {tuple(dev_texts("train.seed=7"))}


@pytest.mark.bf16
def test_bf16_training_learns_and_saves_float32_weights_that_load_in_fp32(tmp_path):
    from models.tiny import EXAMPLES, gold_entities

    config = tiny_config(write_corpus(tmp_path), epochs=40, precision="bf16")
    api.train(config, tmp_path / "model", progress=False)
    assert torch.bfloat16 not in {t.dtype for t in _weights(tmp_path / "model").values()}
    predictor = api.load(tmp_path / "model", precision="fp32")
    assert predictor.precision == "fp32"  # precision is a run-time choice, not saved
    from nerkit.runtime import resolve_precision

    assert api.load(tmp_path / "model").precision == resolve_precision("auto")  # the default
    found = predictor.predict([e.text for e in EXAMPLES])
    predicted = [[(e.start, e.end, e.label) for e in ents] for ents in found]
    assert predicted == gold_entities()


def test_auto_precision_trains_and_bf16_without_native_support_is_a_one_line_error(
    tmp_path, monkeypatch
):
    import nerkit.runtime
    from nerkit.errors import NerkitError

    corpus = write_corpus(tmp_path)
    api.train(tiny_config(corpus, epochs=1, precision="auto"), tmp_path / "auto", progress=False)
    assert (tmp_path / "auto" / "weights.safetensors").is_file()
    monkeypatch.setattr(nerkit.runtime, "bf16_is_native", lambda: False)
    with pytest.raises(NerkitError, match="native bfloat16"):
        api.train(tiny_config(corpus, epochs=1, precision="bf16"), tmp_path / "b", progress=False)
    assert not (tmp_path / "b" / "weights.safetensors").exists()


def test_a_nan_loss_stops_training_with_a_training_error_and_saves_nothing(tmp_path):
    from nerkit.config import TrainConfig
    from nerkit.errors import NerkitError
    from nerkit.tasks.base import Prepared
    from nerkit.training.loop import TrainingError, fit

    class Diverging(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = torch.nn.Parameter(torch.ones(1))

        def loss(self, batch):
            return self.weight.sum() * float("nan")

    prepared = Prepared(model=Diverging(), vocabs=None, labels=[], train_size=2,
                        batches=lambda generator: [[0, 1]], evaluate=None)  # fmt: skip
    saved: list = []
    config = TrainConfig(epochs=2, num_threads=1)
    with pytest.raises(TrainingError, match=r"loss became nan at step 1 \(epoch 1\)"):
        fit(prepared, config, tmp_path / "run", save_best=saved.append, progress=False)
    assert saved == [] and issubclass(TrainingError, NerkitError)

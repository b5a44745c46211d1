"""Every reader on mutated files: a valid Example or a NerkitError, nothing else.

The mutation engine is benchmarks/fuzz_readers.py (byte-level flips, truncation, invalid UTF-8,
BOM/UTF-16, line endings; JSON nodes swapped or deleted, CoNLL columns and tags, brat fields and
offsets); hypothesis picks the cases here, bounded (a few seconds); the benchmark runs tens of
thousands. A failing case prints the seed: ``python benchmarks/fuzz_readers.py --case SEED FMT``.
"""

from __future__ import annotations

import importlib.util
import logging
import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from nerkit.cli import app
from nerkit.data.formats import FORMATS, read
from nerkit.errors import NerkitError

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "fuzz_readers.py"
_SPEC = importlib.util.spec_from_file_location("fuzz_readers", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
fuzz = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(fuzz)


@pytest.fixture(autouse=True)
def _quiet_logs():
    logging.disable(logging.WARNING)  # skip_invalid logs every skipped record
    yield
    logging.disable(logging.NOTSET)


@pytest.mark.parametrize("format", FORMATS)
def test_every_seed_file_is_valid(format, tmp_path):
    for k, seed in enumerate(fuzz.SEEDS[format]):
        if format == "brat":
            (tmp_path / "d.txt").write_text(fuzz._BRAT_TXT, encoding="utf-8")
            (tmp_path / "d.ann").write_text(seed, encoding="utf-8")
            examples = list(read(tmp_path, format, discontinuous="merge"))
        else:
            path = tmp_path / f"seed{k}"
            path.write_text(seed, encoding="utf-8")
            examples = list(read(path, format))
        assert examples and all(fuzz.check_example(e) is None for e in examples)
        assert sum(len(e.spans) for e in examples) > 0


@pytest.mark.parametrize("format", FORMATS)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_mutated_files_give_valid_examples_or_a_nerkit_error(format, seed):
    with tempfile.TemporaryDirectory() as directory:
        outcome, detail = fuzz.run_case(seed, format, Path(directory))
    assert outcome in ("ok", "nerkit"), f"--case {seed} {format}: {outcome}: {detail}"


def test_mutations_change_the_files_and_cover_both_outcomes():
    rng = random.Random(5)
    seed = fuzz.SEEDS["jsonl"][0].encode()
    assert sum(fuzz.mutate("jsonl", seed, rng) != seed for _ in range(50)) >= 45
    with tempfile.TemporaryDirectory() as directory:
        outcomes = {fuzz.run_case(s, "jsonl", Path(directory))[0] for s in range(60)}
    assert outcomes == {"ok", "nerkit"}


@pytest.mark.parametrize("format", FORMATS)
def test_stats_and_convert_on_mutated_files_succeed_or_give_a_nerkit_error(format, tmp_path):
    # main() prints a NerkitError as one `error:` line with exit code 2 (test_cli_data.py)
    runner = CliRunner()
    for seed in range(4):
        fuzz.run_case(seed, format, tmp_path)  # writes the mutated file
        path = tmp_path / f"case{seed}"
        path = path if format == "brat" else path / "data"
        for args in (
            ["stats", str(path), "--format", format],
            ["stats", str(path)],
            ["convert", str(path), str(tmp_path / f"out{seed}.jsonl"), "--from", format],
        ):
            result = runner.invoke(app, args)
            assert result.exit_code == 0 or isinstance(result.exception, NerkitError), (
                seed,
                args,
                result.exception,
            )

"""`nerkit.data.safe_write`: a write replaces the target whole or not at all, even under kill -9."""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nerkit.data.formats import read, write
from nerkit.data.safe_write import (
    atomic_open,
    atomic_write_bytes,
    atomic_write_text,
    check_output_dir,
    check_output_file,
)
from nerkit.errors import NerkitError
from nerkit.types import Example, Span


def test_a_failed_block_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt), atomic_open(target) as handle:
        handle.write("new, half")
        raise KeyboardInterrupt
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_success_replaces_the_file_and_keeps_its_mode(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old\n", encoding="utf-8")
    os.chmod(target, 0o640)
    atomic_write_text(target, "new\n")
    assert target.read_text(encoding="utf-8") == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    atomic_write_bytes(tmp_path / "fresh.bin", b"\x00\x01")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "fresh.bin").stat().st_mode) == 0o666 & ~umask  # not 0600


def test_target_checks_name_the_problem(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("x", encoding="utf-8")
    (tmp_path / "adir").mkdir()
    with pytest.raises(NerkitError, match="expected an output file, found the directory"):
        check_output_file(tmp_path / "adir")
    with pytest.raises(NerkitError, match=r"its directory .*missing.* does not exist"):
        check_output_file(tmp_path / "missing" / "out.jsonl")
    with pytest.raises(NerkitError, match="is the input file"):
        check_output_file(tmp_path / "." / "in.jsonl", [source])
    with pytest.raises(NerkitError, match="expected an output directory, found the file"):
        check_output_dir(source)
    with pytest.raises(NerkitError, match="does not exist"):
        atomic_write_text(tmp_path / "missing" / "x", "")
    assert check_output_file(tmp_path / "new.jsonl", [source]) == tmp_path / "new.jsonl"


_CHILD = """
import sys, time
from nerkit.data.formats import write
from nerkit.types import Example, Span

target, format, pause_at, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

def examples():
    for i in range(n):
        if i == pause_at:
            print("mid", flush=True)
            time.sleep(60)
        yield Example("张三在北京" * 20, (Span(0, 2, "PER"),), id=str(i))

write(examples(), target, format)
print("done", flush=True)
"""
_N = 1500


def _n(format: str) -> int:
    return 400 if format == "brat" else _N  # brat writes two files per document


def _child(target: Path, format: str, pause_at: int) -> subprocess.Popen[str]:
    args = [sys.executable, "-c", _CHILD, str(target), format, str(pause_at), str(_n(format))]
    return subprocess.Popen(args, stdout=subprocess.PIPE, text=True)


def _snapshot(target: Path) -> dict[str, bytes]:
    if target.is_dir():
        return {p.name: p.read_bytes() for p in sorted(target.iterdir()) if p.suffix != ".tmp"}
    return {target.name: target.read_bytes()}


@pytest.mark.parametrize(
    "format",
    [
        "jsonl",
        "brat",
        # the other writers share atomic_open with jsonl: slow suite only
        pytest.param("conll", marks=pytest.mark.slow),
        pytest.param("label-studio", marks=pytest.mark.slow),
        pytest.param("doccano", marks=pytest.mark.slow),
    ],
)
def test_kill_9_mid_write_leaves_the_old_file_or_the_new_one(tmp_path, format):
    target = tmp_path / ("out" if format == "brat" else "out.data")
    old_examples = [Example("旧的", (Span(0, 1, "X"),), id="0")]
    write(old_examples, target, format)
    old = _snapshot(target)

    child = _child(
        target, format, pause_at=_n(format) // 2
    )  # killed while half the file is written
    assert child.stdout is not None and child.stdout.readline() == "mid\n"
    child.send_signal(signal.SIGKILL)
    child.wait()
    snapshot = _snapshot(target)
    if format == "brat":  # one document per file: each file is whole, old or new
        assert snapshot["0.txt"] in (old["0.txt"], "张三在北京".encode() * 20)
        assert all(name.endswith((".txt", ".ann")) for name in snapshot)
    else:
        assert snapshot == old

    # killed at random moments, the target is always one of the two whole files
    done = _child(target, format, pause_at=-1)
    assert done.wait() == 0
    new = _snapshot(target)
    assert len(list(read(target, format))) == _n(format)
    rng = random.Random(1234)
    for _ in range(2):
        write(old_examples, target, format) if format != "brat" else None
        child = _child(target, format, pause_at=-1)
        time.sleep(rng.uniform(0.15, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait()
        after = _snapshot(target)
        if format != "brat":
            assert after in (old, new)
        else:  # every file is whole: the same as in the complete run
            assert all(after[k] == v for k, v in new.items() if k != "0.txt")

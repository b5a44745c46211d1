"""The run-time context managers restore the process-global state they change."""

from __future__ import annotations

import gc
import threading

import pytest

from nerkit.runtime import paused_gc


@pytest.fixture(autouse=True)
def _collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_paused_gc_turns_the_collector_off_and_back_on():
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer body still runs
    assert gc.isenabled()


def test_paused_gc_leaves_a_collector_that_was_off_off():
    gc.disable()
    with paused_gc():
        pass
    assert not gc.isenabled()


def test_paused_gc_restores_after_an_exception():
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_paused_gc_stays_off_until_the_last_thread_leaves():
    entered, release = threading.Barrier(2), threading.Event()
    seen: list[bool] = []

    def body() -> None:
        with paused_gc():
            entered.wait()
            release.wait()

    worker = threading.Thread(target=body)
    worker.start()
    with paused_gc():
        entered.wait()
    seen.append(gc.isenabled())  # this thread left, the worker has not
    release.set()
    worker.join()
    assert seen == [False]
    assert gc.isenabled()


def test_paused_gc_works_as_a_decorator():
    @paused_gc()
    def state() -> bool:
        return gc.isenabled()

    assert state() is False
    assert state() is False  # a fresh context per call
    assert gc.isenabled()

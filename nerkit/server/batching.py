"""Dynamic micro-batching: texts of concurrent requests share one `predict` call.

One asyncio worker takes the first waiting request, then gathers more until the batch
holds `max_batch` texts or `max_wait` seconds have passed (with `max_wait` 0, the default:
only the requests already waiting, so batches form from what arrived while the model was
busy), and runs the predict function in an executor thread (the event loop keeps
accepting requests meanwhile). Results are cut back into per-request lists in submission
order. If a gathered call fails, each of
its requests is retried alone, so an error reaches only the request that caused it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

Result = TypeVar("Result")

__all__ = ["MicroBatcher"]


@dataclass
class _Job(Generic[Result]):
    texts: list[str]
    future: asyncio.Future[list[Result]]


class MicroBatcher(Generic[Result]):
    """Gather concurrent `submit` calls into batched calls of `predict` (one result per text)."""

    def __init__(
        self,
        predict: Callable[[list[str]], list[Result]],
        executor: Executor,
        max_batch: int = 64,
        max_wait: float = 0.0,
    ) -> None:
        self.predict, self.executor = predict, executor
        self.max_batch, self.max_wait = max_batch, max_wait
        self._queue: asyncio.Queue[_Job[Result]] | None = None
        self._task: asyncio.Task[None] | None = None
        self.calls = 0  # number of predict calls made, for tests and statistics

    @property
    def running(self) -> bool:
        """Return True while the worker task is alive."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the worker on the running event loop."""
        self._queue = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._work())

    async def stop(self) -> None:
        """Stop the worker; requests still waiting fail with a RuntimeError."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while self._queue is not None and not self._queue.empty():
            job = self._queue.get_nowait()
            if not job.future.done():
                job.future.set_exception(RuntimeError("the server is shutting down"))
        self._task = None

    async def submit(self, texts: list[str]) -> list[Result]:
        """Return the results of `texts`, computed in a batch with concurrent requests."""
        if not texts:
            return []
        if self._queue is None or not self.running:
            raise RuntimeError("the batcher is not running (call start() inside the event loop)")
        job: _Job[Result] = _Job(list(texts), asyncio.get_running_loop().create_future())
        await self._queue.put(job)
        return await job.future

    async def _work(self) -> None:
        assert self._queue is not None
        held: _Job[Result] | None = None  # a job that did not fit in the previous batch
        while True:
            first = held if held is not None else await self._queue.get()
            jobs, held = await self._gather(first)
            await self._dispatch(jobs)

    async def _gather(self, first: _Job[Result]) -> tuple[list[_Job[Result]], _Job[Result] | None]:
        """Return the jobs of one batch and the job that arrived but did not fit."""
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        jobs, size = [first], len(first.texts)
        deadline = loop.time() + self.max_wait
        while size < self.max_batch:
            remaining = deadline - loop.time()
            try:
                if remaining <= 0:
                    job = self._queue.get_nowait()
                else:
                    job = await asyncio.wait_for(self._queue.get(), remaining)
            except (asyncio.TimeoutError, asyncio.QueueEmpty):
                break
            if size + len(job.texts) > self.max_batch:
                return jobs, job
            jobs.append(job)
            size += len(job.texts)
        return jobs, None

    async def _run(self, texts: list[str]) -> list[Result]:
        self.calls += 1
        loop = asyncio.get_running_loop()
        results = await loop.run_in_executor(self.executor, self.predict, texts)
        if len(results) != len(texts):
            raise RuntimeError(f"predict returned {len(results)} results for {len(texts)} texts")
        return results

    async def _dispatch(self, jobs: list[_Job[Result]]) -> None:
        """Run one batch and hand each job its own slice of the results (or its error)."""
        jobs = [job for job in jobs if not job.future.done()]  # drop cancelled requests
        if not jobs:
            return
        try:
            results = await self._run([text for job in jobs for text in job.texts])
        except Exception as error:
            if len(jobs) == 1:
                jobs[0].future.set_exception(error)
                return
            # find the culprit: each request alone, so only the failing ones see an error
            logger.info("a batch of %d requests failed; retrying them one by one", len(jobs))
            for job in jobs:
                await self._dispatch([job])
            return
        offset = 0
        for job in jobs:
            if not job.future.done():
                job.future.set_result(results[offset : offset + len(job.texts)])
            offset += len(job.texts)

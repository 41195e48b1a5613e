"""The worker loop: get a task, run the handler, release it; several at once if asked.

``Worker(url, project).run(handler)`` blocks until SIGTERM or SIGINT (or, with
``until_empty``, until the project has nothing left to give). The handler gets a ``Task`` and
returns the verification hash (``None`` for 0) to release it OK; raising ``Skip`` releases it
SKIP, any other exception FAIL. A plain function runs in a thread; an ``async def`` runs on the
loop. On stop no new task is taken; handlers still running after ``grace`` seconds are
cancelled and their tasks released SKIP; a release already under way is finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from tracker.client import errors, identity
from tracker.client.aio import AsyncClient
from tracker.client.session import Backoff
from tracker.client.shapes import Result, Task

log = logging.getLogger("tracker.client.worker")

Handler = Callable[[Task], "int | None | Awaitable[int | None]"]

#: Long enough to ride out a server restart: about 4 minutes of connection errors.
PATIENT = Backoff(attempts=60, first=0.05, factor=2.0, cap=5.0)


class Skip(Exception):
    """Raised by a handler: release the task SKIP (as if this worker never took it)."""


@dataclass
class Summary:
    """What a run did: releases sent by result, and how many closed a task."""

    ok: int = 0
    failed: int = 0
    skipped: int = 0
    closed: int = 0

    def count(self, result: Result, updated: bool) -> None:
        if result is Result.OK:
            self.ok += 1
            self.closed += updated
        elif result is Result.FAIL:
            self.failed += 1
        else:
            self.skipped += 1


class Worker:
    def __init__(
        self,
        url: str,
        project: int,
        *,
        identity_file: str | Path | None = None,
        alias: str = "",
        concurrency: int = 1,
        request_access: bool = True,
        until_empty: bool = False,
        grace: float = 0.0,
        idle_poll: float = 2.0,
        backoff: Backoff = PATIENT,
    ) -> None:
        if concurrency < 1:
            raise errors.UsageError("concurrency must be at least 1")
        self.url, self.project, self.alias = url.rstrip("/"), project, alias
        self.identity_file = Path(identity_file) if identity_file else identity.default_path(url)
        self.concurrency, self.request_access = concurrency, request_access
        self.until_empty, self.grace, self.idle_poll = until_empty, grace, idle_poll
        self.backoff = backoff
        self.summary = Summary()
        self._stopping = asyncio.Event()
        self._not_before = 0.0  # loop time before which no slot asks (429's delay)
        self._held = 0

    def run(self, handler: Handler) -> Summary:
        """Run until stopped by SIGTERM/SIGINT (or the queue is empty, with ``until_empty``)."""
        return asyncio.run(self.serve(handler, signals=True))

    def stop(self) -> None:
        """Take no new task; interrupt handlers after ``grace``; release what is held SKIP."""
        if not self._stopping.is_set():
            log.info("stopping: releasing held tasks as SKIP after %.1f s of grace", self.grace)
            self._stopping.set()

    async def serve(self, handler: Handler, *, signals: bool = False) -> Summary:
        loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        if signals:
            for number in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(number, self.stop)
        run = _as_coroutine(handler)
        async with AsyncClient(self.url, backoff=self.backoff,
                               connections=self.concurrency + 2) as client:  # fmt: skip
            client.worker = await identity.ensure(self.identity_file, client, self.alias)
            log.info("worker %d on project %d, %d at a time (identity %s)", client.worker.id,
                     self.project, self.concurrency, self.identity_file)  # fmt: skip
            if self.request_access:
                await self._ask_access(client)
            await asyncio.gather(*(self._slot(client, run) for _ in range(self.concurrency)))
        return self.summary

    async def _ask_access(self, client: AsyncClient) -> None:
        try:
            await client.request_access(self.project, assign=True)
        except errors.BadRequest as exc:
            if "already" not in exc.message:  # already requested or granted: fine
                raise
        else:
            log.info("asked for assign access to project %d", self.project)

    async def _slot(self, client: AsyncClient, run: Callable[[Task], Awaitable[int | None]]):
        while (task := await self._next(client)) is not None:
            try:
                result, verification = await self._handle(run, task)
                await self._release(client, task, result, verification)
            finally:
                self._held -= 1

    async def _next(self, client: AsyncClient) -> Task | None:
        idle = 0.01
        while not self._stopping.is_set():
            await self._pause(self._not_before - asyncio.get_running_loop().time())
            if self._stopping.is_set():
                break
            try:
                task = await client.get_task(self.project)
            except errors.RateLimited as exc:
                self._not_before = asyncio.get_running_loop().time() + exc.delay
                continue
            except (errors.WorkerPaused, errors.TransportError) as exc:
                log.warning("no task: %s; trying again in %.1f s", exc, self.idle_poll)
                await self._pause(self.idle_poll)
                continue
            if task is not None:
                self._held += 1
                return task
            if self.until_empty and self._held == 0:
                self._stopping.set()
                break
            await self._pause(idle)
            idle = min(self.idle_poll, idle * 2)
        return None

    async def _handle(self, run: Callable[[Task], Awaitable[int | None]], task: Task):
        work = asyncio.ensure_future(run(task))
        stop = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if not work.done():
            await asyncio.wait({work}, timeout=self.grace)
        if not work.done():
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await work
            return Result.SKIP, 0
        try:
            return Result.OK, work.result() or 0
        except Skip:
            return Result.SKIP, 0
        except Exception as exc:
            log.warning("task %d failed: %s", task.id, exc)
            return Result.FAIL, 0

    async def _release(self, client: AsyncClient, task: Task, result: Result, verification: int):
        try:
            updated = await client.release(task.id, result, verification)
        except errors.ClientError as exc:  # the assignment will time out on the server
            log.error("could not release task %d (%s): %s", task.id, result.name, exc)
            return
        self.summary.count(result, updated)

    async def _pause(self, seconds: float) -> None:
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), seconds)


def _as_coroutine(handler: Handler) -> Callable[[Task], Awaitable[int | None]]:
    if inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(type(handler).__call__):
        return handler  # type: ignore[return-value]
    return lambda task: asyncio.to_thread(handler, task)  # type: ignore[arg-type]

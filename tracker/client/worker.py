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
        self._done = asyncio.Event()  # take no new task
        self._interrupt = asyncio.Event()  # and cancel running handlers after the grace
        self._fatal: errors.ClientError | None = None
        self._not_before = 0.0  # loop time before which no slot asks (429's delay)
        self._active = 0  # slots asking for or holding a task

    def run(self, handler: Handler) -> Summary:
        """Run until stopped by SIGTERM/SIGINT (or the queue is empty, with ``until_empty``)."""
        return asyncio.run(self.serve(handler, signals=True))

    def stop(self) -> None:
        """Take no new task; interrupt handlers after ``grace``; release what is held SKIP."""
        if not self._interrupt.is_set():
            log.info("stopping: held tasks are released SKIP after %.1f s of grace", self.grace)
            self._done.set()
            self._interrupt.set()

    async def serve(self, handler: Handler, *, signals: bool = False) -> Summary:
        """The loop on the running event loop (``signals``: stop on SIGTERM and SIGINT)."""
        self._done, self._interrupt = asyncio.Event(), asyncio.Event()
        if signals:
            for number in (signal.SIGTERM, signal.SIGINT):
                asyncio.get_running_loop().add_signal_handler(number, self.stop)
        run = _as_coroutine(handler)
        async with AsyncClient(self.url, backoff=self.backoff,
                               connections=self.concurrency + 2) as client:  # fmt: skip
            client.worker = await identity.ensure(self.identity_file, client, self.alias)
            log.info("worker %d on project %d, %d at a time (identity %s)", client.worker.id,
                     self.project, self.concurrency, self.identity_file)  # fmt: skip
            try:
                if self.request_access:
                    await self._ask_access(client)
                await asyncio.gather(*(self._slot(client, run) for _ in range(self.concurrency)))
                if self._fatal is not None:
                    raise self._fatal
            except errors.WorkerAuthFailed as exc:
                raise errors.UsageError(
                    f"the server refused the worker in {self.identity_file} ({exc.message}); "
                    "delete the file to create a new worker"
                ) from None
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
        """Get, handle, release; the release and the next get are sent together, so a cycle
        waits for one of the server's group commits instead of two."""
        task = await self._next(client)
        while task is not None:
            result, verification = await self._handle(run, task)
            releasing = asyncio.ensure_future(self._release(client, task, result, verification))
            try:
                task = await self._next(client)
            finally:
                await releasing

    async def _next(self, client: AsyncClient) -> Task | None:
        """The next task, or ``None`` once stopping (or empty, with ``until_empty``)."""
        idle = 0.01
        while not self._done.is_set():
            await self._pause(self._not_before - asyncio.get_running_loop().time())
            if self._done.is_set():
                break
            self._active += 1
            task, empty = await self._ask(client)
            if task is not None:
                return task  # still active until it is released
            self._active -= 1
            if empty and self.until_empty and self._active == 0:
                log.info("project %d has no task to give: done", self.project)
                self._done.set()
            elif empty:
                await self._pause(idle)
                idle = min(self.idle_poll, idle * 2)
        return None

    async def _ask(self, client: AsyncClient) -> tuple[Task | None, bool]:
        """A task, or ``None`` and whether the project said it has none to give."""
        try:
            task = await client.get_task(self.project)
            return task, task is None
        except errors.RateLimited as exc:
            self._not_before = asyncio.get_running_loop().time() + exc.delay
        except (errors.WorkerPaused, errors.TransportError, errors.ProtocolError,
                errors.InternalServerError) as exc:  # fmt: skip
            log.warning("no task: %s; asking again in %.1f s", exc, self.idle_poll)
            await self._pause(self.idle_poll)
        except errors.ClientError as exc:  # the project is gone, the identity refused...
            self._fatal = exc
            self.stop()
        return None, False

    async def _handle(self, run: Callable[[Task], Awaitable[int | None]], task: Task):
        work = asyncio.ensure_future(run(task))
        interrupt = asyncio.ensure_future(self._interrupt.wait())
        await asyncio.wait({work, interrupt}, return_when=asyncio.FIRST_COMPLETED)
        interrupt.cancel()
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
        """Release (the client retries connection errors; a proxy's 5xx is retried here)."""
        try:
            await self._send_release(client, task, result, verification)
        finally:
            self._active -= 1  # the task is no longer held

    async def _send_release(
        self, client: AsyncClient, task: Task, result: Result, verification: int
    ) -> None:
        for delay in (*self.backoff.delays(), None):
            try:
                updated = await client.release(task.id, result, verification)
            except (errors.ProtocolError, errors.InternalServerError) as exc:
                if delay is not None:
                    await asyncio.sleep(delay)
                    continue
                error: errors.ClientError = exc
            except errors.ClientError as exc:
                error = exc
            else:
                self.summary.count(result, updated)
                return
            # Not lost: the assignment times out on the server and the task is given again.
            log.error("could not release task %d (%s): %s", task.id, result.name, error)
            return

    async def _pause(self, seconds: float) -> None:
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._done.wait(), seconds)


def _as_coroutine(handler: Handler) -> Callable[[Task], Awaitable[int | None]]:
    if inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(type(handler).__call__):
        return handler  # type: ignore[return-value]
    return lambda task: asyncio.to_thread(handler, task)  # type: ignore[arg-type]

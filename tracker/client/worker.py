"""The worker loop: take tasks, run the handler on each, release them; several at once if asked.

``Worker(url, project).run(handler)`` blocks until SIGTERM or SIGINT (or, with
``until_empty``, until the project has nothing left to give). The handler gets a ``Task`` and
returns the verification hash (``None`` for 0) to release it OK; raising ``Skip`` releases it
SKIP, any other exception FAIL with the exception's type and message as the reason, and
``UsageError`` (the handler cannot run at all) stops the worker. A plain function runs in a
thread; an ``async def`` runs on the loop.

Against a tracker that takes batches (``GET /`` says how many), the loop asks for as many
tasks as it has free slots in one ``/task/bulk_get`` and releases in ``/task/bulk_release``
(:mod:`tracker.client.exchange`); against the original, one request per task. A handler still
running at half its task's deadline keeps it alive (``/task/touch``), again at every half, when
the tracker can. A run of ``max_failures`` FAILs in a row within ``failure_window`` seconds
stops the worker (``TooManyFailures``): a broken handler must not burn the queue. On stop, no
new task is taken; handlers still running after ``grace`` seconds are cancelled and their tasks
released SKIP; releases already queued are sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import signal
import time
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path

from tracker.client import errors, identity
from tracker.client.aio import AsyncClient
from tracker.client.exchange import Done, Exchange, Summary, exchange_for
from tracker.client.reasons import reason_of
from tracker.client.session import Backoff
from tracker.client.shapes import Info, Result, Task

__all__ = ["PATIENT", "Handler", "Skip", "Summary", "TooManyFailures", "Worker"]

log = logging.getLogger("tracker.client.worker")

Handler = Callable[[Task], "int | None | Awaitable[int | None]"]
Run = Callable[[Task], Awaitable[int | None]]

#: Long enough to ride out a server restart: about 4 minutes of connection errors.
PATIENT = Backoff(attempts=60, first=0.05, factor=2.0, cap=5.0)


class Skip(Exception):
    """Raised by a handler: release the task SKIP (as if this worker never took it)."""


class TooManyFailures(errors.ClientError):
    """The handler failed ``max_failures`` times in a row within ``failure_window`` seconds."""


class FailureRun:
    """The FAILs since the last OK, with their times: a run of ``limit`` of them within
    ``window`` seconds trips (``limit`` 0: never)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self.times: deque[float] = deque(maxlen=max(limit, 1))

    def count(self, result: Result, now: float) -> bool:
        if result is Result.OK:
            self.times.clear()
        elif result is Result.FAIL and self.limit:
            self.times.append(now)
            return len(self.times) == self.limit and now - self.times[0] <= self.window
        return False


class Slots:
    """``size`` places for tasks: reserved while asking for tasks, held while one is worked on."""

    def __init__(self, size: int) -> None:
        self.size, self.used = size, 0
        self.running: set[asyncio.Task[None]] = set()
        self._freed = asyncio.Event()

    async def reserve(self, most: int) -> int:
        while self.used >= self.size:
            self._freed.clear()
            await self._freed.wait()
        count = min(most, self.size - self.used)
        self.used += count
        return count

    def free(self, count: int = 1) -> None:
        self.used -= count
        self._freed.set()

    def start(self, work: Awaitable[None]) -> None:
        """Run ``work`` in a slot already reserved; the slot is freed when it ends."""
        task = asyncio.ensure_future(work)
        self.running.add(task)
        task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        self.running.discard(task)
        self.free()


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
        max_failures: int = 20,
        failure_window: float = 10.0,
    ) -> None:
        if concurrency < 1:
            raise errors.UsageError("concurrency must be at least 1")
        if max_failures < 0 or failure_window <= 0:
            raise errors.UsageError("max_failures must be >= 0 and failure_window > 0")
        self.url, self.project, self.alias = url.rstrip("/"), project, alias
        self.identity_file = Path(identity_file) if identity_file else identity.default_path(url)
        self.concurrency, self.request_access = concurrency, request_access
        self.until_empty, self.grace, self.idle_poll = until_empty, grace, idle_poll
        self.backoff = backoff
        self.failures = FailureRun(max_failures, failure_window)
        self.summary = Summary()
        self._done = asyncio.Event()  # take no new task
        self._interrupt = asyncio.Event()  # and cancel running handlers after the grace
        self._handlers: set[asyncio.Future[int | None]] = set()  # the handlers running
        self._fatal: errors.ClientError | None = None
        self._not_before = 0.0  # loop time before which nobody asks (429's delay)

    def run(self, handler: Handler) -> Summary:
        """Run until stopped by SIGTERM/SIGINT (or the queue is empty, with ``until_empty``)."""
        return asyncio.run(self.serve(handler, signals=True))

    def stop(self) -> None:
        """Take no new task; interrupt handlers after ``grace``; release what is held SKIP."""
        if not self._interrupt.is_set():
            log.info("stopping: held tasks are released SKIP after %.1f s of grace", self.grace)
            self._done.set()
            self._interrupt.set()
            asyncio.get_running_loop().call_later(self.grace, self._cancel_handlers)

    def _cancel_handlers(self) -> None:
        for work in list(self._handlers):
            work.cancel()

    async def serve(self, handler: Handler, *, signals: bool = False) -> Summary:
        """The loop on the running event loop (``signals``: stop on SIGTERM and SIGINT)."""
        self._done, self._interrupt = asyncio.Event(), asyncio.Event()
        if signals:
            for number in (signal.SIGTERM, signal.SIGINT):
                asyncio.get_running_loop().add_signal_handler(number, self.stop)
        async with AsyncClient(self.url, backoff=self.backoff,
                               connections=self.concurrency + 2) as client:  # fmt: skip
            client.worker = await identity.ensure(self.identity_file, client, self.alias)
            try:
                await self._work_on(client, _as_coroutine(handler))
                if self._fatal is not None:
                    raise self._fatal
            except errors.WorkerAuthFailed as exc:
                raise errors.UsageError(
                    f"the server refused the worker in {self.identity_file} ({exc.message}); "
                    "delete the file to create a new worker"
                ) from None
        return self.summary

    async def _work_on(self, client: AsyncClient, run: Run) -> None:
        info = await client.info()
        exchange = exchange_for(client, self.project, self.backoff, info.max_batch_size)
        exchange.summary = self.summary
        mode = f"batches of up to {exchange.limit}" if exchange.limit > 1 else "one at a time"
        log.info("worker %d on project %d, %d at a time, tasks taken %s (identity %s)",
                 client.worker.id if client.worker else 0, self.project, self.concurrency,
                 mode, self.identity_file)  # fmt: skip
        if self.request_access:
            await self._ask_access(client)
        slots = Slots(self.concurrency)
        takers = 1 if exchange.limit > 1 else self.concurrency
        await asyncio.gather(*(self._taker(exchange, slots, client, info, run)
                               for _ in range(takers)))  # fmt: skip
        while slots.running:  # handlers finish, or are interrupted after the grace
            await asyncio.wait(set(slots.running))
        await exchange.settle()

    async def _ask_access(self, client: AsyncClient) -> None:
        try:
            await client.request_access(self.project, assign=True)
        except errors.BadRequest as exc:
            if "already" not in exc.message:  # already requested or granted: fine
                raise
        else:
            log.info("asked for assign access to project %d", self.project)

    async def _taker(self, exchange: Exchange, slots: Slots, client: AsyncClient, info: Info,
                     run: Run) -> None:  # fmt: skip
        """Ask for as many tasks as there are free slots (up to the exchange's limit) and start
        each in a slot, until stopping (or, with ``until_empty``, the project is empty)."""
        idle = 0.01
        while not self._done.is_set():
            count = await self._until(slots.reserve(exchange.limit))
            if count is None:
                break
            await self._pause(self._not_before - asyncio.get_running_loop().time())
            released = exchange.released
            tasks, empty = ([], False) if self._done.is_set() else await self._ask(exchange, count)
            slots.free(count - len(tasks))
            for task in tasks:
                slots.start(self._work(exchange, client, info, run, task))
            if tasks:
                idle = 0.01
            elif empty and self._finished(slots, exchange, released):
                log.info("project %d has no task to give: done", self.project)
                self._done.set()
            elif empty:
                await self._until(_first(self._pause(idle), _any_ended(slots)))
                idle = min(self.idle_poll, idle * 2)

    def _finished(self, slots: Slots, exchange: Exchange, released: int) -> bool:
        """``until_empty`` and nothing left that could give a task back: no slot busy, no
        release waiting, and none answered while the empty answer was being decided."""
        quiet = slots.used == 0 and exchange.idle and exchange.released == released
        return self.until_empty and quiet

    async def _ask(self, exchange: Exchange, count: int) -> tuple[list[Task], bool]:
        """Tasks, and whether the project said it has none to give."""
        try:
            tasks = await exchange.take(count)
            return tasks, not tasks
        except errors.RateLimited as exc:
            self._not_before = asyncio.get_running_loop().time() + exc.delay
        except (errors.WorkerPaused, errors.TransportError, errors.ProtocolError,
                errors.InternalServerError) as exc:  # fmt: skip
            log.warning("no task: %s; asking again in %.1f s", exc, self.idle_poll)
            await self._pause(self.idle_poll)
        except errors.ClientError as exc:  # the project is gone, the identity refused...
            self._fail(exc)
        return [], False

    async def _work(self, exchange: Exchange, client: AsyncClient, info: Info, run: Run,
                    task: Task) -> None:  # fmt: skip
        """Handle one task, keeping it alive while it runs, and give it back."""
        keeping = None
        if info.max_keep_alive:  # a touch at every half of the hold, while the handler runs
            hold = task.max_assign_time or info.default_max_assign_time
            keeping = _KeepAlive(client, task, hold) if hold > 0 else None
        try:
            done = await self._handle(run, task)
        finally:
            if keeping is not None:
                keeping.cancel()
        exchange.give(done)
        if self.failures.count(done.result, time.monotonic()):
            self._fail(TooManyFailures(
                f"stopped after {self.failures.limit} failures in a row within "
                f"{self.failures.window:g} s; the last: {_first_line(done.reason)}"
            ))  # fmt: skip

    async def _handle(self, run: Run, task: Task) -> Done:
        if self._interrupt.is_set():  # taken while stopping: given back untouched
            return Done(task, Result.SKIP)
        work = asyncio.ensure_future(run(task))
        self._handlers.add(work)  # ``stop`` cancels it after the grace
        try:
            await asyncio.wait((work,))
        finally:
            self._handlers.discard(work)
        if work.cancelled():
            return Done(task, Result.SKIP)
        try:
            return Done(task, Result.OK, work.result() or 0)
        except Skip:
            return Done(task, Result.SKIP)
        except errors.UsageError as exc:  # the handler cannot run: stop, give the task back
            self._fail(exc)
            return Done(task, Result.SKIP)
        except Exception as exc:
            reason = reason_of(exc)
            log.warning("task %d failed: %s", task.id, _first_line(reason))
            return Done(task, Result.FAIL, reason=reason)

    def _fail(self, error: errors.ClientError) -> None:
        """Stop, and have ``serve`` raise ``error`` once everything held is released."""
        if self._fatal is None:
            self._fatal = error
        self.stop()

    async def _pause(self, seconds: float) -> None:
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._done.wait(), seconds)

    async def _until(self, awaitable: Awaitable[int]) -> int | None:
        """``awaitable``'s result, or None once stopping."""
        waiting = asyncio.ensure_future(awaitable)
        stopping = asyncio.ensure_future(self._done.wait())
        await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if waiting.done():
            return waiting.result()
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        return None


class _KeepAlive:
    """Touch a task at every half of its hold time until cancelled (or no longer held): a
    timer while nothing is due, a request when it is."""

    def __init__(self, client: AsyncClient, task: Task, hold: float) -> None:
        self.client, self.task, self.half = client, task, hold / 2
        self._timer: asyncio.TimerHandle | None = None
        self._touching: asyncio.Task[None] | None = None
        self._arm()

    def _arm(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(self.half, self._due)

    def _due(self) -> None:
        self._touching = asyncio.ensure_future(self._touch())

    async def _touch(self) -> None:
        try:
            await self.client.touch(self.task.id)
        except errors.Conflict as exc:
            log.warning("task %d is no longer ours: %s", self.task.id, exc.message)
            return
        except errors.ClientError as exc:
            log.warning("could not keep task %d alive: %s", self.task.id, exc)
        self._arm()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._touching is not None:
            self._touching.cancel()


async def _first(*awaitables: Awaitable[object]) -> int:
    """Wait for the first of ``awaitables`` to end; cancel the others."""
    futures = [asyncio.ensure_future(a) for a in awaitables]
    try:
        await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for future in futures:
            future.cancel()
    return 0


async def _any_ended(slots: Slots) -> None:
    """Return when a running task ends (one may give a task back); never if none runs."""
    if not slots.running:
        await asyncio.get_running_loop().create_future()  # cancelled by ``_first``
    await asyncio.wait(set(slots.running), return_when=asyncio.FIRST_COMPLETED)


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""


def _as_coroutine(handler: Handler) -> Run:
    if inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(type(handler).__call__):
        return handler  # type: ignore[return-value]
    return lambda task: asyncio.to_thread(handler, task)  # type: ignore[arg-type]

"""How the worker loop takes tasks and sends back what became of them: in batches when the
tracker says it takes them (``GET /``: ``max_batch_size``), else one request per task, as the
original's API has it.

``take(n)`` asks for up to ``n`` tasks; ``give(done)`` hands over a finished task and returns
at once: ``Batches`` queues it and sends everything queued in one ``/task/bulk_release`` as
soon as the one before is answered (so releases batch themselves under load, as the tracker's
group commit does); ``Singles`` sends one ``/task/release`` per task, concurrently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

from tracker.client import errors
from tracker.client.aio import AsyncClient
from tracker.client.session import Backoff
from tracker.client.shapes import Release, Result, Task

log = logging.getLogger("tracker.client.worker")


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


@dataclass(frozen=True)
class Done:
    """A task the worker is finished with, and what to release it with."""

    task: Task
    result: Result
    verification: int = 0
    reason: str = ""

    def release(self) -> Release:
        return Release(self.task.id, self.result, self.verification, self.reason)


@dataclass
class Exchange:
    client: AsyncClient
    project: int
    backoff: Backoff
    summary: Summary = field(default_factory=Summary)
    limit: int = 1  # the most tasks one take asks for
    released: int = 0  # releases answered so far (or given up)
    _sending: set[asyncio.Task[None]] = field(default_factory=set)

    async def take(self, n: int) -> list[Task]:
        raise NotImplementedError

    def give(self, done: Done) -> None:
        raise NotImplementedError

    @property
    def idle(self) -> bool:
        """Nothing given is waiting to be sent or being sent."""
        return not self._sending

    async def settle(self) -> None:
        """Return once everything given so far has been sent (or given up on)."""
        while self._sending:
            await asyncio.wait(set(self._sending))

    def _send(self, sending: Awaitable[None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(sending)
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)  # run a loop turn after it returns
        return task

    async def _retried(self, call: Callable[[], Awaitable[object]], what: str) -> object | None:
        """``call()``; a proxy's 5xx or a garbled answer is retried with the backoff (the
        client already retries connection errors). None once given up: the tasks are not
        lost, their assignments time out on the tracker and they are given again."""
        for delay in (*self.backoff.delays(), None):
            try:
                return await call()
            except (errors.ProtocolError, errors.InternalServerError) as exc:
                if delay is None:
                    log.error("could not release %s: %s", what, exc)
                    return None
                await asyncio.sleep(delay)
            except errors.ClientError as exc:
                log.error("could not release %s: %s", what, exc)
                return None
        return None


class Singles(Exchange):
    """The original's API: ``/task/get`` and ``/task/release``, one task each."""

    async def take(self, n: int) -> list[Task]:
        task = await self.client.get_task(self.project)
        return [] if task is None else [task]

    def give(self, done: Done) -> None:
        self._send(self._release(done))

    async def _release(self, done: Done) -> None:
        def call() -> Awaitable[bool]:
            return self.client.release(done.task.id, done.result, done.verification, done.reason)

        updated = await self._retried(call, f"task {done.task.id} ({done.result.name})")
        if updated is not None:
            self.summary.count(done.result, bool(updated))
        self.released += 1


class Batches(Exchange):
    """The tracker's batches: ``/task/bulk_get`` and ``/task/bulk_release``."""

    def __init__(self, client: AsyncClient, project: int, backoff: Backoff, limit: int) -> None:
        super().__init__(client, project, backoff, limit=limit)
        self._queued: list[Done] = []
        self._sender: asyncio.Task[None] | None = None  # sends until nothing is queued

    async def take(self, n: int) -> list[Task]:
        return await self.client.bulk_get(self.project, min(n, self.limit))

    def give(self, done: Done) -> None:
        self._queued.append(done)
        # ``done()``, not ``_sending``: a sender that has returned sends nothing more, though
        # it stays in ``_sending`` until its done callback runs, a loop turn later
        if self._sender is None or self._sender.done():
            self._sender = self._send(self._release_queued())

    async def _release_queued(self) -> None:
        while self._queued:
            batch, self._queued = self._queued[: self.limit], self._queued[self.limit :]
            answers = await self._retried(partial(self.client.bulk_release,
                                                  [done.release() for done in batch]),
                                          f"{len(batch)} tasks")  # fmt: skip
            if isinstance(answers, list):
                updated = {answer.task_id: answer.updated for answer in answers}
                for done in batch:
                    self.summary.count(done.result, updated.get(done.task.id, False))
            self.released += len(batch)


def exchange_for(client: AsyncClient, project: int, backoff: Backoff,
                 max_batch_size: int) -> Exchange:  # fmt: skip
    """Batches when the tracker takes them, else single requests."""
    if max_batch_size > 0:
        return Batches(client, project, backoff, max_batch_size)
    return Singles(client, project, backoff)

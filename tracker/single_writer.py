"""Decide at once: the write strategy of a tracker that is its log's only writer (SQLite).

A command is decided against the current read models, its events are applied to them at once
(so the next decision sees them) and queued for group commit
(:class:`~tracker.events.group_commit.GroupCommitter`); the caller gets its answer only once
those events are durable. Deciding and applying happen without an ``await`` in between, so each
command is atomic, and no other writer can take the positions they were given.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from tracker.background import watch
from tracker.commands.base import Command
from tracker.commands.decide import decide
from tracker.events.base import Event
from tracker.events.group_commit import BatchSizes, GroupCommitter, until_durable
from tracker.events.store import EventStore
from tracker.projections.state import State
from tracker.service import Clock, Failed, Reply, T


class SingleWriter:
    def __init__(self, store: EventStore, state: State, clock: Clock) -> None:
        self.state = state
        self._clock = clock
        self._group = GroupCommitter(store, state.position)
        self._loop: asyncio.Task[None] | None = None

    @property
    def durable_position(self) -> int:
        return self._group.durable_position

    @property
    def batch_sizes(self) -> BatchSizes:
        return self._group.batch_sizes

    async def start(self, failed: Failed) -> None:
        self._loop = asyncio.create_task(self._group.run(), name="group-commit")
        watch(self._loop, failed)

    async def close(self) -> None:
        self._group.close()
        if self._loop is not None:
            with contextlib.suppress(Exception):
                await self._loop  # a failed writer already logged why

    async def execute(self, command: Command, reply: Reply[T] | None = None) -> T | list[Event]:
        committer = self._group
        committer.check()
        state = self.state
        events = decide(state, command, self._clock())
        answer: Any
        if not events:
            answer = reply(state, events) if reply else events
            await committer.settle()  # the answer was read from state: wait until durable
            return answer  # type: ignore[no-any-return]
        apply = state.apply
        for event in events:
            apply(event)
        durable = committer.commit(events)  # queued before anything else can fail
        answer = reply(state, events) if reply else events
        await durable
        return answer  # type: ignore[no-any-return]

    async def caught_up(self) -> None:
        """At once: no other writer appends to this log."""

    async def durable(self, position: int) -> None:
        await until_durable(self._group, position)

    def leads(self) -> bool:
        return True  # the only node

    def trouble(self) -> str:
        return ""  # a failed commit stops the tracker (``failed``)

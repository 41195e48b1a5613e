"""The tracker service: decide, apply, make durable. The short async layer around pure code.

``execute`` is the one way state changes: the command is decided against the current state,
its events are applied to the read models at once (so the next decision sees them) and queued
for group commit, and the caller gets its answer only once those events are durable.
Deciding and applying happen without an ``await`` in between, so each command is atomic.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from tracker.audit.startup import replay  # checks each row it replays
from tracker.commands.base import Command
from tracker.commands.decide import decide
from tracker.commands.tasks import ExpireAssignment
from tracker.events.base import Event
from tracker.events.group_commit import GroupCommitter
from tracker.events.store import EventStore
from tracker.projections.state import State

log = logging.getLogger(__name__)

T = TypeVar("T")
Reply = Callable[[State, list[Event]], T]
Clock = Callable[[], float]


class Tracker:
    def __init__(self, store: EventStore, state: State, clock: Clock = time.time) -> None:
        self.store = store
        self.state = state
        self.clock = clock
        self.committer = GroupCommitter(store, state.position)

    @classmethod
    async def open(cls, store: EventStore, clock: Clock = time.time,
                   state: State | None = None) -> Tracker:  # fmt: skip
        """Rebuild the read models from the log: ``state`` holds empty, configured ones (or
        ones loaded from a checkpoint); the log after ``state.position`` is replayed."""
        state = State() if state is None else state
        started, start = time.perf_counter(), state.position  # past a checkpoint, if loaded
        await replay(store, state, start)
        elapsed, replayed = time.perf_counter() - started, state.position - start
        log.info(
            "replayed %d events in %.3f s (%.0f events/s)", replayed, elapsed,
            replayed / elapsed if elapsed else 0.0,
            extra={"action": "replayed", "events": replayed, "seconds": elapsed},
        )  # fmt: skip
        return cls(store, state, clock)

    async def execute(self, command: Command, reply: Reply[T] | None = None) -> T | list[Event]:
        """Decide ``command``, apply its events, and return once they are durable.

        ``reply`` builds the answer from the state right after this command's events were
        applied, before later commands change it.
        """
        self.committer.check()
        events = decide(self.state, command, self.clock())
        answer: Any
        if not events:
            answer = reply(self.state, events) if reply else events
            await self.committer.settle()  # the answer was read from state: wait until durable
            return answer  # type: ignore[no-any-return]
        apply = self.state.apply
        for event in events:
            apply(event)
        durable = self.committer.commit(events)  # queued before anything else can fail
        answer = reply(self.state, events) if reply else events
        await durable
        return answer  # type: ignore[no-any-return]

    async def expire_due(self) -> int:
        """Take back every assignment whose deadline has passed. Safe to run at any time."""
        due = self.state.tasks.due(self.clock())
        commands = [ExpireAssignment(task_id=task, deadline=deadline) for task, deadline in due]
        results = await asyncio.gather(*(self.execute(command) for command in commands))
        return sum(len(events) for events in results)  # type: ignore[arg-type]

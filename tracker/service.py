"""The tracker service: decide, apply, make durable. The short async layer around pure code.

``execute`` is the one way state changes, with one of two write strategies:

- **decide at once** (the tracker is the log's only writer: SQLite): the command is decided
  against the current state, its events are applied to the read models at once (so the next
  decision sees them) and queued for group commit, and the caller gets its answer only once
  those events are durable. Deciding and applying happen without an ``await`` in between, so
  each command is atomic.
- **decide in the turn** (several nodes share the log: PostgreSQL): the command is queued and
  decided inside the writer's locked turn at the log, against read models that have caught up
  with every node's events (:mod:`tracker.cluster.turns`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from tracker.audit.startup import replay  # checks each row it replays
from tracker.cluster.follower import HeadReads
from tracker.cluster.turns import TurnCommitter
from tracker.commands.base import Command
from tracker.commands.decide import decide
from tracker.commands.tasks import ExpireAssignment
from tracker.events.base import Event
from tracker.events.group_commit import GroupCommitter
from tracker.events.postgres import PostgresEventStore
from tracker.events.store import EventStore
from tracker.projections.state import State

log = logging.getLogger(__name__)

T = TypeVar("T")
Reply = Callable[[State, list[Event]], T]
Clock = Callable[[], float]


class Tracker:
    committer: GroupCommitter | TurnCommitter

    def __init__(self, store: EventStore, state: State, clock: Clock = time.time) -> None:
        self.store = store
        self.state = state
        self.clock = clock
        #: Set on a shared log: commands are decided in the writer's turn.
        self.turns: TurnCommitter | None = None
        self.reads: HeadReads | None = None
        self._group: GroupCommitter | None = None  # set when deciding at once
        self.cluster: Any = None  # tracker.cluster.node.ClusterNode, while serving a shared log
        if isinstance(store, PostgresEventStore):
            self.committer = self.turns = TurnCommitter(store, state, clock)
            self.reads = HeadReads(store, self.turns)
        else:
            self.committer = self._group = GroupCommitter(store, state.position)

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
        committer = self._group
        if committer is None:
            return await self.turns.execute(command, reply)  # type: ignore[union-attr,no-any-return]
        committer.check()
        events = decide(self.state, command, self.clock())
        answer: Any
        if not events:
            answer = reply(self.state, events) if reply else events
            await committer.settle()  # the answer was read from state: wait until durable
            return answer  # type: ignore[no-any-return]
        apply = self.state.apply
        for event in events:
            apply(event)
        durable = committer.commit(events)  # queued before anything else can fail
        answer = reply(self.state, events) if reply else events
        await durable
        return answer  # type: ignore[no-any-return]

    async def caught_up(self) -> None:
        """Return once the read models hold every event committed before this call: on a
        shared log, what other nodes appended (one head query); at once on a log of our own."""
        if self.reads is not None:
            await self.reads.caught_up()

    async def expire_due(self) -> int:
        """Take back every assignment whose deadline has passed. Safe to run at any time."""
        due = self.state.tasks.due(self.clock())
        commands = [ExpireAssignment(task_id=task, deadline=deadline) for task, deadline in due]
        results = await asyncio.gather(*(self.execute(command) for command in commands))
        return sum(len(events) for events in results)  # type: ignore[arg-type]

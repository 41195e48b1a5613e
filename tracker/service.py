"""The tracker service: the read models, and commands executed durably against them.

:class:`Tracker` is what routes, pages and the scheduler talk to: ``state`` (the read models),
``execute`` (decide a command, apply its events, answer once they are durable) and
``caught_up`` (before a read: hold what the log committed before it). How a command becomes
durable is a :class:`Writer`'s business, chosen at the composition root
(:mod:`tracker.bootstrap`); there are two:

- **decide at once** (:class:`tracker.single_writer.SingleWriter`; the tracker is the log's only
  writer: SQLite): the command is decided against the current read models, its events applied
  at once and group-committed; the caller hears back once they are durable.
- **decide in the turn** (:class:`tracker.cluster.writer.ClusterWriter`; several nodes share a
  PostgreSQL log): the command is queued and decided inside the writer's turn at the log,
  against read models caught up with every node's events.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from tracker.commands.base import Command
from tracker.commands.managers import EndExpiredSessions
from tracker.commands.tasks import ExpireAssignment
from tracker.events.base import Event
from tracker.events.group_commit import BatchSizes
from tracker.events.store import EventStore
from tracker.projections.state import State

T = TypeVar("T")
Reply = Callable[[State, list[Event]], T]
Clock = Callable[[], float]
#: Told why, once, when the log failed and the tracker must stop (``tracker serve`` exits).
Failed = Callable[[str], None]


class Writer(Protocol):
    """How a tracker makes commands durable (see the module's docstring)."""

    @property
    def state(self) -> State:
        """The read models, as of every event this writer applied."""
        ...

    @property
    def durable_position(self) -> int:
        """The log's position up to which the read models' events are durable."""
        ...

    @property
    def batch_sizes(self) -> BatchSizes: ...

    async def start(self, failed: Failed) -> None:
        """Start the background work (the writer loop); ``failed`` hears if the log fails."""
        ...

    async def close(self) -> None:
        """Stop taking work; return once everything queued is answered."""
        ...

    async def execute(self, command: Command, reply: Reply[T] | None = None) -> T | list[Event]:
        """Decide ``command``, apply its events, and return once they are durable: ``reply``'s
        answer, built from the state right after them, or the events."""
        ...

    async def caught_up(self) -> None:
        """Return once the read models hold every event committed before this call."""
        ...

    async def durable(self, position: int) -> None:
        """Return once every event up to ``position`` is durable."""
        ...

    def leads(self) -> bool:
        """Whether this node runs the tracker's own periodic commands now (one node does)."""
        ...

    def trouble(self) -> str:
        """Why the tracker cannot serve the log's state now, in one line ('' when it can): a
        cluster node that cannot reach the log, is settling a failed turn, or restarts a task."""
        ...


class Tracker:
    def __init__(self, store: EventStore, writer: Writer, clock: Clock = time.time) -> None:
        self.store = store
        self.writer = writer
        self.clock = clock

    @property
    def state(self) -> State:
        return self.writer.state

    async def execute(self, command: Command, reply: Reply[T] | None = None) -> T | list[Event]:
        """Decide ``command``, apply its events, and return once they are durable.

        ``reply`` builds the answer from the state right after this command's events were
        applied, before later commands change it.
        """
        return await self.writer.execute(command, reply)

    async def caught_up(self) -> None:
        """Return once the read models hold every event committed before this call: at once on
        a log of our own; on a shared log, once what other nodes appended is folded."""
        await self.writer.caught_up()

    async def durable(self, position: int) -> None:
        """Return once every event up to ``position`` is durable."""
        await self.writer.durable(position)

    async def start(self, failed: Failed) -> None:
        await self.writer.start(failed)

    async def close(self) -> None:
        """Answer everything queued, then close the log."""
        try:
            await self.writer.close()
        finally:
            await self.store.close()

    async def expire_due(self) -> int:
        """Take back every assignment whose deadline has passed. Safe to run at any time."""
        due = self.state.tasks.due(self.clock())
        commands = [ExpireAssignment(task_id=task, deadline=deadline) for task, deadline in due]
        results = await asyncio.gather(*(self.execute(command) for command in commands))
        return sum(len(events) for events in results)  # type: ignore[arg-type]

    async def end_expired_sessions(self) -> int:
        """End every session whose expiry has passed; the number ended.

        An expired session is refused from the moment it expires (``tracker.http.auth``); this
        only forgets it, with a ``SessionEnded`` event whose actor is ``system``, so the read
        model does not grow with every login ever made. Running it twice, or late, is harmless.
        """
        events = await self.execute(EndExpiredSessions())
        return len(events)  # type: ignore[arg-type]

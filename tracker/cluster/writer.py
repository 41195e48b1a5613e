"""Decide in the turn: the write strategy of a node that shares its PostgreSQL log with others.

A :class:`ClusterWriter` is the node's part of the cluster, behind the same
:class:`~tracker.service.Writer` interface as a single tracker's: the writer loop that takes
turns at the log (:mod:`tracker.cluster.turns`), the follower that hears other nodes' appends
and the head reads that let a read catch up first (:mod:`tracker.cluster.follower`), and the
lease on the scheduler's jobs (:mod:`tracker.cluster.leader`).

Each of its background tasks is kept (:class:`tracker.background.Kept`): a death is logged in
one line, shown on ``/readyz`` (``trouble``) and the task started again; only a log that does
not continue the read models stops the node. A sweep every second answers 503 to any caller
that waited longer than ``cluster.statement_timeout``.
"""

from __future__ import annotations

import asyncio

from tracker.background import Kept
from tracker.cluster.follower import Follower, HeadReads
from tracker.cluster.leader import Leadership
from tracker.cluster.settling import LogInconsistent
from tracker.cluster.turns import Rebuild, TurnCommitter
from tracker.commands.base import Command
from tracker.config import Cluster
from tracker.events.base import Event
from tracker.events.group_commit import BatchSizes
from tracker.events.postgres import PostgresEventStore
from tracker.projections.state import State
from tracker.service import Clock, Failed, Reply, T
from tracker.startup.replay import DamagedLog


class ClusterWriter:
    def __init__(self, store: PostgresEventStore, state: State, clock: Clock, rebuild: Rebuild,
                 cluster: Cluster | None = None) -> None:  # fmt: skip
        cluster = cluster or Cluster()
        self.turns = TurnCommitter(store, state, clock, rebuild, cluster.statement_timeout)
        self.reads = HeadReads(store, self.turns)
        self.follower = Follower(store, self.turns)
        self.leadership = Leadership(store, cluster.lease)
        self._loop: Kept | None = None
        self._deadlines = Kept("deadlines", self._answer_overdue)

    @property
    def state(self) -> State:
        return self.turns.state

    @property
    def durable_position(self) -> int:
        return self.turns.durable_position

    @property
    def batch_sizes(self) -> BatchSizes:
        return self.turns.batch_sizes

    async def start(self, failed: Failed) -> None:
        self._loop = Kept("writer loop", self.turns.run, failed=failed,
                          fatal=(LogInconsistent, DamagedLog))  # fmt: skip
        self._loop.start()
        self._deadlines.start()
        await self.follower.start()
        await self.leadership.start()

    async def close(self) -> None:
        await self.leadership.close()
        await self.follower.close()
        self.turns.close()
        if self._loop is not None:
            await self._loop.ended()
        await self._deadlines.stop()

    async def execute(self, command: Command, reply: Reply[T] | None = None) -> T | list[Event]:
        return await self.turns.execute(command, reply)  # type: ignore[no-any-return]

    async def caught_up(self) -> None:
        await self.reads.caught_up()

    async def durable(self, position: int) -> None:
        await self.turns.durable(position)

    def leads(self) -> bool:
        return self.leadership.leads()

    async def _answer_overdue(self) -> None:
        while True:
            await asyncio.sleep(1.0)  # the sweep's pace, not a wait for a condition
            self.turns.overdue()

    def trouble(self) -> str:
        tasks = (self._loop, self._deadlines, self.follower.task, self.leadership.task)
        found = [self.turns.trouble, *(task.trouble for task in tasks if task is not None)]
        return "; ".join(reason for reason in found if reason)

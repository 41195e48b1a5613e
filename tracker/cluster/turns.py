"""Decide inside the commit turn: the write strategy of a tracker that shares its log.

On SQLite the tracker is the log's only writer, so :class:`~tracker.service.Tracker` decides
and applies each command at once and the group committer appends later, at a position that
cannot be taken meanwhile. When several nodes share one PostgreSQL log, a decision made
against read models that missed another node's events could be wrong (a task handed out
twice) and its append refused, with the events already in this node's read models. So here
commands are only *queued*; one writer loop takes turns at the log, each turn:

1. takes the log's advisory lock, in a transaction (:meth:`PostgresEventStore.turn`);
2. folds the rows other nodes appended since this node last looked (catching up);
3. decides every queued command, in arrival order, against that caught-up state, applying
   each one's events before the next is decided, and builds each answer;
4. inserts all the events and commits, which releases the lock;
5. answers: a caller hears back only once its events are durable.

Every decision is made under the lock against the whole log, so the tracker-wide rules (no
task held twice, unique hashes and strings, distinct verifiers, first manager is admin) hold
across nodes, and in normal operation no append is ever refused.

A turn that fails (its session ended because the node froze past ``cluster.turn_timeout``, the
connection lost, PostgreSQL restarting, the primary key refusing a row) leaves read models
that may hold events the log does not. Its outcome is then *settled by reading the log*
(:mod:`tracker.cluster.settling`): if the row at the turn's last position carries the hash the
turn computed, the hash chain proves every row of the turn committed and its callers get their
answers; if not, the read models are rebuilt in-process from the checkpoint and the log, and
its callers get 503. Until it is settled the node answers 503 to everything that needs the
log, and tries again with a growing pause. Only a log that does not continue the read models
(:class:`LogInconsistent`, or a damaged log found by the rebuild) stops the node.

Between turns the loop folds what other nodes appended (woken by NOTIFY, see
:mod:`tracker.cluster.follower`, or asked by a read that must not see older state than the
log's head) without taking the lock: positions commit in order, so reading by position is safe.
A notification that comes while turns run back to back (under load) waits ``LINGER`` for the
next turn, which folds those rows anyway, instead of reading them twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tracker.cluster.outages import Outage, describe
from tracker.cluster.settling import LogInconsistent, Settlement
from tracker.commands.base import Command
from tracker.commands.decide import decide
from tracker.errors import StorageUnavailable
from tracker.events.base import Event
from tracker.events.codec import decode
from tracker.events.group_commit import BatchSizes
from tracker.events.postgres import UNREACHABLE, PostgresEventStore, Turn
from tracker.events.store import StoredRow
from tracker.projections.state import State

log = logging.getLogger(__name__)

Reply = Callable[[State, list[Event]], Any]
#: Seconds after a turn during which another node's notification waits for the next turn (a
#: commit is announced to every node; under load the next turn folds it anyway).
LINGER = 0.005
Rebuild = Callable[[], Awaitable[State]]


class _Queued:
    __slots__ = ("command", "reply", "future", "since")

    def __init__(self, command: Command, reply: Reply | None, future: asyncio.Future[Any]) -> None:
        self.command, self.reply, self.future = command, reply, future
        self.since = time.monotonic()


class TurnCommitter:
    """The writer loop of a node on a shared log (the counterpart of ``GroupCommitter``).

    ``wait`` bounds every wait a caller makes on it (a queued command, a read catching up):
    past it the caller gets ``StorageUnavailable`` (503), never an endless wait. The writer
    calls :meth:`overdue` every second for that (one sweep costs less than a timer per call).
    """

    def __init__(self, store: PostgresEventStore, state: State, clock: Callable[[], float],
                 rebuild: Rebuild, wait: float = 5.0) -> None:  # fmt: skip
        self._store = store
        self._state = state
        self._clock = clock
        self._wait = wait
        self._durable = state.position
        self._queue: list[_Queued] = []
        self._in_turn: list[_Queued] = []
        self._reach: list[tuple[int, asyncio.Future[None], float]] = []  # (position, waiter, since)
        self._behind = False  # another node appended (NOTIFY) or a reader asked to catch up
        self._wakeup = asyncio.Event()
        self._closing = False
        self._last_turn = 0.0  # monotonic
        self._settlement = Settlement(store, rebuild)
        self._reading = Outage("read the log to catch up")
        self.failure: BaseException | None = None
        self.batch_sizes = BatchSizes()
        self.caught_up_events = 0  # folded from other nodes

    @property
    def state(self) -> State:
        return self._state

    @property
    def durable_position(self) -> int:
        return self._durable

    @property
    def rebuilds(self) -> int:
        return self._settlement.rebuilds

    @property
    def trouble(self) -> str:
        """Why this node cannot serve the log's state now ('' when it can)."""
        return self._settlement.trouble

    def check(self) -> None:
        if self.failure is not None or self._closing or self._settlement.trouble:
            raise StorageUnavailable()

    async def execute(self, command: Command, reply: Reply | None) -> Any:
        """Queue ``command`` for the next turn; its answer (or refusal) once durable."""
        self.check()
        item = _Queued(command, reply, asyncio.get_running_loop().create_future())
        self._queue.append(item)
        self._wakeup.set()
        return await item.future

    def behind(self) -> None:
        """The log moved on (a NOTIFY from another node): fold what it holds, soon."""
        self._behind = True
        self._wakeup.set()

    async def reach(self, position: int) -> None:
        """Return once the read models include the log up to ``position``."""
        if self._state.position >= position:
            return
        self.check()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._reach.append((position, future, time.monotonic()))
        self.behind()
        await future

    def overdue(self) -> None:
        """503 for every caller that waited longer than ``wait``: a queued command (dropped:
        it will not be decided), a command whose turn is not settled yet (its outcome then
        unknown to the caller), a read still catching up."""
        since = time.monotonic() - self._wait
        self._refuse([item for item in (*self._queue, *self._in_turn) if item.since < since])
        self._queue = [item for item in self._queue if item.since >= since]
        for _, future, asked in self._reach:
            if asked < since and not future.done():
                future.set_exception(StorageUnavailable())
        self._reach = [waiter for waiter in self._reach if waiter[2] >= since]

    async def durable(self, position: int) -> None:
        """Return once this node's events up to ``position`` are in the log;
        ``StorageUnavailable`` if they never will be (the read models were rebuilt without
        them) or the log cannot be reached."""
        rebuilds = self.rebuilds
        while self._durable < position:
            if self.failure is not None or not self._in_turn:
                raise StorageUnavailable()
            await asyncio.wait([item.future for item in self._in_turn])
            if self.rebuilds != rebuilds:
                raise StorageUnavailable()

    def close(self) -> None:
        """Stop taking work; ``run`` returns once everything queued is answered."""
        self._closing = True
        self._wakeup.set()

    async def run(self) -> None:
        """The writer loop: a turn while commands wait, else catch up when behind (at once
        for a reader that waits; for another node's notification, once turns pause)."""
        self._wakeup.set()  # after a restart, look at once
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                if self._queue:
                    await self._turn()
                elif self._reach or self._behind and self._turns_paused():
                    await self._catch_up()
                self._answer_readers()
                if self._closing and not self._queue:
                    self._refuse_readers()
                    return
        except BaseException:
            self._refuse(self._queue)
            self._refuse_readers()
            raise

    def _turns_paused(self) -> bool:
        """Whether no turn started for ``LINGER`` seconds (else look again then): while turns
        run back to back, the next one folds what another node announced, and a catch-up
        before it would read those rows twice."""
        wait = self._last_turn + LINGER - time.monotonic()
        if wait <= 0:
            return True
        asyncio.get_running_loop().call_later(wait, self._wakeup.set)
        return False

    async def _turn(self) -> None:
        self._last_turn = time.monotonic()
        queued, self._queue = self._queue, []
        self._in_turn = queued
        self._behind = False
        turn: Turn | None = None
        outcomes: list[Any] | None = None
        try:
            async with self._store.turn(self._state.position) as turn:
                outcomes = await self._decide_in(turn, queued)
        except LogInconsistent:
            self._refuse(queued)
            raise
        except Exception as exc:  # a lost session, a timeout, a refused row, or a bug
            if not await self._settle(queued, turn, exc):
                outcomes = None
        finally:
            self._in_turn = []
        if outcomes is None:
            self._refuse(queued)
            return
        self._durable = self._state.position
        for item, outcome in zip(queued, outcomes, strict=True):
            if item.future.done():  # answered 503 meanwhile (overdue)
                continue
            if isinstance(outcome, BaseException):
                item.future.set_exception(outcome)
            else:
                item.future.set_result(outcome)

    async def _decide_in(self, turn: Turn, queued: list[_Queued]) -> list[Any]:
        """Catch up, decide every queued command, append their events (they commit when the
        turn ends): each command's answer, or why it was refused."""
        state, outcomes, events = self._state, [], []
        self._fold(turn.rows)
        if state.position != turn.head:
            raise LogInconsistent(f"read models at {state.position}, the log at {turn.head}")
        self._durable = state.position  # other nodes' rows: committed
        now = self._clock()
        for item in queued:
            decided = _decide(state, item, now)
            if isinstance(decided, list):
                events.extend(decided)
                outcomes.append(_reply(state, item, decided))
            else:
                outcomes.append(decided)
        if events:
            await turn.append(events)
            self.batch_sizes.add(len(events))
        return outcomes

    async def _settle(self, queued: list[_Queued], turn: Turn | None, exc: Exception) -> bool:
        """The turn failed: whether its events are in the log after all, found out by reading
        it. If they are not, the read models are rebuilt from the checkpoint and the log."""
        log.warning("log turn failed: %s", describe(exc), extra={"action": "turn_failed"})
        if self._state.position == self._durable:  # nothing decided was applied
            return False
        tried = turn is not None and turn.head == self._state.position  # its rows were sent
        proof = (turn.head, turn.head_hash) if turn is not None and tried else None
        self._refuse_readers()
        settled = await self._settlement.settle(self._state, proof, lambda: self._closing)
        if settled is None:  # closing before it could be settled: the node stops anyway
            self.failure = StorageUnavailable()
            return False
        committed, self._state = settled is self._state, settled
        self._durable = settled.position
        return committed

    async def _catch_up(self) -> None:
        """Fold what other nodes committed. A failed read leaves the read models as they were
        (a prefix of the log): the readers waiting are refused, and the next look retries."""
        self._behind = False
        try:
            async for rows in self._store.read(self._state.position):
                self._fold(rows)
        except UNREACHABLE as exc:
            self._reading.failed(exc)
            self._refuse_readers()
        else:
            self._reading.worked()
        finally:
            self._durable = self._state.position

    def _refuse(self, queued: list[_Queued]) -> None:
        for item in queued:
            if not item.future.done():
                item.future.set_exception(StorageUnavailable())
        if queued is self._queue:
            self._queue = []

    def _refuse_readers(self) -> None:
        for _, future, _ in self._reach:
            if not future.done():
                future.set_exception(StorageUnavailable())
        self._reach = []

    def _fold(self, rows: list[StoredRow]) -> None:
        apply, state = self._state.apply, self._state
        for row in rows:
            if row.position != state.position + 1:
                raise LogInconsistent(
                    f"the read models are at {state.position}, the log's next row at {row.position}"
                )
            apply(decode(row.data))
        self.caught_up_events += len(rows)

    def _answer_readers(self) -> None:
        if not self._reach:
            return
        position, still = self._state.position, []
        for waiter in self._reach:
            if waiter[0] <= position:
                if not waiter[1].done():
                    waiter[1].set_result(None)
            else:
                still.append(waiter)
        self._reach = still
        if still:
            self.behind()  # the NOTIFY that woke a reader may come after its query: look again


def consume(future: asyncio.Future[Any]) -> None:
    """Retrieve ``future``'s outcome, so that a failure nobody awaits is not logged as lost."""
    if not future.cancelled():
        future.exception()


def _decide(state: State, item: _Queued, now: float) -> list[Event] | BaseException:
    """The command's events, applied to ``state``; or why it was refused (nothing applied)."""
    try:
        events = decide(state, item.command, now)
    except Exception as exc:  # decide is pure: a refusal (or a bug) changes nothing
        return exc
    apply = state.apply
    for event in events:
        apply(event)
    return events


def _reply(state: State, item: _Queued, events: list[Event]) -> Any:
    if item.reply is None:
        return events
    try:
        return item.reply(state, events)
    except Exception as exc:  # the events stand (they are applied); the caller hears of the bug
        return exc

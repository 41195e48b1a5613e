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
across nodes, and in normal operation no append is ever refused. The primary key still refuses
one as a safety net; then, as when a commit fails, the read models hold events the log does
not, so the writer fails every waiter, refuses further work, and the node must be restarted.

Between turns the loop folds what other nodes appended (woken by NOTIFY, see
:mod:`tracker.cluster.follower`, or asked by a read that must not see older state than the
log's head) without taking the lock: positions commit in order, so reading by position is safe.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import asyncpg

from tracker.commands.base import Command
from tracker.commands.decide import decide
from tracker.errors import StorageUnavailable
from tracker.events.base import Event
from tracker.events.codec import decode
from tracker.events.group_commit import BatchSizes
from tracker.events.postgres import PostgresEventStore
from tracker.events.store import StoredRow
from tracker.projections.state import State

log = logging.getLogger(__name__)

Reply = Callable[[State, list[Event]], Any]


class _Queued:
    __slots__ = ("command", "reply", "future")

    def __init__(self, command: Command, reply: Reply | None, future: asyncio.Future[Any]) -> None:
        self.command, self.reply, self.future = command, reply, future


class TurnCommitter:
    """The writer loop of a node on a shared log (the counterpart of ``GroupCommitter``)."""

    def __init__(self, store: PostgresEventStore, state: State,
                 clock: Callable[[], float]) -> None:  # fmt: skip
        self._store = store
        self._state = state
        self._clock = clock
        self._durable = state.position
        self._queue: list[_Queued] = []
        self._in_turn: list[asyncio.Future[Any]] = []
        self._reach: list[tuple[int, asyncio.Future[None]]] = []  # (position, waiter)
        self._behind = False  # another node appended (NOTIFY) or a reader asked to catch up
        self._wakeup = asyncio.Event()
        self._closing = False
        self.failure: BaseException | None = None
        self.batch_sizes = BatchSizes()
        self.caught_up_events = 0  # folded from other nodes

    @property
    def state(self) -> State:
        return self._state

    @property
    def durable_position(self) -> int:
        return self._durable

    def check(self) -> None:
        if self.failure is not None or self._closing:
            raise StorageUnavailable()

    async def execute(self, command: Command, reply: Reply | None) -> Any:
        """Queue ``command`` for the next turn; its answer (or refusal) once durable."""
        self.check()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append(_Queued(command, reply, future))
        self._wakeup.set()
        return await future

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
        self._reach.append((position, future))
        self.behind()
        await future

    async def settle(self) -> None:
        """Return once everything queued or in a turn so far is durable (or refused)."""
        pending = [*self._in_turn, *(queued.future for queued in self._queue)]
        if pending:
            await asyncio.wait(pending)
        if self.failure is not None:
            raise StorageUnavailable()

    def close(self) -> None:
        """Stop taking work; ``run`` returns once everything queued is answered."""
        self._closing = True
        self._wakeup.set()

    async def run(self) -> None:
        """The writer loop: a turn while commands wait, else catch up when behind."""
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                if self._queue:
                    await self._turn()
                elif self._behind:
                    await self._catch_up()
                self._answer_readers()
                if self._closing and not self._queue:
                    self._refuse_readers()
                    return
        except BaseException as exc:
            self._fail(exc)
            raise

    async def _turn(self) -> None:
        queued, self._queue = self._queue, []
        self._in_turn = [item.future for item in queued]
        self._behind = False
        state, outcomes, events = self._state, [], []
        try:
            async with self._store.turn() as turn:
                self._fold(await turn.rows_after(state.position))
                if state.position != turn.head:
                    raise RuntimeError(f"read models at {state.position}, log at {turn.head}")
                for item in queued:
                    decided = _decide(state, item, self._clock())
                    if isinstance(decided, list):
                        events.extend(decided)
                        outcomes.append(_reply(state, item, decided))
                    else:
                        outcomes.append(decided)
                if await turn.append(events) != state.position:
                    raise RuntimeError("the turn appended other positions than it applied")
        except BaseException as exc:
            log.critical("log turn failed; refusing further work", exc_info=True,
                         extra={"action": "log_append_failed"})  # fmt: skip
            self._fail(exc)
            raise
        finally:
            self._in_turn = []
        self._durable = state.position
        if events:
            self.batch_sizes.add(len(events))
        for item, outcome in zip(queued, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                item.future.set_exception(outcome)
            else:
                item.future.set_result(outcome)

    async def _catch_up(self) -> None:
        """Fold what other nodes committed. A failed read leaves the read models as they were
        (a prefix of the log): the readers waiting are refused, and the next look retries."""
        self._behind = False
        try:
            async for rows in self._store.read(self._state.position):
                self._fold(rows)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("cannot read the log to catch up: %r", exc,
                        extra={"action": "catch_up_failed"})  # fmt: skip
            self._refuse_readers()
        finally:
            self._durable = self._state.position

    def _refuse_readers(self) -> None:
        for _, future in self._reach:
            if not future.done():
                future.set_exception(StorageUnavailable())
        self._reach = []

    def _fold(self, rows: list[StoredRow]) -> None:
        apply, state = self._state.apply, self._state
        for row in rows:
            if row.position != state.position + 1:
                raise RuntimeError(f"read models at {state.position}, next row {row.position}")
            apply(decode(row.data))
        self.caught_up_events += len(rows)

    def _answer_readers(self) -> None:
        if not self._reach:
            return
        position, still = self._state.position, []
        for wanted, future in self._reach:
            if wanted <= position:
                if not future.done():
                    future.set_result(None)
            else:
                still.append((wanted, future))
        self._reach = still
        if still:
            self.behind()  # the NOTIFY that woke a reader may come after its query: look again

    def _fail(self, exc: BaseException) -> None:
        if self.failure is None:
            self.failure = exc
        waiters = [*self._in_turn, *(q.future for q in self._queue),
                   *(future for _, future in self._reach)]  # fmt: skip
        for future in waiters:
            if not future.done():
                future.set_exception(StorageUnavailable())
        self._queue, self._reach = [], []


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

"""Settling a turn whose outcome is unknown, by reading the log, not by guessing.

A turn applies its decisions to the read models before it commits them. When the commit
fails, or its answer is lost (the connection dropped during ``COMMIT``, the session was ended
because the node froze in its turn), the rows may or may not be in the log. The turn knows the
position and hash of its last row; the hash chain makes that one row proof of all the turn's
rows. So: read the row at that position. The same hash there: the turn committed, and the read
models are the log's. Anything else (no row yet, another node's row): it did not, and the read
models, which hold its events, are rebuilt in-process from the newest checkpoint and the log.
While the log cannot be read the node keeps trying, with a growing pause, and says why it
cannot serve (``trouble``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from tracker.cluster.outages import FIRST_PAUSE, Outage, describe, next_pause
from tracker.events.postgres import UNREACHABLE, PostgresEventStore
from tracker.events.reading import row_at
from tracker.projections.state import State
from tracker.startup.replay import DamagedLog

log = logging.getLogger(__name__)


class LogInconsistent(Exception):
    """The log does not continue this node's read models: the node stops, with this reason."""


class Settlement:
    def __init__(self, store: PostgresEventStore, rebuild: Callable[[], Awaitable[State]]) -> None:
        self._store = store
        self._rebuild = rebuild
        self._outage = Outage("read the log to settle a failed turn")
        self.trouble = ""  # why the node cannot serve now ('' when it can)
        self.rebuilds = 0

    async def settle(self, state: State, proof: tuple[int, bytes] | None,
                     closing: Callable[[], bool]) -> State | None:  # fmt: skip
        """``state`` if the log holds the failed turn's rows (``proof``: the last one's
        position and hash; None: it appended none for sure), else the read models rebuilt
        from the checkpoint and the log; None if the node began closing first."""
        self.trouble = "settling a turn whose outcome is unknown"
        pause = FIRST_PAUSE
        try:
            while not closing():
                try:
                    return await self._settled(state, proof)
                except UNREACHABLE as exc:
                    self._outage.failed(exc)
                except DamagedLog:
                    raise
                except Exception as exc:  # the read models cannot be trusted, nor rebuilt
                    raise LogInconsistent(f"cannot settle a failed turn: {describe(exc)}") from exc
                await asyncio.sleep(pause)  # a backoff, not a wait for a condition
                pause = next_pause(pause)
            return None
        finally:
            self.trouble = ""

    async def _settled(self, state: State, proof: tuple[int, bytes] | None) -> State:
        if proof is not None and await self._holds(*proof):
            self._outage.worked()
            log.warning("the failed turn committed after all (its last row is at %d)", proof[0],
                        extra={"action": "turn_committed", "position": proof[0]})  # fmt: skip
            return state
        self.trouble = "rebuilding the read models from the log"
        rebuilt = await self._rebuild()
        self._outage.worked()
        self.rebuilds += 1
        at = rebuilt.position
        log.warning("the failed turn did not commit: read models rebuilt from the log, at %d",
                    at, extra={"action": "read_models_rebuilt", "position": at})  # fmt: skip
        return rebuilt

    async def _holds(self, position: int, hash_: bytes) -> bool:
        row = await row_at(self._store, position)
        return row is not None and row.hash == hash_

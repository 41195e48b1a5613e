"""The in-memory log: for tests and throwaway runs. Passes the same contract as SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from tracker.errors import Conflict
from tracker.events.base import Event
from tracker.events.store import GENESIS, StoredRow, chain_rows


class MemoryEventStore:
    def __init__(self) -> None:
        self._rows: list[StoredRow] = []

    async def append(self, events: Sequence[Event], expected_position: int) -> int:
        if expected_position != len(self._rows):
            raise Conflict()
        head_hash = self._rows[-1].hash if self._rows else GENESIS
        self._rows.extend(chain_rows(events, expected_position, head_hash))
        return len(self._rows)

    async def read(
        self, after: int = 0, batch_size: int = 10_000
    ) -> AsyncIterator[list[StoredRow]]:
        position = max(after, 0)
        while position < len(self._rows):
            batch = self._rows[position : position + batch_size]
            position += len(batch)
            yield batch

    async def read_payloads(
        self, after: int = 0, batch_size: int = 10_000
    ) -> AsyncIterator[list[bytes]]:
        async for rows in self.read(after, batch_size):
            yield [row.data for row in rows]

    async def head(self) -> int:
        return len(self._rows)

    async def close(self) -> None:
        return None

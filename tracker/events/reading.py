"""Reading parts of the log through the port: one row, a range, the position at a time.

Only :class:`~tracker.events.store.EventStore` methods are used, so these work on every
adapter. Readers that must not see rows a writer has not committed yet (the change feed, the
history index) use a store of their own (``SQLiteEventStore.open_reader``): a second
connection sees committed, durable rows only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

import msgspec

from tracker.events.store import EventStore, StoredRow


class _At(msgspec.Struct):
    at: float = 0.0


_at_decoder = msgspec.json.Decoder(_At)


async def rows(store: EventStore, after: int = 0, until: int | None = None,
               batch_size: int = 10_000) -> AsyncIterator[list[StoredRow]]:  # fmt: skip
    """Batches of the rows with ``after < position <= until`` (to the head if ``until`` is None)."""
    if until is not None and until <= after:
        return
    if until is not None:
        batch_size = min(batch_size, until - after)
    async with aclosing(store.read(after, batch_size)) as batches:  # type: ignore[type-var]
        async for batch in batches:
            if until is not None and batch[-1].position >= until:
                yield [row for row in batch if row.position <= until]
                return
            yield batch


async def row_at(store: EventStore, position: int) -> StoredRow | None:
    """The row at ``position``, or None if the log holds none there."""
    if position < 1:
        return None
    async for batch in rows(store, position - 1, position, batch_size=1):
        for row in batch:
            if row.position == position:
                return row
    return None


def time_of(row: StoredRow) -> float:
    return _at_decoder.decode(row.data).at


async def position_at_time(store: EventStore, when: float, head: int) -> int:
    """The last position whose event was decided at or before ``when`` (0 if none).

    A binary search over positions: events are appended in the order they were decided, with
    the tracker's clock, so their times do not decrease (were the clock set back, the answer
    is one of the positions where the time crosses ``when``).
    """
    low, high = 0, head  # invariant: time(low) <= when (position 0: the empty log)
    while low < high:
        middle = (low + high + 1) // 2
        row = await row_at(store, middle)
        if row is not None and time_of(row) <= when:
            low = middle
        else:
            high = middle - 1
    return low

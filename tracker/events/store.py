"""The port to the append-only log, and what every adapter shares.

The port is deliberately narrow: append a batch at an expected position, read stored rows
from a position, and ask for the head. Conflicting appends (a writer that decided against an
old head) are refused with :class:`~tracker.errors.Conflict`, never silently merged, so several
tracker nodes can share one log. Adapters store bytes; :mod:`tracker.events.codec` owns types.

Every row carries a SHA-256 link: ``hash = sha256(previous hash || position || data)``, so an
edited, deleted or reordered row breaks the chain (see ``tracker audit verify``).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Sequence
from typing import Protocol

import msgspec

from tracker.events import codec
from tracker.events.base import Event, Recorded

GENESIS = bytes(32)


class StoredRow(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One row of the log as an adapter holds it."""

    position: int
    type: str
    data: bytes
    hash: bytes

    def recorded(self) -> Recorded:
        return Recorded(self.position, codec.decode(self.data), self.hash)


def link(previous: bytes, position: int, data: bytes) -> bytes:
    """The chain hash of the row at ``position`` holding ``data``."""
    return hashlib.sha256(previous + position.to_bytes(8, "big") + data).digest()


def chain_rows(events: Sequence[Event], head: int, head_hash: bytes) -> list[StoredRow]:
    """Encode ``events`` as the rows that follow ``head`` in the log."""
    rows = []
    previous = head_hash
    for offset, event in enumerate(events, start=1):
        data = codec.encode(event)
        previous = link(previous, head + offset, data)
        rows.append(StoredRow(head + offset, codec.type_name(event), data, previous))
    return rows


class EventStore(Protocol):
    """Append-only log of events, positions counted from 1 without gaps."""

    async def append(self, events: Sequence[Event], expected_position: int) -> int:
        """Append ``events`` after ``expected_position``; return the new head.

        Raises :class:`~tracker.errors.Conflict` if the head is not ``expected_position``.
        Returns only once the rows are durable (as durable as the adapter can make them).
        """
        ...

    def read(self, after: int = 0, batch_size: int = 10_000) -> AsyncIterator[list[StoredRow]]:
        """Yield the rows after position ``after`` in order, ``batch_size`` at a time."""
        ...

    def read_payloads(self, after: int = 0, batch_size: int = 10_000) -> AsyncIterator[list[bytes]]:
        """Like ``read``, but only each row's encoded event: the fast path of replay."""
        ...

    async def head(self) -> int:
        """The position of the last event, 0 for an empty log."""
        ...

    async def close(self) -> None: ...


async def read_events(store: EventStore, after: int = 0) -> AsyncIterator[Recorded]:
    """Every recorded event after ``after``, decoded, in log order."""
    async for rows in store.read(after):
        for row in rows:
            yield row.recorded()

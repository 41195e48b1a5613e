"""``tracker audit verify``: walk the whole log and recompute its hash chain.

Each row's hash is ``sha256(previous hash || position || data)``. Walking from position 1,
the first of these that fails is reported, and the walk stops there:

- a **missing position** (a deleted row: the positions jump);
- a **hash mismatch**: the stored hash does not follow from this row's payload, its position
  and the previous row's hash. An edited payload breaks at its own row; two swapped rows
  (payloads, or whole rows renumbered) break at the first of them; an edited payload whose
  hash was recomputed breaks at the next row;
- a **type column** that disagrees with the payload's type (the column is not hashed);
- a **payload or hash of the wrong SQLite type**: the tracker writes BLOBs only; a value
  edited with the sqlite3 shell comes back as TEXT, and is reported as such;
- a **file that cannot be read** past some row (truncated, overwritten): reported at the first
  position that could not be read, with SQLite's reason;
- an **anchor** that disagrees: each checkpoint records the log's hash at its position, and
  ``--anchor POSITION:HASH`` adds one recorded elsewhere. Anchors catch what a chain alone
  cannot: rows cut off the end of the log, or a log rewritten and re-hashed from some point on.

Keep the head position and hash this prints somewhere else: given back as an anchor, they
prove later that nothing up to that point changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tracker.events.store import GENESIS, EventStore, StoredRow
from tracker.startup.rows import Break, check_row, unreadable


@dataclass
class Anchor:
    position: int
    hash: bytes
    source: str


@dataclass
class Report:
    events: int = 0  # rows checked
    head: int = 0
    head_hash: bytes = GENESIS
    seconds: float = 0.0
    broken: Break | None = None
    anchors_checked: int = 0
    anchors: list[Anchor] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def _check_anchor(row: StoredRow, anchors: dict[int, Anchor], report: Report) -> Break | None:
    anchor = anchors.get(row.position)
    if anchor is None:
        return None
    report.anchors_checked += 1
    if anchor.hash != row.hash:
        return Break(row.position, f"the hash differs from the one {anchor.source} recorded "
                     f"({anchor.hash.hex()}): the log was rewritten up to here")  # fmt: skip
    return None


def _check_batch(batch: list[StoredRow], expected: int, previous: bytes,
                 anchors: dict[int, Anchor], report: Report) -> Break | None:  # fmt: skip
    for row in batch:
        broken = check_row(row, expected, previous)
        if broken is None and anchors:
            broken = _check_anchor(row, anchors, report)
        if broken is not None:
            return broken
        expected, previous = expected + 1, row.hash
    return None


async def verify(
    store: EventStore,
    anchors: list[Anchor] = (),  # type: ignore[assignment]
    on_batch: Callable[[list[StoredRow]], Awaitable[None]] | None = None,
) -> Report:
    """Walk the log once. The next batch is read while this one is hashed (the reader's thread
    and this one overlap), so the walk runs at about the speed of the slower of the two.

    ``on_batch`` is given every batch whose rows all passed, in order (a restore copies them);
    the rows of the batch where the walk breaks are not given."""
    report = Report(anchors=list(anchors))
    by_position = {anchor.position: anchor for anchor in anchors}
    started = time.perf_counter()
    expected, previous = 1, GENESIS
    batches = store.read(0, 10_000)
    pending = asyncio.ensure_future(anext(batches, None))
    try:
        while (batch := await pending) is not None:
            pending = asyncio.ensure_future(anext(batches, None))
            report.broken = _check_batch(batch, expected, previous, by_position, report)
            if report.broken is not None:
                break
            if on_batch is not None:
                await on_batch(batch)
            expected, previous = batch[-1].position + 1, batch[-1].hash
            report.events = expected - 1
    except sqlite3.DatabaseError as exc:  # a damaged file: the rows before it were checked
        report.broken = unreadable(expected, exc)
    finally:
        pending.cancel()
        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration, sqlite3.Error):
            await pending
        with contextlib.suppress(sqlite3.Error):
            await batches.aclose()  # type: ignore[attr-defined]
    report.seconds = time.perf_counter() - started
    if report.broken is None:
        _check_end(report, anchors, expected - 1, previous)
    return report


def _check_end(report: Report, anchors: list[Anchor], head: int, head_hash: bytes) -> None:
    report.head, report.head_hash = head, head_hash
    beyond = [a for a in anchors if a.position > head]
    if beyond:
        first = min(beyond, key=lambda a: a.position)
        reason = (f"the log ends at position {head}, but {first.source} recorded position "
                  f"{first.position}: rows were cut off the end")  # fmt: skip
        report.broken = Break(head + 1, reason)

"""Figures from a load's record, around a fault that lasted from ``start`` to ``end``.

- **stall**: a node's longest gap between acknowledged writes in ``[start - 1, end + after]``
  (the edges count: no write from the window's start to the first one is a gap too);
- **recovery**: from ``end`` to the node's first acknowledged write after it;
- **latency**: a node's answered requests' p50, p99 and longest, and how many went unanswered.
"""

from __future__ import annotations

import bisect
import statistics
from dataclasses import dataclass

from tests.faults.load import Record


@dataclass(frozen=True)
class Latency:
    p50: float
    p99: float
    longest: float
    unanswered: int
    refused: int  # answered with a 5xx


def stall(writes: list[float], start: float, end: float) -> float:
    """The longest time without a write in ``[start, end]``."""
    inside = [start, *(t for t in writes if start < t < end), end]
    return max(b - a for a, b in zip(inside, inside[1:], strict=False))


def recovery(writes: list[float], end: float) -> float | None:
    """Seconds from ``end`` to the first write after it (None: none came)."""
    at = bisect.bisect_right(writes, end)
    return writes[at] - end if at < len(writes) else None


def latency(record: Record, node: int, start: float, end: float) -> Latency:
    mine = [r for r in record.requests if r.node == node and start <= r.sent <= end]
    took = sorted(r.took for r in mine if r.status is not None)
    refused = sum(1 for r in mine if r.status is not None and r.status >= 500)
    if not took:
        return Latency(0.0, 0.0, 0.0, len(mine), refused)
    p99 = took[min(len(took) - 1, int(len(took) * 0.99))]
    return Latency(statistics.median(took), p99, took[-1], len(mine) - len(took), refused)

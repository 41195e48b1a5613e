"""Read model of worker log lines for ``POST /logs``: the newest lines of each level, bounded.

Every kept line is a ``WorkerLogged`` event, so the log itself holds all of them for good (and
``tracker events export`` shows them). This read model serves queries from memory and keeps,
per level, at most ``max_entries`` lines and about ``max_bytes`` of text: the oldest lines
(in log order) make room for new ones. Eviction depends only on the events and the settings,
so a restart rebuilds exactly the same buffers.

A query filters one level, keeps lines whose worker timestamp is after ``since``, orders them
by (timestamp, sequence) and returns one page: O(n log page) for the n lines of that level,
without ever copying the whole buffer.
"""

from __future__ import annotations

import heapq
from collections import deque

import msgspec

from tracker.events.logs import WorkerLogged

DEFAULT_MAX_ENTRIES = 100_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_LINE_OVERHEAD = 120  # bytes a line costs beyond its text (struct, deque slot), roughly


class LogLine(msgspec.Struct, frozen=True, gc=False):
    timestamp: int  # the worker's clock, Unix seconds
    seq: int  # the line's rank among all kept lines, in log order: a stable tie-breaker
    worker_id: int
    scope: str
    message: str

    @property
    def key(self) -> tuple[int, int]:
        return (self.timestamp, self.seq)

    @property
    def size(self) -> int:
        return len(self.scope) + len(self.message) + _LINE_OVERHEAD


class LogBook:
    def __init__(self) -> None:
        self.max_entries = DEFAULT_MAX_ENTRIES
        self.max_bytes = DEFAULT_MAX_BYTES
        self.levels: dict[int, deque[LogLine]] = {}
        self.sizes: dict[int, int] = {}
        self.seq = 0  # lines folded so far, evicted ones included

    def configure(self, max_entries: int, max_bytes: int) -> None:
        """Set the bounds; call before replay so every replay evicts the same lines."""
        self.max_entries, self.max_bytes = max_entries, max_bytes

    def add(self, level: int, line: LogLine) -> None:
        lines = self.levels.get(level)
        if lines is None:
            lines = self.levels[level] = deque()
            self.sizes[level] = 0
        lines.append(line)
        size = self.sizes[level] + line.size
        while lines and (len(lines) > self.max_entries or size > self.max_bytes):
            size -= lines.popleft().size
        self.sizes[level] = size

    def page(self, level: int, since: int, after: tuple[int, int] | None,
             limit: int) -> tuple[list[LogLine], bool]:  # fmt: skip
        """Lines of ``level`` newer than ``since`` and after ``after``, oldest first, and
        whether more follow the page."""
        lines = self.levels.get(level, ())
        if after is None:
            found = (line for line in lines if line.timestamp > since)
        else:
            found = (line for line in lines if line.timestamp > since and line.key > after)
        page = heapq.nsmallest(limit + 1, found, key=lambda line: line.key)
        return page[:limit], len(page) > limit


def logged(book: LogBook, e: WorkerLogged) -> None:
    book.seq += 1
    book.add(e.level, LogLine(e.timestamp, book.seq, e.worker_id, e.scope, e.message))


HANDLERS = {WorkerLogged: logged}

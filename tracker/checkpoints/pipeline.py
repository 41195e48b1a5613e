"""An ordered helper thread for bytes the event loop produces: hash them and write them.

The event loop encodes a snapshot synchronously (so it sees one consistent state) and hands
each encoded chunk to this pipeline; hashing and file writes release the GIL, so they run on
another core meanwhile. Work runs in submission order. The backlog is bounded: once more than
``max_backlog`` bytes wait, ``put`` blocks until the oldest chunk is done, so memory stays
bounded at the cost of a longer pause.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

MAX_BACKLOG = 64 * 1024 * 1024


class Pipeline:
    def __init__(self, max_backlog: int = MAX_BACKLOG) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="snapshot")
        self._pending: deque[tuple[Future[object], int]] = deque()
        self._backlog = 0
        self._max_backlog = max_backlog

    def put(self, work: Callable[[bytes], object], data: bytes) -> None:
        """Run ``work(data)`` on the helper thread after everything put before it."""
        while self._pending and self._pending[0][0].done():
            self._retire()
        while self._pending and self._backlog + len(data) > self._max_backlog:
            self._pending[0][0].result()
            self._retire()
        future = self._executor.submit(work, data)
        self._pending.append((future, len(data)))
        self._backlog += len(data)

    def _retire(self) -> None:
        future, size = self._pending.popleft()
        self._backlog -= size
        future.result()  # raise the helper's error here

    async def call(self, work: Callable[[], object]) -> object:
        """Run ``work()`` after everything put so far; wait for it without blocking the loop."""
        future = self._executor.submit(work)
        result = await asyncio.wrap_future(future)
        while self._pending:
            self._retire()
        return result

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=False)

"""The change feed (``GET /events?after=N&limit=L&timeout=S``): durable events in log order.

Pages hold the records (:mod:`tracker.audit.records`) after position ``after`` that the
caller may read, at most ``limit``, and ``next``: the last position *looked at*, which the
caller sends back as ``after``. Positions the caller may not read are skipped but counted in
``next``, so following ``next`` misses nothing and repeats nothing: gapless for what the caller
may read, in log order. Only durable events are served (they are read through a read-only
connection, up to the group committer's durable position).

Long polling: with ``timeout`` (seconds, at most 60) and nothing new, the request waits until
a readable event is durable or the time is up (then an empty page); a stopping app ends the
wait at once (an empty page). One request looks at
most ``max(10,000, 20 x limit)`` positions per scan; a caller who may read little of a busy
log may get an empty page with ``next`` moved on, and simply asks again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tracker.audit import records
from tracker.events.base import Event
from tracker.events.reading import rows

MAX_TIMEOUT = 60
SCAN = 10_000


@dataclass
class Page:
    events: list[dict[str, Any]]
    next: int
    head: int


Keep = Callable[[Event | None], bool]


async def page(reader: Any, after: int, limit: int, head: int, visible: set[int] | None,
               keep: Keep | None = None) -> Page:  # fmt: skip
    """One scan: readable records after ``after``, up to ``head``, at most ``limit``; only
    those ``keep`` keeps, if given (a ``records.Filter``)."""
    found: list[dict[str, Any]] = []
    until = min(head, after + max(SCAN, 20 * limit))
    last = after
    async for batch in rows(reader, after, until):
        for row in batch:
            last = row.position
            event = records.event_of(row)
            project = event.concerned_project() if event is not None else None
            if (visible is None or project in visible) and (keep is None or keep(event)):
                found.append(records.record(row, event))
                if len(found) == limit:
                    return Page(found, last, head)
    return Page(found, last, head)


async def wait_for_page(services: Any, after: int, limit: int, wait: float,
                        visible: set[int] | None, keep: Keep | None = None) -> Page:  # fmt: skip
    """A page with at least one event, or an empty one once ``wait`` seconds have passed
    or the app is stopping."""
    deadline = time.monotonic() + wait
    while True:
        found = await page(services.reader, after, limit, services.durable, visible, keep)
        if found.events or time.monotonic() >= deadline or services.stopping:
            return found
        after = found.next
        await services.durable_after(after, deadline)

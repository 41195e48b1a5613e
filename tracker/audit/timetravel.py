"""A project's state as of a past log position or time (``GET /project/state/:id?at=``).

Fresh read models are loaded from the newest checkpoint at or before the position (or start
empty) and the log is replayed from there up to the position, yielding to the event loop
between batches. That costs the checkpoint's load plus at most ``audit.max_replay_events``
replayed events; a position further than that from any kept checkpoint (``checkpoint.keep``)
is refused with 400 rather than replaying the whole log. One such query runs at a time
(they hold a second copy of the read models while they run).
"""

from __future__ import annotations

import asyncio
import datetime
from collections import Counter
from collections.abc import Callable
from typing import Any

from tracker.audit.replay import replay_into
from tracker.checkpoints.directory import Checkpoints
from tracker.errors import InvalidRequest
from tracker.events.reading import position_at_time, row_at, time_of
from tracker.events.store import EventStore


class TooFarBack(InvalidRequest):
    """Answering would replay more events than allowed."""


def parse_at(text: str) -> tuple[str, float]:
    """``("position", n)`` for a plain integer, ``("time", unix)`` for ``@<unix seconds>``
    or an ISO 8601 time (``2024-05-01T12:00:00Z``; without a zone it is UTC)."""
    text = text.strip()
    if text.isascii() and text.isdigit():  # str.isdigit() alone accepts "²"
        # A position past the head reads the head; int() refuses more than 4300 digits.
        return "position", int(text) if len(text.lstrip("0")) <= 19 else 2**63 - 1
    try:
        if text.startswith("@"):
            return "time", float(text[1:])
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(
            "Could not parse request: at must be a log position (an integer), @<unix seconds> "
            "or an ISO 8601 time"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return "time", moment.timestamp()


async def resolve(store: EventStore, at: str | None, head: int) -> int:
    """The log position ``at`` names (the durable head if None), at most the head."""
    if at is None:
        return head
    kind, value = parse_at(at)
    if kind == "position":
        return min(int(value), head)
    return await position_at_time(store, value, head)


class TimeMachine:
    def __init__(self, store: EventStore, checkpoints: Checkpoints,
                 make_state: Callable[[], Any], max_replay: int) -> None:  # fmt: skip
        self.store = store
        self.checkpoints = checkpoints
        self.make_state = make_state
        self.max_replay = max_replay
        self._one_at_a_time = asyncio.Semaphore(1)

    def base(self, position: int) -> int:
        """The position replay would start from: the newest checkpoint at or before it."""
        return max((p for p, _ in self.checkpoints.paths() if p <= position), default=0)

    async def state_at(self, position: int) -> tuple[Any, int]:
        """Read models as of ``position``, and the checkpoint position they were loaded from
        (0: replayed from the start)."""
        async with self._one_at_a_time:
            if position - self.base(position) > self.max_replay:
                raise TooFarBack(
                    f"Position {position} is {position - self.base(position)} events after the "
                    f"nearest checkpoint; at most {self.max_replay} are replayed per query"
                )
            state = await self.checkpoints.load(self.store, self.make_state, at_most=position)
            if position - state.position > self.max_replay:  # that checkpoint was unusable
                raise TooFarBack(f"No usable checkpoint within {self.max_replay} events of "
                                 f"position {position}")  # fmt: skip
            base = state.position
            await replay_into(state, self.store, position, pause_every=1)
            return state, base

    async def time_of(self, position: int) -> float | None:
        row = await row_at(self.store, position)
        return None if row is None else time_of(row)


def project_view(state: Any, project_id: int) -> dict[str, Any] | None:
    """Counts by status, queue depth and assignees of a project in ``state``."""
    project = state.projects.get(project_id)
    if project is None:
        return None
    tasks = state.tasks.projects.get(project_id)
    queued = tasks.queue.size if tasks else 0
    assigned = list(tasks.assigned) if tasks else []
    by_worker = Counter(state.tasks.tasks[task_id].assignee for task_id in assigned)
    return {
        "tasks": {"queued": queued, "assigned": len(assigned),
                  "failed": len(tasks.failed) if tasks else 0,
                  "closed": project.closed_task_count},
        "queue_depth": queued,
        "assignees": [{"worker": worker, "tasks": count}
                      for worker, count in sorted(by_worker.items())],
    }  # fmt: skip

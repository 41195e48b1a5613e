"""The task browser's index of one project's tasks: ids in id order, whole and per priority,
and when they were submitted, kept so that listing a page never sorts the project's tasks.

Task ids only grow, so appending at submission keeps every list sorted at O(1) per task. A
task that leaves (closed, deleted) or changes priority leaves a stale entry behind instead of
being searched for; readers skip stale entries (a stale id is no longer live, or its task no
longer has that priority), and once stale entries outnumber live tasks the lists are rebuilt
without them, which is amortized O(1) per task that left.

Submit times are kept as marks: the first id submitted in each minute that saw a submission.
Ids follow submission order, so a submit-time range becomes an id window (to the minute; the
reader checks each task's exact time). A clock stepped back files the tasks it stamped under
the minute before the step.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from typing import Protocol

_REBUILD_AT = 1024  # stale entries tolerated whatever the number of live tasks


class _Task(Protocol):
    @property
    def priority(self) -> int: ...


Live = Mapping[int, _Task]  # the live tasks by id (``TaskBoard.tasks``)


class TaskIndex:
    __slots__ = ("ids", "by_priority", "stale", "moves", "mark_ids", "mark_minutes")

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.by_priority: dict[int, list[int]] = {}
        self.stale = 0  # entries of tasks that left or moved, in ``ids`` or ``by_priority``
        self.moves = 0  # of which moved: until a rebuild, lanes may hold other priorities' ids
        self.mark_ids: list[int] = []  # first id submitted in each minute of ``mark_minutes``
        self.mark_minutes: list[int] = []

    def add(self, task_id: int, priority: int) -> None:
        """A submitted task (ids arrive in increasing order; ``mark`` its time)."""
        self.ids.append(task_id)
        lane = self.by_priority.get(priority)
        if lane is None:
            lane = self.by_priority[priority] = []
        lane.append(task_id)

    def mark(self, task_id: int, at: float) -> None:
        """Tasks from ``task_id`` on were submitted at ``at`` (once per submission)."""
        minute = int(at) // 60
        if not self.mark_minutes or minute > self.mark_minutes[-1]:
            self.mark_ids.append(task_id)
            self.mark_minutes.append(minute)

    def left(self, live_count: int, live: Live) -> None:
        """A task left the project (``live_count``: tasks still in it)."""
        self.stale += 1
        if self.stale > _REBUILD_AT and self.stale > live_count:
            self.rebuild(live)

    def moved(self, task_id: int, priority: int, live_count: int, live: Live) -> None:
        """A live task's priority changed to ``priority``."""
        bisect.insort(self.by_priority.setdefault(priority, []), task_id)
        self.moves += 1
        self.left(live_count, live)

    def rebuild(self, live: Live) -> None:
        """Drop stale entries: ids no longer live, lane entries of another priority."""
        self.ids = [i for i in self.ids if i in live]
        for priority, lane in list(self.by_priority.items()):
            kept = [i for i in lane if i in live and live[i].priority == priority]
            if kept:
                self.by_priority[priority] = kept
            else:
                del self.by_priority[priority]
        first = self.ids[0] if self.ids else 0
        drop = max(bisect.bisect_right(self.mark_ids, first) - 1, 0)
        del self.mark_ids[:drop], self.mark_minutes[:drop]
        self.stale = self.moves = 0

    def clear(self) -> None:
        self.ids.clear()
        self.by_priority.clear()
        self.mark_ids.clear()
        self.mark_minutes.clear()
        self.stale = self.moves = 0

    def window(self, since: float | None, until: float | None) -> tuple[int, int]:
        """The ids ``[low, high)`` that hold every task submitted in ``[since, until]``."""
        low, high = 0, 2**63
        if since is not None:
            at = bisect.bisect_right(self.mark_minutes, int(since) // 60) - 1
            low = self.mark_ids[at] if at >= 0 else 0
        if until is not None:
            at = bisect.bisect_right(self.mark_minutes, int(until) // 60)
            high = self.mark_ids[at] if at < len(self.mark_ids) else 2**63
        return low, high

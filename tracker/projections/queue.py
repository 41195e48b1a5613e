"""The per-project queue of assignable tasks, indexed for assignment without scanning.

Tasks wait in one FIFO lane per task priority; a sorted list of the priorities in use finds
the best lane. Taking the best task costs O(log P) for P distinct priorities (at most 65,536,
since priority is 16-bit) and does not depend on how many tasks are queued.

A task taken from the middle of a lane (the head was skipped, e.g. because the worker voted
on it) is not searched for: its entry is marked stale and dropped when it reaches the head.
A task can be queued again while its stale entry still waits; stale entries are always older,
so the first occurrences of an id in a lane are the stale ones. Stale entries are counted per
lane, since a task given another priority waits in another lane than its stale entry.
"""

from __future__ import annotations

import bisect
import itertools
from collections import deque
from collections.abc import Callable, Iterator

_SLACK = 32  # stale entries a lane may hold beyond as many as its live ones


class Queue:
    __slots__ = ("_lanes", "_order", "_live", "_stale", "size")

    def __init__(self) -> None:
        self._lanes: dict[int, deque[int]] = {}
        self._order: list[int] = []  # negated priorities, ascending: best lane first
        self._live: dict[int, int] = {}  # priority -> live entries in its lane
        # priority -> {task id -> stale entries of it in that lane}; no empty inner dict
        self._stale: dict[int, dict[int, int]] = {}
        self.size = 0

    def push(self, priority: int, task_id: int) -> None:
        lane = self._lanes.get(priority)
        if lane is None:
            lane = self._lanes[priority] = deque()
            self._live[priority] = 0
            bisect.insort(self._order, -priority)
        lane.append(task_id)
        self._live[priority] += 1
        self.size += 1

    def first(self, eligible: Callable[[int], bool] | None = None) -> int | None:
        """The best queued task id (highest priority, then oldest in queue) that is eligible."""
        for negated in self._order:
            lane = self._lanes[-negated]
            if eligible is None and not self._stale:
                return lane[0]  # the head of a lane is never stale
            for task_id in self._live_entries(-negated, lane):
                if eligible is None or eligible(task_id):
                    return task_id
        return None

    def take(self, n: int, eligible: Callable[[int], bool] | None = None) -> list[int]:
        """The first ``n`` eligible queued task ids in the order ``first`` would give them."""
        if self._stale:
            entries: Iterator[int] = iter(self)
        else:  # no stale entry anywhere: every entry of every lane is live
            entries = (task_id for negated in self._order for task_id in self._lanes[-negated])
        if eligible is not None:
            entries = filter(eligible, entries)
        return list(itertools.islice(entries, n))

    def _live_entries(self, priority: int, lane: deque[int]) -> Iterator[int]:
        stale = self._stale.get(priority)
        if stale is None:
            yield from lane
            return
        skipped = dict[int, int]()
        for task_id in lane:
            count = stale.get(task_id)
            if count and skipped.get(task_id, 0) < count:
                skipped[task_id] = skipped.get(task_id, 0) + 1
                continue
            yield task_id

    def remove(self, priority: int, task_id: int) -> None:
        lane = self._lanes[priority]
        if lane[0] == task_id:
            lane.popleft()
        else:
            stale = self._stale.setdefault(priority, {})
            stale[task_id] = stale.get(task_id, 0) + 1
        self.size -= 1
        self._live[priority] -= 1
        if not self._live[priority]:
            self._drop_lane(priority)
        else:
            self._drop_stale_head(priority, lane)
            if len(lane) > 2 * self._live[priority] + _SLACK:
                self._compact(priority, lane)

    def _compact(self, priority: int, lane: deque[int]) -> None:
        """Rebuild a lane without its stale entries, once they outnumber the live ones.

        A head that never leaves (a task every worker has voted on) would otherwise keep every
        stale entry behind it for good, and each assignment would scan them. Amortized O(1)
        per removal; it depends only on the operations, so replay rebuilds the same lanes.
        """
        stale, kept = self._stale.get(priority, {}), deque[int]()
        for task_id in lane:  # a task's first entries in its lane are its stale ones
            if task_id in stale:
                self._unmark(priority, task_id)
            else:
                kept.append(task_id)
        self._lanes[priority] = kept

    def _drop_stale_head(self, priority: int, lane: deque[int]) -> None:
        stale = self._stale.get(priority)
        while stale and lane and lane[0] in stale:
            self._unmark(priority, lane.popleft())

    def _unmark(self, priority: int, task_id: int) -> None:
        stale = self._stale[priority]
        count = stale[task_id] - 1
        if count:
            stale[task_id] = count
            return
        del stale[task_id]
        if not stale:
            del self._stale[priority]

    def _drop_lane(self, priority: int) -> None:
        del self._lanes[priority]
        self._stale.pop(priority, None)  # every entry left in an empty lane is stale
        del self._live[priority]
        self._order.remove(-priority)

    def clear(self) -> None:
        self._lanes.clear()
        self._order.clear()
        self._live.clear()
        self._stale.clear()
        self.size = 0

    def __iter__(self) -> Iterator[int]:
        for negated in self._order:
            yield from self._live_entries(-negated, self._lanes[-negated])

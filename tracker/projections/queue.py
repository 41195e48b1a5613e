"""The per-project queue of assignable tasks, indexed for assignment without scanning.

Tasks wait in one FIFO lane per task priority; a sorted list of the priorities in use finds
the best lane. Taking the best task costs O(log P) for P distinct priorities (at most 65,536,
since priority is 16-bit) and does not depend on how many tasks are queued.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Iterator


class Queue:
    __slots__ = ("_lanes", "_order", "size")

    def __init__(self) -> None:
        self._lanes: dict[int, deque[int]] = {}
        self._order: list[int] = []  # negated priorities, ascending: best lane first
        self.size = 0

    def push(self, priority: int, task_id: int) -> None:
        lane = self._lanes.get(priority)
        if lane is None:
            lane = self._lanes[priority] = deque()
            bisect.insort(self._order, -priority)
        lane.append(task_id)
        self.size += 1

    def first(self, eligible: Callable[[int], bool] | None = None) -> int | None:
        """The best queued task id (highest priority, then oldest in queue) that is eligible."""
        for negated in self._order:
            lane = self._lanes[-negated]
            if eligible is None:
                return lane[0]
            for task_id in lane:
                if eligible(task_id):
                    return task_id
        return None

    def remove(self, priority: int, task_id: int) -> None:
        lane = self._lanes[priority]
        if lane[0] == task_id:
            lane.popleft()
        else:
            lane.remove(task_id)  # only when the head was skipped: rare (verification votes)
        self.size -= 1
        if not lane:
            del self._lanes[priority]
            self._order.remove(-priority)

    def clear(self) -> None:
        self._lanes.clear()
        self._order.clear()
        self.size = 0

    def __iter__(self) -> Iterator[int]:
        for negated in self._order:
            yield from self._lanes[-negated]

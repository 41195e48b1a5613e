"""The queue behaves exactly like a naive ordered list under random pushes and removals,
including removals from the middle of a lane (stale entries) and re-queueing of those tasks,
in the same lane or, as a change of priority does, in another."""

import random

import pytest

from tracker.projections.queue import Queue


class NaiveQueue:
    def __init__(self) -> None:
        self.entries: list[tuple[int, int, int]] = []  # (-priority, sequence, task id)
        self.sequence = 0

    def push(self, priority: int, task_id: int) -> None:
        self.sequence += 1
        self.entries.append((-priority, self.sequence, task_id))

    def remove(self, task_id: int) -> None:
        self.entries = [entry for entry in self.entries if entry[2] != task_id]

    def order(self) -> list[int]:
        return [task_id for _, _, task_id in sorted(self.entries)]


@pytest.mark.parametrize("moving", [False, True], ids=["same-lane", "new-priority"])
@pytest.mark.parametrize("seed", range(20))
def test_random_operations_match_the_naive_queue(seed: int, moving: bool) -> None:
    rng = random.Random(seed)
    queue, naive = Queue(), NaiveQueue()
    priority_of: dict[int, int] = {}
    queued: set[int] = set()
    for step in range(2000):
        if queued and rng.random() < 0.5:
            order = naive.order()
            # mostly the head (assignment), sometimes deeper (a voter skipped the head)
            task_id = order[0] if rng.random() < 0.6 else rng.choice(order)
            queue.remove(priority_of[task_id], task_id)
            naive.remove(task_id)
            queued.discard(task_id)
        else:
            task_id = rng.randrange(1, 60)
            if task_id in queued:
                continue
            if moving or task_id not in priority_of:
                priority_of[task_id] = rng.randrange(-2, 3)
            queue.push(priority_of[task_id], task_id)
            naive.push(priority_of[task_id], task_id)
            queued.add(task_id)
        expected = naive.order()
        assert list(queue) == expected, step
        assert queue.size == len(expected)
        assert queue.first() == (expected[0] if expected else None)
        odd = [t for t in expected if t % 2]
        assert queue.first(lambda t: t % 2 == 1) == (odd[0] if odd else None)

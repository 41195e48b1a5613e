"""A queue lane whose head never leaves (a task every worker voted on) stays small and fast,
and session settings that cannot work are refused at start-up."""

from __future__ import annotations

import random

import pytest

from tests.unit.test_queue_model import NaiveQueue
from tracker import config
from tracker.projections.queue import Queue

# A task every worker has voted on stays at the head of its lane for good, and the tasks
# queued behind it are taken from the middle of the lane. Their stale entries must not pile
# up behind it: that cost memory per assignment, and every later assignment scanned them all.


def test_a_stuck_head_with_everything_behind_it_taken_keeps_the_lane_small() -> None:
    queue = Queue()
    queue.push(5, 1)
    for task_id in range(2, 100_002):
        queue.push(5, task_id)
        queue.remove(5, task_id)

    assert len(queue._lanes[5]) <= 64
    assert len(queue._stale.get(5, {})) <= 64
    assert list(queue) == [1]
    assert queue.first() == 1


def test_a_stuck_head_keeps_stale_entries_at_most_as_many_as_live_ones() -> None:
    queue = Queue()
    queue.push(0, 1)
    kept = []
    for task_id in range(2, 50_002):
        queue.push(0, task_id)
        if task_id % 10:
            queue.remove(0, task_id)
        else:
            kept.append(task_id)

    assert queue.size == 1 + len(kept)
    assert len(queue._lanes[0]) <= 2 * queue.size + 64
    assert list(queue) == [1, *kept]
    assert queue.first(lambda task_id: task_id != 1) == kept[0]


@pytest.mark.parametrize("seed", range(10))
def test_with_a_stuck_head_random_operations_match_the_naive_queue(seed: int) -> None:
    rng = random.Random(seed)
    queue, naive = Queue(), NaiveQueue()
    queue.push(0, 0)
    naive.push(0, 0)
    queued: set[int] = set()
    for step in range(5000):
        if queued and rng.random() < 0.5:
            task_id = rng.choice(sorted(queued))  # never the stuck head, task 0
            queue.remove(0, task_id)
            naive.remove(task_id)
            queued.discard(task_id)
        else:
            task_id = rng.randrange(1, 80)
            if task_id in queued:
                continue
            queue.push(0, task_id)
            naive.push(0, task_id)
            queued.add(task_id)
        expected = naive.order()
        assert list(queue) == expected, step
        assert queue.size == len(expected)
        assert queue.first(lambda t: t != 0) == (expected[1] if len(expected) > 1 else None)
    assert len(queue._lanes[0]) <= 2 * queue.size + 64


@pytest.mark.parametrize("name", ["", "my cookie", "tt;", "path", "t\u00e9"])
def test_a_session_cookie_name_no_cookie_can_carry_is_refused_at_start_up(name: str) -> None:
    # Every login and registration answered 500: the cookie could not be set.
    with pytest.raises(config.ConfigError, match="session.cookie_name"):
        config.build({"session": {"cookie_name": name}})


@pytest.mark.parametrize("expiration", ["0s", -3600])
def test_a_session_expiration_that_is_not_positive_is_refused_at_start_up(
    expiration: object,
) -> None:
    # Every login "succeeded" with a session that had already expired.
    with pytest.raises(config.ConfigError, match="session.expiration"):
        config.build({"session": {"expiration": expiration}})

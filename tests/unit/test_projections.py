"""Folds: given events applied in order, the read models look like this.

The queue, the task board (queues, assigned and failed sets, hashes, votes, deadlines) and
the counters of workers and projects, each driven only by events.
"""

from __future__ import annotations

import pytest

from tests.unit import given
from tests.unit.given import T0, state_of
from tracker.events.base import SYSTEM
from tracker.events.tasks import (
    AssignedTasksReclaimed,
    FailedTasksReset,
    Outcome,
    ProjectTasksDeleted,
)
from tracker.projections import tasks as board_module
from tracker.projections.queue import Queue
from tracker.projections.state import State

# --- Queue ----------------------------------------------------------------------------------


def queue_of(*items: tuple[int, int]) -> Queue:
    queue = Queue()
    for priority, task_id in items:
        queue.push(priority, task_id)
    return queue


def test_an_empty_queue_has_nothing_first() -> None:
    queue = Queue()
    assert queue.first() is None and queue.size == 0 and list(queue) == []


def test_the_queue_orders_by_priority_then_first_in_first_out() -> None:
    queue = queue_of((0, 1), (-1, 2), (5, 3), (0, 4), (-32768, 5), (32767, 6), (5, 7))
    assert list(queue) == [6, 3, 7, 1, 4, 2, 5]
    assert queue.first() == 6 and queue.size == 7


def test_removing_the_head_reveals_the_next_and_empty_lanes_disappear() -> None:
    queue = queue_of((1, 1), (1, 2), (0, 3))
    queue.remove(1, 1)
    assert queue.first() == 2
    queue.remove(1, 2)
    assert queue.first() == 3 and list(queue) == [3] and queue.size == 1
    queue.push(1, 4)  # the lane comes back, in its place
    assert list(queue) == [4, 3]


def test_a_task_can_be_removed_from_the_middle_of_its_lane() -> None:
    queue = queue_of((0, 1), (0, 2), (0, 3))
    queue.remove(0, 2)
    assert list(queue) == [1, 3] and queue.size == 2


def test_first_skips_tasks_that_are_not_eligible_across_lanes() -> None:
    queue = queue_of((9, 1), (9, 2), (0, 3), (0, 4))
    assert queue.first(lambda task: task not in (1, 2)) == 3
    assert queue.first(lambda task: task == 2) == 2
    assert queue.first(lambda task: False) is None


def test_a_pushed_back_task_goes_to_the_end_of_its_lane() -> None:
    queue = queue_of((0, 1), (0, 2))
    queue.remove(0, 1)
    queue.push(0, 1)
    assert list(queue) == [2, 1]


def test_clear_empties_the_queue() -> None:
    queue = queue_of((0, 1), (3, 2))
    queue.clear()
    assert queue.size == 0 and list(queue) == [] and queue.first() is None
    queue.push(-1, 3)
    assert list(queue) == [3]


# --- task board -----------------------------------------------------------------------------


def lanes(state: State, project_id: int = 1) -> dict:
    tasks = state.tasks.of(project_id)
    return {
        "queue": list(tasks.queue),
        "assigned": list(tasks.assigned),
        "failed": list(tasks.failed),
    }


def test_a_submitted_task_waits_in_its_project_queue_with_its_hash() -> None:
    state = state_of(given.workshop(), given.submitted(1, hash=7), given.submitted(2, priority=2))
    assert lanes(state) == {"queue": [2, 1], "assigned": [], "failed": []}
    assert state.tasks.of(1).hashes == {7: 1}
    assert state.tasks.next_id == 3
    task = state.tasks.get(1)
    assert task is not None and (task.status, task.assignee, task.retries) == (1, 0, 0)


def test_an_assigned_task_leaves_the_queue_with_its_assignee_time_and_deadline() -> None:
    state = state_of(given.workshop(), given.submitted(1),
                     given.assigned(1, 2, at=T0 + 5, deadline=T0 + 65))  # fmt: skip
    assert lanes(state) == {"queue": [], "assigned": [1], "failed": []}
    task = state.tasks.get(1)
    assert task is not None
    assert (task.assignee, task.assign_time, task.deadline) == (2, T0 + 5, T0 + 65)


def test_a_closed_task_is_gone_with_its_hash_and_credits_the_closer() -> None:
    state = state_of(given.workshop(), given.submitted(1, hash=7), given.assigned(1, 2),
                     given.released(1, 2, Outcome.CLOSED))  # fmt: skip
    assert state.tasks.get(1) is None
    assert lanes(state) == {"queue": [], "assigned": [], "failed": []}
    assert state.tasks.of(1).hashes == {}
    assert state.workers.get(2).closed_task_count == 1  # type: ignore[union-attr]
    assert state.projects.get(1).closed_task_count == 1  # type: ignore[union-attr]


@pytest.mark.parametrize("outcome", [Outcome.VOTED, Outcome.RETRY, Outcome.FAILED, Outcome.SKIPPED])
def test_only_a_close_counts_for_the_worker_and_the_project(outcome: Outcome) -> None:
    state = state_of(given.workshop(), given.submitted(1, verification_count=2),
                     given.assigned(1, 2), given.released(1, 2, outcome))  # fmt: skip
    assert state.workers.get(2).closed_task_count == 0  # type: ignore[union-attr]
    assert state.projects.get(1).closed_task_count == 0  # type: ignore[union-attr]


def test_a_retry_counts_and_requeues_at_the_back_of_its_priority() -> None:
    state = state_of(given.workshop(), given.submitted(1, max_retries=3), given.submitted(2),
                     given.assigned(1, 1, at=T0 + 9),
                     given.released(1, 1, Outcome.RETRY, result=1))  # fmt: skip
    task = state.tasks.get(1)
    assert task is not None and (task.retries, task.status, task.assignee) == (1, 1, 0)
    assert task.assign_time == T0 + 9  # the original keeps assign_time (7.3)
    assert lanes(state) == {"queue": [2, 1], "assigned": [], "failed": []}


def test_a_failed_task_is_set_aside_and_keeps_its_hash() -> None:
    state = state_of(given.workshop(), given.submitted(1, hash=5), given.assigned(1, 1),
                     given.released(1, 1, Outcome.FAILED, result=1))  # fmt: skip
    task = state.tasks.get(1)
    assert task is not None and (task.retries, task.status, task.assignee) == (1, 2, 0)
    assert lanes(state) == {"queue": [], "assigned": [], "failed": [1]}
    assert state.tasks.of(1).hashes == {5: 1}


def test_a_skipped_task_is_requeued_unchanged() -> None:
    state = state_of(given.workshop(), given.submitted(1), given.assigned(1, 1),
                     given.released(1, 1, Outcome.SKIPPED, result=2))  # fmt: skip
    task = state.tasks.get(1)
    assert task is not None and (task.retries, task.status, task.assignee) == (0, 1, 0)
    assert lanes(state)["queue"] == [1]


def test_votes_are_recorded_per_worker_and_counted_per_project() -> None:
    state = state_of(
        given.workshop(), given.submitted(1, verification_count=3),
        given.assigned(1, 1), given.released(1, 1, Outcome.VOTED, verification=2**63 - 1),
        given.assigned(1, 2), given.released(1, 2, Outcome.VOTED, verification=-(2**63)),
    )  # fmt: skip
    task = state.tasks.get(1)
    assert task is not None and task.votes == {1: 2**63 - 1, 2: -(2**63)}
    assert (state.tasks.of(1).votes, state.tasks.of(1).voted_tasks) == (2, 1)
    assert lanes(state)["queue"] == [1]


def test_next_for_never_offers_a_voter_its_task() -> None:
    state = state_of(given.workshop(), given.submitted(1, verification_count=2),
                     given.submitted(2, priority=-1), given.assigned(1, 1),
                     given.released(1, 1, Outcome.VOTED))  # fmt: skip
    assert state.tasks.next_for(1, 1).id == 2  # type: ignore[union-attr]
    assert state.tasks.next_for(1, 2).id == 1  # type: ignore[union-attr]
    assert state.tasks.next_for(7, 1) is None


def test_closing_a_voted_task_drops_its_votes_from_the_project_count() -> None:
    state = state_of(
        given.workshop(), given.submitted(1, verification_count=2), given.assigned(1, 1),
        given.released(1, 1, Outcome.VOTED), given.assigned(1, 2),
        given.released(1, 2, Outcome.CLOSED),
    )  # fmt: skip
    assert (state.tasks.of(1).votes, state.tasks.of(1).voted_tasks) == (0, 0)


def test_an_expired_assignment_is_requeued_with_its_assign_time_cleared() -> None:
    state = state_of(given.workshop(), given.submitted(1), given.submitted(2),
                     given.assigned(1, 1), given.expired(1, 1))  # fmt: skip
    task = state.tasks.get(1)
    assert task is not None and (task.assignee, task.assign_time, task.retries) == (0, 0.0, 0)
    assert lanes(state) == {"queue": [2, 1], "assigned": [], "failed": []}


def test_reclaim_requeues_the_assigned_tasks_it_names() -> None:
    state = state_of(
        given.workshop(), given.submitted(1), given.submitted(2), given.submitted(3),
        given.assigned(1, 1), given.assigned(2, 2),
        AssignedTasksReclaimed(at=T0, actor=SYSTEM, project_id=1, task_ids=[1, 2]),
    )  # fmt: skip
    assert lanes(state) == {"queue": [3, 1, 2], "assigned": [], "failed": []}
    assert all(state.tasks.get(t).assignee == 0 for t in (1, 2))  # type: ignore[union-attr]


def test_reset_failed_tasks_makes_them_new_with_no_retries_and_keeps_votes() -> None:
    state = state_of(
        given.workshop(), given.submitted(1, verification_count=2, max_retries=1),
        given.assigned(1, 1), given.released(1, 1, Outcome.VOTED, verification=4),
        given.assigned(1, 2), given.released(1, 2, Outcome.FAILED, result=1),
        FailedTasksReset(at=T0, actor=SYSTEM, project_id=1, task_ids=[1]),
    )  # fmt: skip
    task = state.tasks.get(1)
    assert task is not None and (task.status, task.retries, task.assign_time) == (1, 0, 0.0)
    assert task.votes == {1: 4}
    assert lanes(state) == {"queue": [1], "assigned": [], "failed": []}


def test_a_hard_reset_removes_every_task_hash_and_vote_without_counting_closes() -> None:
    state = state_of(
        given.workshop(), given.submitted(1, hash=1, verification_count=2),
        given.submitted(2, hash=2), given.submitted(3, hash=3, max_retries=1),
        given.assigned(1, 1), given.released(1, 1, Outcome.VOTED),
        given.assigned(2, 2), given.assigned(3, 3), given.released(3, 3, Outcome.FAILED),
        ProjectTasksDeleted(at=T0, actor=SYSTEM, project_id=1, task_ids=[1, 2, 3]),
    )  # fmt: skip
    assert state.tasks.tasks == {}
    assert lanes(state) == {"queue": [], "assigned": [], "failed": []}
    assert state.tasks.of(1).hashes == {} and state.tasks.of(1).votes == 0
    assert state.projects.get(1).closed_task_count == 0  # type: ignore[union-attr]
    assert state.tasks.due(T0 + 10**6) == []  # the deleted assignment's deadline is stale


def test_a_hard_reset_leaves_other_projects_alone() -> None:
    state = state_of(
        given.workshop(), given.project(2), given.access(1, 2),
        given.submitted(1), given.submitted(2, project_id=2, hash=9),
        ProjectTasksDeleted(at=T0, actor=SYSTEM, project_id=1, task_ids=[1]),
    )  # fmt: skip
    assert list(state.tasks.tasks) == [2]
    assert lanes(state, 2)["queue"] == [2] and state.tasks.of(2).hashes == {9: 2}


def test_a_chain_copy_is_queued_in_the_target_with_its_hash() -> None:
    copy = given.submitted(2, project_id=2, hash=5)
    state = state_of(given.workshop(), given.project(2), copy)
    assert lanes(state, 2)["queue"] == [2] and state.tasks.of(2).hashes == {5: 2}


# --- deadlines ------------------------------------------------------------------------------


def test_due_returns_assignments_whose_deadline_passed_earliest_first() -> None:
    state = state_of(
        given.workshop(), given.submitted(1), given.submitted(2), given.submitted(3),
        given.assigned(1, 1, deadline=T0 + 30), given.assigned(2, 2, deadline=T0 + 10),
        given.assigned(3, 3, deadline=T0 + 50),
    )  # fmt: skip
    assert state.tasks.due(T0 + 5) == []
    assert state.tasks.due(T0 + 30) == [(2, T0 + 10), (1, T0 + 30)]
    assert state.tasks.due(T0 + 100) == [(2, T0 + 10), (1, T0 + 30), (3, T0 + 50)]


def test_due_is_a_query_and_only_an_event_takes_a_deadline_off() -> None:
    """An expiry that failed (nothing appended) finds the same deadline at the next tick."""
    state = state_of(
        given.workshop(), given.submitted(1), given.submitted(2),
        given.assigned(1, 1, deadline=T0 + 10), given.assigned(2, 2, deadline=T0 + 20),
    )  # fmt: skip
    heap_before = list(state.tasks.deadlines)
    assert state.tasks.due(T0 + 30) == [(1, T0 + 10), (2, T0 + 20)]
    assert state.tasks.deadlines == heap_before
    assert state.tasks.due(T0 + 30) == [(1, T0 + 10), (2, T0 + 20)]
    state.apply(given.expired(1, 1))
    assert state.tasks.due(T0 + 30) == [(2, T0 + 20)]
    assert state.tasks.deadlines == [(T0 + 20, 2)]  # the ended assignment left the top


def test_the_deadline_heap_depends_only_on_the_log() -> None:
    """Two folds of the same events build the same heap, whatever was asked in between."""
    events = [
        given.submitted(1), given.submitted(2), given.submitted(3),
        given.assigned(1, 1, deadline=T0 + 10), given.assigned(2, 2, deadline=T0 + 5),
        given.released(2, 2, Outcome.SKIPPED), given.assigned(3, 3, deadline=T0 + 7),
        given.expired(1, 1),
    ]  # fmt: skip
    asked, quiet = state_of(given.workshop()), state_of(given.workshop())
    for event in events:
        asked.apply(event)
        asked.tasks.due(T0 + 100)
        quiet.apply(event)
    assert asked.tasks.deadlines == quiet.tasks.deadlines
    assert asked.tasks.deadlines[0] == (T0 + 7, 3)  # the top is live; task 1's entry is stale
    assert asked.tasks.due(T0 + 100) == [(3, T0 + 7)]


def test_due_skips_stale_deadlines_of_released_and_reassigned_tasks() -> None:
    state = state_of(
        given.workshop(), given.submitted(1), given.submitted(2),
        given.assigned(1, 1, deadline=T0 + 10), given.released(1, 1, Outcome.SKIPPED),
        given.assigned(2, 2, deadline=T0 + 10), given.expired(2, 2),
        given.assigned(2, 3, deadline=T0 + 40),
    )  # fmt: skip
    assert state.tasks.due(T0 + 20) == []
    assert state.tasks.due(T0 + 40) == [(2, T0 + 40)]


def test_many_assignments_keep_the_deadline_heap_bounded() -> None:
    """Stale heap entries are compacted away once they outnumber live assignments."""
    state = state_of(given.workshop(), given.submitted(1))
    for round_ in range(3 * 4096):
        state.apply(given.assigned(1, 1, deadline=T0 + round_))
        state.apply(given.released(1, 1, Outcome.SKIPPED))
    assert len(state.tasks.deadlines) < 4096
    state.apply(given.assigned(1, 1, deadline=T0 + 5))
    assert state.tasks.due(T0 + 10**6) == [(1, T0 + 5)]


def test_task_ids_continue_after_the_highest_seen() -> None:
    state = state_of(given.workshop(), given.submitted(41))
    assert state.tasks.next_id == 42
    assert board_module.NEW == 1 and board_module.FAILED == 2


# --- workers and access ---------------------------------------------------------------------


def test_workers_access_and_pause_fold_from_their_events() -> None:
    state = state_of(given.worker(1), given.worker(2, alias="second", paused=True),
                     given.project(1), given.access(1, 1, pending=True),
                     given.access(2, 1, submit=False))  # fmt: skip
    assert state.workers.next_id == 3
    assert state.workers.get(2).alias == "second"  # type: ignore[union-attr]
    assert state.workers.get(2).paused  # type: ignore[union-attr]
    assert not state.access.can_submit(1, 1) and not state.access.can_assign(1, 1)
    assert state.access.can_assign(2, 1) and not state.access.can_submit(2, 1)


def test_finding_the_best_task_does_not_look_past_the_first_eligible_one() -> None:
    """Assignment cost does not grow with the queue: only skipped tasks are looked at."""
    queue = queue_of(*[(n % 7, n) for n in range(100_000)])
    looked: list[int] = []

    def eligible(task_id: int) -> bool:
        looked.append(task_id)
        return task_id not in (6, 13)

    assert queue.first(eligible) == 20
    assert looked == [6, 13, 20]
    assert queue.first() == 6


def recount(state: State, project_id: int = 1) -> dict[int, int]:
    """Worker id -> queued tasks it voted on, counted the slow way."""
    counts: dict[int, int] = {}
    for task_id in state.tasks.of(project_id).queue:
        for worker_id in state.tasks.tasks[task_id].votes or ():
            counts[worker_id] = counts.get(worker_id, 0) + 1
    return counts


def test_queued_votes_per_worker_follow_every_way_in_and_out_of_the_queue() -> None:
    submits = [given.submitted(n, verification_count=3, max_retries=1) for n in (1, 2, 3)]
    state = state_of(given.workshop(), *submits)
    steps: list[tuple[object, dict[int, int]]] = [
        (given.assigned(1, 1), {}),
        (given.released(1, 1, Outcome.VOTED), {1: 1}),  # requeued with worker 1's vote
        (given.assigned(2, 1), {1: 1}),
        (given.released(2, 1, Outcome.VOTED), {1: 2}),
        (given.assigned(1, 2), {1: 1}),  # task 1 leaves the queue with its voter
        (given.released(1, 2, Outcome.VOTED), {1: 2, 2: 1}),
        (given.assigned(1, 3), {1: 1}),
        (given.expired(1, 3), {1: 2, 2: 1}),  # an expired assignment comes back, votes and all
        (given.assigned(2, 2), {1: 1, 2: 1}),
        (given.released(2, 2, Outcome.FAILED, result=1), {1: 1, 2: 1}),  # set aside
        (FailedTasksReset(at=T0, actor=SYSTEM, project_id=1, task_ids=[2]), {1: 2, 2: 1}),
        (given.assigned(1, 3), {1: 1}),
        (given.released(1, 3, Outcome.CLOSED), {1: 1}),
        (ProjectTasksDeleted(at=T0, actor=SYSTEM, project_id=1, task_ids=[2, 3]), {}),
    ]
    for event, expected in steps:
        state.apply(event)  # type: ignore[arg-type]
        assert state.tasks.of(1).voted_queued == expected == recount(state), event


def test_a_worker_that_voted_on_every_queued_task_gets_none_and_others_still_get_one() -> None:
    events: list = [given.workshop()]
    for n in range(1, 51):
        events += [given.submitted(n, verification_count=2), given.assigned(n, 1),
                   given.released(n, 1, Outcome.VOTED)]  # fmt: skip
    state = state_of(*events)
    assert state.tasks.of(1).voted_queued == {1: 50} == recount(state)
    assert state.tasks.next_for(1, 1) is None
    assert state.tasks.next_for(1, 2).id == 1  # type: ignore[union-attr]
    state.apply(given.submitted(51, priority=-1))  # one the worker has not voted on, last
    assert state.tasks.next_for(1, 1).id == 51  # type: ignore[union-attr]

"""A manager's actions on chosen tasks, as pure decisions: given a project whose tasks are in
every state, when a manager retries, cancels, re-prioritizes or takes back some of them, then
one event lists the tasks touched, the others are skipped, and the read models follow."""

from __future__ import annotations

import functools

import pytest

from tests.unit import given
from tests.unit.given import T0, manager, state_of
from tracker.commands.authz import NoSession
from tracker.commands.base import ProjectNotFound
from tracker.commands.decide import decide
from tracker.commands.task_actions import (
    CancelTasks,
    ChangePriority,
    InvalidPriority,
    MoreThanConfirmed,
    NoTaskNamed,
    NothingToDo,
    RetryTasks,
    TakeBackTasks,
)
from tracker.errors import TrackerError, Unauthorized
from tracker.events import tasks as tev
from tracker.events.base import Event
from tracker.http.statuses import status_of
from tracker.projections import project_status
from tracker.projections.monitoring import FAILED as FAILED_COUNT
from tracker.projections.monitoring import NEW as NEW_COUNT
from tracker.projections.tasks import NEW
from tracker.queries.tasks import Sort, TaskFilter, page

NOW = T0 + 100
MAINTENANCE, ALL_BUT_MAINTENANCE = 16, 15


def _workshop() -> list[Event]:
    """Project 1: tasks 1 and 4 queued, 2 assigned to worker 1, 3 failed; project 2: task 5
    queued. Manager 1 maintains project 1, manager 2 has every other role on it."""
    return [
        *given.workshop(workers=1), *given.project(2),
        *manager(1, p1=MAINTENANCE), *manager(2, p1=ALL_BUT_MAINTENANCE),
        given.submitted(1), given.submitted(2), given.submitted(3), given.submitted(4),
        given.submitted(5, project_id=2),
        given.assigned(2, 1), given.assigned(3, 1),
        given.released(3, 1, tev.Outcome.FAILED, result=1),
    ]  # fmt: skip


def refusal(state, command) -> TrackerError:  # type: ignore[no-untyped-def]
    with pytest.raises(TrackerError) as caught:
        decide(state, command, NOW)
    return caught.value


def listed(kind: type, ids: list[int], **fields: int) -> Event:
    return kind(at=NOW, actor="manager:1", project_id=1, task_ids=ids, **fields)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("command", "event"),
    [
        (RetryTasks(manager_id=1, project=1, task_ids=[1, 2, 3, 4, 5]),
         listed(tev.FailedTasksReset, [3])),
        (CancelTasks(manager_id=1, project=1, task_ids=[1, 2, 3, 4, 5]),
         listed(tev.QueuedTasksCancelled, [1, 4])),
        (TakeBackTasks(manager_id=1, project=1, task_ids=[1, 2, 3, 4, 5]),
         listed(tev.AssignedTasksReclaimed, [2])),
        (ChangePriority(manager_id=1, project=1, task_ids=[1, 2, 3, 4, 5], priority=9),
         listed(tev.TasksReprioritized, [1, 4], priority=9)),
    ],
)  # fmt: skip
def test_an_action_lists_the_tasks_it_can_touch_and_skips_the_others(command, event) -> None:  # type: ignore[no-untyped-def]
    """Task 5 is of another project: skipped like the tasks in another state."""
    assert decide(state_of(_workshop()), command, NOW) == [event]


@pytest.mark.parametrize("kind", [RetryTasks, CancelTasks, TakeBackTasks,
                                  functools.partial(ChangePriority, priority=1)])  # fmt: skip
def test_who_may_act(kind: type) -> None:
    state = state_of(_workshop(), manager(3, admin=True))
    assert decide(state, kind(manager_id=3, project=1, task_ids=[1, 2, 3]), NOW)  # admin
    assert isinstance(refusal(state, kind(manager_id=2, project=1, task_ids=[1, 2, 3])),
                      Unauthorized)  # fmt: skip
    assert isinstance(refusal(state, kind(manager_id=0, project=1, task_ids=[1])), NoSession)
    assert isinstance(refusal(state, kind(manager_id=1, project=9, task_ids=[1])),
                      ProjectNotFound)  # fmt: skip


def test_nothing_to_do_is_a_409_naming_the_state_needed() -> None:
    state = state_of(_workshop())
    error = refusal(state, RetryTasks(manager_id=1, project=1, task_ids=[1, 2, 99, 5]))
    assert isinstance(error, NothingToDo)
    assert (status_of(error), error.message) == (
        409, "Nothing to do: no task asked for in project 1 is failed now")  # fmt: skip
    same = ChangePriority(manager_id=1, project=1, task_ids=[1, 4], priority=0)
    assert refusal(state, same).message.endswith("is queued at another priority now")


def test_no_task_named_and_a_priority_out_of_range_are_bad_requests() -> None:
    state = state_of(_workshop())
    for command, kind in (
        (CancelTasks(manager_id=1, project=1, task_ids=[]), NoTaskNamed),
        (ChangePriority(manager_id=1, project=1, task_ids=[1], priority=2**15), InvalidPriority),
        (ChangePriority(manager_id=1, project=1, task_ids=[1], priority=-(2**15) - 1),
         InvalidPriority),
    ):  # fmt: skip
        error = refusal(state, command)
        assert isinstance(error, kind) and status_of(error) == 400


def test_a_filter_touches_at_most_the_count_confirmed() -> None:
    state = state_of(_workshop())
    more = CancelTasks(manager_id=1, project=1, task_ids=[1, 4], confirmed=1)
    error = refusal(state, more)
    assert isinstance(error, MoreThanConfirmed) and status_of(error) == 409
    assert error.message == "2 tasks match now, more than the 1 confirmed: confirm again"
    fewer = CancelTasks(manager_id=1, project=1, task_ids=[1, 2, 4], confirmed=3)
    assert decide(state, fewer, NOW) == [listed(tev.QueuedTasksCancelled, [1, 4])]


def test_a_task_named_twice_is_touched_once() -> None:
    state = state_of(_workshop())
    command = CancelTasks(manager_id=1, project=1, task_ids=[4, 1, 4])
    assert decide(state, command, NOW) == [listed(tev.QueuedTasksCancelled, [4, 1])]


def _after(command: object) -> tuple:  # type: ignore[type-arg]
    """The live read models and the time-travel fold of project 1 after ``command``."""
    events = _workshop()
    state = state_of(events)
    events += decide(state, command, NOW)  # type: ignore[arg-type]
    state = state_of(events)
    status = None
    for event in events:
        if event.concerned_project() == 1:
            status = project_status.apply(status, event)
    return state, status


def test_retry_queues_the_failed_task_with_its_attempts_counted_from_zero() -> None:
    state, status = _after(RetryTasks(manager_id=1, project=1, task_ids=[3]))
    task = state.tasks.tasks[3]
    assert (task.status, task.retries) == (NEW, 0)
    assert list(state.tasks.projects[1].queue) == [1, 4, 3]
    assert status.view()["tasks"] == {"queued": 3, "assigned": 1, "failed": 0, "closed": 0}
    assert state.monitoring.counts(1)[FAILED_COUNT] == 0


def test_cancel_deletes_queued_tasks_and_counts_nothing_closed() -> None:
    state, status = _after(CancelTasks(manager_id=1, project=1, task_ids=[4]))
    assert 4 not in state.tasks.tasks
    assert list(state.tasks.projects[1].queue) == [1]
    assert state.projects.get(1).closed_task_count == 0
    assert status.view()["tasks"] == {"queued": 1, "assigned": 1, "failed": 1, "closed": 0}
    assert state.monitoring.counts(1)[NEW_COUNT] == 2  # task 1 queued, task 2 assigned


def test_a_new_priority_moves_queued_tasks_to_their_new_lane() -> None:
    state, status = _after(ChangePriority(manager_id=1, project=1, task_ids=[4], priority=5))
    assert state.tasks.tasks[4].priority == 5
    assert list(state.tasks.projects[1].queue) == [4, 1]
    assert status.view()["tasks"]["queued"] == 2
    listed = page(state, TaskFilter(project=1), Sort.PRIORITY).tasks  # the task browser's index
    assert [(row.id, row.priority) for row in listed] == [(4, 5), (1, 0), (2, 0), (3, 0)]
    rows = page(state, TaskFilter(project=1, priority_min=1), Sort.ID).tasks
    assert [row.id for row in rows] == [4]


def test_take_back_queues_the_task_again_and_the_worker_holds_nothing() -> None:
    state, status = _after(TakeBackTasks(manager_id=1, project=1, task_ids=[2]))
    assert state.tasks.tasks[2].assignee == 0
    assert list(state.tasks.projects[1].queue) == [1, 4, 2]
    assert status.view()["tasks"] == {"queued": 3, "assigned": 0, "failed": 1, "closed": 0}


def test_a_cancelled_voted_task_leaves_the_votes_count() -> None:
    events = [
        *given.workshop(workers=2), *manager(1, p1=MAINTENANCE),
        given.submitted(1, verification_count=2), given.assigned(1, 1),
        given.released(1, 1, tev.Outcome.VOTED, verification=7),
    ]  # fmt: skip
    state = state_of(events)
    assert state.monitoring.counts(1)[4] == 1  # one vote
    state = state_of(events, decide(state, CancelTasks(manager_id=1, project=1, task_ids=[1]), NOW))
    assert state.monitoring.counts(1)[4] == 0 and state.monitoring.counts(1)[NEW_COUNT] == 0
    assert state.tasks.projects[1].voted_queued == {} and state.tasks.tasks == {}

"""Given events, when an assignment or its expiry is decided, then these events or a refusal."""

from __future__ import annotations

import pytest

from tests.unit import given
from tests.unit.decisions import (
    DEFAULT_ASSIGN_TIME,
    FAIL,
    NOW,
    OK,
    SKIP,
    assign,
    release,
    run,
)
from tests.unit.given import T0, state_of
from tracker.commands.base import ProjectNotFound
from tracker.commands.decide import decide
from tracker.commands.tasks import (
    ExpireAssignment,
    NoTaskAvailable,
    WorkerPaused,
)
from tracker.events.base import SYSTEM, worker_actor
from tracker.events.tasks import (
    AssignmentExpired,
    Outcome,
    TaskAssigned,
)

# --- assign ---------------------------------------------------------------------------------


def test_assignment_takes_the_highest_priority_and_sets_the_deadline() -> None:
    state = state_of(given.workshop(), given.submitted(1, priority=-1),
                     given.submitted(2, priority=5, max_assign_time=60),
                     given.submitted(3))  # fmt: skip
    assert decide(state, assign(2), NOW) == [
        TaskAssigned(at=NOW, actor=worker_actor(2), task_id=2, project_id=1, worker_id=2,
                     deadline=NOW + 60)
    ]  # fmt: skip


def test_priorities_come_out_highest_first_negative_last_and_fifo_among_equals() -> None:
    priorities = [0, -5, 3, 0, 3, -32768, 32767, 0]
    state = state_of(given.workshop(), [given.submitted(i + 1, priority=p)
                                        for i, p in enumerate(priorities)])  # fmt: skip
    order = [run(state, assign(1))[0].task_id for _ in priorities]
    assert order == [7, 3, 5, 1, 4, 8, 2, 6]
    with pytest.raises(NoTaskAvailable):
        decide(state, assign(1), NOW)


def test_max_assign_time_zero_uses_the_configured_default() -> None:
    state = state_of(given.workshop(), given.submitted(1, max_assign_time=0))
    assert decide(state, assign(1), NOW)[0].deadline == NOW + DEFAULT_ASSIGN_TIME


def test_a_paused_worker_is_told_so() -> None:
    state = state_of(
        given.project(1, public=True), given.worker(1, paused=True), given.submitted(1)
    )
    with pytest.raises(WorkerPaused) as refused:
        decide(state, assign(1), NOW)
    assert "paused" in refused.value.message


def test_a_paused_project_has_no_task_available() -> None:
    state = state_of(
        given.project(1, public=True, paused=True), given.worker(1), given.submitted(1)
    )
    with pytest.raises(NoTaskAvailable):
        decide(state, assign(1), NOW)


def test_any_worker_may_take_from_a_public_project() -> None:
    state = state_of(given.project(1, public=True), given.worker(1), given.submitted(1))
    assert decide(state, assign(1), NOW)[0].task_id == 1


@pytest.mark.parametrize("hidden", [False, True], ids=["private", "hidden"])
@pytest.mark.parametrize(
    ("grant", "assignable"),
    [
        ([], False),
        (given.access(1, 1, pending=True), False),
        (given.access(1, 1, assign=False), False),
        (given.access(1, 1, submit=False), True),
    ],
    ids=["no record", "pending", "submit only", "granted assign"],
)
def test_a_private_or_hidden_project_needs_granted_assign_access(
    hidden: bool, grant: list, assignable: bool
) -> None:
    state = state_of(given.project(1, hidden=hidden), given.worker(1), grant, given.submitted(1))
    if assignable:
        assert decide(state, assign(1), NOW)[0].task_id == 1
    else:
        with pytest.raises(NoTaskAvailable):
            decide(state, assign(1), NOW)


def test_assigning_from_an_unknown_project_is_not_found() -> None:
    with pytest.raises(ProjectNotFound):
        decide(state_of(given.workshop()), assign(1, project=5), NOW)


def test_assigned_and_failed_tasks_are_not_offered() -> None:
    state = state_of(given.workshop(), given.submitted(1), given.submitted(2),
                     given.assigned(1, 1), given.assigned(2, 2),
                     given.released(2, 2, Outcome.FAILED, result=FAIL))  # fmt: skip
    with pytest.raises(NoTaskAvailable):
        decide(state, assign(3), NOW)


def test_a_worker_that_voted_on_a_task_is_never_given_it_again() -> None:
    state = state_of(given.workshop(), given.submitted(1, verification_count=2),
                     given.submitted(2, priority=-1), given.assigned(1, 1),
                     given.released(1, 1, Outcome.VOTED, verification=5))  # fmt: skip
    assert decide(state, assign(1), NOW)[0].task_id == 2
    assert decide(state, assign(2), NOW)[0].task_id == 1


# --- expire ---------------------------------------------------------------------------------


def test_an_assignment_past_its_deadline_expires() -> None:
    state = state_of(given.workshop(), given.submitted(1), given.assigned(1, 2, deadline=T0 + 60))
    assert decide(state, ExpireAssignment(task_id=1, deadline=T0 + 60), NOW) == [
        AssignmentExpired(at=NOW, actor=SYSTEM, task_id=1, project_id=1, worker_id=2)
    ]


def test_expiring_a_released_reassigned_or_already_expired_task_is_harmless() -> None:
    state = state_of(given.workshop(), given.submitted(1), given.submitted(2),
                     given.assigned(1, 1, deadline=T0 + 60),
                     given.assigned(2, 1, deadline=T0 + 60))  # fmt: skip
    run(state, release(1, 1, SKIP))
    assert decide(state, ExpireAssignment(task_id=1, deadline=T0 + 60), NOW) == []
    run(state, assign(2))  # task 1 again, with a new deadline
    assert decide(state, ExpireAssignment(task_id=1, deadline=T0 + 60), NOW) == []
    assert run(state, ExpireAssignment(task_id=2, deadline=T0 + 60))
    assert decide(state, ExpireAssignment(task_id=2, deadline=T0 + 60), NOW) == []
    assert decide(state, ExpireAssignment(task_id=99, deadline=T0 + 60), NOW) == []


def test_the_old_assignee_of_an_expired_task_cannot_release_it() -> None:
    state = state_of(given.workshop(), given.submitted(1), given.assigned(1, 1),
                     given.expired(1, 1))  # fmt: skip
    assert decide(state, release(1, 1, OK), NOW) == []
    run(state, assign(2))
    assert decide(state, release(1, 1, OK), NOW) == []
    assert decide(state, release(2, 1, OK), NOW)[0].outcome is Outcome.CLOSED

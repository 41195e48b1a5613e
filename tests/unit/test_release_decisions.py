"""Given events, when a release is decided, then these events: outcomes, verification,
chains; and deciding never changes the state."""

from __future__ import annotations

import contextlib

import pytest

from tests.state_snapshot import snapshot
from tests.unit import given
from tests.unit.decisions import (
    FAIL,
    HELLO_WORLD,
    NOW,
    OK,
    SKIP,
    assign,
    outcome_of,
    release,
    run,
    submit,
)
from tests.unit.given import T0, state_of
from tracker.commands.decide import decide
from tracker.commands.tasks import (
    BulkSubmit,
    ExpireAssignment,
    NoTaskAvailable,
)
from tracker.events.base import worker_actor
from tracker.events.tasks import (
    Outcome,
    TaskReleased,
    TaskSubmitted,
)
from tracker.projections.state import State

# --- release --------------------------------------------------------------------------------


def test_ok_by_the_assignee_closes_a_task() -> None:
    state = state_of(given.workshop(), given.submitted(1), given.assigned(1, 2))
    assert decide(state, release(2, 1, OK, verification=3), NOW) == [
        TaskReleased(at=NOW, actor=worker_actor(2), task_id=1, project_id=1, worker_id=2,
                     result=OK, outcome=Outcome.CLOSED, verification=3)
    ]  # fmt: skip


@pytest.mark.parametrize("result", [OK, FAIL, SKIP, 3, -1])
def test_a_release_by_someone_else_or_of_an_unknown_task_changes_nothing(result: int) -> None:
    state = state_of(given.workshop(), given.submitted(1), given.submitted(2), given.assigned(1, 2))
    assert decide(state, release(1, 1, result), NOW) == []
    assert decide(state, release(2, 2, result), NOW) == []  # queued, not assigned
    assert decide(state, release(2, 99, result), NOW) == []


@pytest.mark.parametrize("result", [3, -1, 2**40])
def test_an_unknown_result_code_changes_nothing(result: int) -> None:
    state = state_of(given.workshop(), given.submitted(1), given.assigned(1, 1))
    assert decide(state, release(1, 1, result), NOW) == []


def test_skip_gives_the_task_back_and_the_same_worker_may_take_it_again() -> None:
    state = state_of(given.workshop(), given.submitted(1, max_retries=1), given.assigned(1, 1))
    assert outcome_of(state, release(1, 1, SKIP)) is Outcome.SKIPPED
    assert state.tasks.get(1).retries == 0  # type: ignore[union-attr]
    assert decide(state, assign(1), NOW)[0].task_id == 1


@pytest.mark.parametrize(("max_retries", "failures"), [(0, 1), (1, 1), (2, 2), (3, 3)])
def test_max_retries_counts_attempts(max_retries: int, failures: int) -> None:
    """behavior.md 7.3: FAILED once retries + 1 >= max_retries (0 and 1 on the first)."""
    state = state_of(given.workshop(), given.submitted(1, max_retries=max_retries))
    outcomes = []
    for _ in range(failures):
        run(state, assign(1))
        outcomes.append(outcome_of(state, release(1, 1, FAIL)))
    assert outcomes == [Outcome.RETRY] * (failures - 1) + [Outcome.FAILED]
    task = state.tasks.get(1)
    assert task is not None and task.retries == failures and task.status == 2
    with pytest.raises(NoTaskAvailable):
        decide(state, assign(2), NOW)


def test_verification_two_needs_two_distinct_workers_agreeing() -> None:
    """Section 14: w1 OK 123 → not closed; w2 OK 1 → not closed; w3 OK 123 → closed."""
    state = state_of(given.workshop(), given.submitted(1, verification_count=2))
    run(state, assign(1))
    assert outcome_of(state, release(1, 1, OK, verification=123)) is Outcome.VOTED
    with pytest.raises(NoTaskAvailable):
        decide(state, assign(1), NOW)
    run(state, assign(2))
    assert outcome_of(state, release(2, 1, OK, verification=1)) is Outcome.VOTED
    run(state, assign(3))
    assert outcome_of(state, release(3, 1, OK, verification=123)) is Outcome.CLOSED
    assert state.tasks.get(1) is None
    assert state.workers.get(3).closed_task_count == 1  # type: ignore[union-attr]
    assert state.workers.get(1).closed_task_count == 0  # type: ignore[union-attr]


@pytest.mark.parametrize("value", [2**63 - 1, -(2**63)])
def test_extreme_verification_values_count_as_votes(value: int) -> None:
    state = state_of(given.workshop(), given.submitted(1, verification_count=2))
    run(state, assign(1))
    assert outcome_of(state, release(1, 1, OK, verification=value)) is Outcome.VOTED
    run(state, assign(2))
    assert outcome_of(state, release(2, 1, OK, verification=value)) is Outcome.CLOSED


def test_a_negative_verification_count_closes_on_the_first_ok() -> None:
    state = state_of(
        given.workshop(), given.submitted(1, verification_count=-2), given.assigned(1, 1)
    )
    assert outcome_of(state, release(1, 1, OK, verification=9)) is Outcome.CLOSED


def test_when_every_worker_voted_differently_the_task_waits_forever() -> None:
    state = state_of(given.workshop(workers=2), given.submitted(1, verification_count=2))
    for worker_id in (1, 2):
        run(state, assign(worker_id))
        assert outcome_of(state, release(worker_id, 1, OK, verification=worker_id)) is Outcome.VOTED
    for worker_id in (1, 2):
        with pytest.raises(NoTaskAvailable):
            decide(state, assign(worker_id), NOW)
    assert state.tasks.get(1).status == 1  # type: ignore[union-attr]


# --- chains ---------------------------------------------------------------------------------


def chained(*, chain_hash: int = 0) -> State:
    """Project 2 chains to project 1; task 1 of project 2 is assigned to worker 1."""
    return state_of(
        given.project(1), given.project(2, chain=1), given.worker(1), given.access(1, 2),
        given.submitted(1, project_id=2, priority=-7, max_retries=1, max_assign_time=77,
                        verification_count=1, hash=chain_hash, recipe="chained recipe"),
        given.assigned(1, 1, project_id=2),
    )  # fmt: skip


def test_closing_a_chained_task_copies_it_into_the_target() -> None:
    state = chained(chain_hash=HELLO_WORLD)
    events = decide(state, release(1, 1, OK), NOW)
    assert [type(e) for e in events] == [TaskReleased, TaskSubmitted]
    assert events[1] == TaskSubmitted(
        at=NOW, actor=worker_actor(1), task_id=2, project_id=1, recipe="chained recipe",
        priority=-7, max_retries=1, max_assign_time=77, verification_count=1, hash=HELLO_WORLD,
        chained_from=1,
    )  # fmt: skip


def test_a_chain_copy_whose_hash_is_taken_is_silently_dropped() -> None:
    state = chained(chain_hash=5)
    state.apply(given.submitted(9, project_id=1, hash=5))
    events = decide(state, release(1, 1, OK), NOW)
    assert [e.outcome for e in events] == [Outcome.CLOSED]


@pytest.mark.parametrize(("result", "outcome"), [(FAIL, Outcome.FAILED), (SKIP, Outcome.SKIPPED)])
def test_only_a_close_copies_into_the_chain(result: int, outcome: Outcome) -> None:
    events = decide(chained(), release(1, 1, result), NOW)
    assert [e.outcome for e in events] == [outcome]


def test_chains_are_transitive() -> None:
    state = state_of(
        given.project(1), given.project(2, chain=1), given.project(3, chain=2),
        given.worker(1, ), given.access(1, 1), given.access(1, 2), given.access(1, 3),
        given.submitted(1, project_id=3, recipe="travelling"),
    )  # fmt: skip
    for project in (3, 2, 1):
        task_id = run(state, assign(1, project))[0].task_id
        events = run(state, release(1, task_id, OK))
        copies = [e for e in events if isinstance(e, TaskSubmitted)]
        assert [(c.project_id, c.recipe) for c in copies] == (
            [(project - 1, "travelling")] if project > 1 else []
        )
    assert state.tasks.tasks == {}


# --- purity ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        submit(project=3),
        submit(project=3, hash_u64=7),
        BulkSubmit(worker_id=1, tasks=[submit(project=3, hash_u64=8)]),
        assign(1, project=3),
        release(1, 1, OK),
        ExpireAssignment(task_id=1, deadline=T0 + 300),
    ],
    ids=["submit", "submit with hash", "bulk", "assign", "release into a chain", "expire"],
)
def test_deciding_never_changes_the_state(command: object) -> None:
    """Project 3 has no task yet and task 1 closes into project 1, which has none either."""
    state = chained(chain_hash=5)
    for event in given.project(3) + given.access(1, 3):
        state.apply(event)
    before = (snapshot(state), set(state.tasks.projects))
    with contextlib.suppress(NoTaskAvailable):
        decide(state, command, NOW)  # type: ignore[arg-type]
    assert (snapshot(state), set(state.tasks.projects)) == before

"""Given events, when a batch is decided, then it does what the same single requests sent in a
row would: the same tasks, outcomes, votes, chain copies and read models. Keep-alives move a
deadline later, never earlier, and only for the worker that holds the task."""

from __future__ import annotations

import pytest
from hypothesis import given as scenarios
from hypothesis import settings
from hypothesis import strategies as st

from tests.unit import given
from tests.unit.decisions import DEFAULT_ASSIGN_TIME, FAIL, NOW, OK, SKIP, assign, release, run
from tests.unit.given import T0, state_of
from tracker.commands.batches import AssignTasks, InvalidBatch, ReleaseTasks
from tracker.commands.decide import decide
from tracker.commands.tasks import (
    ExpireAssignment,
    ExtendAssignment,
    NoTaskAvailable,
    NotAssigned,
    ReleaseTask,
    WorkerPaused,
)
from tracker.errors import RateLimited
from tracker.events import projects as pev
from tracker.events.base import worker_actor
from tracker.events.tasks import (
    Assignment,
    AssignmentExtended,
    Outcome,
    Release,
    TasksAssigned,
    TasksReleased,
    TaskSubmitted,
)
from tracker.projections import digest
from tracker.projections.state import State


def assign_batch(worker_id: int, count: int, project: int = 1) -> AssignTasks:
    return AssignTasks(worker_id=worker_id, project=project, count=count,
                       default_assign_time=DEFAULT_ASSIGN_TIME)  # fmt: skip


def release_batch(worker_id: int, *releases: tuple[int, int, int]) -> ReleaseTasks:
    """(task id, result, verification) per element."""
    items = [release(worker_id, task, result, value) for task, result, value in releases]
    return ReleaseTasks(worker_id=worker_id, tasks=items)


def read_models(state: State) -> dict:
    """Every read model's digest but the event counter (a batch is one event, not n)."""
    found = digest.compute(state)
    del found["event_counts"]
    return found


# --- batch assignment ---------------------------------------------------------------------


def test_a_batch_takes_the_best_tasks_first_each_until_its_own_deadline() -> None:
    state = state_of(given.workshop(), given.submitted(1), given.submitted(2, priority=5),
                     given.submitted(3, max_assign_time=60), given.submitted(4))  # fmt: skip
    assert decide(state, assign_batch(2, 3), NOW) == [
        TasksAssigned(at=NOW, actor=worker_actor(2), project_id=1, worker_id=2, tasks=[
            Assignment(2, NOW + DEFAULT_ASSIGN_TIME), Assignment(1, NOW + DEFAULT_ASSIGN_TIME),
            Assignment(3, NOW + 60),
        ])
    ]  # fmt: skip


def test_a_batch_larger_than_the_queue_takes_what_there_is() -> None:
    state = state_of(given.workshop(), given.submitted(1), given.submitted(2))
    run(state, assign_batch(1, 100))
    assert state.tasks.of(1).queue.size == 0
    with pytest.raises(NoTaskAvailable):
        decide(state, assign_batch(2, 100), NOW)


@pytest.mark.parametrize(
    ("events", "refusal"),
    [
        (given.workshop() + given.worker(9, paused=True), WorkerPaused),
        (given.project(1, paused=True) + given.worker(9) + given.access(9, 1), NoTaskAvailable),
        (given.project(1) + given.worker(9), NoTaskAvailable),  # private, no access
        (given.project(1) + given.worker(9) + given.access(9, 1, pending=True), NoTaskAvailable),
    ],
)
def test_a_batch_meets_the_rules_of_a_single_assignment(events: list, refusal: type) -> None:
    state = state_of(events, given.submitted(1), given.submitted(2))
    for command in (assign(9), assign_batch(9, 2)):
        with pytest.raises(refusal):
            decide(state, command, NOW)


def test_a_worker_never_gets_in_a_batch_a_task_it_voted_on() -> None:
    state = state_of(given.workshop(), [given.submitted(t, verification_count=2)
                                        for t in (1, 2, 3)])  # fmt: skip
    run(state, assign(1))
    run(state, release(1, 1, OK, verification=7))  # worker 1 voted on task 1
    taken = run(state, assign_batch(1, 10))[0]
    assert [a.task_id for a in taken.tasks] == [2, 3]
    assert [a.task_id for a in run(state, assign_batch(2, 10))[0].tasks] == [1]


def test_a_rate_limited_project_gives_one_task_per_batch_and_counts_each() -> None:
    rated = pev.ProjectUpdated(
        at=T0, actor="system", project_id=1, name="p1", clone_url="", git_repo="", version="",
        priority=0, motd="", public=False, hidden=False, chain=0, paused=False,
        assign_rate=0.5, submit_rate=given.UNLIMITED,
    )  # fmt: skip
    state = state_of(given.workshop(), rated, [given.submitted(t) for t in (1, 2, 3)])
    assert [a.task_id for a in run(state, assign_batch(1, 3))[0].tasks] == [1]
    with pytest.raises(RateLimited) as refused:
        decide(state, assign_batch(1, 3), NOW + 1)
    assert refused.value.delay == pytest.approx(1.0)
    assert len(decide(state, assign_batch(1, 3), NOW + 2)[0].tasks) == 1


# --- batch release ------------------------------------------------------------------------


def test_each_task_of_a_batch_gets_its_own_result_outcome_and_reason() -> None:
    state = state_of(given.workshop(), given.submitted(1), given.submitted(2, max_retries=3),
                     given.submitted(3), given.submitted(4, verification_count=2))  # fmt: skip
    run(state, assign_batch(2, 4))
    command = release_batch(2, (1, OK, 5), (3, SKIP, 0), (4, OK, 9))
    command.tasks.insert(1, ReleaseTask(worker_id=2, task_id=2, result=FAIL, reason="boom"))
    assert decide(state, command, NOW) == [
        TasksReleased(at=NOW, actor=worker_actor(2), project_id=1, worker_id=2, tasks=[
            Release(1, OK, Outcome.CLOSED, 5), Release(2, FAIL, Outcome.RETRY, reason="boom"),
            Release(3, SKIP, Outcome.SKIPPED), Release(4, OK, Outcome.VOTED, 9),
        ])
    ]  # fmt: skip


def test_tasks_the_worker_does_not_hold_are_left_out_of_the_batch() -> None:
    state = state_of(given.workshop(), [given.submitted(t) for t in (1, 2, 3)])
    run(state, assign(1))  # task 1: worker 1's
    run(state, assign(2))  # task 2: worker 2's; task 3 queued; task 99 unknown
    events = decide(state, release_batch(1, (1, OK, 0), (2, OK, 0), (3, OK, 0), (99, OK, 0)), NOW)
    assert [r.task_id for e in events for r in e.tasks] == [1]
    assert decide(state, release_batch(1, (2, OK, 0), (3, FAIL, 0)), NOW) == []


def test_verification_needs_distinct_workers_in_batches_too() -> None:
    state = state_of(given.workshop(), [given.submitted(t, verification_count=2) for t in (1, 2)])
    run(state, assign_batch(1, 2))
    assert [r.outcome for r in run(state, release_batch(1, (1, OK, 4), (2, OK, 4)))[0].tasks] == [
        Outcome.VOTED, Outcome.VOTED]  # fmt: skip
    run(state, assign_batch(2, 2))
    released = run(state, release_batch(2, (1, OK, 4), (2, OK, 5)))[0].tasks
    assert [r.outcome for r in released] == [Outcome.CLOSED, Outcome.VOTED]


@pytest.mark.parametrize(
    ("releases", "message"),
    [
        ([], "releases must be a non-empty list"),
        ([(1, OK, 0), (0, OK, 0)], "releases[1]: task_id must be positive"),
        ([(1, 3, 0)], "releases[0]: result must be 0 (OK), 1 (FAIL) or 2 (SKIP)"),
        ([(1, OK, 0), (2, OK, 0), (1, FAIL, 0)], "releases[2]: task 1 is listed twice"),
    ],
)
def test_a_malformed_batch_is_refused_whole(releases: list, message: str) -> None:
    state = state_of(given.workshop(), [given.submitted(t) for t in (1, 2)])
    run(state, assign_batch(1, 2))
    with pytest.raises(InvalidBatch) as refused:
        decide(state, release_batch(1, *releases), NOW)
    assert refused.value.message == f"Invalid request: {message}"


def test_a_batch_over_two_projects_writes_one_event_per_project_and_their_chain_copies() -> None:
    state = state_of(given.project(1, chain=3), given.project(2), given.project(3),
                     given.worker(1), [e for p in (1, 2, 3) for e in given.access(1, p)],
                     given.submitted(1, hash=11), given.submitted(2, project_id=2),
                     given.submitted(3, hash=12))  # fmt: skip
    run(state, assign_batch(1, 5, project=1))
    run(state, assign_batch(1, 5, project=2))
    events = decide(state, release_batch(1, (1, OK, 0), (2, OK, 0), (3, OK, 0)), NOW)
    assert [(type(e).__name__, e.project_id) for e in events] == [
        ("TasksReleased", 1),
        ("TaskSubmitted", 3),
        ("TaskSubmitted", 3),
        ("TasksReleased", 2),
    ]
    copies = [e for e in events if isinstance(e, TaskSubmitted)]
    assert [(c.task_id, c.chained_from, c.hash) for c in copies] == [(4, 1, 11), (5, 3, 12)]


def test_a_chain_copy_sees_what_earlier_tasks_of_its_batch_closed_and_copied() -> None:
    """Projects 1 and 2 chain into 3. Task 1 (project 3, hash 7) closes and frees 7 there;
    task 2 (project 2, hash 7) is then copied into 3; task 3 (project 1, hash 7) finds 7 taken
    by that copy. One by one, in this order, the releases would do the same."""
    state = state_of(given.project(1, chain=3), given.project(2, chain=3), given.project(3),
                     given.worker(1), [e for p in (1, 2, 3) for e in given.access(1, p)],
                     given.submitted(1, project_id=3, hash=7),
                     given.submitted(2, project_id=2, hash=7),
                     given.submitted(3, project_id=1, hash=7))  # fmt: skip
    for project in (3, 2, 1):
        run(state, assign_batch(1, 1, project=project))
    events = decide(state, release_batch(1, (1, OK, 0), (2, OK, 0), (3, OK, 0)), NOW)
    copies = [e for e in events if isinstance(e, TaskSubmitted)]
    assert [(c.chained_from, c.project_id, c.task_id) for c in copies] == [(2, 3, 4)]


# --- a batch is the single requests in a row ------------------------------------------------


Workload = tuple[list, int, list[tuple[int, int, int]], int]


@st.composite
def workloads(draw: st.DrawFn) -> Workload:
    """Project 1 (chained into 2) and 2, three workers; tasks of mixed priorities, retries,
    verification counts and deadlines, one of them sharing a hash with task 100 of project 2;
    ``voted`` cycles of worker 2 first (votes and closes); then a batch of worker 1's of
    ``count`` tasks and a release of ``releases`` (task, result, verification), some of tasks
    worker 1 does not hold."""
    events: list = given.project(1, chain=2) + given.project(2)
    for worker_id in (1, 2, 3):
        events += given.worker(worker_id) + given.access(worker_id, 1) + given.access(worker_id, 2)
    total = draw(st.integers(1, 12))
    shared = draw(st.integers(1, total))
    for task_id in range(1, total + 1):
        hashed = task_id == shared or draw(st.booleans())
        events.append(given.submitted(
            task_id, priority=draw(st.integers(0, 2)), max_retries=draw(st.integers(0, 2)),
            verification_count=draw(st.integers(1, 2)),
            max_assign_time=draw(st.sampled_from([0, 60])),
            hash=(6 if task_id == shared else 1000 + task_id) if hashed else 0,
        ))  # fmt: skip
    events.append(given.submitted(100, project_id=2, hash=6))
    voted = draw(st.integers(0, 3))
    element = st.tuples(st.sampled_from([*range(1, total + 2), 100]),
                        st.sampled_from([OK, FAIL, SKIP]), st.integers(0, 1))  # fmt: skip
    releases = draw(st.lists(element, min_size=1, max_size=total + 2, unique_by=lambda r: r[0]))
    return events, voted, releases, draw(st.integers(1, total + 2))


def _taken(state: State, command: object) -> list[int]:
    try:
        events = run(state, command)
    except NoTaskAvailable:
        return []
    return [task for event in events for task in event.concerned_tasks()]


@settings(max_examples=200, deadline=None)
@scenarios(workloads())
def test_a_batch_does_what_the_same_single_requests_in_a_row_do(workload: Workload) -> None:
    events, voted, releases, count = workload
    by_batch, one_by_one = state_of(events), state_of(events)
    for state in (by_batch, one_by_one):
        for _ in range(voted):
            for task in _taken(state, assign(2)):
                run(state, release(2, task, OK, verification=1))
        _taken(state, assign(1, project=2))  # worker 1 holds task 100 of project 2 too
    singles: list[int] = []
    while len(singles) < count and (taken := _taken(one_by_one, assign(1))):
        singles += taken
    assert _taken(by_batch, assign_batch(1, count)) == singles
    assert read_models(by_batch) == read_models(one_by_one)

    run(by_batch, release_batch(1, *releases))
    held = {task: found.project_id for task, _, _ in releases
            if (found := one_by_one.tasks.get(task)) and found.assignee == 1}  # fmt: skip
    order = list(dict.fromkeys(held.values()))  # projects as their first held task appears
    for task, result, value in sorted(releases, key=lambda r: order.index(held.get(r[0], order[0]))
                                      if order else 0):  # fmt: skip
        run(one_by_one, release(1, task, result, verification=value))
    assert read_models(by_batch) == read_models(one_by_one)


# --- keep-alive -----------------------------------------------------------------------------


def extend(worker_id: int, task_id: int, seconds: float = 0) -> ExtendAssignment:
    return ExtendAssignment(worker_id=worker_id, task_id=task_id, seconds=seconds,
                            default_assign_time=DEFAULT_ASSIGN_TIME)  # fmt: skip


def test_a_keep_alive_moves_the_deadline_by_the_task_max_assign_time_or_the_seconds_given() -> None:
    state = state_of(given.workshop(), given.submitted(1, max_assign_time=60), given.submitted(2))
    run(state, assign_batch(1, 2))
    assert decide(state, extend(1, 1), NOW + 50) == [
        AssignmentExtended(at=NOW + 50, actor=worker_actor(1), task_id=1, project_id=1,
                           worker_id=1, deadline=NOW + 110)
    ]  # fmt: skip
    assert decide(state, extend(1, 2), NOW + 250)[0].deadline == NOW + 250 + DEFAULT_ASSIGN_TIME
    assert decide(state, extend(1, 2, seconds=1000), NOW)[0].deadline == NOW + 1000


def test_a_keep_alive_never_moves_a_deadline_earlier() -> None:
    state = state_of(given.workshop(), given.submitted(1, max_assign_time=60))
    run(state, assign(1))
    assert decide(state, extend(1, 1, seconds=10), NOW) == []
    assert decide(state, extend(1, 1), NOW) == []  # the same deadline


def test_after_a_keep_alive_the_expiry_decided_against_the_old_deadline_does_nothing() -> None:
    state = state_of(given.workshop(), given.submitted(1, max_assign_time=60))
    run(state, assign(1))
    old = state.tasks.get(1).deadline  # type: ignore[union-attr]
    assert state.tasks.due(old + 1) == [(1, old)]
    for event in decide(state, extend(1, 1), old + 1):  # late, but not taken back yet: counts
        state.apply(event)
    assert decide(state, ExpireAssignment(task_id=1, deadline=old), old + 1) == []
    assert state.tasks.due(old + 1) == []
    new = state.tasks.get(1).deadline  # type: ignore[union-attr]
    assert state.tasks.due(new + 1) == [(1, new)]


@pytest.mark.parametrize("holder", [None, 2])
def test_a_keep_alive_of_a_task_the_worker_does_not_hold_is_refused(holder: int | None) -> None:
    state = state_of(given.workshop(), given.submitted(1))
    if holder:
        run(state, assign(holder))
    with pytest.raises(NotAssigned) as refused:
        decide(state, extend(1, 1), NOW)
    assert "Task 1 is not assigned to you" in refused.value.message
    with pytest.raises(NotAssigned):
        decide(state, extend(1, 99), NOW)

"""Given events, when a task command is decided, then these events (or this refusal).

Every test builds a State by applying events, calls the one pure ``decide`` and looks at the
events it returns: no I/O, no clock but ``NOW``.
"""

from __future__ import annotations

import contextlib

import pytest

from tests.state_snapshot import snapshot
from tests.unit import given
from tests.unit.given import T0, state_of
from tracker.commands.base import InvalidTask, ProjectNotFound
from tracker.commands.decide import decide
from tracker.commands.tasks import (
    AssignTask,
    BulkSubmit,
    DuplicateTaskHash,
    ExpireAssignment,
    InvalidBulkTask,
    MixedBulkProjects,
    NoTaskAvailable,
    ReleaseTask,
    SubmitNotPermitted,
    SubmitTask,
    WorkerPaused,
)
from tracker.commands.workers import AliasTooLong, CreateWorker, ReservedAlias, UpdateWorker
from tracker.events.base import SYSTEM, worker_actor
from tracker.events.tasks import (
    AssignmentExpired,
    Outcome,
    TaskAssigned,
    TaskReleased,
    TasksSubmitted,
    TaskSubmitted,
)
from tracker.events.workers import WorkerAliasChanged, WorkerCreated
from tracker.projections.state import State

NOW = T0 + 1000
DEFAULT_ASSIGN_TIME = 300.0
HELLO_WORLD = 8565956259293726066  # SipHash-2-4 (1, 2) of "Hello, world", section 14
OK, FAIL, SKIP = 0, 1, 2


def submit(
    project: int = 1, recipe: str = "r", worker_id: int = 1, **fields: int | str
) -> SubmitTask:
    return SubmitTask(worker_id=worker_id, project=project, recipe=recipe, **fields)  # type: ignore[arg-type]


def assign(worker_id: int, project: int = 1) -> AssignTask:
    return AssignTask(worker_id=worker_id, project=project, default_assign_time=DEFAULT_ASSIGN_TIME)


def release(worker_id: int, task_id: int, result: int = OK, verification: int = 0) -> ReleaseTask:
    return ReleaseTask(
        worker_id=worker_id, task_id=task_id, result=result, verification=verification
    )


def run(state: State, command: object) -> list:
    """Decide and apply, as the service does; return the events."""
    events = decide(state, command, NOW)  # type: ignore[arg-type]
    for event in events:
        state.apply(event)
    return events


def outcome_of(state: State, command: ReleaseTask) -> Outcome | None:
    events = run(state, command)
    return events[0].outcome if events else None


# --- submit ---------------------------------------------------------------------------------


def test_a_granted_worker_submits_a_task_with_the_next_id() -> None:
    state = state_of(given.workshop(), given.submitted(1))
    events = decide(state, submit(recipe="do it", priority=-3, max_retries=2, max_assign_time=60,
                                  verification_count=2, hash_u64=42), NOW)  # fmt: skip
    assert events == [
        TaskSubmitted(
            at=NOW, actor=worker_actor(1), task_id=2, project_id=1, recipe="do it", priority=-3,
            max_retries=2, max_assign_time=60, verification_count=2, hash=42,
        )
    ]  # fmt: skip


def test_verification_count_zero_means_one_and_a_negative_one_is_kept() -> None:
    state = state_of(given.workshop())
    assert decide(state, submit(), NOW)[0].verification_count == 1
    assert decide(state, submit(verification_count=-4), NOW)[0].verification_count == -4


def test_a_unique_string_is_stored_as_its_siphash() -> None:
    state = state_of(given.workshop())
    assert decide(state, submit(unique_string="Hello, world"), NOW)[0].hash == HELLO_WORLD
    negative = decide(state, submit(unique_string="This one should work"), NOW)[0].hash
    assert negative == -383734471695024599


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"recipe": ""}, "recipe must not be empty"),
        ({"project": 0}, "project must be a positive project id"),
        ({"max_retries": -1}, "max_retries must be >= 0"),
        ({"max_assign_time": -1}, "max_assign_time must be between 0 and 2147483647 seconds"),
        ({"max_assign_time": 2**31}, "max_assign_time must be between 0 and 2147483647 seconds"),
        ({"hash_u64": 5, "unique_string": "a"}, "give hash_u64 or unique_string, not both"),
    ],
)
def test_an_invalid_task_is_refused_naming_the_rule(fields: dict, reason: str) -> None:
    state = state_of(given.workshop())
    with pytest.raises(InvalidTask) as refused:
        decide(state, submit(**fields), NOW)
    assert refused.value.message == f"Invalid task: {reason}"


def test_submitting_to_an_unknown_project_is_not_found() -> None:
    with pytest.raises(ProjectNotFound):
        decide(state_of(given.workshop()), submit(project=9), NOW)


@pytest.mark.parametrize(
    "grant",
    [
        [],
        given.access(1, 1, pending=True),
        given.access(1, 1, submit=False),
    ],
    ids=["no record", "pending request", "assign only"],
)
def test_submitting_needs_granted_submit_access(grant: list) -> None:
    state = state_of(given.project(1), given.worker(1), grant)
    with pytest.raises(SubmitNotPermitted) as refused:
        decide(state, submit(), NOW)
    assert refused.value.message == "unauthorized task submit"


def test_submitting_to_a_public_project_still_needs_submit_access() -> None:
    state = state_of(given.project(1, public=True), given.worker(1))
    with pytest.raises(SubmitNotPermitted):
        decide(state, submit(), NOW)


def test_a_paused_worker_and_a_paused_project_still_accept_submits() -> None:
    state = state_of(
        given.project(1, paused=True), given.worker(1, paused=True), given.access(1, 1)
    )
    assert len(decide(state, submit(), NOW)) == 1


def test_a_hash_taken_by_a_live_task_of_the_project_is_refused() -> None:
    state = state_of(given.workshop(), given.submitted(1, hash=HELLO_WORLD))
    with pytest.raises(DuplicateTaskHash):
        decide(state, submit(hash_u64=HELLO_WORLD), NOW)
    with pytest.raises(DuplicateTaskHash):
        decide(state, submit(unique_string="Hello, world"), NOW)
    assert decide(state, submit(unique_string="another"), NOW)


def test_a_failed_task_still_holds_its_hash() -> None:
    state = state_of(given.workshop(), given.submitted(1, hash=7), given.assigned(1, 1),
                     given.released(1, 1, Outcome.FAILED, result=FAIL))  # fmt: skip
    with pytest.raises(DuplicateTaskHash):
        decide(state, submit(hash_u64=7), NOW)


def test_a_hash_can_be_submitted_again_once_its_task_closed() -> None:
    state = state_of(given.workshop(), given.submitted(1, hash=7), given.assigned(1, 1),
                     given.released(1, 1, Outcome.CLOSED))  # fmt: skip
    assert decide(state, submit(hash_u64=7), NOW)[0].hash == 7


def test_the_same_hash_in_another_project_and_hash_zero_are_free() -> None:
    state = state_of(given.workshop(), given.project(2), given.access(1, 2),
                     given.submitted(1, hash=7), given.submitted(2))  # fmt: skip
    assert decide(state, submit(project=2, hash_u64=7), NOW)
    assert decide(state, submit(hash_u64=0), NOW)


# --- bulk submit ----------------------------------------------------------------------------


def test_a_bulk_submit_gives_consecutive_ids() -> None:
    state = state_of(given.workshop(), given.submitted(1))
    events = decide(
        state, BulkSubmit(worker_id=1, tasks=[submit(recipe=f"r{i}") for i in range(3)]), NOW
    )
    [event] = events
    assert isinstance(event, TasksSubmitted)
    assert list(event.task_ids) == [2, 3, 4]
    assert [new.recipe for new in event.tasks] == ["r0", "r1", "r2"]


def test_a_bulk_submit_across_projects_is_refused() -> None:
    state = state_of(given.workshop(), given.project(2), given.access(1, 2))
    with pytest.raises(MixedBulkProjects):
        decide(state, BulkSubmit(worker_id=1, tasks=[submit(), submit(project=2)]), NOW)


def test_a_duplicate_inside_a_bulk_refuses_the_whole_batch() -> None:
    state = state_of(given.workshop())
    tasks = [submit(hash_u64=HELLO_WORLD), submit(), submit(unique_string="Hello, world")]
    with pytest.raises(DuplicateTaskHash) as refused:
        decide(state, BulkSubmit(worker_id=1, tasks=tasks), NOW)
    assert refused.value.message.startswith("requests[2]: ")
    assert refused.value.message.endswith("nothing was submitted")


def test_a_bulk_element_colliding_with_a_live_task_refuses_the_batch() -> None:
    state = state_of(given.workshop(), given.submitted(1, hash=9))
    with pytest.raises(DuplicateTaskHash):
        decide(state, BulkSubmit(worker_id=1, tasks=[submit(), submit(hash_u64=9)]), NOW)


def test_a_bulk_without_submit_access_is_refused() -> None:
    state = state_of(given.project(1), given.worker(1), given.access(1, 1, pending=True))
    with pytest.raises(SubmitNotPermitted):
        decide(state, BulkSubmit(worker_id=1, tasks=[submit(), submit()]), NOW)


def test_a_bulk_names_its_invalid_element_and_refuses_an_empty_list() -> None:
    state = state_of(given.workshop())
    with pytest.raises(InvalidBulkTask) as refused:
        decide(state, BulkSubmit(worker_id=1, tasks=[submit(), submit(recipe="")]), NOW)
    assert refused.value.message == "Invalid request: requests[1]: recipe must not be empty"
    with pytest.raises(InvalidBulkTask):
        decide(state, BulkSubmit(worker_id=1, tasks=[]), NOW)


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


# --- workers --------------------------------------------------------------------------------


def test_creating_a_worker_takes_the_next_id_and_the_default_alias() -> None:
    state = state_of(given.worker(1))
    assert decide(state, CreateWorker(alias="", secret=b"k" * 32), NOW) == [
        WorkerCreated(at=NOW, actor=worker_actor(2), worker_id=2, alias="default_alias",
                      secret=b"k" * 32)
    ]  # fmt: skip


def test_the_reserved_alias_is_refused_on_create_and_update() -> None:
    state = state_of(given.worker(1))
    for command in (CreateWorker(alias="unassigned", secret=b""),
                    UpdateWorker(worker_id=1, alias="unassigned")):  # fmt: skip
        with pytest.raises(ReservedAlias) as refused:
            decide(state, command, NOW)
        assert (refused.value.status, refused.value.message) == (
            403,
            "You are now allowed to create a worker",
        )


def test_an_alias_is_limited_to_1024_bytes() -> None:
    state = state_of(given.worker(1))
    with pytest.raises(AliasTooLong):
        decide(state, UpdateWorker(worker_id=1, alias="é" * 513), NOW)
    assert decide(state, UpdateWorker(worker_id=1, alias="é" * 512), NOW) == [
        WorkerAliasChanged(at=NOW, actor=worker_actor(1), worker_id=1, alias="é" * 512)
    ]


def test_updating_to_an_empty_alias_is_allowed() -> None:
    state = state_of(given.worker(1))
    assert decide(state, UpdateWorker(worker_id=1, alias=""), NOW)[0].alias == ""


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

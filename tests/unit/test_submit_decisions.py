"""Given events, when a submit or bulk submit is decided, then these events (or this refusal)."""

from __future__ import annotations

import pytest

from tests.unit import given
from tests.unit.decisions import (
    FAIL,
    HELLO_WORLD,
    NOW,
    submit,
)
from tests.unit.given import state_of
from tracker.commands.base import InvalidTask, ProjectNotFound
from tracker.commands.decide import decide
from tracker.commands.tasks import (
    BulkSubmit,
    DuplicateTaskHash,
    InvalidBulkTask,
    MixedBulkProjects,
    SubmitNotPermitted,
)
from tracker.events.base import worker_actor
from tracker.events.tasks import (
    Outcome,
    TasksSubmitted,
    TaskSubmitted,
)

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
        ({"hash64": 5, "unique_string": "a"}, "give hash_u64 or unique_string, not both"),
        ({"hash_u64": 5, "hash64": 6}, "hash_u64 and hash64 disagree"),
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

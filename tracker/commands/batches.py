"""A worker's batches: take up to N tasks of a project, release many tasks, in one command.

Each task meets the rules a single ``/task/get`` or ``/task/release`` would (the deciders in
:mod:`tracker.commands.tasks`), decided one after another against the same state, so a batch
does what the same single requests sent in a row would do. What a batch writes is one event per
project (``TasksAssigned``, ``TasksReleased``), plus a chain copy per closed task of a chained
project: one row, one hash and one fold for a hundred tasks.
"""

from __future__ import annotations

from tracker.commands.base import Command
from tracker.commands.tasks import (
    ASSIGN,
    OK,
    SKIP,
    Chains,
    NoTaskAvailable,
    ReleaseTask,
    deadline_of,
    open_for,
    outcome_of,
)
from tracker.errors import TrackerError
from tracker.events.base import Event, worker_actor
from tracker.events.tasks import Assignment, Outcome, Release, TasksAssigned, TasksReleased
from tracker.projections.state import State
from tracker.projections.tasks import Task


class AssignTasks(Command, frozen=True):
    worker_id: int
    project: int
    count: int  # at most this many; the route bounds it (tasks.max_batch_size)
    default_assign_time: float  # seconds; used when a task's max_assign_time is 0


class ReleaseTasks(Command, frozen=True):
    worker_id: int
    tasks: list[ReleaseTask]


class InvalidBatch(TrackerError):
    message = "Invalid request"


def assign_tasks(state: State, command: AssignTasks, now: float) -> list[Event]:
    """Up to ``count`` tasks, best first. On a rate-limited project each task takes a token
    and the bucket holds one, so such a project gives one task per request."""
    open_for(state, command.worker_id, command.project, now)
    tokens = state.pacing.available(command.project, ASSIGN, now)
    count = command.count if tokens is None else min(command.count, tokens)
    picked = state.tasks.next_batch(command.project, command.worker_id, count)
    if not picked:
        raise NoTaskAvailable()
    assignments = [Assignment(task.id, deadline_of(task, now, command.default_assign_time))
                   for task in picked]  # fmt: skip
    return [
        TasksAssigned(
            at=now, actor=worker_actor(command.worker_id), project_id=command.project,
            worker_id=command.worker_id, tasks=assignments,
        )
    ]  # fmt: skip


def check_releases(releases: list[ReleaseTask]) -> None:
    """Refuse the whole batch if any element is malformed (nothing is released then)."""
    if not releases:
        raise InvalidBatch("Invalid request: releases must be a non-empty list")
    seen: set[int] = set()
    for index, release in enumerate(releases):
        if release.task_id <= 0:
            raise InvalidBatch(f"Invalid request: releases[{index}]: task_id must be positive")
        if not OK <= release.result <= SKIP:
            raise InvalidBatch(f"Invalid request: releases[{index}]: result must be 0 (OK), "
                               "1 (FAIL) or 2 (SKIP)")  # fmt: skip
        if release.task_id in seen:
            raise InvalidBatch(f"Invalid request: releases[{index}]: task {release.task_id} "
                               "is listed twice")  # fmt: skip
        seen.add(release.task_id)


def release_tasks(state: State, command: ReleaseTasks, now: float) -> list[Event]:
    """Each held task released as ``/task/release`` would; tasks the worker does not hold are
    left out. Projects are taken in the order they first appear in the batch."""
    check_releases(command.tasks)
    worker_id, actor = command.worker_id, worker_actor(command.worker_id)
    by_project: dict[int, list[tuple[Task, ReleaseTask]]] = {}
    for release in command.tasks:
        task = state.tasks.get(release.task_id)
        if task is not None and task.assignee == worker_id:
            by_project.setdefault(task.project_id, []).append((task, release))
    chains = Chains(state)
    events: list[Event] = []
    for project_id, held in by_project.items():
        released, copies = [], []
        for task, release in held:
            outcome = outcome_of(task, release.result, release.verification)
            assert outcome is not None  # results are checked above
            released.append(Release(task.id, release.result, outcome, release.verification,
                                     release.reason))  # fmt: skip
            if outcome is Outcome.CLOSED:
                chains.closed(task)
                copy = chains.copy(task, now, actor)
                copies += [copy] if copy else []
        events.append(TasksReleased(at=now, actor=actor, project_id=project_id,
                                    worker_id=worker_id, tasks=released))  # fmt: skip
        events += copies
    return events


DECIDERS = {
    AssignTasks: assign_tasks,
    ReleaseTasks: release_tasks,
}

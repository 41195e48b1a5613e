"""Events in the life of a task: submitted, assigned, kept alive, released, expired, reset.

A worker's batch (``/task/bulk_get``, ``/task/bulk_release``) is one event listing its tasks,
as a bulk submission is: one row, one hash and one fold per batch instead of per task, which
is what lets a batch of a hundred tasks cost little more to log than one task.
"""

from __future__ import annotations

import enum
from collections.abc import Collection

import msgspec

from tracker.events.base import Event


class Outcome(enum.StrEnum):
    """What a release did to its task; decided once, so replay never re-derives it."""

    CLOSED = "closed"  # OK and verified: the task leaves the queue for good
    VOTED = "voted"  # OK, verification recorded, more votes needed: back to the queue
    RETRY = "retry"  # FAIL with attempts left: back to the queue, retries + 1
    FAILED = "failed"  # FAIL with no attempts left: status FAILED
    SKIPPED = "skipped"  # SKIP: back to the queue as if never touched


class TaskSubmitted(Event, frozen=True, tag=True):
    task_id: int
    project_id: int
    recipe: str
    priority: int
    max_retries: int
    max_assign_time: int
    verification_count: int
    hash: int = 0  # 0 means "no hash"
    chained_from: int = 0  # id of the closed task this is a chain copy of

    def concerned_tasks(self) -> Collection[int]:
        return (self.task_id, self.chained_from) if self.chained_from else (self.task_id,)


class NewTask(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
    """One task of a bulk submission (see ``TasksSubmitted``)."""

    recipe: str
    priority: int = 0
    max_retries: int = 0
    max_assign_time: int = 0
    verification_count: int = 1
    hash: int = 0


class TasksSubmitted(Event, frozen=True, tag=True):
    """A bulk submission, all or nothing: ``tasks[i]`` got the id ``first_task_id + i``.

    One event per bulk keeps a bulk of thousands of tasks one row, one hash and one fold.
    """

    project_id: int
    first_task_id: int
    tasks: list[NewTask]

    @property
    def task_ids(self) -> range:
        return range(self.first_task_id, self.first_task_id + len(self.tasks))

    def concerned_tasks(self) -> Collection[int]:
        return self.task_ids


class _OneTask(Event, frozen=True):
    """An event about one task, which it names ``task_id``."""

    def concerned_tasks(self) -> Collection[int]:
        return (self.task_id,)  # type: ignore[attr-defined]


class _ListedTasks(Event, frozen=True):
    """An event about the tasks it lists in ``task_ids``."""

    def concerned_tasks(self) -> Collection[int]:
        return self.task_ids  # type: ignore[attr-defined, no-any-return]


class TaskAssigned(_OneTask, frozen=True, tag=True):
    task_id: int
    project_id: int
    worker_id: int
    deadline: float  # Unix time after which the assignment may be taken back


class TaskReleased(_OneTask, frozen=True, tag=True):
    task_id: int
    project_id: int
    worker_id: int
    result: int  # 0 OK, 1 FAIL, 2 SKIP as the worker sent it
    outcome: Outcome
    verification: int = 0
    reason: str = ""  # why, in the worker's words (an error, a stderr tail); "" when not given


class Assignment(msgspec.Struct, frozen=True, gc=False):
    """One task of a batch assignment (see ``TasksAssigned``)."""

    task_id: int
    deadline: float  # Unix time after which the assignment may be taken back


class TasksAssigned(Event, frozen=True, tag=True):
    """A batch assignment: each listed task was given to the worker, in this order (best
    first), until its own deadline."""

    project_id: int
    worker_id: int
    tasks: list[Assignment]

    def concerned_tasks(self) -> Collection[int]:
        return [assignment.task_id for assignment in self.tasks]


class Release(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
    """One task of a batch release (see ``TasksReleased``): what ``TaskReleased`` holds."""

    task_id: int
    result: int  # 0 OK, 1 FAIL, 2 SKIP as the worker sent it
    outcome: Outcome
    verification: int = 0
    reason: str = ""


class TasksReleased(Event, frozen=True, tag=True):
    """A batch release: each listed task of the project, held by the worker, was released
    with its own result, outcome, verification and reason, in this order. Tasks of the batch
    the worker did not hold are not listed (nothing happened to them)."""

    project_id: int
    worker_id: int
    tasks: list[Release]

    def concerned_tasks(self) -> Collection[int]:
        return [release.task_id for release in self.tasks]


class AssignmentExtended(_OneTask, frozen=True, tag=True):
    """A keep-alive: the worker still holding the task moved its deadline later."""

    task_id: int
    project_id: int
    worker_id: int
    deadline: float  # the new deadline, Unix time


class AssignmentExpired(_OneTask, frozen=True, tag=True):
    task_id: int
    project_id: int
    worker_id: int


class AssignedTasksReclaimed(_ListedTasks, frozen=True, tag=True):
    project_id: int
    task_ids: list[int]


class FailedTasksReset(_ListedTasks, frozen=True, tag=True):
    project_id: int
    task_ids: list[int]


class ProjectTasksDeleted(_ListedTasks, frozen=True, tag=True):
    """A hard reset: every task of the project removed, none of them counted as closed."""

    project_id: int
    task_ids: list[int]


class QueuedTasksCancelled(_ListedTasks, frozen=True, tag=True):
    """A manager cancelled queued tasks: each listed task, waiting in the queue, was deleted
    (never counted as closed; its ``hash_u64`` may be submitted again)."""

    project_id: int
    task_ids: list[int]


class TasksReprioritized(_ListedTasks, frozen=True, tag=True):
    """A manager gave queued tasks a new priority: each listed task waits at ``priority`` from
    now on, behind the tasks already queued at that priority."""

    project_id: int
    task_ids: list[int]
    priority: int

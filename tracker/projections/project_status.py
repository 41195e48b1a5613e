"""One project's tasks by status, and who holds the assigned ones: what time travel shows
(``GET /project/state/:id?at=``), folded from that project's events alone.

The live read models answer this for the present. For a past position, rebuilding all of them
(every task of every project, recipes included) costs as much memory as the tracker itself,
for an answer of a few numbers. This model keeps, for one project, the queued and closed
counts and the ids of its assigned tasks (with their worker) and failed tasks: a project with
millions of queued tasks costs a few bytes. It starts from a checkpoint's summary (``of_state``,
taken from the live read models when the checkpoint is written) or from nothing at position 0,
and folds that project's events up to the position asked for.

Each event moves a task as the live reducers do (``tasks.py``, and ``projects.py`` for the
closed count); tests fold logs both ways and compare at every position, and fail when the live
task reducers handle an event type this fold does not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import msgspec

from tracker.events import projects as pev
from tracker.events import tasks as ev
from tracker.events.base import Event

ENTRY_BYTES = 150  # memory one assigned or failed task costs here, at most about (a dict or
# set slot and its ints, 80 to 140 bytes by table fill); tests/unit/test_budgets.py measures it


class ProjectStatus(msgspec.Struct, omit_defaults=True, gc=False):
    queued: int = 0
    closed: int = 0
    assigned: dict[int, int] = msgspec.field(default_factory=dict)  # task id -> worker id
    failed: set[int] = msgspec.field(default_factory=set)

    @property
    def held(self) -> int:
        """Task ids held: what this costs in memory (``ENTRY_BYTES`` each)."""
        return len(self.assigned) + len(self.failed)

    def view(self) -> dict[str, Any]:
        """The answer's counts, queue depth and assignees."""
        by_worker = Counter(self.assigned.values())
        return {
            "tasks": {"queued": self.queued, "assigned": len(self.assigned),
                      "failed": len(self.failed), "closed": self.closed},
            "queue_depth": self.queued,
            "assignees": [{"worker": worker, "tasks": count}
                          for worker, count in sorted(by_worker.items())],
        }  # fmt: skip


def of_state(state: Any) -> dict[int, tuple[int, ProjectStatus]]:
    """Every project's status in the live read models, with its ``held`` count first (so a
    reader can judge the cost before decoding one): a checkpoint's summary."""
    board, found = state.tasks, {}
    for project_id, project in state.projects.by_id.items():
        status = ProjectStatus(closed=project.closed_task_count)
        tasks = board.projects.get(project_id)
        if tasks is not None:
            status.queued = tasks.queue.size
            status.assigned = {task_id: board.tasks[task_id].assignee for task_id in tasks.assigned}
            status.failed = set(tasks.failed)
        found[project_id] = (status.held, status)
    return found


def apply(status: ProjectStatus | None, event: Event) -> ProjectStatus | None:
    """``status`` after ``event``, an event of this project (None: it does not exist yet)."""
    if type(event) is pev.ProjectCreated:
        return status or ProjectStatus()
    handler = HANDLERS.get(type(event))
    if handler is not None and status is not None:
        handler(status, event)
    return status


def _submitted(status: ProjectStatus, e: ev.TaskSubmitted) -> None:
    status.queued += 1


def _bulk_submitted(status: ProjectStatus, e: ev.TasksSubmitted) -> None:
    status.queued += len(e.tasks)


def _assigned(status: ProjectStatus, e: ev.TaskAssigned) -> None:
    status.queued -= 1
    status.assigned[e.task_id] = e.worker_id


def _batch_assigned(status: ProjectStatus, e: ev.TasksAssigned) -> None:
    status.queued -= len(e.tasks)
    for assignment in e.tasks:
        status.assigned[assignment.task_id] = e.worker_id


def _extended(status: ProjectStatus, e: ev.AssignmentExtended) -> None:
    """A keep-alive: the task stays assigned to the same worker."""


def _released(status: ProjectStatus, e: ev.TaskReleased) -> None:
    _release(status, e.task_id, e.outcome)


def _batch_released(status: ProjectStatus, e: ev.TasksReleased) -> None:
    for release in e.tasks:
        _release(status, release.task_id, release.outcome)


def _release(status: ProjectStatus, task_id: int, outcome: ev.Outcome) -> None:
    del status.assigned[task_id]
    if outcome is ev.Outcome.CLOSED:
        status.closed += 1
    elif outcome is ev.Outcome.FAILED:
        status.failed.add(task_id)
    else:  # voted, retry, skipped: back to the queue
        status.queued += 1


def _expired(status: ProjectStatus, e: ev.AssignmentExpired) -> None:
    del status.assigned[e.task_id]
    status.queued += 1


def _reclaimed(status: ProjectStatus, e: ev.AssignedTasksReclaimed) -> None:
    for task_id in e.task_ids:
        del status.assigned[task_id]
    status.queued += len(e.task_ids)


def _failed_reset(status: ProjectStatus, e: ev.FailedTasksReset) -> None:
    status.failed.difference_update(e.task_ids)
    status.queued += len(e.task_ids)


def _deleted(status: ProjectStatus, e: ev.ProjectTasksDeleted) -> None:
    status.queued = 0
    status.assigned.clear()
    status.failed.clear()


def _cancelled(status: ProjectStatus, e: ev.QueuedTasksCancelled) -> None:
    status.queued -= len(e.task_ids)


def _reprioritized(status: ProjectStatus, e: ev.TasksReprioritized) -> None:
    """Queued tasks stay queued."""


HANDLERS: dict[type, Callable[[ProjectStatus, Any], None]] = {
    ev.TaskSubmitted: _submitted,
    ev.TasksSubmitted: _bulk_submitted,
    ev.TaskAssigned: _assigned,
    ev.TaskReleased: _released,
    ev.TasksAssigned: _batch_assigned,
    ev.TasksReleased: _batch_released,
    ev.AssignmentExtended: _extended,
    ev.AssignmentExpired: _expired,
    ev.AssignedTasksReclaimed: _reclaimed,
    ev.FailedTasksReset: _failed_reset,
    ev.ProjectTasksDeleted: _deleted,
    ev.QueuedTasksCancelled: _cancelled,
    ev.TasksReprioritized: _reprioritized,
}

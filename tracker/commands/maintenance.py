"""Maintenance of a project's tasks (ROLE_MAINTENANCE): reset failed tasks, reclaim assigned
tasks, delete every task (hard reset).

Each event names the tasks it touched, so replay does not depend on what the read model
happened to hold, and the log says which tasks a manager reset. When there is nothing to touch,
nothing is appended.
"""

from __future__ import annotations

from collections.abc import Callable

from tracker.commands.authz import ROLE_MAINTENANCE, require_role
from tracker.commands.base import Command
from tracker.events.base import Event, manager_actor
from tracker.events.tasks import AssignedTasksReclaimed, FailedTasksReset, ProjectTasksDeleted
from tracker.projections.state import State
from tracker.projections.tasks import ProjectTasks

_NONE = ProjectTasks()


def _tasks(state: State, project_id: int) -> ProjectTasks:
    """The project's live tasks, without creating an entry (decisions do not write)."""
    return state.tasks.projects.get(project_id, _NONE)


class ResetFailedTasks(Command, frozen=True):
    manager_id: int
    project: int


class ReclaimAssignedTasks(Command, frozen=True):
    manager_id: int
    project: int


class HardReset(Command, frozen=True):
    manager_id: int
    project: int


MaintenanceCommand = ResetFailedTasks | ReclaimAssignedTasks | HardReset
TasksEvent = FailedTasksReset | AssignedTasksReclaimed | ProjectTasksDeleted


Selector = Callable[[ProjectTasks], list[int]]


def _acting_on(
    state: State, command: MaintenanceCommand, now: float, event: type[TasksEvent], ids: Selector
) -> list[Event]:
    """One event listing the tasks the action touches, or none when it touches nothing."""
    require_role(state, command.manager_id, command.project, ROLE_MAINTENANCE)
    touched = ids(_tasks(state, command.project))
    if not touched:
        return []
    return [event(at=now, actor=manager_actor(command.manager_id), project_id=command.project,
                  task_ids=touched)]  # fmt: skip


def reset_failed_tasks(state: State, command: ResetFailedTasks, now: float) -> list[Event]:
    return _acting_on(state, command, now, FailedTasksReset, lambda tasks: list(tasks.failed))


def reclaim_assigned_tasks(state: State, command: ReclaimAssignedTasks, now: float) -> list[Event]:
    return _acting_on(state, command, now, AssignedTasksReclaimed,
                      lambda tasks: list(tasks.assigned))  # fmt: skip


def hard_reset(state: State, command: HardReset, now: float) -> list[Event]:
    return _acting_on(state, command, now, ProjectTasksDeleted,
                      lambda tasks: [*tasks.queue, *tasks.assigned, *tasks.failed])  # fmt: skip


def new_task_count(state: State, project_id: int) -> int:
    """NEW tasks, assigned or not: what the original reported as reclaimed."""
    tasks = _tasks(state, project_id)
    return tasks.queue.size + len(tasks.assigned)


# How the answers count what an action did (``affected_tasks``), as the original counted: the
# tasks reset or deleted, and for a reclaim every NEW task of the project, assigned or not.
Count = Callable[[State, int, list[Event]], int]


def tasks_touched(state: State, project_id: int, events: list[Event]) -> int:
    return sum(len(getattr(event, "task_ids", ())) for event in events)


def tasks_requeued(state: State, project_id: int, events: list[Event]) -> int:
    return new_task_count(state, project_id)


DECIDERS = {
    ResetFailedTasks: reset_failed_tasks,
    ReclaimAssignedTasks: reclaim_assigned_tasks,
    HardReset: hard_reset,
}

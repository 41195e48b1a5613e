"""A manager's actions on chosen tasks (ROLE_MAINTENANCE, as the project-wide maintenance
actions): retry failed tasks now, cancel queued tasks, give queued tasks another priority,
take back assignments.

Each command names its tasks (a selection, or the tasks a filter matched when the manager
asked: the route resolves the filter, so the scan never runs in the writer's turn) and, for a
filter, the count the manager confirmed. The decider acts on the named tasks that are, at
decision time, live tasks of the project in the state the action needs, and skips the others
(they moved on since the page was shown); it refuses when none is left, and when more would be
touched than the manager confirmed. One event per action lists the tasks it touched, as a
batch does, so a thousand tasks are one row of the log and each task's history shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tracker.commands.authz import ROLE_MAINTENANCE, require_role
from tracker.commands.base import Command
from tracker.errors import TrackerError
from tracker.events.base import Event, manager_actor
from tracker.events.tasks import (
    AssignedTasksReclaimed,
    FailedTasksReset,
    QueuedTasksCancelled,
    TasksReprioritized,
)
from tracker.projections.state import State
from tracker.projections.tasks import FAILED, NEW, Task

PRIORITY_MIN, PRIORITY_MAX = -(2**15), 2**15 - 1  # a task's priority is 16-bit


class TaskAction(Command, frozen=True):
    manager_id: int
    project: int
    task_ids: list[int]
    confirmed: int = 0  # the count the manager confirmed for a filter; 0: a selection


class RetryTasks(TaskAction, frozen=True):
    """Failed tasks back to the queue now, their attempts counted from zero again."""


class CancelTasks(TaskAction, frozen=True):
    """Queued tasks deleted."""


class TakeBackTasks(TaskAction, frozen=True):
    """Assigned tasks taken back from their workers and queued again."""


class ChangePriority(TaskAction, frozen=True, kw_only=True):
    """Queued tasks moved to ``priority``."""

    priority: int


class NoTaskNamed(TrackerError):
    message = "Name at least one task"


class NothingToDo(TrackerError):
    """None of the named tasks is in the state the action needs (409)."""


class MoreThanConfirmed(TrackerError):
    """The filter now touches more tasks than the manager confirmed (409): ask again."""


class InvalidPriority(TrackerError):
    message = f"Invalid priority: it must be between {PRIORITY_MIN} and {PRIORITY_MAX}"


Needs = Callable[[Task, TaskAction], bool]


@dataclass(frozen=True)
class Action:
    """What one action needs of a task, and the event it records."""

    needs: Needs
    wanted: str  # the state it needs, as the refusal says: "no named task ... is <wanted>"
    event: Callable[[TaskAction, float, list[int]], Event]


def _listed(kind: type[FailedTasksReset | QueuedTasksCancelled | AssignedTasksReclaimed]
            ) -> Callable[[TaskAction, float, list[int]], Event]:  # fmt: skip
    def event(command: TaskAction, now: float, ids: list[int]) -> Event:
        return kind(at=now, actor=manager_actor(command.manager_id), project_id=command.project,
                    task_ids=ids)  # fmt: skip

    return event


def _reprioritized(command: TaskAction, now: float, ids: list[int]) -> Event:
    assert isinstance(command, ChangePriority)
    actor = manager_actor(command.manager_id)
    return TasksReprioritized(
        at=now, actor=actor, project_id=command.project, task_ids=ids, priority=command.priority
    )


def _failed(task: Task, command: TaskAction) -> bool:
    return task.status == FAILED


def _queued(task: Task, command: TaskAction) -> bool:
    return task.status == NEW and not task.assignee


def _assigned(task: Task, command: TaskAction) -> bool:
    return task.assignee != 0


def _queued_elsewhere(task: Task, command: TaskAction) -> bool:
    """Queued at another priority than the one asked (a task already there stays put)."""
    assert isinstance(command, ChangePriority)
    return _queued(task, command) and task.priority != command.priority


ACTIONS: dict[type[TaskAction], Action] = {
    RetryTasks: Action(_failed, "failed", _listed(FailedTasksReset)),
    CancelTasks: Action(_queued, "queued", _listed(QueuedTasksCancelled)),
    TakeBackTasks: Action(_assigned, "assigned", _listed(AssignedTasksReclaimed)),
    ChangePriority: Action(_queued_elsewhere, "queued at another priority", _reprioritized),
}


def act(state: State, command: TaskAction, now: float) -> list[Event]:
    """The one event of the action on the named tasks that it can touch now."""
    require_role(state, command.manager_id, command.project, ROLE_MAINTENANCE)
    if not command.task_ids and not command.confirmed:
        raise NoTaskNamed()
    if isinstance(command, ChangePriority) and not PRIORITY_MIN <= command.priority <= PRIORITY_MAX:
        raise InvalidPriority()
    action = ACTIONS[type(command)]
    touched = touchable(state, command)
    if not touched:
        raise NothingToDo(f"Nothing to do: no task asked for in project {command.project} is "
                          f"{action.wanted} now")  # fmt: skip
    if command.confirmed and len(touched) > command.confirmed:
        raise MoreThanConfirmed(f"{len(touched)} tasks match now, more than the "
                                f"{command.confirmed} confirmed: confirm again")  # fmt: skip
    return [action.event(command, now, touched)]


def touchable(state: State, command: TaskAction) -> list[int]:
    """The named tasks (each once, in the order named) the action can touch now."""
    board, project, needs = state.tasks.tasks, command.project, ACTIONS[type(command)].needs
    found = []
    for task_id in dict.fromkeys(command.task_ids):
        task = board.get(task_id)
        if task is not None and task.project_id == project and needs(task, command):
            found.append(task_id)
    return found


DECIDERS = {
    RetryTasks: act,
    CancelTasks: act,
    TakeBackTasks: act,
    ChangePriority: act,
}

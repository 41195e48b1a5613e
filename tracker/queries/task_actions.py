"""The tasks an action on "every task matching this filter" would touch, for its confirmation
(the count the manager is shown) and for the command (the ids it names).

A filter is resolved here, on the read side, and not by the decider: matching a recipe
substring over a million tasks is a scan, and a decider runs in the writer's turn (on a shared
PostgreSQL log, under its lock), where a scan would hold up every other write. The command
then names the ids and the count the manager confirmed; its decider touches those still in
the state the action needs and refuses to touch more than confirmed.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from tracker.commands.task_actions import (
    CancelTasks,
    ChangePriority,
    RetryTasks,
    TakeBackTasks,
    TaskAction,
    touchable,
)
from tracker.events.base import Event
from tracker.projections.state import State
from tracker.queries.tasks import TaskFilter, TaskState, matching

# The one state an action needs, when it is one the filter can name: the filter is narrowed to
# it, so a retry reads the failed set instead of walking every task of the project.
_NEEDED: dict[type[TaskAction], TaskState] = {
    RetryTasks: TaskState.FAILED,
    TakeBackTasks: TaskState.ASSIGNED,
}
ACTIONS: dict[str, type[TaskAction]] = {
    "retry": RetryTasks,
    "cancel": CancelTasks,
    "priority": ChangePriority,
    "take_back": TakeBackTasks,
}


def targets(state: State, command: TaskAction, where: TaskFilter) -> list[int]:
    """The ids of the tasks matching ``where`` that ``command`` would touch now, in id order
    (``command``'s own ``task_ids`` are not read)."""
    needed = _NEEDED.get(type(command))
    if needed is not None and where.state is None:
        where = msgspec.structs.replace(where, state=needed)
    ids = list(matching(state, where))
    return touchable(state, msgspec.structs.replace(command, task_ids=ids))


def command(action: str, manager_id: int, project: int, task_ids: list[int],
            priority: int = 0) -> TaskAction:  # fmt: skip
    """The command of ``action`` (a name of ``ACTIONS``) on ``task_ids``."""
    kind = ACTIONS[action]
    fields = {"priority": priority} if kind is ChangePriority else {}
    return kind(manager_id=manager_id, project=project, task_ids=task_ids, **fields)


class Acted(msgspec.Struct):
    """What an action did, as the API answers it and the UI tells it."""

    touched: int  # tasks the action changed
    skipped: list[int]  # named tasks it left alone: unknown, or not in the state it needs


def acted(command: TaskAction) -> Callable[[State, list[Event]], Acted]:
    """The reply to ``command``: the tasks its event lists, and the named ones it does not."""

    def reply(state: State, events: list[Event]) -> Acted:
        touched = set(getattr(events[0], "task_ids", ()))
        skipped = [i for i in dict.fromkeys(command.task_ids) if i not in touched]
        return Acted(len(touched), skipped)

    return reply

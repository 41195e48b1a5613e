"""A manager's actions on chosen tasks: ``POST /project/tasks/:id/retry``, ``/cancel``,
``/priority`` and ``/take_back``, and the count a confirmation shows
(``POST /project/tasks/:id/count``).

Each action names its tasks one of two ways: ``{"task_ids": [...]}`` (a selection), or
``{"filter": {...}, "confirm": n}`` (every task the filter matches, ``n`` being the count the
manager was shown). The answer says how many tasks were touched and which named ones were
skipped because they were not (or no longer) in the state the action needs.
"""

from __future__ import annotations

from typing import Literal

import msgspec
from aiohttp import web

from tracker.commands.task_actions import ChangePriority, TaskAction
from tracker.errors import InvalidRequest
from tracker.events.base import Event
from tracker.http import context, envelope, parsing
from tracker.http.parsing import Int64
from tracker.projections.state import State
from tracker.queries import projects
from tracker.queries.task_actions import ACTIONS, targets
from tracker.queries.tasks import TaskFilter, TaskState

routes = web.RouteTableDef()

_BAD_ID = "Invalid project id"
Action = Literal["retry", "cancel", "priority", "take_back"]


class FilterBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The task list's filter (``GET /project/tasks/:id``), the project aside."""

    state: TaskState | None = None
    worker: Int64 | None = None
    priority_min: Int64 | None = None
    priority_max: Int64 | None = None
    recipe: str = ""
    submitted_from: float | None = None
    submitted_to: float | None = None

    def of(self, project: int) -> TaskFilter:
        return TaskFilter(project=project, **msgspec.structs.asdict(self))


class ActionBody(msgspec.Struct, kw_only=True):
    task_ids: list[Int64] = []
    filter: FilterBody | None = None
    confirm: Int64 = 0  # with a filter: the count the manager confirmed
    priority: Int64 = 0  # ``/priority`` only: the new priority (-32768 to 32767)


class CountBody(msgspec.Struct, kw_only=True):
    action: Action
    filter: FilterBody = msgspec.field(default_factory=FilterBody)
    priority: Int64 = 0  # for ``priority``: tasks already at it are not counted


class Touched(msgspec.Struct):
    touched: int  # tasks the action changed
    skipped: list[int]  # named tasks it left alone: unknown, or not in the state it needs


class Count(msgspec.Struct):
    count: int


def _command(request: web.Request, action: str, body: ActionBody) -> TaskAction:
    """The command the body asks for; a filter is resolved to the ids it would touch now."""
    project = parsing.path_id(request, "id", _BAD_ID)
    kind, manager_id = ACTIONS[action], context.manager_id(request)
    fields = {"priority": body.priority} if kind is ChangePriority else {}
    command = kind(manager_id=manager_id, project=project, task_ids=body.task_ids, **fields)
    if body.filter is None:
        if body.confirm:
            raise InvalidRequest("Invalid request: confirm goes with a filter")
        return command
    if body.task_ids:
        raise InvalidRequest("Invalid request: send task_ids or a filter, not both")
    if body.confirm < 1:
        raise InvalidRequest("Invalid request: a filter needs confirm, the count shown "
                             "(POST /project/tasks/:id/count)")  # fmt: skip
    state = context.tracker(request).state
    projects.readable(state, context.caller(request), project)
    ids = targets(state, command, body.filter.of(project))
    return msgspec.structs.replace(command, task_ids=ids, confirmed=body.confirm)


async def _act(request: web.Request, action: str) -> web.Response:
    body = await parsing.body(request, ActionBody)
    command = _command(request, action, body)

    def reply(state: State, events: list[Event]) -> Touched:
        touched = set(getattr(events[0], "task_ids", ()))
        skipped = [i for i in dict.fromkeys(command.task_ids) if i not in touched]
        return Touched(len(touched), skipped)

    return envelope.ok(await context.tracker(request).execute(command, reply))


@routes.post("/project/tasks/{id}/retry")
async def retry(request: web.Request) -> web.Response:
    return await _act(request, "retry")


@routes.post("/project/tasks/{id}/cancel")
async def cancel(request: web.Request) -> web.Response:
    return await _act(request, "cancel")


@routes.post("/project/tasks/{id}/priority")
async def priority(request: web.Request) -> web.Response:
    return await _act(request, "priority")


@routes.post("/project/tasks/{id}/take_back")
async def take_back(request: web.Request) -> web.Response:
    return await _act(request, "take_back")


@routes.post("/project/tasks/{id}/count")
async def count(request: web.Request) -> web.Response:
    """How many tasks an action on every task the filter matches would touch now."""
    project = parsing.path_id(request, "id", _BAD_ID)
    body = await parsing.body(request, CountBody)
    state = context.tracker(request).state
    projects.readable(state, context.caller(request), project)
    kind = ACTIONS[body.action]
    fields = {"priority": body.priority} if kind is ChangePriority else {}
    command = kind(manager_id=0, project=project, task_ids=[], **fields)
    return envelope.ok(Count(len(targets(state, command, body.filter.of(project)))))

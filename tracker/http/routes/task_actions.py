"""A manager's actions on chosen tasks: ``POST /project/tasks/:id/retry``, ``/cancel``,
``/priority`` and ``/take_back``, and the count a confirmation shows
(``GET /project/tasks/:id/count``).

An action names its tasks one of two ways: ``{"task_ids": [...]}`` (a selection), or the
task list's filter as the query string (``GET /project/tasks/:id``'s parameters, blank: every
task) with ``{"confirm": n}``, ``n`` being the count the manager was shown. The answer says
how many tasks were touched and which ids were skipped: unknown, of another project, or not
(or no longer) in the state the action needs. A filter is read like a list: the caller must
be allowed to list the project's tasks, and that is checked before the filter is resolved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import msgspec
from aiohttp import web

from tracker.commands.task_actions import ChangePriority, TaskAction
from tracker.errors import InvalidRequest
from tracker.events.base import Event
from tracker.http import context, envelope, parsing, task_filters
from tracker.http.parsing import Int64
from tracker.projections.state import State
from tracker.queries import tasks
from tracker.queries.task_actions import ACTIONS, targets
from tracker.queries.tasks import TaskFilter

routes = web.RouteTableDef()

_BAD_ID = "Invalid project id"
_NOT_A_FILTER = ("sort", "cursor", "limit")  # the list's paging: meaningless for an action


class ActionBody(msgspec.Struct, kw_only=True):
    task_ids: list[Int64] = []
    confirm: Int64 = 0  # with a filter: the count the manager confirmed
    priority: Int64 = 0  # ``/priority`` only: the new priority (-32768 to 32767)


class Acted(msgspec.Struct):
    touched: int  # tasks the action changed
    skipped: list[int]  # named tasks it left alone


class Count(msgspec.Struct):
    count: int


def command_for(action: str, manager_id: int, project: int, task_ids: list[int],
                priority: int = 0) -> TaskAction:  # fmt: skip
    """The command of ``action`` (a name of ``ACTIONS``) on ``task_ids``."""
    kind = ACTIONS[action]
    fields = {"priority": priority} if kind is ChangePriority else {}
    return kind(manager_id=manager_id, project=project, task_ids=task_ids, **fields)


def task_filter(request: web.Request, project: int, query: Mapping[str, str],
                ignore: tuple[str, ...] = ()) -> TaskFilter:  # fmt: skip
    """The filter of ``query``, once the caller may list the project's tasks."""
    tasks.require_browser(context.tracker(request).state, context.caller(request), project)
    for name in _NOT_A_FILTER:
        if name in query:
            raise InvalidRequest(f"Could not parse request: {name} is for listing; an action "
                                 "takes the filter alone")  # fmt: skip
    return task_filters.listing(project, query, ignore).where


async def _act(request: web.Request, action: str) -> web.Response:
    project = parsing.path_id(request, "id", _BAD_ID)
    body = await parsing.body(request, ActionBody)
    command = command_for(action, context.manager_id(request), project, body.task_ids,
                          body.priority)  # fmt: skip
    if request.query or body.confirm:
        if body.task_ids:
            raise InvalidRequest("Invalid request: send task_ids or a filter, not both")
        if body.confirm < 1:
            raise InvalidRequest("Invalid request: a filter needs confirm, the count shown by "
                                 "GET /project/tasks/:id/count")  # fmt: skip
        where = task_filter(request, project, request.query)
        ids = targets(context.tracker(request).state, command, where)
        command = msgspec.structs.replace(command, task_ids=ids, confirmed=body.confirm)
    return envelope.ok(await context.tracker(request).execute(command, acted(command)))


def acted(command: TaskAction) -> Callable[[State, list[Event]], Acted]:
    """The answer: the tasks the action's event lists, and the named ones it does not."""

    def reply(state: State, events: list[Event]) -> Acted:
        touched = set(getattr(events[0], "task_ids", ()))
        return Acted(len(touched), [i for i in dict.fromkeys(command.task_ids) if i not in touched])

    return reply


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


@routes.get("/project/tasks/{id}/count")
async def count(request: web.Request) -> web.Response:
    """How many tasks ``action`` on every task the filter matches would touch now."""
    project = parsing.path_id(request, "id", _BAD_ID)
    where = task_filter(request, project, request.query, ignore=("action", "priority"))
    action = request.query.get("action", "")
    if action not in ACTIONS:
        raise InvalidRequest(f"Could not parse request: action must be one of "
                             f"{', '.join(ACTIONS)}")  # fmt: skip
    priority = _priority(request.query.get("priority", "0"))
    command = command_for(action, 0, project, [], priority)
    return envelope.ok(Count(len(targets(context.tracker(request).state, command, where))))


def _priority(text: str) -> int:
    try:
        return parsing.parse_int64(text.strip() or "0")
    except ValueError as exc:
        raise InvalidRequest(f"Could not parse request: priority: {exc}") from None

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

from collections.abc import Awaitable, Callable

import msgspec
from aiohttp import web

from tracker.commands.task_actions import PRIORITY_MAX, PRIORITY_MIN, InvalidPriority
from tracker.errors import InvalidRequest
from tracker.http import context, envelope, parsing
from tracker.http.parsing import Int64
from tracker.http.task_actions import on_filter, task_filter
from tracker.queries.task_actions import ACTIONS, Acted, acted, command, targets

__all__ = ["Acted"]  # the answer's shape, for the OpenAPI document

routes = web.RouteTableDef()

_BAD_ID = "Invalid project id"


class ActionBody(msgspec.Struct, kw_only=True):
    task_ids: list[Int64] = []
    confirm: Int64 = 0  # with a filter: the count the manager confirmed
    priority: Int64 = 0  # ``/priority`` only: the new priority (-32768 to 32767)


class Count(msgspec.Struct):
    count: int


async def _act(request: web.Request, action: str) -> web.Response:
    project = parsing.path_id(request, "id", _BAD_ID)
    body = await parsing.body(request, ActionBody)
    asked = command(action, context.manager_id(request), project, body.task_ids, body.priority)
    if request.query or body.confirm:
        asked = on_filter(request, asked, request.query, body.confirm)
    return envelope.ok(await context.tracker(request).execute(asked, acted(asked)))


def _handler(action: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        return await _act(request, action)

    return handler


for _action in ACTIONS:  # POST /project/tasks/{id}/retry, /cancel, /priority, /take_back
    routes.post(f"/project/tasks/{{id}}/{_action}")(_handler(_action))


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
    counted = command(action, 0, project, [], priority)
    return envelope.ok(Count(len(targets(context.tracker(request).state, counted, where))))


def _priority(text: str) -> int:
    try:
        priority = parsing.parse_int64(text.strip() or "0")
    except ValueError as exc:
        raise InvalidRequest(f"Could not parse request: priority: {exc}") from None
    if not PRIORITY_MIN <= priority <= PRIORITY_MAX:
        raise InvalidPriority()
    return priority

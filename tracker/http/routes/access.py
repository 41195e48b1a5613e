"""Worker access routes: a worker requests access, a manager accepts it."""

from __future__ import annotations

import msgspec
from aiohttp import web

from tracker.commands.access import GrantAccess, NothingRequested, RequestAccess
from tracker.errors import Unauthorized
from tracker.http import context, envelope, parsing
from tracker.http.parsing import Int64

routes = web.RouteTableDef()


class RequestBody(msgspec.Struct):
    assign: bool = False
    submit: bool = False
    project: Int64 = 0


@routes.post("/project/request_access")
async def request_access(request: web.Request) -> web.Response:
    body = await parsing.body(request, RequestBody)  # the original parses before auth
    if not (body.assign or body.submit):
        raise NothingRequested()
    worker = context.worker(request, 401)
    command = RequestAccess(
        worker_id=worker.id, project=body.project, assign=body.assign, submit=body.submit
    )
    await context.tracker(request).execute(command)
    return envelope.ok()


@routes.post("/project/accept_request/{id}/{wid}")
async def accept_request(request: web.Request) -> web.Response:
    project_id = parsing.path_id(request, "id", "Invalid worker id")  # sic, as the original
    worker_id = parsing.path_id(request, "wid", "Invalid worker id")
    manager = context.manager(request)
    if manager is None:
        raise Unauthorized()
    command = GrantAccess(manager_id=manager.id, worker_id=worker_id, project=project_id)
    await context.tracker(request).execute(command)
    return envelope.ok()

"""Worker access routes: a worker requests access; a manager with ROLE_MANAGE_ACCESS lists,
accepts or rejects requests and removes granted access (the original let anyone reject)."""

from __future__ import annotations

import msgspec
from aiohttp import web

from tracker.commands.access import GrantAccess, NothingRequested, RequestAccess, RevokeAccess
from tracker.commands.authz import ROLE_MANAGE_ACCESS
from tracker.http import context, envelope, parsing
from tracker.http.parsing import Int64
from tracker.queries import projects, roles

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
    worker = context.worker(request)
    command = RequestAccess(
        worker_id=worker.id, project=body.project, assign=body.assign, submit=body.submit
    )
    await context.tracker(request).execute(command)
    return envelope.ok()


@routes.post("/project/accept_request/{id}/{wid}")
async def accept_request(request: web.Request) -> web.Response:
    project_id = parsing.path_id(request, "id", "Invalid worker id")  # sic, as the original
    worker_id = parsing.path_id(request, "wid", "Invalid worker id")
    command = GrantAccess(
        manager_id=context.manager_id(request), worker_id=worker_id, project=project_id
    )
    await context.tracker(request).execute(command)
    return envelope.ok()


@routes.post("/project/reject_request/{id}/{wid}")
async def reject_request(request: web.Request) -> web.Response:
    project_id = parsing.path_id(request, "id", "Invalid project id")
    worker_id = parsing.path_id(request, "wid", "Invalid worker id")
    command = RevokeAccess(
        manager_id=context.manager_id(request), worker_id=worker_id, project=project_id
    )
    await context.tracker(request).execute(command)
    return envelope.ok()


@routes.get("/project/access_list/{id}")
async def access_list(request: web.Request) -> web.Response:
    project_id = parsing.path_id(request, "id", "Invalid worker id")  # sic, as the original
    state = context.tracker(request).state
    roles.require_role(state, context.caller(request), project_id, ROLE_MANAGE_ACCESS)
    return envelope.ok({"accesses": projects.accesses(state, project_id)})

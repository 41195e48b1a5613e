"""Manager administration routes: list managers, promote and demote, roles on projects, and
the tracker admin's worker pause switch.

Promote and demote stay GETs answering 204, as the original UI calls them. They take effect at
once: a session names its manager, whose flags are read from the current state on every
request (the original kept a snapshot until the next login).
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from tracker.commands.admin import SetProjectRole, SetTrackerAdmin, SetWorkerPaused
from tracker.commands.base import existing_project
from tracker.http import context, envelope, parsing
from tracker.http.parsing import Int64
from tracker.queries import roles
from tracker.queries.views import ManagerView, manager_view

routes = web.RouteTableDef()


class ManagerRoleOn(msgspec.Struct):
    manager: ManagerView
    role: int


class RoleBody(msgspec.Struct):
    manager: Int64 = 0
    role: Int64 = 0


class PauseBody(msgspec.Struct):
    worker: Int64 = 0
    paused: bool = False


@routes.get("/manager/list")
async def list_managers(request: web.Request) -> web.Response:
    roles.require_manager(context.caller(request))
    managers = context.tracker(request).state.managers.all()
    return envelope.ok({"managers": [manager_view(m) for m in managers]})


@routes.get("/manager/list_for_project/{id}")
async def list_for_project(request: web.Request) -> web.Response:
    project_id = parsing.path_id(request, "id", "Invalid project id")
    roles.require_manager(context.caller(request))
    state = context.tracker(request).state
    existing_project(state, project_id)
    holders = state.managers.roles_on(project_id)
    listed = [ManagerRoleOn(manager_view(manager), role) for manager, role in holders]
    return envelope.ok({"managers": listed})


async def _set_admin(request: web.Request, tracker_admin: bool) -> web.Response:
    target = parsing.path_id(request, "id", "Invalid manager id")
    command = SetTrackerAdmin(
        manager_id=context.manager_id(request), target=target, tracker_admin=tracker_admin
    )
    await context.tracker(request).execute(command)
    return envelope.no_content()


@routes.get("/manager/promote/{id}")
async def promote(request: web.Request) -> web.Response:
    return await _set_admin(request, True)


@routes.get("/manager/demote/{id}")
async def demote(request: web.Request) -> web.Response:
    return await _set_admin(request, False)


@routes.post("/manager/set_role_for_project/{id}")
async def set_role(request: web.Request) -> web.Response:
    project_id = parsing.path_id(request, "id", "Invalid project id")
    body = await parsing.body(request, RoleBody)
    command = SetProjectRole(
        manager_id=context.manager_id(request),
        project=project_id,
        target=body.manager,
        role=body.role,
    )
    await context.tracker(request).execute(command)
    return envelope.ok()


@routes.post("/worker/set_paused")
async def set_paused(request: web.Request) -> web.Response:
    caller = context.manager_id(request)

    def command(body: PauseBody) -> SetWorkerPaused:
        return SetWorkerPaused(manager_id=caller, worker_id=body.worker, paused=body.paused)

    body = await context.body_after_caller(request, PauseBody, command)  # as the original
    await context.tracker(request).execute(command(body))
    return envelope.ok()

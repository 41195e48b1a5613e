"""Permissions of a project: workers' access (accept, deny or remove, pause) and managers'
roles. The list is the API's ``access_list`` (ROLE_MANAGE_ACCESS), paged here; the actions
are ``GrantAccess``, ``RevokeAccess``, ``SetWorkerPaused`` and ``SetProjectRole``."""

from __future__ import annotations

from aiohttp import web

from tracker.commands.access import GrantAccess, RevokeAccess
from tracker.commands.admin import SetProjectRole, SetWorkerPaused
from tracker.commands.projects import (
    ROLE_EDIT,
    ROLE_MAINTENANCE,
    ROLE_MANAGE_ACCESS,
    ROLE_READ,
    ROLE_SECRET,
)
from tracker.http import context
from tracker.queries import projects, roles
from tracker.ui import render
from tracker.ui.views.projects import readable_project

routes = web.RouteTableDef()

PAGE = 50
ROLES = (
    (ROLE_READ, "Read"),
    (ROLE_EDIT, "Edit"),
    (ROLE_MANAGE_ACCESS, "Manage permissions"),
    (ROLE_SECRET, "Configure secrets"),
    (ROLE_MAINTENANCE, "Maintenance"),
)


@routes.get("/ui/project/{id}/perms")
async def permissions(request: web.Request) -> web.Response:
    render.require_login(request)
    project = readable_project(request)
    state = context.tracker(request).state
    start = render.query_int(request, "start")
    refused = ""
    accesses: list = []
    if roles.may(state, context.caller(request), project.view.id, ROLE_MANAGE_ACCESS):
        accesses = projects.accesses(state, project.view.id)
    else:
        refused = "You need ROLE_MANAGE_ACCESS on this project"
    listed = state.managers.roles_on(project.view.id)
    with_role = {m.id for m, _ in listed}
    others = [m for m in state.managers.all() if m.id not in with_role][:500]
    return render.page(
        request,
        "perms.html",
        {
            "project": project,
            "refused": refused,
            "accesses": accesses[start : start + PAGE],
            "total": len(accesses),
            "start": start,
            "page": PAGE,
            "managers": listed,
            "others": others,
            "roles": ROLES,
        },
    )


@routes.post("/ui/project/{id}/perms/worker")
async def worker_action(request: web.Request) -> web.Response:
    manager = render.require_login(request)
    project = readable_project(request)
    form = await request.post()
    worker_id = render.form_int(form, "worker", 0, 1)
    action = render.form_text(form, "action")
    tracker = context.tracker(request)
    if action == "accept":
        command: object = GrantAccess(
            manager_id=manager.id, worker_id=worker_id, project=project.view.id
        )
        message = "Access granted"
    elif action == "deny":
        command = RevokeAccess(manager_id=manager.id, worker_id=worker_id, project=project.view.id)
        message = "Access removed"
    elif action in ("pause", "unpause"):
        command = SetWorkerPaused(
            manager_id=manager.id, worker_id=worker_id, paused=action == "pause"
        )
        message = "Worker paused" if action == "pause" else "Worker resumed"
    else:
        raise web.HTTPNotFound()
    await tracker.execute(command)  # type: ignore[arg-type]
    raise render.redirect(f"/ui/project/{project.view.id}/perms", message)


@routes.post("/ui/project/{id}/perms/manager")
async def manager_role(request: web.Request) -> web.Response:
    manager = render.require_login(request)
    project = readable_project(request)
    form = await request.post()
    target = render.form_int(form, "manager", 0, 1)
    if "add" in form:
        role = ROLE_READ
    else:
        role = sum(value for value, _ in ROLES if form.get(f"role_{value}") == "on")
    await context.tracker(request).execute(
        SetProjectRole(manager_id=manager.id, project=project.view.id, target=target, role=role)
    )
    raise render.redirect(f"/ui/project/{project.view.id}/perms", "Saved")

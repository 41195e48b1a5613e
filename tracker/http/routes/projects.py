"""Project routes: create, read one, list the visible ones."""

from __future__ import annotations

import uuid

from aiohttp import web

from tracker.commands.base import ProjectNotFound
from tracker.commands.projects import ROLE_READ, CreateProject, ProjectSettings, has_role
from tracker.errors import Unauthorized
from tracker.http import context, envelope, parsing
from tracker.http.parsing import Int64
from tracker.projections.projects import Project
from tracker.projections.state import State

routes = web.RouteTableDef()


class CreateBody(ProjectSettings, frozen=True):
    priority: Int64 = 0
    chain: Int64 = 0


def can_read(state: State, manager_id: int | None, project: Project) -> bool:
    """Hidden projects are visible to tracker admins and managers with ROLE_READ only."""
    if not project.hidden:
        return True
    return manager_id is not None and has_role(state, manager_id, project.id, ROLE_READ)


@routes.post("/project/create")
async def create(request: web.Request) -> web.Response:
    settings = await parsing.body(request, CreateBody)
    manager = context.manager(request)
    command = CreateProject(
        manager_id=manager.id if manager else 0, settings=settings,
        webhook_secret=str(uuid.uuid4()),
    )  # fmt: skip
    events = await context.tracker(request).execute(command)
    return envelope.ok({"id": events[0].project_id})  # type: ignore[attr-defined]


def readable(request: web.Request, project_id: int, refusal: str | None = None) -> Project:
    """The project, if the caller may read it (``Unauthorized(refusal)`` otherwise)."""
    state = context.tracker(request).state
    project = state.projects.get(project_id)
    if project is None:
        raise ProjectNotFound()
    manager = context.manager(request)
    if not can_read(state, manager.id if manager else None, project):
        raise Unauthorized(refusal)
    return project


@routes.get("/project/get/{id}")
async def get(request: web.Request) -> web.Response:
    project_id = parsing.path_id(request, "id", "Invalid worker id")  # sic, as the original
    return envelope.ok({"project": readable(request, project_id).view})


@routes.get("/project/list")
async def list_projects(request: web.Request) -> web.Response:
    state = context.tracker(request).state
    manager = context.manager(request)
    manager_id = manager.id if manager else None
    visible = [p.view for p in state.projects.all() if can_read(state, manager_id, p)]
    visible.sort(key=lambda view: view.name)
    return envelope.ok({"projects": visible})

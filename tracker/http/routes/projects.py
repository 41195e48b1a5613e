"""Project routes: create, read one, list the visible ones."""

from __future__ import annotations

import uuid

from aiohttp import web

from tracker.commands.projects import CreateProject, ProjectSettings
from tracker.http import context, envelope, parsing
from tracker.http.parsing import Int64
from tracker.queries import projects

routes = web.RouteTableDef()


class CreateBody(ProjectSettings, frozen=True):
    priority: Int64 = 0
    chain: Int64 = 0


@routes.post("/project/create")
async def create(request: web.Request) -> web.Response:
    settings = await parsing.body(request, CreateBody)
    command = CreateProject(
        manager_id=context.manager_id(request), settings=settings,
        webhook_secret=str(uuid.uuid4()),
    )  # fmt: skip
    events = await context.tracker(request).execute(command)
    return envelope.ok({"id": events[0].project_id})  # type: ignore[attr-defined]


@routes.get("/project/get/{id}")
async def get(request: web.Request) -> web.Response:
    project_id = parsing.path_id(request, "id", "Invalid worker id")  # sic, as the original
    project = projects.readable(context.tracker(request).state, context.caller(request), project_id)
    return envelope.ok({"project": project.view})


@routes.get("/project/list")
async def list_projects(request: web.Request) -> web.Response:
    visible = projects.visible(context.tracker(request).state, context.caller(request))
    return envelope.ok({"projects": visible})

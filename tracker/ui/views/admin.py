"""The console: manual task submit, for debugging (tracker admins, as the original's console
only worked for them). The task is the API's ``SubmitTask`` on behalf of the chosen worker,
paced by the project's submit rate like ``/task/submit``."""

from __future__ import annotations

from aiohttp import web

from tracker.commands import tasks as cmd
from tracker.errors import NotFound
from tracker.http import context
from tracker.queries import roles
from tracker.ui import render
from tracker.ui.views.projects import visible_projects

routes = web.RouteTableDef()

INT16 = 32_767


@routes.get("/ui/console")
async def console(request: web.Request) -> web.Response:
    render.require_login(request)
    roles.require_admin(context.caller(request))
    return render.page(request, "console.html", {"projects": visible_projects(request)})


@routes.post("/ui/console")
async def submit(request: web.Request) -> web.Response:
    render.require_login(request)
    # Not a repeat of the decider's check: SubmitTask's decider checks the chosen worker's
    # access, never the manager, so this is the console's only rule (tracker admins).
    roles.require_admin(context.caller(request))
    form = await request.post()
    command = cmd.SubmitTask(
        worker_id=render.form_int(form, "worker", 0, 1),
        project=render.form_int(form, "project", 0, 1),
        recipe=render.form_text(form, "recipe"),
        priority=render.form_int(form, "priority", 1, -INT16 - 1, INT16),
        max_retries=render.form_int(form, "max_retries", 3, 0, INT16),
        max_assign_time=render.form_int(form, "max_assign_time", 3600),
        verification_count=render.form_int(form, "verification_count", 0, 0, INT16),
        unique_string=render.form_text(form, "unique_string"),
    )
    if context.tracker(request).state.workers.get(command.worker_id) is None:
        raise NotFound("Worker not found")
    await context.tracker(request).execute(command)
    raise render.redirect("/ui/console", "Task submitted")

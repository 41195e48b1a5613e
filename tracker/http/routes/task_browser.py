"""The task browser's route: a project's tasks, filtered, sorted and paged (one task's
attempts are ``GET /task/view/:id``, beside its history in ``audit.py``).

Who may call: whoever may read the project's task history (``tracker.queries.tasks``: the
audit token, a tracker admin, a manager with the Read role on the project).
"""

from __future__ import annotations

from aiohttp import web

from tracker.http import context, envelope, parsing, task_filters
from tracker.queries import tasks

routes = web.RouteTableDef()


@routes.get("/project/tasks/{id}")
async def list_tasks(request: web.Request) -> web.Response:
    project_id = parsing.path_id(request, "id", "Invalid project id")
    state = context.tracker(request).state
    tasks.require_browser(state, context.caller(request), project_id)
    asked = task_filters.listing(project_id, request.query)
    return envelope.ok(tasks.page(state, asked.where, asked.sort, asked.cursor, asked.limit))

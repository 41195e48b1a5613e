"""The task browser: a project's tasks filtered by a GET form, paged by the API's cursor, each
row linking to the task's history. Same query, same rule of who may read, as
``GET /project/tasks/:id``; a filter the API would refuse is shown above the form, which keeps
what was typed."""

from __future__ import annotations

import urllib.parse
from typing import Any

from aiohttp import web

from tracker.errors import InvalidRequest
from tracker.http import context, task_filters
from tracker.queries import tasks
from tracker.ui import render

routes = web.RouteTableDef()

STATES = {"queued": "Queued", "awaiting_verification": "Awaiting verification",
          "assigned": "Assigned", "failed": "Failed", "closed": "Closed"}  # fmt: skip
SORTS = {"id": "Oldest first", "-id": "Newest first", "priority": "Highest priority first"}
assert set(STATES) == {s.value for s in tasks.TaskState} and set(SORTS) == set(tasks.Sort)


@routes.get("/ui/project/{id}/tasks")
async def task_list(request: web.Request) -> web.Response:
    render.require_login(request)
    project_id = render.form_int(request.match_info, "id", 0, 1)
    state = context.tracker(request).state
    tasks.require_browser(state, context.caller(request), project_id)
    project = state.projects.get(project_id)
    values: dict[str, Any] = {
        "project": project, "form": {name: request.query.get(name, "") for name in FORM},
        "states": STATES, "sorts": SORTS, "page": None, "error": "", "more": "", "first": "",
    }  # fmt: skip
    try:
        asked = task_filters.listing(project_id, request.query)
        found = tasks.page(state, asked.where, asked.sort, asked.cursor, asked.limit)
    except InvalidRequest as refused:
        values["error"] = labelled(refused.message)  # above the form, as time travel's are
        return render.page(request, "tasks.html", values)
    values["page"], values["first"] = found, _query(request, cursor="")
    if found.next:
        values["more"] = _query(request, cursor=found.next)
    return render.page(request, "tasks.html", values)


FORM = list(task_filters.PARAMETERS)
# The form's label of each parameter, for refusals the page shows (the API's name the field)
LABELS = {"state": "State", "worker": "Worker", "priority_min": "Priority from",
          "priority_max": "Priority to", "recipe": "Recipe contains",
          "submitted_from": "Submitted from", "submitted_to": "Submitted to", "sort": "Sort",
          "cursor": "Page", "limit": "Rows per page"}  # fmt: skip
assert set(LABELS) == set(task_filters.PARAMETERS)


def labelled(message: str) -> str:
    """A refusal of the query with the field's label in place of the parameter's name."""
    prefix = "Could not parse request: "
    name, _, rest = message.removeprefix(prefix).partition(" ")
    if not message.startswith(prefix) or name not in LABELS:
        return message
    return f"{prefix}{LABELS[name]} {rest}"


def _query(request: web.Request, **changes: str) -> str:
    """This page's query string with ``changes`` (empty fields left out)."""
    kept = {name: request.query.get(name, "") for name in FORM}
    kept.update(changes)
    return urllib.parse.urlencode({name: value for name, value in kept.items() if value})

"""Actions on tasks from the web UI: buttons on the task browser's selected rows and on a
task's page, and "every task matching the filter" behind a confirmation page that says how
many tasks it touches. They send the API's commands (``tracker.queries.task_actions``) with
the manager as actor; the buttons are shown only to a manager with the Maintenance role on
the project (``may(project).maintenance`` in the templates), and a forged form from anyone
else is refused by the command's decider."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from tracker.errors import InvalidRequest
from tracker.http import context
from tracker.http.task_actions import on_filter, task_filter
from tracker.queries.task_actions import ACTIONS, Acted, acted, command, targets
from tracker.queries.tasks import TaskState, state_of
from tracker.ui import i18n, render
from tracker.ui.guard import safe_back

routes = web.RouteTableDef()

# action -> (confirmation title, what it says the action does to {n} tasks, snackbar after it)
LABELS: dict[str, tuple[str, str, str]] = {
    "retry": ("Retry failed tasks",
              "{n} failed tasks go back to the queue now, their attempts counted from zero.",
              "Tasks retried: {n}"),
    "cancel": ("Cancel queued tasks",
               "{n} queued tasks will be deleted. This cannot be undone.",
               "Tasks cancelled: {n}"),
    "priority": ("Change the priority of queued tasks",
                 "{n} queued tasks will wait at priority {priority}.",
                 "Priorities changed: {n}"),
    "take_back": ("Take back assigned tasks",
                  "{n} assigned tasks are taken back from their workers and queued again.",
                  "Tasks taken back: {n}"),
}  # fmt: skip
assert set(LABELS) == set(ACTIONS)
_FORM = ("csrf", "back", "action", "priority", "confirm", "task")  # the rest is the filter
PRIORITY = (-(2**15), 2**15 - 1)


def buttons(request: web.Request, task_id: int) -> dict[str, Any] | None:
    """What a task's page offers, by its live state (None once it is closed or deleted); the
    page shows it to a manager with the Maintenance role (``may``)."""
    task = context.tracker(request).state.tasks.get(task_id)
    if task is None:
        return None
    live = state_of(task)
    queued = live in (TaskState.QUEUED, TaskState.AWAITING_VERIFICATION)
    return {"project": task.project_id, "state": "queued" if queued else live.value,
            "priority": task.priority, "range": PRIORITY}  # fmt: skip


@routes.get("/ui/project/{id}/tasks/confirm")
async def confirm(request: web.Request) -> web.Response:
    """How many tasks the action would touch, and the form that confirms that count."""
    render.require_login(request)
    project_id = render.form_int(request.match_info, "id", 0, 1)
    action = _action(request.query)
    priority = render.query_int(request, "priority", 0, *PRIORITY)
    where = task_filter(request, project_id, request.query, ignore=_FORM)
    state = context.tracker(request).state
    count = len(targets(state, command(action, 0, project_id, [], priority), where))
    kept = [(name, value) for name, value in request.query.items() if value and name not in _FORM]
    _ = i18n.translator(i18n.language(request))
    values = {
        "project": state.projects.get(project_id), "action": action, "count": count,
        "label": LABELS[action][0], "priority": priority, "kept": kept,
        "what": _(LABELS[action][1]).format(n=count, priority=priority),
        "back": f"/ui/project/{project_id}/tasks?{urllib.parse.urlencode(kept)}",
    }  # fmt: skip
    return render.page(request, "confirm_tasks.html", values)


@routes.post("/ui/project/{id}/tasks/act")
async def act(request: web.Request) -> web.Response:
    """One action on the selected tasks (``task`` fields) or, with ``confirm``, on every task
    the form's filter fields match."""
    manager = render.require_login(request)
    project_id = render.form_int(request.match_info, "id", 0, 1)
    form = await request.post()
    action = _action(form)
    ids = [render.form_int({"task": value}, "task", 0, 1) for value in form.getall("task", [])]
    priority = render.form_int(form, "priority", 0, -(2**63), 2**63 - 1)  # the decider judges
    asked = command(action, manager.id, project_id, ids, priority)
    confirmed = render.form_int(form, "confirm", 0)
    if confirmed:
        fields = {name: str(value) for name, value in form.items() if name not in _FORM}
        asked = on_filter(request, asked, fields, confirmed)
    done = await context.tracker(request).execute(asked, acted(asked))
    assert isinstance(done, Acted)
    back = safe_back(str(form.get("back", "")), f"/ui/project/{project_id}/tasks")
    raise render.redirect(back, told(request, action, done))


def told(request: web.Request, action: str, done: Acted) -> str:
    """The snackbar after an action, in the page's language."""
    _ = i18n.translator(i18n.language(request))
    text = _(LABELS[action][2]).format(n=done.touched)
    if done.skipped:
        text += " · " + _("skipped: {n}").format(n=len(done.skipped))
    return text


UNKNOWN_ACTION = "Unknown action"


def _action(fields: Mapping[str, Any]) -> str:
    action = str(fields.get("action", ""))
    if action not in ACTIONS:
        raise InvalidRequest(UNKNOWN_ACTION)
    return action

"""The project dashboard: figures, charts, latest tasks, live updates, time travel, and the
maintenance actions (each destructive one behind a confirmation page)."""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from tracker.audit import records
from tracker.audit.timetravel import resolve
from tracker.commands import maintenance
from tracker.commands.maintenance import HardReset, ReclaimAssignedTasks, ResetFailedTasks
from tracker.commands.project_admin import UpdateProject, UpdateSettings
from tracker.errors import TrackerError
from tracker.events.reading import rows
from tracker.events.tasks import Outcome, TaskReleased, TasksReleased
from tracker.http import context
from tracker.http.keys import AUDIT
from tracker.projections.projects import Project
from tracker.projections.state import State
from tracker.queries import auditing, projects
from tracker.queries import figures as figures_of
from tracker.queries.projects import UNASSIGNED
from tracker.queries.views import AssignedTasks
from tracker.ui import i18n, render, stats
from tracker.ui.views.projects import readable_project

routes = web.RouteTableDef()

LATEST = 10
LEGEND = 8  # the task-assignment legend: the 8 largest groups, then "others"
RANGE_LABELS = {"1h": "last hour", "6h": "6 h", "24h": "24 h", "7d": "7 days", "all": "all kept"}
RECENT_EVENTS = 5_000  # how far back in the log the dashboard looks for closed tasks
LIVE_WAIT = 8.0  # seconds a live fragment waits for a new durable event (a stopping app
# ends the wait at once: AuditServices.durable_after)
LIVE_PAUSE = 1.0  # at most one refresh a second, however busy the log

# name -> (command, how the page counts what it did, snackbar label, confirmation title); the
# reclaim counts the assignments taken back, not the API's affected_tasks (every NEW task)
ACTIONS: dict[str, tuple[type, Any, str, str]] = {
    "reset_failed": (ResetFailedTasks, maintenance.tasks_touched, "Reset failed tasks",
                     "Reset failed tasks"),
    "hard_reset": (HardReset, maintenance.tasks_touched, "Deleted tasks", "Hard reset"),
    "reclaim": (ReclaimAssignedTasks, maintenance.tasks_touched, "Assignments taken back",
                "Reclaim assigned tasks"),
}  # fmt: skip


async def figures(request: web.Request, project: Project) -> dict[str, Any]:
    tracker = context.tracker(request)
    state, now, project_id = tracker.state, tracker.clock(), project.view.id
    latest = state.monitoring.latest(project_id, now)
    recent = figures_of.recent(state.monitoring, project_id, now)
    span = chosen_range(request)
    top, others = projects.assignee_legend(state, project_id, LEGEND)
    status = [latest.new_task_count, latest.failed_task_count, latest.closed_task_count,
              latest.awaiting_verification_count]  # fmt: skip
    eta = figures_of.eta_seconds(latest.new_task_count, recent.closed_per_second)
    return {
        "latest": latest,
        "recent": recent,
        "eta": stats.duration(eta),
        "span": span,
        "spans": RANGE_LABELS,
        "timeline": stats.timeline_json(
            figures_of.timeline(state.monitoring, project_id, now, figures_of.RANGES[span])
        ),
        "status": json.dumps(status),
        "legend": legend(request, top, others),
        "empty": not any(status),
        "position": tracker.writer.durable_position,
        "tasks": {
            **projects.latest_tasks(state, project_id, LATEST),
            "closed": await recently_closed(request, project_id),
        },
    }


def legend(request: web.Request, top: list[AssignedTasks], others: int) -> dict[str, list]:
    """The task-assignment chart's labels and counts: the largest groups, then "others"."""
    say = i18n.translator(i18n.language(request))
    labels = [say(g.assignee) if g.assignee == UNASSIGNED else g.assignee or say("(no alias)")
              for g in top]  # fmt: skip
    counts = [g.task_count for g in top]
    if others:
        labels.append(say("others"))
        counts.append(others)
    return {"labels": labels, "counts": counts}


def chosen_range(request: web.Request) -> str:
    """The timeline's range the page asks for (``?range=6h``), else the default one."""
    asked = request.query.get("range", "")
    return asked if asked in figures_of.RANGES else figures_of.DEFAULT_RANGE


_RELEASES = ("TaskReleased", "TasksReleased")


def closed_by(event: TaskReleased | TasksReleased) -> list[int]:
    """The tasks a release closed."""
    if isinstance(event, TaskReleased):
        return [event.task_id] if event.outcome is Outcome.CLOSED else []
    return [release.task_id for release in event.tasks if release.outcome is Outcome.CLOSED]


async def recently_closed(request: web.Request, project_id: int) -> list[int]:
    """The newest closed tasks of the project, from the last ``RECENT_EVENTS`` durable events
    of the log (the live read models forget a task once it is closed)."""
    services = request.app[AUDIT]
    head, found = services.durable, []
    async for batch in rows(services.reader, max(0, head - RECENT_EVENTS), head):
        for row in batch:
            if row.type not in _RELEASES:  # the stored type: only releases are decoded
                continue
            event = records.event_of(row)
            if isinstance(event, TaskReleased | TasksReleased) and event.project_id == project_id:
                found.extend(closed_by(event))
    return found[: -LATEST - 1 : -1]


@routes.get("/ui/project/{id}")
async def dashboard(request: web.Request) -> web.Response:
    project = readable_project(request)
    values = {"project": project, **(await figures(request, project))}
    at = request.query.get("at", "").strip()
    values["at"] = at
    values["past"], values["past_error"] = None, ""
    if at:
        try:
            values["past"] = await past(request, project, at)
        except TrackerError as exc:  # a bad or too distant ``at``: said next to the form
            values["past_error"] = exc.message
    return render.page(request, "dashboard.html", values)


async def past(request: web.Request, project: Project, at: str) -> dict[str, Any]:
    """The project as of ``at`` (a log position or a time), by the API's time machine."""
    caller = context.caller(request)
    auditing.require_reader(caller)
    if not auditing.may_read_history(context.tracker(request).state, caller, project.view.id):
        raise render.redirect(
            f"/ui/project/{project.view.id}",
            "Time travel needs the Read role on this project",
            "error",
        )
    services = request.app[AUDIT]
    position = await resolve(services.reader, at, services.durable)
    status, base = await services.time_machine.status_at(project.view.id, position)
    view = None if status is None else status.view()
    moment = await services.time_machine.time_of(position) if position else None
    return {"position": position, "at": moment, "view": view, "base": base}


@routes.get("/ui/project/{id}/live")
async def live(request: web.Request) -> web.Response:
    """The dashboard's figures, once the log has moved past ``after`` (or after a while)."""
    readable_project(request)  # refused before waiting
    after = render.query_int(request, "after")
    services = request.app[AUDIT]
    await services.durable_after(after, time.monotonic() + LIVE_WAIT)
    if after:
        await services.pause(LIVE_PAUSE)
    project = readable_project(request)  # again: it may have changed (or gone) meanwhile
    return render.fragment(
        request, "fragments/figures.html", {"project": project, **(await figures(request, project))}
    )


@routes.get("/ui/project/{id}/confirm/{action}")
async def confirm(request: web.Request) -> web.Response:
    render.require_login(request)
    project = readable_project(request)
    name = request.match_info["action"]
    if name not in ACTIONS:
        raise web.HTTPNotFound()
    return render.page(
        request, "confirm.html", {"project": project, "action": name, "label": ACTIONS[name][3]}
    )


@routes.post("/ui/project/{id}/action/{action}")
async def act(request: web.Request) -> web.Response:
    manager = render.require_login(request)
    project = readable_project(request)
    project_id, name = project.view.id, request.match_info["action"]
    tracker = context.tracker(request)
    back = f"/ui/project/{project_id}"
    if name in ("pause", "resume"):
        fields = {f: getattr(project.view, f) for f in UpdateSettings.__struct_fields__}
        settings = UpdateSettings(**{**fields, "paused": name == "pause"})
        await tracker.execute(
            UpdateProject(manager_id=manager.id, project=project_id, settings=settings)
        )
        raise render.redirect(back, "Paused" if name == "pause" else "Resumed")
    if name not in ACTIONS:
        raise web.HTTPNotFound()
    command_type, count, label, _ = ACTIONS[name]

    def reply(state: State, events: list[Any]) -> int:
        return int(count(state, project_id, events))

    affected = await tracker.execute(command_type(manager_id=manager.id, project=project_id), reply)
    raise render.redirect(back, f"{label}: {affected}")

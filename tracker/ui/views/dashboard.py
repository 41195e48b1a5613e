"""The project dashboard: figures, charts, latest tasks, live updates, time travel, and the
maintenance actions (each destructive one behind a confirmation page)."""

from __future__ import annotations

import asyncio
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
from tracker.projections.monitoring import Snapshot
from tracker.projections.projects import Project
from tracker.projections.state import State
from tracker.queries import auditing, projects
from tracker.ui import render, stats
from tracker.ui.views.projects import readable_project

routes = web.RouteTableDef()

SNAPSHOTS = 60
LATEST = 10
RECENT_EVENTS = 5_000  # how far back in the log the dashboard looks for closed tasks
LIVE_WAIT = 8.0  # seconds a live fragment waits for a new durable event (a stopping app
# ends the wait at once: AuditServices.durable_after)
LIVE_PAUSE = 1.0  # at most one refresh a second, however busy the log

# name -> (command, how the API counts what it did, snackbar label, confirmation title)
ACTIONS: dict[str, tuple[type, Any, str, str]] = {
    "reset_failed": (ResetFailedTasks, maintenance.tasks_touched, "Reset failed tasks",
                     "Reset failed tasks"),
    "hard_reset": (HardReset, maintenance.tasks_touched, "Deleted tasks", "Hard reset"),
    "reclaim": (ReclaimAssignedTasks, maintenance.tasks_requeued, "Reclaimed tasks",
                "Reclaim assigned tasks"),
}  # fmt: skip


def current(state: State, project: Project, now: float) -> Snapshot:
    history = state.monitoring.projects.get(project.view.id)
    counts = tuple(history.counts) if history else (0, 0, 0, 0, 0)
    return Snapshot(counts[0], counts[1], counts[2], counts[3], counts[4], int(now))


async def figures(request: web.Request, project: Project) -> dict[str, Any]:
    tracker = context.tracker(request)
    state, now = tracker.state, tracker.clock()
    oldest = int(now) - state.monitoring.history_length
    snapshots = state.monitoring.snapshots(project.view.id, int(now), oldest, SNAPSHOTS)
    latest = current(state, project, now)
    rate = stats.tasks_per_second(snapshots)
    groups = projects.assignee_groups(state, project.view.id)
    clock = "%H:%M" if state.monitoring.interval >= 60 else "%H:%M:%S"
    timeline = {
        "labels": [time.strftime(clock, time.gmtime(s.time_stamp)) for s in reversed(snapshots)],
        "new": [s.new_task_count for s in reversed(snapshots)],
        "failed": [s.failed_task_count for s in reversed(snapshots)],
        "closed": [s.closed_task_count for s in reversed(snapshots)],
        "awaiting": [s.awaiting_verification_count for s in reversed(snapshots)],
    }
    status = [
        latest.new_task_count,
        latest.failed_task_count,
        latest.closed_task_count,
        latest.awaiting_verification_count,
    ]
    return {
        "latest": latest,
        "rate": rate,
        "eta": stats.duration(stats.eta_seconds(latest.new_task_count, rate)),
        "timeline": json.dumps(timeline),
        "status": json.dumps(status),
        "assignees": groups,
        "assignee_chart": json.dumps(
            {"labels": [g.assignee for g in groups], "counts": [g.task_count for g in groups]}
        ),
        "empty": not any(status),
        "position": tracker.writer.durable_position,
        "tasks": {
            **projects.latest_tasks(state, project.view.id, LATEST),
            "closed": await recently_closed(request, project.view.id),
        },
    }


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
    if after and not services.stopping:
        await asyncio.sleep(LIVE_PAUSE)  # pacing the refreshes, not a wait for a condition
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

"""Workers (closed tasks per worker chart, pause, info) and, for tracker admins, managers
(promote, demote). Lists are paged on the server; the chart shows the top workers."""

from __future__ import annotations

import heapq
import json

from aiohttp import web

from tracker.commands.admin import SetTrackerAdmin, SetWorkerPaused
from tracker.http import context
from tracker.queries import roles
from tracker.queries.views import worker_view
from tracker.ui import render
from tracker.ui.guard import safe_back

routes = web.RouteTableDef()

PAGE = 50
CHART_TOP = 30


@routes.get("/ui/workers")
async def workers(request: web.Request) -> web.Response:
    state = context.tracker(request).state
    everyone = state.workers.all()
    shown = [w for w in everyone if not w.alias.startswith("$")]
    top = heapq.nlargest(CHART_TOP, shown, key=lambda w: (w.closed_task_count, -w.id))
    chart = {
        "labels": [w.alias or str(w.id) for w in top],
        "counts": [w.closed_task_count for w in top],
    }
    start = render.query_int(request, "start")
    listed = []
    manager = context.manager(request)
    if manager is not None:
        listed = sorted(everyone, key=lambda w: (w.alias, w.id))[start : start + PAGE]
    info_id = render.query_int(request, "info")
    info = state.workers.get(info_id) if info_id else None
    info_view = None
    if info is not None:
        with_secret = manager is not None and manager.tracker_admin
        info_view = json.dumps(
            {
                f: getattr(worker_view(info, with_secret), f)
                for f in ("id", "created", "alias", "secret", "paused")
            },
            indent=2,
        )
    return render.page(
        request,
        "workers.html",
        {
            "chart": json.dumps(chart),
            "charted": len(top),
            "workers": listed,
            "start": start,
            "page": PAGE,
            "total": len(state.workers.by_id),
            "info": info,
            "info_view": info_view,
        },
    )


@routes.post("/ui/workers/pause")
async def pause(request: web.Request) -> web.Response:
    manager = render.require_login(request)
    form = await request.post()
    worker_id = render.form_int(form, "worker", 0, 1)
    paused = render.form_text(form, "paused") == "1"
    await context.tracker(request).execute(
        SetWorkerPaused(manager_id=manager.id, worker_id=worker_id, paused=paused)
    )
    raise render.redirect(
        safe_back(render.form_text(form, "back"), "/ui/workers"),
        "Worker paused" if paused else "Worker resumed",
    )


@routes.get("/ui/managers")
async def managers(request: web.Request) -> web.Response:
    render.require_login(request)
    roles.require_admin(context.caller(request))
    start = render.query_int(request, "start")
    everyone = sorted(context.tracker(request).state.managers.all(), key=lambda m: m.id)
    return render.page(
        request,
        "managers.html",
        {
            "managers": everyone[start : start + PAGE],
            "start": start,
            "page": PAGE,
            "total": len(everyone),
        },
    )


@routes.post("/ui/managers/admin")
async def set_admin(request: web.Request) -> web.Response:
    manager = render.require_login(request)
    form = await request.post()
    target = render.form_int(form, "manager", 0, 1)
    promote = render.form_text(form, "admin") == "1"
    await context.tracker(request).execute(
        SetTrackerAdmin(manager_id=manager.id, target=target, tracker_admin=promote)
    )
    raise render.redirect("/ui/managers", "Promoted" if promote else "Demoted")

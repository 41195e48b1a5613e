"""Worker log lines (the API's ``POST /logs`` query): a level, a start time, pages of lines."""

from __future__ import annotations

import json

from aiohttp import web

from tracker.events.logs import LEVELS
from tracker.http import context
from tracker.projections.logs import LogLine
from tracker.queries import logs as log_pages
from tracker.ui import render

routes = web.RouteTableDef()

PAGE = 100
NAMES = ("fatal", "panic", "error", "warn", "info", "debug", "trace")


@routes.get("/ui/logs")
async def logs(request: web.Request) -> web.Response:
    render.require_login(request)
    tracker = context.tracker(request)
    name = request.query.get("level", "")
    level = LEVELS.get(name, 0)
    lines: list[LogLine] = []
    more = False
    since = render.query_int(request, "since", int(tracker.clock()) - 7 * 86_400)
    after = log_pages.cursor(request.query.get("after", ""))
    if level:
        lines, more = tracker.state.logs.page(level, since, after, PAGE)
    rows = [
        (line, json.dumps({"scope": line.scope, "worker": line.worker_id}, indent=1))
        for line in lines
    ]
    following = log_pages.next_cursor(lines[-1]) if more else ""
    return render.page(
        request,
        "logs.html",
        {
            "levels": NAMES,
            "level": name if level else "",
            "rows": rows,
            "since": since,
            "next": following,
        },
    )

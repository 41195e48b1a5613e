"""Monitoring and statistics: snapshots, assignee groups, worker closed counts.

The original served all of these without any check (``behavior.md`` 13.17), so a hidden
project's statistics could be read by id. Here public and private projects stay open to anyone,
as before, and a hidden project's monitoring and assignees need a manager with ROLE_READ on it
(or a tracker admin), like ``/project/get``.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from tracker.errors import InvalidRequest
from tracker.http import context, envelope, parsing
from tracker.queries import projects

routes = web.RouteTableDef()

MAX_COUNT = 999
MAX_TIME = 2_147_483_646


class WorkerStats(msgspec.Struct):
    alias: str
    closed_task_count: int
    paused: bool
    id: int


def _query_in(request: web.Request, name: str, low: int, high: int) -> int:
    value = parsing.query_uint(request, name)
    if not low <= value <= high:
        raise InvalidRequest(f"Invalid request: {name} must be between {low} and {high}")
    return value


@routes.get("/project/monitoring/{id}")
async def monitoring(request: web.Request) -> web.Response:
    project_id = parsing.path_id(request, "id", "Invalid request")
    count = _query_in(request, "count", 1, MAX_COUNT)
    tracker = context.tracker(request)
    state = tracker.state
    projects.check_statistics(state, context.caller(request), project_id)
    now = int(tracker.clock())
    oldest = now - state.monitoring.history_length
    snapshots = state.monitoring.snapshots(project_id, now, oldest, count)
    return envelope.ok({"snapshots": snapshots})


@routes.get("/project/monitoring-between/{id}")
async def monitoring_between(request: web.Request) -> web.Response:
    project_id = parsing.path_id(request, "id", "Invalid request")
    start = _query_in(request, "from", 1, MAX_TIME)
    end = _query_in(request, "to", 1, MAX_TIME)
    tracker = context.tracker(request)
    state = tracker.state
    projects.check_statistics(state, context.caller(request), project_id)
    now = int(tracker.clock())
    oldest = max(start, now - state.monitoring.history_length)
    return envelope.ok({"snapshots": state.monitoring.snapshots(project_id, min(end, now), oldest)})


@routes.get("/project/assignees/{id}")
async def assignees(request: web.Request) -> web.Response:
    project_id = parsing.path_id(request, "id", "Invalid worker id")  # sic, as the original
    state = context.tracker(request).state
    projects.check_statistics(state, context.caller(request), project_id)
    return envelope.ok({"assignees": projects.assignee_groups(state, project_id)})


@routes.get("/worker/stats")
async def worker_stats(request: web.Request) -> web.Response:
    workers = context.tracker(request).state.workers.by_id
    stats = [WorkerStats(w.alias, w.closed_task_count, w.paused, w.id) for w in workers.values()]
    stats.sort(key=lambda s: s.id)
    return envelope.ok({"stats": stats})

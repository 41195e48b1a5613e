"""Monitoring and statistics: snapshots, assignee groups, worker closed counts.

The original served all of these without any check (``behavior.md`` 13.17), so a hidden
project's statistics could be read by id. Here public and private projects stay open to anyone,
as before, and a hidden project's monitoring and assignees need a manager with ROLE_READ on it
(or a tracker admin), like ``/project/get``.
"""

from __future__ import annotations

from collections import Counter

import msgspec
from aiohttp import web

from tracker.errors import InvalidRequest, Unauthorized
from tracker.http import context, envelope, parsing
from tracker.http.routes.projects import can_read
from tracker.projections.state import State

routes = web.RouteTableDef()

MAX_COUNT = 999
MAX_TIME = 2_147_483_646
MAX_ASSIGNEE_GROUPS = 16
UNASSIGNED = "unassigned"


class AssignedTasks(msgspec.Struct):
    assignee: str
    task_count: int


class WorkerStats(msgspec.Struct):
    alias: str
    closed_task_count: int
    paused: bool
    id: int


def _check_visible(request: web.Request, state: State, project_id: int) -> None:
    """Hidden projects' statistics are for managers who may read the project."""
    project = state.projects.get(project_id)
    if project is None or not project.hidden:
        return
    manager = context.manager(request)
    if not can_read(state, manager.id if manager else None, project):
        raise Unauthorized()


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
    _check_visible(request, state, project_id)
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
    _check_visible(request, state, project_id)
    now = int(tracker.clock())
    oldest = max(start, now - state.monitoring.history_length)
    return envelope.ok({"snapshots": state.monitoring.snapshots(project_id, min(end, now), oldest)})


@routes.get("/project/assignees/{id}")
async def assignees(request: web.Request) -> web.Response:
    project_id = parsing.path_id(request, "id", "Invalid worker id")  # sic, as the original
    state = context.tracker(request).state
    _check_visible(request, state, project_id)
    return envelope.ok({"assignees": assignee_groups(state, project_id)})


def assignee_groups(state: State, project_id: int) -> list[AssignedTasks]:
    """Live tasks grouped by assignee (one group per worker, labelled with its alias), plus
    the ``unassigned`` group (queued and FAILED tasks): the 16 largest, largest first.

    Costs O(tasks assigned in the project right now), never a scan of queued tasks."""
    tasks = state.tasks.projects.get(project_id)
    if tasks is None:
        return []
    board, workers = state.tasks.tasks, state.workers.by_id
    per_worker = Counter(board[task_id].assignee for task_id in tasks.assigned)
    groups = [(n, workers[w].alias if w in workers else "", w) for w, n in per_worker.items()]
    unassigned = tasks.queue.size + len(tasks.failed)
    if unassigned:
        groups.append((unassigned, UNASSIGNED, 0))
    groups.sort(key=lambda group: (-group[0], group[1], group[2]))
    return [AssignedTasks(label, n) for n, label, _ in groups[:MAX_ASSIGNEE_GROUPS]]


@routes.get("/worker/stats")
async def worker_stats(request: web.Request) -> web.Response:
    workers = context.tracker(request).state.workers.by_id
    stats = [WorkerStats(w.alias, w.closed_task_count, w.paused, w.id) for w in workers.values()]
    stats.sort(key=lambda s: s.id)
    return envelope.ok({"stats": stats})

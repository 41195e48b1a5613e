"""Maintenance routes (ROLE_MAINTENANCE): reset failed tasks, hard reset, reclaim assigned tasks.

Each answers ``{"affected_tasks": n}`` with the original's count: failed tasks reset, tasks
deleted, and for a reclaim every NEW task of the project (assigned or not), as the original
counted the rows its UPDATE touched. The request body is ignored.
"""

from __future__ import annotations

from aiohttp import web

from tracker.commands.maintenance import (
    Count,
    HardReset,
    ReclaimAssignedTasks,
    ResetFailedTasks,
    tasks_requeued,
    tasks_touched,
)
from tracker.events.base import Event
from tracker.http import context, envelope, parsing
from tracker.projections.state import State

routes = web.RouteTableDef()


async def _maintain(request: web.Request, command_type: type, count: Count) -> web.Response:
    project_id = parsing.path_id(request, "id", "Invalid project id")
    command = command_type(manager_id=context.manager_id(request), project=project_id)

    def reply(state: State, events: list[Event]) -> int:
        return count(state, project_id, events)

    affected = await context.tracker(request).execute(command, reply)
    return envelope.ok({"affected_tasks": affected})


@routes.post("/project/reset_failed_tasks/{id}")
async def reset_failed_tasks(request: web.Request) -> web.Response:
    return await _maintain(request, ResetFailedTasks, tasks_touched)


@routes.post("/project/hard_reset/{id}")
async def hard_reset(request: web.Request) -> web.Response:
    return await _maintain(request, HardReset, tasks_touched)


@routes.post("/project/reclaim_assigned_tasks/{id}")
async def reclaim_assigned_tasks(request: web.Request) -> web.Response:
    return await _maintain(request, ReclaimAssignedTasks, tasks_requeued)

"""Audit routes: live digests, task history, a project's past state, and the change feed.

Who may call (see docs/auditing.md):

- ``GET /audit/digest``: a tracker admin session, or ``Authorization: Bearer <audit.token>``.
- ``GET /task/history/:id`` and ``GET /project/state/:id``: the audit token, a tracker admin,
  or a manager with the READ role on the task's (the) project. 401 without credentials.
- ``GET /events``: the audit token or a tracker admin see every event; any other manager sees
  the events that name a project (``project_id``) on which they hold READ *now*, and no
  others (accounts, workers, other projects). Workers and anonymous callers get 401.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from aiohttp import web

from tracker.audit import feed, history
from tracker.audit.timetravel import project_view, resolve
from tracker.checkpoints.pipeline import Pipeline
from tracker.commands.base import ProjectNotFound
from tracker.commands.projects import ROLE_READ, has_role
from tracker.errors import (
    InvalidRequest,
    NotFound,
    StorageUnavailable,
    Unauthenticated,
    Unauthorized,
)
from tracker.http import context, envelope, parsing
from tracker.http.keys import AUDIT, SETTINGS
from tracker.projections import digest

routes = web.RouteTableDef()

HISTORY_MAX_LAG = 200_000  # events the index may trail by before history answers 503


@dataclass(frozen=True)
class Caller:
    everything: bool  # the audit token or a tracker admin
    manager_id: int = 0

    def can_read(self, request: web.Request, project_id: int) -> bool:
        state = context.tracker(request).state
        return self.everything or has_role(state, self.manager_id, project_id, ROLE_READ)


def caller(request: web.Request) -> Caller:
    """The audit token's holder or a manager; 401 otherwise (a wrong token: 401 as well)."""
    token = request.app[SETTINGS].audit.token
    given = request.headers.get("Authorization", "")
    if token and given:
        # Header text may hold surrogate escapes (bytes that are not UTF-8): compare the bytes.
        given_bytes = given.encode("utf-8", "surrogateescape")
        if hmac.compare_digest(given_bytes, f"Bearer {token}".encode()):
            return Caller(True)
        raise Unauthenticated("Invalid audit token")
    manager = context.manager(request)
    if manager is None:
        raise Unauthenticated()
    return Caller(manager.tracker_admin, manager.id)


def _query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name)
    if text is None or text == "":
        return default
    # ASCII digits only (str.isdigit() accepts "²", which int() refuses), and at most 19 of
    # them before int() (which refuses more than 4300).
    digits = text.isascii() and text.isdigit() and len(text.lstrip("0")) <= 19
    if not digits or not low <= int(text) <= high:
        raise InvalidRequest(
            f"Could not parse request: {name} must be an integer from {low} to {high}"
        )
    return int(text)


@routes.get("/audit/digest")
async def audit_digest(request: web.Request) -> web.Response:
    if not caller(request).everything:
        raise Unauthorized()
    services, tracker = request.app[AUDIT], context.tracker(request)
    keys = [name for name in request.query.get("keys", "").split(",") if name]
    state = tracker.state
    position = state.position
    pipeline = Pipeline()  # the loop encodes (one consistent moment), a thread hashes
    try:
        hashers, _ = digest.state_digests(state, lambda h, data: pipeline.put(h.update, data))
        keyed = digest.key_digests(state, keys) if keys else None
        await pipeline.call(lambda: None)
    finally:
        pipeline.close()
    content = {"position": position, "fingerprint": services.checkpoints.fingerprint,
               "models": digest.finish(hashers)}  # fmt: skip
    if keyed is not None:
        content["keys"] = keyed
    return envelope.ok(content)


@routes.get("/task/history/{id}")
async def task_history(request: web.Request) -> web.Response:
    who = caller(request)
    task_id = parsing.path_id(request, "id", "Invalid task id")
    after = _query_int(request, "after", 0, 0, 2**63 - 1)
    limit = _query_int(request, "limit", 1000, 1, 10_000)
    services = request.app[AUDIT]
    if services.durable - services.index.position > HISTORY_MAX_LAG:
        raise StorageUnavailable(f"The task history index is being built ({services.index.position}"
                                 f" of {services.durable} events); try again shortly")  # fmt: skip
    await services.index_up_to_date()
    found = await history.history(services.index, services.reader, task_id, after, limit)
    if found is None:
        raise NotFound("Task not found")
    if not who.can_read(request, found.summary.project):
        raise Unauthorized()
    return envelope.ok({"task": found.summary, "events": found.events, "more": found.more})


@routes.get("/project/state/{id}")
async def project_state(request: web.Request) -> web.Response:
    who = caller(request)
    project_id = parsing.path_id(request, "id", "Invalid project id")
    if context.tracker(request).state.projects.get(project_id) is None:
        raise ProjectNotFound()
    if not who.can_read(request, project_id):
        raise Unauthorized()
    services = request.app[AUDIT]
    position = await resolve(services.reader, request.query.get("at"), services.durable)
    state, base = await services.time_machine.state_at(position)
    view = project_view(state, project_id)
    if view is None:
        raise NotFound(f"The project did not exist yet at position {position}")
    at = await services.time_machine.time_of(position) if position else None
    return envelope.ok({"project": project_id, "position": position, "at": at, **view,
                        "replayed_from": base})  # fmt: skip


@routes.get("/events")
async def events(request: web.Request) -> web.Response:
    who = caller(request)
    after = _query_int(request, "after", 0, 0, 2**63 - 1)
    limit = _query_int(request, "limit", 100, 1, 1000)
    wait = _query_int(request, "timeout", 0, 0, feed.MAX_TIMEOUT)
    services = request.app[AUDIT]
    visible = None if who.everything else feed.readable_projects(
        context.tracker(request).state, who.manager_id)  # fmt: skip
    page = await feed.wait_for_page(services, after, limit, wait, visible)
    return envelope.ok({"events": page.events, "next": page.next, "head": page.head})

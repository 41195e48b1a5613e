"""Audit routes: live digests, task history, a project's past state, and the change feed.

Who may call (see docs/auditing.md):

- ``GET /audit/digest``: a tracker admin session, or ``Authorization: Bearer <audit.token>``.
- ``GET /task/history/:id``, ``GET /task/view/:id`` (its attempts, each with its reason)
  and ``GET /project/state/:id``: the audit token, a tracker admin,
  or a manager with the READ role on the task's (the) project. 401 without credentials.
- ``GET /events``: the audit token or a tracker admin see every event; any other manager sees
  the events that name a project (``project_id``) on which they hold READ *now*, and no
  others (accounts, workers, other projects). Workers and anonymous callers get 401.
"""

from __future__ import annotations

from aiohttp import web

from tracker.audit import attempts, feed, history
from tracker.audit.timetravel import resolve
from tracker.checkpoints.pipeline import Pipeline
from tracker.commands.base import ProjectNotFound
from tracker.errors import InvalidRequest, NotFound, StorageUnavailable, Unauthorized
from tracker.http import context, envelope, parsing
from tracker.http.keys import AUDIT
from tracker.projections import digest
from tracker.queries import auditing, tasks

routes = web.RouteTableDef()

HISTORY_MAX_LAG = 200_000  # events the index may trail by before history answers 503
ATTEMPT_EVENTS = 10_000  # events of a task read for its attempts (``more`` says if it had more)


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
    auditing.require_everything(context.caller(request))
    services, tracker = request.app[AUDIT], context.tracker(request)
    keys = [name for name in request.query.get("keys", "").split(",") if name]
    state = tracker.state
    async with services.gate.turn():
        if keys:
            services.gate.afford(digest.key_count(state, keys), digest.KEY_BYTES,
                                 f"Per-key digests of {', '.join(keys)}")  # fmt: skip
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


async def readable_history(request: web.Request, task_id: int, after: int,
                           limit: int) -> history.History:  # fmt: skip
    """The task's history, if the caller may read it (401, 404, 403, or 503 while the
    history index is far behind the log)."""
    who = context.caller(request)
    auditing.require_reader(who)
    services = request.app[AUDIT]
    if services.durable - services.index.position > HISTORY_MAX_LAG:
        raise StorageUnavailable(f"The task history index is being built ({services.index.position}"
                                 f" of {services.durable} events); try again shortly")  # fmt: skip
    await services.index_up_to_date()
    found = await history.history(services.index, services.reader, task_id, after, limit)
    if found is None:
        raise NotFound("Task not found")
    if not auditing.may_read_history(context.tracker(request).state, who, found.summary.project):
        raise Unauthorized()
    return found


@routes.get("/task/history/{id}")
async def task_history(request: web.Request) -> web.Response:
    auditing.require_reader(context.caller(request))
    task_id = parsing.path_id(request, "id", "Invalid task id")
    after = _query_int(request, "after", 0, 0, 2**63 - 1)
    limit = _query_int(request, "limit", 1000, 1, 10_000)
    found = await readable_history(request, task_id, after, limit)
    return envelope.ok({"task": found.summary, "events": found.events, "more": found.more})


@routes.get("/task/view/{id}")
async def task_view(request: web.Request) -> web.Response:
    auditing.require_reader(context.caller(request))
    task_id = parsing.path_id(request, "id", "Invalid task id")
    found = await readable_history(request, task_id, 0, ATTEMPT_EVENTS)
    row = tasks.find(context.tracker(request).state, found.summary.project, task_id)
    told = attempts.attempts(found.entries, task_id)
    return envelope.ok({"task": found.summary, "row": row, "attempts": told, "more": found.more})


@routes.get("/project/state/{id}")
async def project_state(request: web.Request) -> web.Response:
    who = context.caller(request)
    auditing.require_reader(who)
    project_id = parsing.path_id(request, "id", "Invalid project id")
    state = context.tracker(request).state
    if state.projects.get(project_id) is None:
        raise ProjectNotFound()
    if not auditing.may_read_history(state, who, project_id):
        raise Unauthorized()
    services = request.app[AUDIT]
    position = await resolve(services.reader, request.query.get("at"), services.durable)
    status, base = await services.time_machine.status_at(project_id, position)
    if status is None:
        raise NotFound(f"The project did not exist yet at position {position}")
    at = await services.time_machine.time_of(position) if position else None
    return envelope.ok({"project": project_id, "position": position, "at": at,
                        **status.view(), "replayed_from": base})  # fmt: skip


@routes.get("/events")
async def events(request: web.Request) -> web.Response:
    who = context.caller(request)
    auditing.require_reader(who)
    after = _query_int(request, "after", 0, 0, 2**63 - 1)
    limit = _query_int(request, "limit", 100, 1, 1000)
    wait = _query_int(request, "timeout", 0, 0, feed.MAX_TIMEOUT)
    services = request.app[AUDIT]
    visible = auditing.feed_projects(context.tracker(request).state, who)
    page = await feed.wait_for_page(services, after, limit, wait, visible)
    return envelope.ok({"events": page.events, "next": page.next, "head": page.head})

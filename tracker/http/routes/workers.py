"""Worker routes: create, update own alias, read one worker."""

from __future__ import annotations

import msgspec
from aiohttp import web

from tracker.commands.workers import CreateWorker, UpdateWorker
from tracker.errors import InvalidRequest, NotFound
from tracker.http import auth, context, envelope, parsing
from tracker.http.keys import SETTINGS
from tracker.projections.state import State
from tracker.queries.views import worker_view

routes = web.RouteTableDef()


class AliasBody(msgspec.Struct):
    alias: str = ""


@routes.post("/worker/create")
async def create(request: web.Request) -> web.Response:
    body = await parsing.body(request, AliasBody)
    command = CreateWorker(
        alias=body.alias, secret=auth.new_worker_secret(),
        default_alias=request.app[SETTINGS].workers.default_alias,
    )  # fmt: skip

    def reply(state: State, events: list) -> dict:
        worker = state.workers.get(events[0].worker_id)
        assert worker is not None  # it was just created
        return {"worker": worker_view(worker, with_secret=True)}

    return envelope.ok(await context.tracker(request).execute(command, reply))


@routes.post("/worker/update")
async def update(request: web.Request) -> web.Response:
    worker = context.worker(request)
    body = await parsing.body(request, AliasBody)
    await context.tracker(request).execute(UpdateWorker(worker_id=worker.id, alias=body.alias))
    return envelope.ok()


@routes.get("/worker/get/{id}")
async def get(request: web.Request) -> web.Response:
    try:
        worker_id = parsing.parse_int64(request.match_info["id"])
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None
    if worker_id <= 0:
        raise InvalidRequest("Invalid worker id")
    worker = context.tracker(request).state.workers.get(worker_id)
    if worker is None:
        raise NotFound("Worker not found")
    manager = context.manager(request)
    with_secret = manager is not None and manager.tracker_admin
    return envelope.ok({"worker": worker_view(worker, with_secret)})

"""``GET /healthz`` (the process is up) and ``GET /readyz`` (it serves the log's state).

Both are open, like ``GET /``: a load balancer or supervisor calls them without credentials,
so they say nothing secret (a phase and log positions) and cost a dictionary lookup. While
``tracker serve`` replays the log, a small app answers on the same socket: ``/healthz`` 200,
``/readyz`` 503, anything else 503 with a retry hint.
"""

from __future__ import annotations

from aiohttp import web

from tracker.http import envelope
from tracker.http.keys import READINESS, TRACKER
from tracker.ops.health import Readiness

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return envelope.ok({"up": True, "phase": request.app[READINESS].phase})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    readiness = request.app[READINESS]
    tracker = request.app.get(TRACKER)
    if tracker is None:
        body = readiness.report()
    else:
        body = readiness.report(tracker.state.position, tracker.committer.durable_position)
    if readiness.ready:
        return envelope.ok(body)
    return envelope.fail(503, f"Not ready: {readiness.message}", content=body)


async def _starting(request: web.Request) -> web.Response:
    response = envelope.fail(503, f"Starting: {request.app[READINESS].message}; retry shortly")
    response.headers["Retry-After"] = "1"
    return response


@web.middleware
async def _close_after(request: web.Request, handler) -> web.StreamResponse:  # type: ignore[no-untyped-def]
    """The starting app gives the socket up soon: no connection stays with it."""
    response: web.StreamResponse = await handler(request)
    response.force_close()
    return response


async def _not_ready_yet(request: web.Request) -> web.Response:
    body = {**request.app[READINESS].report(), "ready": False}  # the tracker's own site is next
    return envelope.fail(503, f"Not ready: {request.app[READINESS].message or 'starting'}",
                         content=body)  # fmt: skip


def starting_app(readiness: Readiness) -> web.Application:
    """What answers while the tracker opens its log and replays it."""
    app = web.Application(middlewares=[_close_after])
    app[READINESS] = readiness
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", _not_ready_yet)
    app.router.add_route("*", "/{anything:.*}", _starting)
    return app

"""``GET /healthz`` (the process is up) and ``GET /readyz`` (it serves the log's state).

Both are open, like ``GET /``: a load balancer or supervisor calls them without credentials,
so they say nothing secret (a phase and log positions) and cost a dictionary lookup (on a
shared PostgreSQL log, ``/readyz`` also folds up to the log's head, and a node that cannot
within ``CATCH_UP_BOUND`` seconds, cannot read the log, is settling a failed turn or restarting
one of its background tasks is not ready, and says which). While
``tracker serve`` replays the log, a small app answers on the same socket: ``/healthz`` 200,
``/readyz`` 503, anything else 503 with a retry hint.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from tracker.errors import StorageUnavailable
from tracker.http import envelope
from tracker.http.keys import READINESS, TRACKER
from tracker.ops.health import Readiness
from tracker.service import Tracker

routes = web.RouteTableDef()

#: How far behind a shared log (several nodes) a node may be and still be ready, in seconds.
CATCH_UP_BOUND = 2.0


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return envelope.ok({"up": True, "phase": request.app[READINESS].phase})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    readiness = request.app[READINESS]
    tracker = request.app.get(TRACKER)
    lag = ""
    if tracker is not None and readiness.ready:  # several nodes: reaching the log, and
        lag = tracker.writer.trouble() or await _caught_up(tracker)  # within CATCH_UP_BOUND
    if tracker is None:
        body = readiness.report()
    else:
        body = readiness.report(tracker.state.position, tracker.writer.durable_position)
    if readiness.ready and not lag:
        return envelope.ok(body)
    return envelope.fail(503, f"Not ready: {lag or readiness.message}", content=body)


async def _caught_up(tracker: Tracker) -> str:
    """'' once the node folded the shared log's head (as of now), else why not."""
    try:
        await asyncio.wait_for(tracker.caught_up(), CATCH_UP_BOUND)
    except TimeoutError:
        return f"more than {CATCH_UP_BOUND:g} s behind the log"
    except StorageUnavailable:
        return "the log cannot be read"
    return ""


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

"""The one way a request goes through its handler, whichever server framed it.

aiohttp's requests come through the ``handle`` middleware, the worker lane's
(``tracker.http.lane``) call ``answer`` directly: either way a refusal becomes its envelope,
anything unexpected an opaque 500 (logged with its traceback), and the request is counted and
timed by method, route and status. The caller is resolved here, once, before the handler runs
(``tracker.http.context``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tracker.errors import RateLimited, TrackerError
from tracker.http import envelope, statuses
from tracker.http.auth import CREDENTIALS, resolve
from tracker.http.context import CALLER
from tracker.http.keys import READINESS, TRACKER
from tracker.http.metrics import METHODS, METRICS, route_label
from tracker.queries.caller import Caller

log = logging.getLogger(__name__)

_HEALTH = ("/healthz", "/readyz")
#: A worker's task routes: every answer comes from a command decided in the writer's turn.
DECIDED_IN_THE_TURN = frozenset({
    "/task/submit", "/task/bulk_submit", "/task/get/{project}", "/task/bulk_get/{project}",
    "/task/release", "/task/bulk_release", "/task/touch",
})  # fmt: skip

Handler = Callable[[Any], Awaitable[web.StreamResponse]]

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, X-Worker-Id, X-Secret",
}


@web.middleware
async def handle(request: web.Request, handler: Handler) -> web.StreamResponse:
    return await answer(request, handler, request.method, route_label(request))


async def answer(request: Any, handler: Handler, method: str, route: str) -> web.StreamResponse:
    """``handler``'s answer to ``request`` (an aiohttp request or a lane one), counted and
    timed under ``method`` and ``route`` (the route's template, never the raw path)."""
    started = time.perf_counter()
    status = 500
    try:
        response = await _refusals_answered(request, handler, route)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = 499  # the client went away
        raise
    finally:
        method = method if method in METHODS else "other"
        request.app[METRICS].observe(method, route, status, time.perf_counter() - started)


async def _refusals_answered(request: Any, handler: Handler, route: str) -> web.StreamResponse:
    if request.method == "OPTIONS":
        return web.Response(status=200, headers=CORS_HEADERS)
    if request.method == "HEAD":
        # aiohttp would run GET handlers for HEAD, and some GETs change state (task/get,
        # manager/promote). The original answered 404 to HEAD; so do we.
        return envelope.fail(404, "Not found")
    if request.app[READINESS].phase == "failed" and request.path not in _HEALTH:
        return envelope.fail(503, "Storage unavailable")  # reads too: the state is ahead of the log
    try:
        request[CALLER] = await _caller(request, route)
        return await handler(request)
    except TrackerError as exc:
        return refusal(exc, route)
    except web.HTTPRequestEntityTooLarge:
        limit = request.client_max_size
        return envelope.fail(413, f"Request body too large: the limit is {limit} bytes")
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        return envelope.fail(404, "Not found")
    except web.HTTPException:
        raise
    except Exception:
        return internal_error(request.path)


async def _caller(request: Any, route: str) -> Caller:
    """Who is calling (``tracker.http.auth``), resolved once, against read models that hold
    what the log committed before this request: a client that switches nodes never reads
    older state than it wrote. A worker's task route skips that catch-up (on a shared log, a
    head query) unless the worker is unknown here yet: its answer is decided, and built, in
    the writer's turn, which folds every committed event first; and a worker, once created,
    keeps its secret for good, so read models that know it resolve it as the newest would."""
    tracker = request.app[TRACKER]
    credentials = request.app[CREDENTIALS]
    if route in DECIDED_IN_THE_TURN:
        caller = resolve(request.headers, request.cookies, tracker.state, credentials,
                         tracker.clock)  # fmt: skip
        if caller.worker is not None:
            return caller
    if request.path not in _HEALTH:
        await tracker.caught_up()
    return resolve(request.headers, request.cookies, tracker.state, credentials, tracker.clock)


def refusal(exc: TrackerError, route: str = "") -> web.Response:
    """The envelope for a refused request on ``route`` (with the delay when rate limited)."""
    status = statuses.status_of(exc, route)
    if isinstance(exc, RateLimited):
        return envelope.fail(status, exc.message, delay=exc.delay)
    response = envelope.fail(status, exc.message)
    if exc.retry_after:  # busy, or a log that cannot be reached now
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def internal_error(path: str) -> web.Response:
    """A bug: logged with its traceback (call it from ``except``), answered without one."""
    log.exception("unhandled error", extra={"action": "unhandled_error", "path": path})
    return envelope.fail(500, "Internal error")


async def server_header(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer names the server as the original did (envelopes already carry it)."""
    if "Server" not in response.headers:
        response.headers["Server"] = "task_tracker"

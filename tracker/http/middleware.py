"""One error middleware: domain errors become envelopes; nothing leaks as a bare 500."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from tracker.errors import RateLimited, TrackerError
from tracker.http import envelope
from tracker.http.keys import TRACKER

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, X-Worker-Id, X-Secret",
}


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method == "OPTIONS":
        return web.Response(status=200, headers=CORS_HEADERS)
    if request.method == "HEAD":
        # aiohttp would run GET handlers for HEAD, and some GETs change state (task/get,
        # manager/promote). The original answered 404 to HEAD; so do we.
        return envelope.fail(404, "Not found")
    try:
        return await handler(request)
    except TrackerError as exc:
        return refusal(exc)
    except web.HTTPRequestEntityTooLarge:
        limit = request.client_max_size
        return envelope.fail(413, f"Request body too large: the limit is {limit} bytes")
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        return envelope.fail(404, "Not found")
    except web.HTTPException:
        raise
    except Exception:
        return internal_error(request.path)


@web.middleware
async def caught_up(request: web.Request, handler: Handler) -> web.StreamResponse:
    """On a shared log: first fold what other nodes committed before this request arrived, so
    a client that switches nodes never reads older state than it wrote (inside ``errors``)."""
    await request.app[TRACKER].caught_up()
    return await handler(request)


def refusal(exc: TrackerError) -> web.Response:
    """The envelope for a refused request (with the delay when rate limited)."""
    if isinstance(exc, RateLimited):
        return envelope.fail(exc.status, exc.message, delay=exc.delay)
    return envelope.fail(exc.status, exc.message)


def internal_error(path: str) -> web.Response:
    """A bug: logged with its traceback (call it from ``except``), answered without one."""
    log.exception("unhandled error", extra={"action": "unhandled_error", "path": path})
    return envelope.fail(500, "Internal error")


async def server_header(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer names the server as the original did (envelopes already carry it)."""
    if "Server" not in response.headers:
        response.headers["Server"] = "task_tracker"

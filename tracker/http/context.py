"""Small helpers every handler uses to reach the tracker and to know its caller.

The caller is resolved once per request, by the middleware (``tracker.http.middleware``),
before the handler runs; these read it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from aiohttp import web

from tracker.commands.base import Command, ProjectNotFound
from tracker.commands.decide import decide
from tracker.errors import InvalidRequest, TrackerError, Unauthenticated, Unauthorized
from tracker.http import auth, parsing
from tracker.http.call import Call
from tracker.http.keys import TRACKER
from tracker.projections.managers import Manager
from tracker.projections.workers import Worker
from tracker.queries.caller import Caller
from tracker.service import Tracker

CALLER = web.RequestKey("caller", Caller)
B = TypeVar("B")


def tracker(request: Call) -> Tracker:
    return request.app[TRACKER]


def now(request: web.Request) -> float:
    return request.app[TRACKER].clock()


def caller(request: Call) -> Caller:
    return request[CALLER]


def worker(request: Call) -> Worker:
    """The calling worker (``WorkerAuthFailed`` otherwise; its status differs by route)."""
    found = request[CALLER]
    if found.worker is None:
        raise auth.WorkerAuthFailed(found.worker_refusal)
    return found.worker


def manager(request: Call) -> Manager | None:
    return request[CALLER].manager


def require_manager(request: Call) -> Manager:
    found = request[CALLER].manager
    if found is None:
        raise Unauthenticated()
    return found


def manager_id(request: Call) -> int:
    """The calling manager's id, 0 without a live session (commands then refuse with 403)."""
    return request[CALLER].manager_id


async def body_after_caller(request: web.Request, body_type: type[B],
                            command: Callable[[B], Command]) -> B:  # fmt: skip
    """The request's body, on the routes where the original checked the caller before the
    body: a body that does not parse is answered with the caller's refusal first, if there is
    one. The decider says so (no check is repeated here): it is asked about the command with
    an empty body, and a refusal of the caller (no session, a missing role or admin flag, the
    path's project unknown) is the answer. Pure: nothing is applied or appended."""
    try:
        return await parsing.body(request, body_type)
    except InvalidRequest as unparsed:
        tracker = request.app[TRACKER]
        try:
            decide(tracker.state, command(body_type()), tracker.clock())
        except (Unauthorized, ProjectNotFound):
            raise
        except TrackerError:
            pass  # a refusal of the (empty) body: the parse error says more
        raise unparsed from None

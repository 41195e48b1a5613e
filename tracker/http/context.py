"""Small helpers every handler uses to reach the tracker and to know its caller."""

from __future__ import annotations

from aiohttp import web

from tracker.errors import Unauthenticated
from tracker.http import auth
from tracker.http.call import Call
from tracker.http.keys import SETTINGS, TRACKER
from tracker.projections.managers import Manager
from tracker.projections.workers import Worker
from tracker.service import Tracker


def tracker(request: Call) -> Tracker:
    return request.app[TRACKER]


def now(request: web.Request) -> float:
    return request.app[TRACKER].clock()


def worker(request: Call) -> Worker:
    """The calling worker (``WorkerAuthFailed`` otherwise; its status differs by route)."""
    return auth.worker(request, request.app[TRACKER].state)


def manager(request: web.Request) -> Manager | None:
    app = request.app
    cookie = app[SETTINGS].session.cookie_name
    return auth.manager(request, app[TRACKER].state, cookie, app[TRACKER].clock())


def require_manager(request: web.Request) -> Manager:
    found = manager(request)
    if found is None:
        raise Unauthenticated()
    return found


def manager_id(request: web.Request) -> int:
    """The calling manager's id, 0 without a live session (commands then refuse with 403)."""
    found = manager(request)
    return found.id if found else 0

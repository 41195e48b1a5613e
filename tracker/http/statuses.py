"""Which HTTP status answers each refusal: the one table of it.

Domain errors (``tracker/errors.py`` and the rules' own subclasses) carry only their message;
this table gives each its status, looked up along the error's class hierarchy, so a new rule
answers like its kind unless it is listed. The original answered a few rules with a different
status on some routes (behavior.md 13.7 and 13.8: a worker's failed authentication is 401 on
submit but 403 on get and release; "not admin" is 401 on promote but 403 on demote, while no
session is 401 on both): those routes are listed in ``BY_ROUTE``, by route template.
"""

from __future__ import annotations

from tracker.commands.access import NoAccessRecord
from tracker.commands.admin import UnknownWorker
from tracker.commands.authz import NoSession
from tracker.commands.task_actions import MoreThanConfirmed, NothingToDo
from tracker.commands.tasks import NoTaskAvailable, NotAssigned
from tracker.errors import (
    Busy,
    Conflict,
    NotFound,
    RateLimited,
    StorageUnavailable,
    TrackerError,
    Unauthenticated,
    Unauthorized,
)
from tracker.http.auth import WorkerAuthFailed
from tracker.http.login import InvalidLogin
from tracker.http.parsing import BodyTooLarge

STATUS: dict[type[TrackerError], int] = {
    TrackerError: 400,
    NotFound: 404,
    UnknownWorker: 400,  # /worker/set_paused names an unknown worker: the original's 400
    Unauthenticated: 401,
    Unauthorized: 403,
    InvalidLogin: 403,
    BodyTooLarge: 413,
    Conflict: 409,
    NotAssigned: 409,  # a keep-alive of a task the worker no longer holds
    NothingToDo: 409,  # an action on tasks none of which is in the state it needs (any more)
    MoreThanConfirmed: 409,  # an action on a filter that now matches more than confirmed
    RateLimited: 429,
    StorageUnavailable: 503,
    Busy: 503,  # with Retry-After
    # refusals the original answered 200 with "ok": false
    NoTaskAvailable: 200,
    NoAccessRecord: 200,
}

BY_ROUTE: dict[tuple[str, type[TrackerError]], int] = {
    ("/task/get/{project}", WorkerAuthFailed): 403,
    ("/task/release", WorkerAuthFailed): 403,
    # the tracker's batch and keep-alive routes answer as the two they extend
    ("/task/bulk_get/{project}", WorkerAuthFailed): 403,
    ("/task/bulk_release", WorkerAuthFailed): 403,
    ("/task/touch", WorkerAuthFailed): 403,
    ("/manager/promote/{id}", Unauthorized): 401,
    ("/manager/demote/{id}", NoSession): 401,
}


def status_of(error: TrackerError, route: str = "") -> int:
    """The status that answers ``error`` on ``route`` (a route template)."""
    for kind in type(error).__mro__:
        status = BY_ROUTE.get((route, kind)) or STATUS.get(kind)
        if status is not None:
            return status
    return 400  # unreachable: TrackerError is in the table

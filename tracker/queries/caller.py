"""``Caller``: who sent a request, as far as its credentials prove it.

A request may carry a manager's session cookie, a worker's id and secret, and a bearer token
(the audit or the metrics token), in any combination; each is checked once, when the request
arrives (``tracker.http.auth.resolve``), and the result is this record. Which of them a route
honours, and in which order, is the route's rule (the queries in this package): ``Caller``
only says what was proven. Nobody is ``Caller()``.
"""

from __future__ import annotations

import enum

import msgspec

from tracker.projections.managers import Manager
from tracker.projections.workers import Worker


class Token(enum.Enum):
    """What the request's ``Authorization: Bearer`` header says about one configured token."""

    UNSET = "unset"  # the tracker has no such token: the header, if any, is not looked at
    ABSENT = "absent"  # the token is set and the request sent no Authorization header
    MATCHED = "matched"  # the request's bearer token is this one
    WRONG = "wrong"  # the token is set and the request's Authorization header is not it


NO_WORKER = "worker id not specified"


class Caller(msgspec.Struct, frozen=True, gc=False):
    """The proven credentials of one request.

    ``manager``: the manager a live session cookie names (its admin flag and roles are read
    from the read models, so a promotion counts at once). ``worker``: the worker the
    ``X-Worker-Id`` and ``X-Secret`` headers name, if the secret matches; otherwise
    ``worker_refusal`` says why not, in the original's words (routes that need a worker answer
    it with their own status). ``audit`` and ``metrics``: the two bearer tokens.

    A msgspec Struct rather than a dataclass: one is made for every request, the worker
    lane's included, and this costs a tenth as much to build.
    """

    manager: Manager | None = None
    worker: Worker | None = None
    worker_refusal: str = NO_WORKER
    audit: Token = Token.UNSET
    metrics: Token = Token.UNSET

    @property
    def manager_id(self) -> int:
        """The manager's id, 0 without a live session (commands then refuse)."""
        return self.manager.id if self.manager is not None else 0

    @property
    def tracker_admin(self) -> bool:
        return self.manager is not None and self.manager.tracker_admin


NOBODY = Caller()

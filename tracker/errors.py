"""Domain errors. One root, one subclass per rule; the HTTP layer maps them to answers.

Each error carries the message the original server sent for the same rule, so the wire stays
compatible while the code names what went wrong. Which HTTP status answers it is the HTTP
layer's business: one table, ``tracker/http/statuses.py``.
"""

from __future__ import annotations


class TrackerError(Exception):
    """Something the caller asked for was refused."""

    message: str = "Bad request"
    retry_after: int = 0  # seconds a client should wait before trying again (0: no hint)

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)


class InvalidRequest(TrackerError):
    """Could not parse request"""

    message = "Could not parse request"


class NotFound(TrackerError):
    message = "Not found"


class Unauthenticated(TrackerError):
    """No credentials, or credentials that name nobody (no session, a wrong token)."""

    message = "Unauthorized"


class Unauthorized(TrackerError):
    """The caller is known, and not allowed to do this."""

    message = "Unauthorized"


class RateLimited(TrackerError):
    """Too many requests: the project's token bucket is empty."""

    message = "Too many requests"

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay


class Conflict(TrackerError):
    """The log moved on since the state this decision was made against."""

    message = "Conflicting append, try again"


class Busy(TrackerError):
    """Too much heavy work at once: try again after ``retry_after`` seconds."""

    message = "Busy, try again shortly"

    def __init__(self, message: str | None = None, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StorageUnavailable(TrackerError):
    """The log cannot be written or read now: a node that cannot reach a shared log (or is
    settling a failed turn) refuses what needs it until it can; a log that failed for good
    stops the tracker."""

    message = "Storage unavailable"
    retry_after = 1

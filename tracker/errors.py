"""Domain errors. One root, one subclass per rule; the HTTP layer maps them to answers.

Each error carries the HTTP status and the message the original server sent for the same
rule, so the wire stays compatible while the code names what went wrong.
"""

from __future__ import annotations


class TrackerError(Exception):
    """Something the caller asked for was refused."""

    status: int = 400
    message: str = "Bad request"

    def __init__(self, message: str | None = None, *, status: int | None = None) -> None:
        if message is not None:
            self.message = message
        if status is not None:
            self.status = status
        super().__init__(self.message)


class InvalidRequest(TrackerError):
    """Could not parse request"""

    message = "Could not parse request"


class NotFound(TrackerError):
    status = 404
    message = "Not found"


class Unauthorized(TrackerError):
    status = 403
    message = "Unauthorized"


class RateLimited(TrackerError):
    """Too many requests: the project's token bucket is empty."""

    status = 429
    message = "Too many requests"

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay


class Conflict(TrackerError):
    """The log moved on since the state this decision was made against."""

    status = 409
    message = "Conflicting append, try again"


class StorageUnavailable(TrackerError):
    """The log could not be written; the tracker refuses work until restarted."""

    status = 503
    message = "Storage unavailable"

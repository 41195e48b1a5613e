"""One exception hierarchy for everything the client raises.

``ClientError`` is the root. ``ServerError`` and its subclasses carry what the server said: the
HTTP ``status``, its ``message`` and the envelope's ``content``. The class is chosen from the
status and, where the original's status depends on the route (worker authentication answers 400,
401 or 403), from the message, so ``except WorkerAuthFailed`` works on every route.
"""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    """Something went wrong talking to a tracker."""


class UsageError(ClientError):
    """The call cannot be made as asked (e.g. a worker route without a worker identity)."""


class TransportError(ClientError):
    """No answer from the server (after the retries the call allows)."""


class ConnectFailed(TransportError):
    """Could not connect: the request was not sent, so nothing happened on the server."""


class ConnectionLost(TransportError):
    """The request may have been sent but no answer came: its outcome is unknown."""


class ProtocolError(ClientError):
    """The answer is not the tracker's JSON envelope (a proxy's error page, a truncated body)."""


class ServerError(ClientError):
    """The server refused the call; ``status``, ``message`` and ``content`` are its answer."""

    def __init__(self, status: int, message: str, content: Any = None) -> None:
        super().__init__(f"{status}: {message}" if message else str(status))
        self.status = status
        self.message = message
        self.content = content


class Refused(ServerError):
    """``ok: false`` with status 200, e.g. ``Could not update worker``."""


class NoTaskAvailable(Refused):
    """``GET /task/get`` found nothing to assign (the queue is empty, paused or not for you)."""


class BadRequest(ServerError):
    """400: the request is invalid; the message says why."""


class WorkerPaused(BadRequest):
    """400 ``A manager has paused you``: this worker gets no tasks until it is unpaused."""


class WorkerAuthFailed(ServerError):
    """The worker id or secret was refused (400, 401 or 403 depending on the route)."""


class Unauthorized(ServerError):
    """401: not logged in (or not allowed, on the routes where the original says 401)."""


class Forbidden(ServerError):
    """403: logged in but not allowed (a missing role, not a tracker admin)."""


class NotFound(ServerError):
    """404: no such project, worker, manager or route."""


class Conflict(ServerError):
    """409: the task is not in the state the call needs (a keep-alive of a task this worker
    no longer holds)."""


class RequestTooLarge(ServerError):
    """413: the body is over the server's limit."""


class RateLimited(ServerError):
    """429: over the project's rate; retry after ``delay`` seconds."""

    def __init__(self, status: int, message: str, content: Any = None, delay: float = 0.0):
        super().__init__(status, message, content)
        self.delay = delay


class InternalServerError(ServerError):
    """5xx: a server bug or outage."""


_BY_STATUS: dict[int, type[ServerError]] = {
    200: Refused,
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: RequestTooLarge,
    429: RateLimited,
}

#: Worker-authentication messages of the original (3.1), also inside ours
#: (``Could not parse request: invalid secret`` on the log routes).
_WORKER_AUTH = (
    "worker id not specified",
    "secret is not specified",
    "worker id does not match any valid worker",
    "invalid secret",
    "strconv.parseint",
)


def from_answer(status: int, message: str, content: Any = None, delay: float = 0.0) -> ServerError:
    """The exception for an ``ok: false`` answer (or an error status)."""
    lowered = message.lower()
    if status == 429:
        return RateLimited(status, message, content, delay)
    if any(text in lowered for text in _WORKER_AUTH):
        return WorkerAuthFailed(status, message, content)
    if status == 400 and "paused you" in lowered:
        return WorkerPaused(status, message, content)
    if status == 200 and message == "No task available":
        return NoTaskAvailable(status, message, content)
    kind = _BY_STATUS.get(status, InternalServerError if status >= 500 else ServerError)
    return kind(status, message, content)

"""Who is calling: workers by id and secret headers, managers by session cookie, integrations
by bearer token. ``resolve`` checks every credential a request carries, once, when it arrives
(``tracker.http.middleware.answer``); handlers and views read the result,
``tracker.queries.caller.Caller``, through ``tracker.http.context``.

Secrets and tokens are compared in constant time. The original's failure messages are kept,
and so is its per-route status for a failed worker check (401, 403 or 400; see
``WorkerAuthFailed`` in ``tracker.http.statuses``).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping

from aiohttp import web

from tracker.config import Settings
from tracker.errors import Unauthenticated
from tracker.http.call import Headers
from tracker.http.parsing import parse_int64
from tracker.projections.managers import Manager
from tracker.projections.state import State
from tracker.projections.workers import Worker
from tracker.queries.caller import NO_WORKER, Caller, Token

SECRET_BYTES = 32
SESSION_ID_BYTES = 32
_MAX_SECRET_HEADER = 256


class WorkerAuthFailed(Unauthenticated):
    """The worker headers are missing or name no worker with that secret."""


def new_worker_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def new_session_id() -> str:
    return secrets.token_urlsafe(SESSION_ID_BYTES)


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class Credentials:
    """What ``resolve`` compares a request's credentials with, taken from the settings once."""

    __slots__ = ("cookie_name", "audit", "metrics")

    def __init__(self, settings: Settings) -> None:
        self.cookie_name = settings.session.cookie_name
        self.audit = _bearer(settings.audit.token)
        self.metrics = _bearer(settings.metrics.token)


CREDENTIALS = web.AppKey("credentials", Credentials)


def _bearer(token: str) -> bytes:
    return f"Bearer {token}".encode() if token else b""


def resolve(headers: Headers, cookies: Mapping[str, str], state: State,
            credentials: Credentials, clock: Callable[[], float]) -> Caller:  # fmt: skip
    """Everything the request's credentials prove (never raises: a route that needs one of
    them refuses when it asks). Runs for every request, the worker lane's included, so what a
    request does not carry costs next to nothing: workers send no cookie and no token."""
    worker, refusal = _worker(headers, state)
    manager = None
    if cookies:
        session_id = session_id_in(cookies, credentials.cookie_name)
        if session_id is not None:
            manager = _manager(session_id, state, clock())
    if not (credentials.audit or credentials.metrics):
        return Caller(manager, worker, refusal)
    given = headers.get("Authorization", "")
    return Caller(manager, worker, refusal, _token(credentials.audit, given),
                  _token(credentials.metrics, given))  # fmt: skip


def _token(expected: bytes, given: str) -> Token:
    if not expected:
        return Token.UNSET
    if not given:
        return Token.ABSENT
    # Header text may hold surrogate escapes (bytes that are not UTF-8): compare the bytes.
    matched = hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected)
    return Token.MATCHED if matched else Token.WRONG


def _worker(headers: Headers, state: State) -> tuple[Worker | None, str]:
    """The worker the headers name with its secret, or None and the original's message."""
    worker_id_text = headers.get("X-Worker-Id", "")
    if not worker_id_text:
        return None, NO_WORKER
    secret_text = headers.get("X-Secret", "")
    if not secret_text:
        return None, "secret is not specified"
    try:
        worker_id = parse_int64(worker_id_text)
    except ValueError as exc:
        return None, str(exc)
    found = state.workers.by_id.get(worker_id)
    if found is None:
        return None, "worker id does not match any valid worker"
    if len(secret_text) > _MAX_SECRET_HEADER:
        return None, "invalid secret"
    try:
        given = binascii.a2b_base64(secret_text, strict_mode=True)
    except (binascii.Error, ValueError):
        given = b""
    if not hmac.compare_digest(given, found.secret):
        return None, "invalid secret"
    return found, ""


def session_id_in(cookies: Mapping[str, str], cookie_name: str) -> str | None:
    """The session id the cookie carries, or None if it cannot be one of ours (ids are short
    ASCII; a cookie with bytes that are not UTF-8 arrives with surrogate escapes)."""
    session_id = cookies.get(cookie_name)
    if not session_id or len(session_id) > 128 or not session_id.isascii():
        return None
    return session_id


def _manager(session_id: str, state: State, now: float) -> Manager | None:
    """The manager whose live session the cookie names, or None."""
    session = state.managers.sessions.get(session_hash(session_id))
    if session is None or session.expires <= now:
        return None
    return state.managers.by_id.get(session.manager_id)

"""Who is calling: workers by id and secret headers, managers by session cookie.

Secrets are compared in constant time. The original's failure messages are kept, and so is
its per-route status for a failed worker check (401, 403 or 400; see ``WorkerAuth``).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import secrets

from aiohttp import web

from tracker.errors import TrackerError, Unauthenticated
from tracker.http.call import Call
from tracker.http.parsing import parse_int64
from tracker.projections.managers import Manager
from tracker.projections.state import State
from tracker.projections.workers import Worker

SECRET_BYTES = 32
SESSION_ID_BYTES = 32
_MAX_SECRET_HEADER = 256


class WorkerAuthFailed(Unauthenticated):
    """The worker headers are missing or name no worker with that secret."""


class InvalidLogin(TrackerError):
    """A login names no manager, or the password is wrong (one answer for both)."""

    message = "Invalid username/password"


def new_worker_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def new_session_id() -> str:
    return secrets.token_urlsafe(SESSION_ID_BYTES)


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def worker(request: Call, state: State) -> Worker:
    """The authenticated worker, or ``WorkerAuthFailed`` with the original's message."""
    headers = request.headers
    worker_id_text = headers.get("X-Worker-Id", "")
    if not worker_id_text:
        raise WorkerAuthFailed("worker id not specified")
    secret_text = headers.get("X-Secret", "")
    if not secret_text:
        raise WorkerAuthFailed("secret is not specified")
    try:
        worker_id = parse_int64(worker_id_text)
    except ValueError as exc:
        raise WorkerAuthFailed(str(exc)) from None
    found = state.workers.by_id.get(worker_id)
    if found is None:
        raise WorkerAuthFailed("worker id does not match any valid worker")
    if len(secret_text) > _MAX_SECRET_HEADER:
        raise WorkerAuthFailed("invalid secret")
    try:
        given = binascii.a2b_base64(secret_text, strict_mode=True)
    except (binascii.Error, ValueError):
        given = b""
    if not hmac.compare_digest(given, found.secret):
        raise WorkerAuthFailed("invalid secret")
    return found


def optional_worker(request: web.Request, state: State) -> Worker | None:
    """The worker if valid worker headers were sent, else None (never raises)."""
    if "X-Worker-Id" not in request.headers:
        return None
    try:
        return worker(request, state)
    except WorkerAuthFailed:
        return None


def session_id_of(request: web.Request, cookie_name: str) -> str | None:
    """The session id the cookie carries, or None if it cannot be one of ours (ids are short
    ASCII; a cookie with bytes that are not UTF-8 arrives with surrogate escapes)."""
    session_id = request.cookies.get(cookie_name)
    if not session_id or len(session_id) > 128 or not session_id.isascii():
        return None
    return session_id


def manager(request: web.Request, state: State, cookie_name: str, now: float) -> Manager | None:
    """The manager whose live session the cookie names, or None."""
    session_id = session_id_of(request, cookie_name)
    if session_id is None:
        return None
    session = state.managers.sessions.get(session_hash(session_id))
    if session is None or session.expires <= now:
        return None
    return state.managers.by_id.get(session.manager_id)

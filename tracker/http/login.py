"""Logging managers in and out, the steps the API's account routes and the UI's login page
share: argon2id password hashes (checked off the event loop by the callers), and the session
cookie. Each login draws a new session id from a cryptographic source (no fixation); the log
and the read model keep only its SHA-256, and the session expires on the server after
``session.expiration``."""

from __future__ import annotations

import functools

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tracker.commands.managers import EndSession
from tracker.config import Passwords
from tracker.errors import TrackerError
from tracker.http import auth, context
from tracker.http.keys import SETTINGS

PASSWORD_BYTES = (8, 1024)


class InvalidRegistration(TrackerError):
    message = "Invalid register request"


class InvalidLogin(TrackerError):
    """A login names no manager, or the password is wrong (one answer for both)."""

    message = "Invalid username/password"


@functools.cache
def password_hasher(cost: Passwords) -> PasswordHasher:
    return PasswordHasher(
        time_cost=cost.argon2_time_cost, memory_cost=cost.argon2_memory_cost,
        parallelism=cost.argon2_parallelism,
    )  # fmt: skip


@functools.cache
def _nobody(cost: Passwords) -> str:
    """A hash of nobody's password: unknown usernames cost as much work as known ones."""
    return password_hasher(cost).hash("not a password of anyone")


def verify_password(cost: Passwords, password_hash: str | None, password: str) -> bool:
    """Check ``password`` (against nobody's hash when the username is unknown). Blocking."""
    try:
        return password_hasher(cost).verify(password_hash or _nobody(cost), password)
    except (VerificationError, InvalidHashError):
        return False


def start_session(request: web.Request, response: web.StreamResponse) -> tuple[str, float]:
    """A new session id in a cookie on ``response``; its hash and expiry, for the command."""
    settings = request.app[SETTINGS].session
    session_id = auth.new_session_id()
    expires = context.now(request) + settings.expiration
    response.set_cookie(
        settings.cookie_name, session_id, path="/", httponly=True, samesite="Lax",
        max_age=int(settings.expiration),
    )  # fmt: skip
    return auth.session_hash(session_id), expires


async def end_session(request: web.Request, response: web.StreamResponse) -> None:
    """End the caller's session, if any, and clear its cookie on ``response``."""
    settings = request.app[SETTINGS].session
    session_id = auth.session_id_in(request.cookies, settings.cookie_name)
    if session_id is not None:
        await context.tracker(request).execute(
            EndSession(session_hash=auth.session_hash(session_id))
        )
    response.del_cookie(settings.cookie_name, path="/")

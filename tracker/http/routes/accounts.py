"""Manager account routes: register, login, logout, account.

Passwords are hashed with argon2id (random salt, memory-hard) off the event loop. Each login
draws a new session id from a cryptographic source (no fixation); the log and the read model
keep only its SHA-256, and the session expires on the server after ``session.expiration``.
"""

from __future__ import annotations

import asyncio
import functools

import msgspec
from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tracker.commands.managers import USERNAME_BYTES, EndSession, RegisterManager, StartSession
from tracker.config import Passwords
from tracker.errors import TrackerError
from tracker.http import auth, context, envelope, parsing
from tracker.http.keys import SETTINGS
from tracker.http.views import manager_view

routes = web.RouteTableDef()

PASSWORD_BYTES = (8, 1024)


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


class Credentials(msgspec.Struct):
    username: str = ""
    password: str = ""


class InvalidRegistration(TrackerError):
    message = "Invalid register request"


def verify_password(cost: Passwords, password_hash: str | None, password: str) -> bool:
    """Check ``password`` (against nobody's hash when the username is unknown). Blocking."""
    try:
        return password_hasher(cost).verify(password_hash or _nobody(cost), password)
    except (VerificationError, InvalidHashError):
        return False


def start_session(request: web.Request, response: web.StreamResponse) -> tuple[str, float]:
    settings = request.app[SETTINGS].session
    session_id = auth.new_session_id()
    expires = context.now(request) + settings.expiration
    response.set_cookie(
        settings.cookie_name, session_id, path="/", httponly=True, samesite="Lax",
        max_age=int(settings.expiration),
    )  # fmt: skip
    return auth.session_hash(session_id), expires


@routes.post("/register")
async def register(request: web.Request) -> web.Response:
    body = await parsing.body(request, Credentials)
    low, high = USERNAME_BYTES
    if not low <= len(body.username.encode()) <= high or not (
        PASSWORD_BYTES[0] <= len(body.password.encode()) <= PASSWORD_BYTES[1]
    ):
        raise InvalidRegistration()
    hasher = password_hasher(request.app[SETTINGS].passwords)
    password_hash = await asyncio.to_thread(hasher.hash, body.password)
    response = envelope.ok()
    session, expires = start_session(request, response)
    command = RegisterManager(
        username=body.username, password_hash=password_hash, session_hash=session, expires=expires
    )
    await context.tracker(request).execute(command)
    return response


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    body = await parsing.body(request, Credentials)
    tracker = context.tracker(request)
    manager = tracker.state.managers.by_name(body.username)
    if len(body.password.encode()) > PASSWORD_BYTES[1]:
        raise auth.InvalidLogin()
    cost, stored = request.app[SETTINGS].passwords, manager.password_hash if manager else None
    if not await asyncio.to_thread(verify_password, cost, stored, body.password) or manager is None:
        raise auth.InvalidLogin()
    response = envelope.ok({"manager": manager_view(manager)})
    session, expires = start_session(request, response)
    await tracker.execute(
        StartSession(manager_id=manager.id, session_hash=session, expires=expires)
    )
    return response


async def end_session(request: web.Request, response: web.StreamResponse) -> None:
    """End the caller's session, if any, and clear its cookie on ``response``."""
    settings = request.app[SETTINGS].session
    session_id = auth.session_id_of(request, settings.cookie_name)
    if session_id is not None:
        await context.tracker(request).execute(
            EndSession(session_hash=auth.session_hash(session_id))
        )
    response.del_cookie(settings.cookie_name, path="/")


@routes.get("/logout")
async def logout(request: web.Request) -> web.Response:
    response = envelope.no_content()
    await end_session(request, response)
    return response


@routes.get("/account")
async def account(request: web.Request) -> web.Response:
    manager = context.manager(request)
    if manager is None:
        return envelope.fail(200, "", content={"logged_in": False})
    return envelope.ok({"logged_in": True, "manager": manager_view(manager)})

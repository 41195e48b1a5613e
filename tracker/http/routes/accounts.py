"""Manager account routes: register, login, logout, account.

Passwords are hashed with argon2id (random salt, memory-hard) off the event loop; sessions are
drawn and ended as ``tracker.http.login`` says.
"""

from __future__ import annotations

import asyncio

import msgspec
from aiohttp import web

from tracker.commands.managers import USERNAME_BYTES, RegisterManager, StartSession
from tracker.http import context, envelope, parsing
from tracker.http.keys import SETTINGS
from tracker.http.login import (
    PASSWORD_BYTES,
    InvalidLogin,
    InvalidRegistration,
    end_session,
    password_hasher,
    start_session,
    verify_password,
)
from tracker.queries.views import manager_view

routes = web.RouteTableDef()


class Credentials(msgspec.Struct):
    username: str = ""
    password: str = ""


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
        raise InvalidLogin()
    cost, stored = request.app[SETTINGS].passwords, manager.password_hash if manager else None
    if not await asyncio.to_thread(verify_password, cost, stored, body.password) or manager is None:
        raise InvalidLogin()
    response = envelope.ok({"manager": manager_view(manager)})
    session, expires = start_session(request, response)
    await tracker.execute(
        StartSession(manager_id=manager.id, session_hash=session, expires=expires)
    )
    return response


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

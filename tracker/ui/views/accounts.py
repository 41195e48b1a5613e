"""Index, login and register, account, logout, and the language switch.

Login and register run the API's own steps (``tracker.http.login``): the same argon2 hashing,
the same session cookie (HttpOnly, SameSite=Lax), the same commands."""

from __future__ import annotations

import asyncio

from aiohttp import web

from tracker.commands.managers import USERNAME_BYTES, RegisterManager, StartSession
from tracker.errors import InvalidRequest
from tracker.http import context
from tracker.http import login as sessions
from tracker.http.keys import SETTINGS
from tracker.ui import i18n, render
from tracker.ui.guard import safe_back

routes = web.RouteTableDef()


@routes.get("/ui")
async def bare(request: web.Request) -> web.Response:
    raise web.HTTPMovedPermanently("/ui/")


@routes.get("/ui/")
async def index(request: web.Request) -> web.Response:
    origin = f"{request.scheme}://{request.host}"
    return render.page(request, "index.html", {"origin": origin})


@routes.get("/ui/login")
async def login_page(request: web.Request) -> web.Response:
    return render.page(request, "login.html", {"username_max": USERNAME_BYTES[1]})


@routes.post("/ui/login")
async def login(request: web.Request) -> web.Response:
    form = await request.post()
    username, password = render.form_text(form, "username"), render.form_text(form, "password")
    tracker = context.tracker(request)
    manager = tracker.state.managers.by_name(username)
    cost = request.app[SETTINGS].passwords
    stored = manager.password_hash if manager else None
    too_long = len(password.encode()) > sessions.PASSWORD_BYTES[1]
    if (
        too_long
        or not await asyncio.to_thread(sessions.verify_password, cost, stored, password)
        or not manager
    ):
        raise sessions.InvalidLogin()  # back to the form, the username kept in it
    response = render.redirect("/ui/account", "Logged in")
    session, expires = sessions.start_session(request, response)
    await tracker.execute(
        StartSession(manager_id=manager.id, session_hash=session, expires=expires)
    )
    raise response


@routes.post("/ui/register")
async def register(request: web.Request) -> web.Response:
    form = await request.post()
    username, password = render.form_text(form, "username"), render.form_text(form, "password")
    if password != render.form_text(form, "repeat"):
        raise InvalidRequest("The passwords differ")
    low, high = USERNAME_BYTES
    plow, phigh = sessions.PASSWORD_BYTES
    if not low <= len(username.encode()) <= high or not plow <= len(password.encode()) <= phigh:
        message = (
            f"Invalid register request: a username of {low} to {high} bytes and a "
            f"password of {plow} to {phigh} bytes"
        )
        raise InvalidRequest(message)
    hasher = sessions.password_hasher(request.app[SETTINGS].passwords)
    password_hash = await asyncio.to_thread(hasher.hash, password)
    response = render.redirect("/ui/account", "Account created")
    session, expires = sessions.start_session(request, response)
    command = RegisterManager(
        username=username, password_hash=password_hash, session_hash=session, expires=expires
    )
    await context.tracker(request).execute(command)
    raise response


@routes.post("/ui/logout")
async def logout(request: web.Request) -> web.Response:
    response = render.redirect("/ui/login", "Logged out")
    await sessions.end_session(request, response)
    raise response


@routes.get("/ui/account")
async def account(request: web.Request) -> web.Response:
    manager = render.require_login(request)
    return render.page(request, "account.html", {"manager": manager})


@routes.get("/ui/lang/{code}")
async def switch_language(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    back = safe_back(request.query.get("back", ""), "/ui/")
    response = web.HTTPSeeOther(back)
    if code in i18n.LANGUAGES:
        response.set_cookie(
            i18n.LANG_COOKIE, code, path="/ui/", max_age=365 * 86400, samesite="Lax"
        )
    raise response

"""What keeps the web UI's pages and forms safe: security headers on every page, a CSRF
token bound to the browser's session, and an Origin check on every form post.

The token is an HMAC of the session id (or, before login, of a random per-browser cookie)
under a key drawn when the app starts, compared in constant time. A restart draws a new key,
so a form opened before it is refused once ("the form expired") and works when reloaded.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from aiohttp import web

from tracker.errors import Unauthorized
from tracker.http.keys import SETTINGS

CSRF_KEY = web.AppKey("ui_csrf_key", bytes)
BROWSER_COOKIE = "tt_ui"  # binds the token before login; random, HttpOnly, SameSite=Strict
CSRF_FIELD = "csrf"
BROWSER = web.RequestKey("ui_browser", str)  # the binding drawn for this response

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class CsrfRefused(Unauthorized):
    message = "This form has expired or did not come from this site: reload the page and try again"


def new_key() -> bytes:
    return secrets.token_bytes(32)


def binding(request: web.Request) -> str:
    """What the token is bound to: the session cookie if any, else the browser cookie."""
    session = request.cookies.get(request.app[SETTINGS].session.cookie_name, "")
    if session:
        return "s:" + session
    browser = request.get(BROWSER) or request.cookies.get(BROWSER_COOKIE, "")
    return "b:" + browser


def csrf_token(request: web.Request) -> str:
    data = binding(request).encode("utf-8", "surrogateescape")
    return hmac.new(request.app[CSRF_KEY], b"csrf:" + data, hashlib.sha256).hexdigest()


def ensure_browser_cookie(request: web.Request, response: web.StreamResponse) -> None:
    """Give a browser without a session its random binding cookie (first page it opens)."""
    if request.cookies.get(BROWSER_COOKIE) or BROWSER not in request:
        return
    response.set_cookie(
        BROWSER_COOKIE, request[BROWSER], path="/ui/", httponly=True, samesite="Strict"
    )


def prepare_binding(request: web.Request) -> None:
    if not request.cookies.get(BROWSER_COOKIE):
        request[BROWSER] = secrets.token_urlsafe(24)


def same_origin(request: web.Request) -> bool:
    """A form post must come from a page of this site (Origin, else Sec-Fetch-Site)."""
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin != "null" and urlsplit(origin).netloc == request.host
    return request.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none")


def check_post(request: web.Request, form_token: str) -> None:
    if not same_origin(request):
        raise CsrfRefused("Refused: the form was not sent from this site")
    if not hmac.compare_digest(form_token.encode(), csrf_token(request).encode()):
        raise CsrfRefused()

"""The UI's middleware: every ``/ui/`` answer gets the security headers; every form post is
checked (Origin, CSRF token) before its view runs; a refusal becomes a page (or, after a form,
a snackbar message on the page the form came from), never an API envelope or a traceback."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from tracker.errors import TrackerError
from tracker.http.statuses import status_of
from tracker.ui import render, security

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STATIC_CACHE = "public, max-age=604800"


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/ui/") and request.path != "/ui":
        return await handler(request)
    security.prepare_binding(request)
    try:
        response = await _guarded(request, handler)
    except web.HTTPException as exc:
        _headers(request, exc)
        raise
    _headers(request, response)
    return response


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    back, form = "/ui/", None
    try:
        if request.method == "POST":
            form = await request.post()
            back = safe_back(str(form.get("back", "")), request.path)
            security.check_post(request, str(form.get(security.CSRF_FIELD, "")))
        return await handler(request)
    except web.HTTPException as exc:
        if isinstance(exc, web.HTTPNotFound | web.HTTPMethodNotAllowed):
            return render.page(request, "error.html", {"message": "Not found"}, status=404)
        if isinstance(exc, web.HTTPRequestEntityTooLarge):
            return render.page(
                request, "error.html", {"message": "The form is too large"}, status=413
            )
        raise
    except TrackerError as exc:
        if form is not None and not isinstance(exc, security.CsrfRefused):
            raise render.refused(back, exc.message, request.path, form) from None
        return render.page(request, "error.html", {"message": exc.message}, status=status_of(exc))
    except Exception:
        log.exception(
            "unhandled error in the UI", extra={"action": "ui_error", "path": request.path}
        )
        return render.page(
            request, "error.html", {"message": "Something went wrong; it was logged"}, status=500
        )


def safe_back(text: str, default: str) -> str:
    """Where to go after a form: a page of the UI, never another site."""
    if text.startswith("/ui/") and not text.startswith("//") and "\\" not in text:
        return text
    return default if default.startswith("/ui/") else "/ui/"


def _headers(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith("/ui/static/"):
        response.headers["Cache-Control"] = STATIC_CACHE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return
    response.headers.update(security.HEADERS)


def utc(value: float | int | None) -> str:
    """A Unix time as ``YYYY-MM-DD HH:MM:SS UTC`` (empty for none)."""
    if not value:
        return ""
    moment = datetime.datetime.fromtimestamp(float(value), datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")

"""Rendering pages: the context every template gets, flash messages (the snackbar), redirects
after a form, and reading form fields with clear refusals."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from tracker.commands.base import UNLIMITED
from tracker.errors import InvalidRequest
from tracker.http import context
from tracker.projections.managers import Manager
from tracker.queries import roles
from tracker.ui import i18n, security

FLASH_COOKIE = "tt_flash"
REFILL_COOKIE = "tt_refill"  # a refused form's values, for its page to show again (ui.js)
REFILL_MAX = 3000  # bytes of form values kept (a cookie holds about 4 KiB)
_NEVER_KEPT = ("csrf", "back", "password", "repeat", "secret")  # names holding these


def page(
    request: web.Request, template: str, values: dict[str, Any], status: int = 200
) -> web.Response:
    """Render ``template`` with the common context (caller, language, token, flash)."""
    lang = i18n.language(request)
    manager = context.manager(request)
    flash = _read_flash(request)
    refill = request.cookies.get(REFILL_COOKIE, "")
    common = {
        "may": _allowed(request),
        "me": manager,
        "lang": lang,
        "languages": i18n.LANGUAGES,
        "_": i18n.translator(lang),
        "csrf": security.csrf_token(request),
        "flash": flash,
        "path": request.path_qs,
        "refill": _decoded(refill),
    }
    response = aiohttp_jinja2.render_template(
        template, request, {**common, **values}, status=status
    )
    if flash is not None:
        response.del_cookie(FLASH_COOKIE, path="/ui/")
    if refill:
        response.del_cookie(REFILL_COOKIE, path="/ui/")
    security.ensure_browser_cookie(request, response)
    return response


def fragment(request: web.Request, template: str, values: dict[str, Any]) -> web.Response:
    """A piece of a page for a live update (no layout, no flash)."""
    lang = i18n.language(request)
    common = {
        "may": _allowed(request),
        "me": context.manager(request),
        "lang": lang,
        "_": i18n.translator(lang),
        "csrf": security.csrf_token(request),
    }
    return aiohttp_jinja2.render_template(template, request, {**common, **values})


def _allowed(request: web.Request) -> Callable[[int], roles.Allowed]:
    """``may(project_id)`` in templates: what the caller may do on that project."""
    state, caller = context.tracker(request).state, context.caller(request)
    return lambda project_id: roles.allowed(state, caller, project_id)


def redirect(location: str, message: str = "", kind: str = "ok") -> web.HTTPSeeOther:
    """A 303 to ``location`` carrying the snackbar message for the next page."""
    response = web.HTTPSeeOther(location)
    if message:
        _note(response, FLASH_COOKIE, {"kind": kind, "text": message[:500]})
    return response


def refused(location: str, message: str, action: str,
            form: Mapping[str, Any]) -> web.HTTPSeeOther:  # fmt: skip
    """A refused form: back to ``location`` with the refusal, and the values typed into the
    form that posts to ``action`` (never passwords, secrets or the CSRF token), which the
    page puts back into that form."""
    response = redirect(location, message, "error")
    fields: dict[str, list[str]] = {}
    for name, value in form.items():
        if isinstance(value, str) and not any(word in name for word in _NEVER_KEPT):
            fields.setdefault(name, []).append(value)
    data = {"action": action, "fields": fields}
    if len(json.dumps(data)) <= REFILL_MAX:  # else the page shows the refusal only
        _note(response, REFILL_COOKIE, data)
    return response


def _note(response: web.StreamResponse, cookie: str, data: dict[str, Any]) -> None:
    """A note for the next page, in a short-lived cookie only the UI's pages read."""
    encoded = base64.urlsafe_b64encode(json.dumps(data).encode()).decode()
    response.set_cookie(cookie, encoded, path="/ui/", max_age=60, httponly=True,
                        samesite="Strict")  # fmt: skip


def _decoded(raw: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(raw.encode())) if raw else None
    except ValueError:
        return None


def _read_flash(request: web.Request) -> dict[str, str] | None:
    found = _decoded(request.cookies.get(FLASH_COOKIE, ""))
    try:
        return {"kind": str(found["kind"]), "text": str(found["text"])}
    except (KeyError, TypeError):
        return None


def require_login(request: web.Request) -> Manager:
    """The logged-in manager, or off to the login page."""
    manager = context.manager(request)
    if manager is None:
        raise redirect("/ui/login", "Log in first", "error")
    return manager


def form_int(
    form: Mapping[str, Any], name: str, default: int = 0, low: int = 0, high: int = 2**63 - 1
) -> int:
    text = str(form.get(name, "")).strip()
    if text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise InvalidRequest(f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise InvalidRequest(f"{name} must be between {low} and {high}")
    return value


def form_float(form: Mapping[str, Any], name: str) -> float:
    text = str(form.get(name, "")).strip()
    try:
        value = float(text) if text else 0.0
    except ValueError:
        raise InvalidRequest(f"{name} must be a number") from None
    if not 0 <= value <= UNLIMITED:
        raise InvalidRequest(f"{name} must be zero or more")
    return value


def form_text(form: Mapping[str, Any], name: str) -> str:
    return str(form.get(name, ""))


def query_int(
    request: web.Request, name: str, default: int = 0, low: int = 0, high: int = 2**63 - 1
) -> int:
    return form_int(request.query, name, default, low, high)

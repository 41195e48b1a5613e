"""``GET /openapi.json``: anyone may read it (it holds no data, only the API's shape)."""

from __future__ import annotations

import functools

from aiohttp import web

from tracker.http import envelope
from tracker.http.keys import SETTINGS
from tracker.http.openapi import document, table

routes = web.RouteTableDef()


@functools.cache
def _encoded(cookie_name: str, signature_header: str) -> bytes:
    return envelope.encode(document.build(table.OPERATIONS, cookie_name, signature_header))


@routes.get("/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]  # the cookie's and the signature's names are settings
    return envelope.respond(_encoded(settings.session.cookie_name, settings.git.webhook_sig_header))

"""``GET /``: the server's name and version, as the original reports them."""

from __future__ import annotations

from aiohttp import web

from tracker import API_NAME, API_VERSION
from tracker.http import envelope

routes = web.RouteTableDef()

_INFO = envelope.encode(envelope.Envelope(True, content={"name": API_NAME, "version": API_VERSION}))


@routes.get("/")
async def info(request: web.Request) -> web.Response:
    return envelope.respond(_INFO)

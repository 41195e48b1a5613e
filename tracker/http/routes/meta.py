"""``GET /``: the server's name and version, as the original reports them. A browser (an
``Accept`` header that prefers HTML to JSON) is sent to the web UI at ``/ui/`` instead."""

from __future__ import annotations

from aiohttp import web

from tracker import API_NAME, API_VERSION
from tracker.http import envelope

routes = web.RouteTableDef()

_INFO = envelope.encode(envelope.Envelope(True, content={"name": API_NAME, "version": API_VERSION}))


@routes.get("/")
async def info(request: web.Request) -> web.Response:
    if prefers_html(request.headers.get("Accept", "")):
        raise web.HTTPFound("/ui/")
    return envelope.respond(_INFO)


def prefers_html(accept: str) -> bool:
    """True when the header ranks ``text/html`` above ``application/json`` (and above 0)."""
    quality: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        quality[media.lower()] = max(q, quality.get(media.lower(), 0.0))

    def of(media: str) -> float:
        kind = media.split("/")[0]
        return quality.get(media, quality.get(f"{kind}/*", quality.get("*/*", 0.0)))

    return of("text/html") > 0 and of("text/html") > of("application/json")

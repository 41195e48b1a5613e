"""``GET /``: the server's name and version, as the original reports them, and what a worker
needs to know of this tracker's extensions. A browser (an ``Accept`` header that prefers HTML
to JSON) is sent to the web UI at ``/ui/`` instead.

The extensions are told by three more fields, which the original does not send, so a client
that finds them missing (or 0) uses the original's one-task routes:

- ``max_batch_size``: ``/task/bulk_get`` and ``/task/bulk_release`` take up to this many tasks;
- ``max_keep_alive``: ``/task/touch`` may ask for up to this many seconds;
- ``default_max_assign_time``: the seconds a task with ``max_assign_time: 0`` is held for, so a
  worker knows when to keep such a task alive.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from tracker import API_NAME, API_VERSION
from tracker.config import Settings
from tracker.http import envelope
from tracker.http.keys import SETTINGS

routes = web.RouteTableDef()


class Info(msgspec.Struct):
    name: str
    version: str
    max_batch_size: int
    max_keep_alive: float
    default_max_assign_time: float


def info_of(settings: Settings) -> Info:
    tasks = settings.tasks
    return Info(API_NAME, API_VERSION, tasks.max_batch_size, tasks.max_keep_alive,
                tasks.default_max_assign_time)  # fmt: skip


@routes.get("/")
async def info(request: web.Request) -> web.Response:
    if prefers_html(request.headers.get("Accept", "")):
        raise web.HTTPFound("/ui/")
    return envelope.ok(info_of(request.app[SETTINGS]))


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

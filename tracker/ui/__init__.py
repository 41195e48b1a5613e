"""The managers' and auditors' web UI at ``/ui/``, served by the tracker's own app.

``setup(app)`` adds the pages, their static files and the UI's guard (security headers, CSRF
and Origin checks, refusals shown as pages). Views are thin: they call the same commands and
read the same read models as the API routes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import aiohttp_jinja2
import jinja2
import msgspec
from aiohttp import web

from tracker.ui import background, guard, security, stats
from tracker.ui.views import (
    access,
    accounts,
    admin,
    audit,
    dashboard,
    logs,
    projects,
    task_actions,
    tasks,
    workers,
)

HERE = Path(__file__).parent
STATIC = HERE / "static"
VIEWS = (accounts, projects, dashboard, tasks, task_actions, access, workers, admin, logs, audit)


def setup(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals["asset"] = _assets()
    env.filters["utc"] = guard.utc
    env.filters["tojson_view"] = _pretty
    env.globals["window"] = stats.window
    env.globals["percent"] = stats.percent
    app[security.CSRF_KEY] = security.new_key()
    app[audit.VERIFICATION] = audit.Verification()
    app[background.BACKGROUND] = background.Background()
    app.on_shutdown.append(background.shut_down)
    app.middlewares.append(guard.guard)
    for module in VIEWS:
        app.router.add_routes(module.routes)
    app.router.add_static("/ui/static/", STATIC, name="ui_static")


def _assets() -> dict[str, str]:
    """Static file URLs with a content hash, so browsers may cache them for long."""
    found = {}
    for path in sorted(STATIC.rglob("*")):
        if path.is_file() and path.suffix in (".js", ".css", ".svg"):
            name = path.relative_to(STATIC).as_posix()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            found[name] = f"/ui/static/{name}?v={digest}"
    return found


def _pretty(value: object) -> str:
    return msgspec.json.format(msgspec.json.encode(value), indent=2).decode()

"""``create_app(settings)``: the aiohttp application, its routes and its lifetime.

Nothing is created at import. The tracker (log, replay, group committer) and the scheduler
are opened in ``cleanup_ctx`` and closed in reverse order, flushing queued events first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from aiohttp import web

from tracker import bootstrap
from tracker.cluster.node import cluster_node
from tracker.config import Settings
from tracker.http import auth, metrics, middleware
from tracker.http.keys import READINESS, SCHEDULER, SETTINGS, TRACKER
from tracker.http.openapi import route as openapi
from tracker.http.routes import (
    access,
    accounts,
    health,
    maintenance,
    managers,
    meta,
    project_admin,
    projects,
    tasks,
    webhook,
    workers,
)
from tracker.http.routes import audit as audit_routes
from tracker.http.routes import logs as log_routes
from tracker.http.routes import monitoring as monitoring_routes
from tracker.ops.health import Readiness, watch
from tracker.scheduler import Scheduler
from tracker.service import Clock
from tracker.ui import setup as setup_ui

log = logging.getLogger(__name__)

ROUTES = (meta, health, workers, tasks, projects, access, accounts, managers, project_admin,
          maintenance, webhook, monitoring_routes, log_routes, metrics, audit_routes,
          openapi)  # fmt: skip


def create_app(settings: Settings, clock: Clock = time.time) -> web.Application:
    app = web.Application(
        middlewares=[middleware.handle],
        client_max_size=settings.server.max_body_size,
    )
    app[metrics.METRICS] = metrics.RequestMetrics()
    app[SETTINGS] = settings
    app[auth.CREDENTIALS] = auth.Credentials(settings)
    app[READINESS] = Readiness()
    for module in ROUTES:
        app.router.add_routes(module.routes)
    setup_ui(app)  # the web UI at /ui/
    app.on_response_prepare.append(middleware.server_header)
    app.cleanup_ctx.append(_tracker_context(clock))
    app.cleanup_ctx.append(audit_routes.audit_context)  # after the tracker, closed before it
    return app


def _tracker_context(clock: Clock):  # type: ignore[no-untyped-def]
    async def context(app: web.Application) -> AsyncIterator[None]:
        readiness = app[READINESS]
        readiness.phase = "replaying"
        tracker = await bootstrap.open_tracker(app[SETTINGS], clock)
        app[TRACKER] = tracker
        writer = asyncio.create_task(tracker.committer.run(), name="group-commit")
        watch(readiness, writer)  # a failed commit stops the server (tracker.http.serving)
        cluster = await cluster_node(tracker)
        scheduler = Scheduler(tracker, app[SETTINGS], cluster.leadership if cluster else None)
        app[SCHEDULER] = scheduler
        scheduler.start()
        readiness.phase = "ready"
        try:
            yield
        finally:
            if readiness.phase != "failed":
                readiness.phase = "stopping"
            scheduler.shutdown()
            if cluster is not None:
                await cluster.close()
            tracker.committer.close()
            with contextlib.suppress(Exception):
                await writer  # a failed writer already logged why
            await tracker.store.close()

    return context

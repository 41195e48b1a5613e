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
from tracker.http import metrics, middleware
from tracker.http.keys import SCHEDULER, SETTINGS, TRACKER
from tracker.http.routes import (
    access,
    accounts,
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
from tracker.scheduler import Scheduler
from tracker.service import Clock

log = logging.getLogger(__name__)

ROUTES = (meta, workers, tasks, projects, access, accounts, managers, project_admin, maintenance,
          webhook, monitoring_routes, log_routes, metrics, audit_routes)  # fmt: skip


def create_app(settings: Settings, clock: Clock = time.time) -> web.Application:
    shared_log = [middleware.caught_up] if settings.database.conn_str else []
    app = web.Application(
        middlewares=[metrics.count_requests, middleware.errors, *shared_log],
        client_max_size=settings.server.max_body_size,
    )
    app[metrics.METRICS] = metrics.RequestMetrics()
    app[SETTINGS] = settings
    for module in ROUTES:
        app.router.add_routes(module.routes)
    app.on_response_prepare.append(middleware.server_header)
    app.cleanup_ctx.append(_tracker_context(clock))
    app.cleanup_ctx.append(audit_routes.audit_context)  # after the tracker, closed before it
    return app


def _tracker_context(clock: Clock):  # type: ignore[no-untyped-def]
    async def context(app: web.Application) -> AsyncIterator[None]:
        tracker = await bootstrap.open_tracker(app[SETTINGS], clock)
        app[TRACKER] = tracker
        writer = asyncio.create_task(tracker.committer.run(), name="group-commit")
        cluster = await cluster_node(tracker)
        scheduler = Scheduler(tracker, app[SETTINGS], cluster.leadership if cluster else None)
        app[SCHEDULER] = scheduler
        scheduler.start()
        try:
            yield
        finally:
            scheduler.shutdown()
            if cluster is not None:
                await cluster.close()
            tracker.committer.close()
            with contextlib.suppress(Exception):
                await writer  # a failed writer already logged why
            await tracker.store.close()

    return context

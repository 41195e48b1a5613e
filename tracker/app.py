"""``create_app(settings)``: the aiohttp application, its routes, pages and lifetime.

This module composes the layers below it (the HTTP API, the web UI, the tracker the
composition root opens, the audit services, the scheduler), so neither ``tracker.http`` nor
``tracker.ui`` needs to know the other. Nothing is created at import. The tracker (log, replay,
writer) and the scheduler are opened in ``cleanup_ctx`` and closed in reverse order, answering
queued commands first.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from tracker import bootstrap
from tracker.audit.runtime import AuditServices
from tracker.config import Settings
from tracker.http import auth, metrics, middleware
from tracker.http.keys import AUDIT, READINESS, SCHEDULER, SETTINGS, TRACKER
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
    task_actions,
    task_browser,
    tasks,
    webhook,
    workers,
)
from tracker.http.routes import audit as audit_routes
from tracker.http.routes import logs as log_routes
from tracker.http.routes import monitoring as monitoring_routes
from tracker.ops.health import Readiness
from tracker.scheduler import Scheduler
from tracker.service import Clock
from tracker.ui import setup as setup_ui

ROUTES = (meta, health, workers, tasks, projects, task_browser, task_actions, access, accounts,
          managers, project_admin, maintenance, webhook, monitoring_routes, log_routes, metrics,
          audit_routes, openapi)  # fmt: skip


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
    app.cleanup_ctx.append(_audit_context)  # after the tracker, closed before it
    app.on_shutdown.append(_end_long_polls)  # before the server waits for open requests
    return app


async def _end_long_polls(app: web.Application) -> None:
    if AUDIT in app:
        app[AUDIT].stopping = True


def _tracker_context(clock: Clock) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        readiness = app[READINESS]
        readiness.phase = "replaying"
        tracker = await bootstrap.open_tracker(app[SETTINGS], clock)
        app[TRACKER] = tracker
        await tracker.start(readiness.fail)  # a failed log stops the server (http.serving)
        scheduler = Scheduler(tracker, app[SETTINGS])
        app[SCHEDULER] = scheduler
        scheduler.start()
        readiness.phase = "ready"
        try:
            yield
        finally:
            if readiness.phase != "failed":
                readiness.phase = "stopping"
            scheduler.shutdown()
            await tracker.close()

    return context


async def _audit_context(app: web.Application) -> AsyncIterator[None]:
    """The audit services (history index, checkpoints, time travel), opened after the tracker
    and closed before it, their jobs on the tracker's scheduler."""
    services = await AuditServices.start(app[TRACKER], app[SETTINGS])
    app[AUDIT] = services
    scheduler = app[SCHEDULER]
    for name, job, seconds in services.jobs():
        scheduler.add(name, job, seconds)
    try:
        yield
    finally:
        for name, _, _ in services.jobs():
            with contextlib.suppress(Exception):
                scheduler.remove(name)
        await services.close()

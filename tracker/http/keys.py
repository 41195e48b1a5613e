"""Typed application keys: the app's shared state, without globals."""

from __future__ import annotations

from aiohttp import web

from tracker.audit.runtime import AuditServices
from tracker.config import Settings
from tracker.ops.health import Readiness
from tracker.scheduler import Scheduler
from tracker.service import Tracker

SETTINGS = web.AppKey("settings", Settings)
TRACKER = web.AppKey("tracker", Tracker)
SCHEDULER = web.AppKey("scheduler", Scheduler)
READINESS = web.AppKey("readiness", Readiness)
AUDIT = web.AppKey("audit", AuditServices)

"""Worker log lines: ``POST /log/<level>`` writes one, ``POST /logs`` reads them back.

Writing keeps the original's answers: 204 on success, and every failure (the worker check
included) is 400 ``Could not parse request``, here followed by what was wrong. A line whose
level is not in ``database.log_levels`` is accepted (204) but not kept, as the original did.

Reading differs from the original on purpose (``behavior.md`` 13.11, 13.17): it needs a
logged-in manager; lines come oldest first by (worker timestamp, log order); a page holds at
most ``limit`` lines (default 1000, at most 10000), and ``next`` names the cursor to pass as
``after`` for the following page; no match is ``"logs": []`` rather than ``null``. Timestamps
come from the workers' clocks, so a line that arrives after a page was read but carries an
earlier timestamp than that page's cursor is not in the later pages (a new query from ``since``
finds it).
"""

from __future__ import annotations

import logging

import msgspec
from aiohttp import web

from tracker.commands.logs import LogWorkerMessage
from tracker.errors import InvalidRequest
from tracker.events.logs import LEVELS
from tracker.http import context, envelope, parsing
from tracker.http.auth import WorkerAuthFailed
from tracker.http.keys import SETTINGS
from tracker.http.parsing import Int64
from tracker.projections.logs import LogLine
from tracker.queries import logs, roles
from tracker.queries.logs import InvalidLogRequest

routes = web.RouteTableDef()
log = logging.getLogger("tracker.workers")

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
_PYTHON_LEVELS = {3: logging.ERROR, 4: logging.WARNING, 5: logging.INFO, 7: logging.DEBUG}
_data_encoder = msgspec.json.Encoder()


class LineBody(msgspec.Struct):
    scope: str = ""
    message: str = ""  # the original's struct field is "Message"; keys match in any case
    timestamp: Int64 = 0


class QueryBody(msgspec.Struct):
    level: Int64 = 0
    since: Int64 = 0
    limit: Int64 = 0
    after: str = ""


class LogEntry(msgspec.Struct):
    message: str
    timestamp: int
    data: str  # the line's fields as JSON text, as the original stored them
    level: int


class LogPage(msgspec.Struct, omit_defaults=True):
    logs: list[LogEntry]
    next: str = ""


async def _write(request: web.Request, level_name: str) -> web.Response:
    try:
        worker = context.worker(request)
    except WorkerAuthFailed as exc:
        raise InvalidRequest(f"Could not parse request: {exc.message}") from None
    body = await parsing.body(request, LineBody)
    level = LEVELS[level_name]
    kept = {LEVELS[name.lower()] for name in request.app[SETTINGS].database.log_levels}
    command = LogWorkerMessage(
        worker_id=worker.id, level=level, scope=body.scope, message=body.message,
        timestamp=body.timestamp, keep=level in kept,
    )  # fmt: skip
    await context.tracker(request).execute(command)
    log.log(_PYTHON_LEVELS[level], "%s", body.message,
            extra={"action": "worker_log", "worker": worker.id, "scope": body.scope})  # fmt: skip
    return envelope.no_content()


@routes.post("/log/trace")
async def log_trace(request: web.Request) -> web.Response:
    return await _write(request, "trace")


@routes.post("/log/info")
async def log_info(request: web.Request) -> web.Response:
    return await _write(request, "info")


@routes.post("/log/warn")
async def log_warn(request: web.Request) -> web.Response:
    return await _write(request, "warn")


@routes.post("/log/error")
async def log_error(request: web.Request) -> web.Response:
    return await _write(request, "error")


def _entry(level: int, line: LogLine) -> LogEntry:
    data = _data_encoder.encode({"scope": line.scope, "worker": line.worker_id}).decode()
    return LogEntry(line.message, line.timestamp, data, level)


@routes.post("/logs")
async def query(request: web.Request) -> web.Response:
    roles.require_manager(context.caller(request))
    body = await parsing.body(request, QueryBody)
    if body.since <= 0:
        raise InvalidLogRequest("Invalid log request: since must be a positive Unix time")
    limit = body.limit or DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidLogRequest(f"Invalid log request: limit must be between 1 and {MAX_LIMIT}")
    after = logs.cursor(body.after)
    lines, more = context.tracker(request).state.logs.page(body.level, body.since, after, limit)
    page = LogPage([_entry(body.level, line) for line in lines])
    if more:
        page.next = logs.next_cursor(lines[-1])
    return envelope.ok(page)

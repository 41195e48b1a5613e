"""The worker lane: the task routes a fleet of workers calls in a loop, served off the socket.

A worker's life is ``GET /task/get``, ``POST /task/release`` and ``POST /task/submit`` on one
keep-alive connection. aiohttp spends about as much CPU on each of those requests (its request
and response objects, middleware chain, signals and stream writer) as the tracker spends on
deciding, folding and committing them. The lane serves them with the same handlers, minus that
framework layer; every other request is aiohttp's.

Each connection starts in the lane. The lane reads one request at a time and serves it itself
only when it is a plain HTTP/1.1 request for a task route: ``GET`` or ``POST`` on the exact path
(no percent-encoding or fragment), one ``Host``, a body given by at most one ``Content-Length``
within ``server.max_body_size``, no ``Transfer-Encoding``, ``Expect`` or ``Upgrade``, no
repeated field, and lines, field count and head size within aiohttp's limits. On anything else
(another route or method, HTTP/1.0, a chunked or oversize body, a malformed or unusual head) the
connection is handed, with every byte not yet served, to aiohttp's own protocol, which keeps it
from then on and answers exactly as it always would, errors included. So the lane never
disagrees with aiohttp about where a request ends, nor serves a request aiohttp would refuse.
An incomplete head is handed over as soon as it shows it is not one of the lane's (aiohttp
answers a bare LF or a bad request line at once), and so is a ``Connection: close`` request
with bytes behind it (aiohttp refuses those). ``tests/e2e/test_lane_differential.py`` holds
the lane to this: generated requests get the same bytes back from both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from email.utils import formatdate
from http import HTTPStatus
from typing import Any, NamedTuple, cast

from aiohttp import web

from tracker.errors import TrackerError
from tracker.http import metrics, middleware
from tracker.http.keys import SETTINGS
from tracker.http.routes import tasks

log = logging.getLogger(__name__)

# aiohttp's parser limits: a head beyond them is handed over, and aiohttp refuses it.
MAX_LINE = 8190
MAX_FIELDS = 128
MAX_HEAD = 16 * 1024
IDLE_TIMEOUT = 75.0  # seconds before an idle keep-alive connection is closed, either server
SWEEP_EVERY = 15.0
DRAIN_TIMEOUT = 10.0  # seconds a stopping server waits for the requests being served
HIGH_WATER = 256 * 1024  # pipelined bytes buffered while a request is served: reading pauses

Handler = Callable[[Any], Awaitable[web.StreamResponse]]

# Linear-time patterns only (single character classes): no backtracking on hostile input.
_REQUEST_LINE = re.compile(rb"(GET|POST) (/[!-\x22\x24-~]*) HTTP/1\.1")  # no "#" fragment
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_VALUE = re.compile(rb"[^\x00-\x08\x0a-\x1f\x7f]*")
_REFUSED = frozenset({b"transfer-encoding", b"expect", b"upgrade"})
_REASONS = {status.value: status.phrase for status in HTTPStatus}


class Route:
    """One task route: an exact path, or a prefix and one trailing ``{name}`` parameter."""

    def __init__(self, method: str, path: str, handler: Handler) -> None:
        self.method = method
        self.method_bytes = method.encode()
        self.template = path
        self.handler = handler
        prefix, brace, rest = path.partition("{")
        self.prefix = prefix.encode()
        self.param = rest.rstrip("}") if brace else ""


def _routes(table: web.RouteTableDef) -> tuple[dict[tuple[bytes, bytes], Route], list[Route]]:
    exact: dict[tuple[bytes, bytes], Route] = {}
    prefixed: list[Route] = []
    for definition in table:
        assert isinstance(definition, web.RouteDef) and not isinstance(definition.handler, type)
        route = Route(definition.method, definition.path, definition.handler)
        if route.param:
            prefixed.append(route)
        else:
            exact[(route.method_bytes, route.prefix)] = route
    return exact, prefixed


_EXACT, _PREFIXED = _routes(tasks.routes)


def match(method: bytes, path: bytes) -> tuple[Route, dict[str, str]] | None:
    route = _EXACT.get((method, path))
    if route is not None:
        return route, {}
    for route in _PREFIXED:
        if route.method_bytes == method and path.startswith(route.prefix):
            value = path[len(route.prefix) :]
            if value and b"/" not in value and b"%" not in value:
                return route, {route.param: value.decode("ascii")}
    return None


class LaneHeaders:
    """The request's header fields by lower-case name; values decoded as aiohttp decodes them."""

    __slots__ = ("_fields",)

    def __init__(self, fields: dict[bytes, bytes]) -> None:
        self._fields = fields

    def get(self, key: str, default: str = "", /) -> str:
        value = self._fields.get(key.lower().encode("latin-1"))
        return default if value is None else value.decode("utf-8", "surrogateescape")

    def __contains__(self, key: object, /) -> bool:
        return isinstance(key, str) and key.lower().encode("latin-1") in self._fields


class LaneRequest:
    """A request the lane serves: the part of ``web.Request`` the task handlers read."""

    __slots__ = ("app", "path", "headers", "match_info", "client_max_size", "_body", "close")

    def __init__(self, app: web.Application, head: Head, body: bytes, max_body: int) -> None:
        self.app = app
        self.path = head.path
        self.headers = LaneHeaders(head.fields)
        self.match_info = head.params
        self.client_max_size = max_body
        self._body = body
        self.close = head.close

    async def read(self) -> bytes:
        return self._body


class HandOff(Exception):
    """This request is aiohttp's to serve."""


class Head(NamedTuple):
    """A parsed request head the lane serves; its body is ``buffer[body_start:body_end]``."""

    route: Route
    path: str
    params: Mapping[str, str]
    fields: dict[bytes, bytes]
    body_start: int
    body_end: int
    close: bool  # Connection: close


def parse_head(buffer: bytearray, max_body: int) -> Head | None:
    """The head at the start of ``buffer``; None while incomplete; ``HandOff`` unless it is a
    request the lane serves (see the module's docstring)."""
    end = buffer.find(b"\r\n\r\n", 0, MAX_HEAD)
    if end < 0:
        if len(buffer) >= MAX_HEAD:
            raise HandOff()
        return None
    lines = bytes(buffer[:end]).split(b"\r\n")
    if len(lines) > MAX_FIELDS + 1 or max(map(len, lines)) > MAX_LINE:
        raise HandOff()
    path, found = _request_line(lines[0])
    fields: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        value = value.strip(b" \t")
        if not colon or not _TOKEN.fullmatch(name) or not _VALUE.fullmatch(value):
            raise HandOff()
        name = name.lower()
        if name in fields or name in _REFUSED:
            raise HandOff()  # a repeated field: aiohttp refuses some (Host, Content-Length...)
        fields[name] = value
    length_text = fields.get(b"content-length", b"0")
    if not length_text.isdigit() or len(length_text) > 18 or b"host" not in fields:
        raise HandOff()
    length = int(length_text)
    if length > max_body:
        raise HandOff()
    tokens = {token.strip().lower() for token in fields.get(b"connection", b"").split(b",")}
    if b"upgrade" in tokens:
        raise HandOff()
    start = end + 4
    return Head(found[0], path.decode("ascii"), found[1], fields, start, start + length,
                b"close" in tokens)  # fmt: skip


def _request_line(line: bytes) -> tuple[bytes, tuple[Route, dict[str, str]]]:
    request_line = _REQUEST_LINE.fullmatch(line)
    if request_line is None:
        raise HandOff()
    path = request_line[2].partition(b"?")[0]
    found = match(request_line[1], path)
    if found is None:
        raise HandOff()
    return path, found


class PartialHead:
    """Checks a head while it is incomplete, each new byte once, and hands it over as soon as
    it cannot be one the lane serves: aiohttp answers some malformed heads (a bare LF or CR, a
    bad request line, an overlong line) before they end, and so must the lane."""

    __slots__ = ("checked", "line_ok")

    def __init__(self) -> None:
        self.checked = 0  # bytes of the head already checked
        self.line_ok = False  # the request line is complete and one of the lane's

    def check(self, buffer: bytearray) -> None:
        start = self.checked
        if start and buffer[start - 1] == 0x0D:  # a CR the last check left open
            start -= 1
        new = buffer[start:]
        cr_lf = new.count(b"\r\n")
        if new.count(b"\n") != cr_lf or new.count(b"\r") - new.endswith(b"\r") != cr_lf:
            raise HandOff()
        if len(buffer) - buffer.rfind(b"\n") - 1 > MAX_LINE:
            raise HandOff()
        if not self.line_ok:
            line_end = buffer.find(b"\r\n", start)
            if line_end >= 0:
                _request_line(bytes(buffer[:line_end]))
                self.line_ok = True
        self.checked = len(buffer)


class _Date:
    """The ``Date`` header value, formatted once a second."""

    second = -1
    value = b""

    @classmethod
    def now(cls) -> bytes:
        second = int(time.time())
        if second != cls.second:
            cls.second, cls.value = second, formatdate(second, usegmt=True).encode()
        return cls.value


def response_bytes(response: web.StreamResponse, close: bool) -> bytes:
    """The answer as aiohttp writes an envelope: same status line and header fields."""
    assert isinstance(response, web.Response) and isinstance(response.body, bytes)
    body = response.body
    status = response.status
    head = (
        b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nServer: task_tracker\r\n"
        b"Content-Length: %d\r\nDate: %s\r\n%s\r\n"
        % (status, _REASONS.get(status, "").encode(), len(body), _Date.now(),
           b"Connection: close\r\n" if close else b"")
    )  # fmt: skip
    return head + body


class WorkerLane(asyncio.Protocol):
    """One connection, while it stays in the lane."""

    def __init__(self, site: LaneSite) -> None:
        self._site = site
        self._app = site.app
        self._max_body = site.app[SETTINGS].server.max_body_size
        self._metrics = site.app[metrics.METRICS]
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._head: Head | None = None  # the head of a request whose body is still arriving
        self._partial = PartialHead()  # the checks of a head still arriving
        self._serving: asyncio.Task[None] | None = None  # one request at a time, in order
        self._paused = False  # reading paused: too many pipelined bytes, or answers unread
        self._unread = False  # the client is not reading its answers (pause_writing)
        self._eof = False  # the client sent all it will: close once nothing is left to serve
        self._stopping = False  # the server is stopping: close after the answer in flight
        self.last_active = time.monotonic()

    @property
    def idle(self) -> bool:
        return self._serving is None

    @property
    def serving(self) -> asyncio.Task[None] | None:
        """The request being served, if any."""
        return self._serving

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's do not subclass it
        self._site.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._site.connections.discard(self)

    def eof_received(self) -> bool:
        self._eof = True
        return not self.idle  # keep the socket open to answer the request being served

    def pause_writing(self) -> None:
        self._unread = True

    def resume_writing(self) -> None:
        self._unread = False
        if self.idle:
            self._continue()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self.last_active = time.monotonic()
        if self.idle:
            self._next()
        elif not self._paused and len(self._buffer) > HIGH_WATER:
            assert self._transport is not None
            self._transport.pause_reading()
            self._paused = True

    def close(self) -> None:
        """Close now if idle, else once the request being served is answered."""
        self._stopping = True
        if self.idle and self._transport is not None:
            self._transport.close()

    def _next(self) -> None:
        """Serve the next request in the buffer, once it is complete."""
        if self._stopping:
            if self._transport is not None:
                self._transport.close()  # no new request once the server is stopping
            return
        if self._head is None:
            try:
                self._head = parse_head(self._buffer, self._max_body)
                if self._head is None:
                    self._partial.check(self._buffer)
            except HandOff:
                self._hand_off()
                return
        head = self._head
        if head is None or len(self._buffer) < head.body_end:
            if self._eof and self._transport is not None:
                self._transport.close()
            return
        if head.close and len(self._buffer) > head.body_end:
            self._hand_off()  # aiohttp refuses bytes after a "Connection: close" request
            return
        self._head, self._partial = None, PartialHead()
        body = bytes(self._buffer[head.body_start : head.body_end])
        call = LaneRequest(self._app, head, body, self._max_body)
        del self._buffer[: head.body_end]
        self._serving = asyncio.get_running_loop().create_task(self._serve(head.route, call))
        self._serving.add_done_callback(self._served)

    async def _serve(self, route: Route, call: LaneRequest) -> None:
        started = time.perf_counter()
        try:
            response = await route.handler(call)
        except TrackerError as exc:
            response = middleware.refusal(exc)
        except Exception:
            response = middleware.internal_error(call.path)
        self._metrics.observe(route.method, route.template, response.status,
                              time.perf_counter() - started)  # fmt: skip
        if self._transport is not None:  # else the client went away; its command still counts
            self._transport.write(response_bytes(response, call.close or self._stopping))
            if call.close or self._stopping:
                self._transport.close()

    def _served(self, task: asyncio.Task[None]) -> None:
        self._serving = None
        self.last_active = time.monotonic()
        if task.cancelled() or task.exception() is not None:
            if not task.cancelled():  # a bug: logged; the connection is not left hanging
                log.error("worker lane failed", exc_info=task.exception())
            if self._transport is not None:
                self._transport.close()
            return
        self._continue()

    def _continue(self) -> None:
        """After an answer: serve the next request, unless the client is not reading."""
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if self._unread:
            if not self._paused:
                transport.pause_reading()
                self._paused = True
            return  # resume_writing continues
        if self._paused:
            transport.resume_reading()
            self._paused = False
        if self._buffer or self._eof:
            self._next()

    def _hand_off(self) -> None:
        """Give the connection and the bytes not yet served to aiohttp's protocol."""
        transport = self._transport
        assert transport is not None
        self._site.connections.discard(self)
        self._transport = None
        protocol = self._site.aiohttp_protocol()
        if protocol is None:  # the server is stopping
            transport.close()
            return
        if self._paused:
            transport.resume_reading()
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        pending, self._buffer = bytes(self._buffer), bytearray()
        if pending:
            protocol.data_received(pending)
        if self._eof:
            protocol.close()  # answer what was sent, then close, as the client has


class LaneSite(web.BaseSite):
    """A TCP site whose connections start in the worker lane (``tracker serve`` uses it)."""

    __slots__ = ("app", "connections", "_host", "_port", "_sock", "_listener", "_sweeper")

    def __init__(self, runner: web.AppRunner, host: str, port: int,
                 sock: socket.socket | None = None) -> None:  # fmt: skip
        super().__init__(runner)
        self.app = runner.app
        self.connections: set[WorkerLane] = set()
        self._host = host
        self._port = port
        self._sock = sock  # a socket already listening (tracker serve binds before replay)
        self._listener: asyncio.Server | None = None
        self._sweeper: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def port(self) -> int:
        if self._listener is not None and self._listener.sockets:
            return int(self._listener.sockets[0].getsockname()[1])
        return self._port

    def aiohttp_protocol(self) -> web.RequestHandler | None:
        """A new aiohttp protocol for a connection, None once the runner is cleaned up."""
        server = self._runner.server
        return None if server is None else server()

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        if self._sock is not None:
            self._listener = await loop.create_server(
                lambda: WorkerLane(self), sock=self._sock, backlog=self._backlog
            )
        else:
            self._listener = await loop.create_server(
                lambda: WorkerLane(self), self._host, self._port, backlog=self._backlog
            )
        self._server = self._listener  # BaseSite.stop closes it
        self._sweeper = loop.create_task(self._sweep_forever())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await super().stop()
        for connection in list(self.connections):
            connection.close()  # idle ones now, the others once their answer is written
        # Answered before the app's cleanup closes the log, as aiohttp waits for its own.
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while serving := [task for c in self.connections if (task := c.serving) is not None]:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await asyncio.wait(serving, timeout=remaining)
            await asyncio.sleep(0)  # let the done callbacks run

    def sweep(self) -> None:
        """Close the connections idle for longer than the keep-alive timeout."""
        cutoff = time.monotonic() - IDLE_TIMEOUT
        for connection in list(self.connections):
            if connection.idle and connection.last_active < cutoff:
                connection.close()

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            self.sweep()

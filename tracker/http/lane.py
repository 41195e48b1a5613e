"""The worker lane: the task routes a fleet of workers calls in a loop, served off the socket.

A worker's life is ``GET /task/get``, ``POST /task/release`` and ``POST /task/submit`` on one
keep-alive connection. aiohttp spends about as much CPU on each of those requests (its request
and response objects, middleware chain, signals and stream writer) as the tracker spends on
deciding, folding and committing them. The lane serves them with the same handlers, minus that
framework layer; every other request is aiohttp's.

Each connection starts in the lane. The lane frames one request at a time with llhttp
(``tracker.http.framing``, the parser aiohttp's C extension uses) and serves it itself only
when it is a plain HTTP/1.1 request for a task route (the framing module says exactly which).
On anything else (another route or method, HTTP/1.0, a chunked or oversize body, a head that
llhttp refuses or that is unusual) the connection is handed, with every byte not yet served,
to aiohttp's own protocol, which keeps it from then on and answers exactly as it always
would, errors included. The lane's answers go through the same path as aiohttp's
(``middleware.answer``: refusals, errors, metrics) and are written with the envelope's header
fields. ``tests/e2e/test_lane_differential.py`` holds the lane to this: generated requests get
the same bytes back from both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Mapping
from email.utils import formatdate
from http import HTTPStatus
from types import MappingProxyType
from typing import Any, cast

from aiohttp import web
from yarl import URL

from tracker.http import middleware
from tracker.http.framing import Framer, HandOff, Head, Routes
from tracker.http.keys import SETTINGS
from tracker.http.routes import tasks

log = logging.getLogger(__name__)

IDLE_TIMEOUT = 75.0  # seconds before an idle keep-alive connection is closed, either server
SWEEP_EVERY = 15.0
DRAIN_TIMEOUT = 10.0  # seconds a stopping server waits for the requests being served
HIGH_WATER = 256 * 1024  # pipelined bytes buffered while a request is served: reading pauses

ROUTES = Routes(tasks.routes)
_REASONS = {status.value: status.phrase for status in HTTPStatus}


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


_NO_COOKIES: Mapping[str, str] = MappingProxyType({})


class LaneRequest(dict[web.RequestKey[Any], Any]):
    """A request the lane serves: the part of ``web.Request`` the task handlers read. Like
    aiohttp's, it is a mapping of the values the middleware attaches (the caller). It has no
    cookies: the framer hands a request that sends any to aiohttp, whose parser reads them."""

    __slots__ = ("app", "method", "path", "headers", "match_info", "client_max_size", "_body",
                 "close", "_query")  # fmt: skip

    cookies = _NO_COOKIES

    def __init__(self, app: web.Application, head: Head, max_body: int) -> None:
        self.app = app
        self.method = head.route.method
        self.path = head.path
        self.headers = LaneHeaders(head.fields)
        self.match_info = head.params
        self.client_max_size = max_body
        self._body = head.body
        self.close = head.close
        self._query = head.query

    @property
    def query(self) -> Mapping[str, str]:
        """The query's parameters, parsed as aiohttp parses them (yarl)."""
        return URL.build(path=self.path, query_string=self._query, encoded=True).query

    async def read(self) -> bytes:
        return self._body


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


_FIELD_LINES: dict[tuple[tuple[str, str], ...], bytes] = {}  # the few the task routes send


def _field_lines(response: web.StreamResponse) -> bytes:
    """The response's header fields as written, encoded once per distinct set of them."""
    fields = tuple(response.headers.items())
    lines = _FIELD_LINES.get(fields)
    if lines is None:
        lines = b"".join(b"%s: %s\r\n" % (name.encode(), value.encode()) for name, value in fields)
        if len(_FIELD_LINES) < 64:
            _FIELD_LINES[fields] = lines
    return lines


def response_bytes(response: web.StreamResponse, close: bool) -> bytes:
    """The answer as aiohttp writes it: status line, the response's own header fields (the
    envelope's), then ``Content-Length``, ``Date`` and, if closing, ``Connection``."""
    assert isinstance(response, web.Response) and isinstance(response.body, bytes)
    body, status = response.body, response.status
    head = b"HTTP/1.1 %d %s\r\n%sContent-Length: %d\r\nDate: %s\r\n%s\r\n" % (
        status, _REASONS.get(status, "").encode(), _field_lines(response), len(body), _Date.now(),
        b"Connection: close\r\n" if close else b"",
    )  # fmt: skip
    return head + body


class WorkerLane(asyncio.Protocol):
    """One connection, while it stays in the lane."""

    def __init__(self, site: LaneSite) -> None:
        self._site = site
        self._app = site.app
        self._max_body = site.app[SETTINGS].server.max_body_size
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()  # unserved bytes, from the start of the next request
        self._framer = Framer(ROUTES, self._max_body)
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
        try:
            head = self._framer.frame(self._buffer)
        except HandOff:
            self._hand_off()
            return
        if head is None:
            if self._eof and self._transport is not None:
                self._transport.close()
            return
        del self._buffer[: head.size]
        call = LaneRequest(self._app, head, self._max_body)
        self._serving = asyncio.get_running_loop().create_task(self._serve(head, call))
        self._serving.add_done_callback(self._served)

    async def _serve(self, head: Head, call: LaneRequest) -> None:
        route = head.route
        response = await middleware.answer(call, route.handler, route.method, route.template)
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

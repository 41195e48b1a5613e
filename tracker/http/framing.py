"""Where a request ends, for the worker lane: llhttp (through httptools) frames it.

llhttp is the parser aiohttp's own C extension is built on, so the lane and aiohttp agree on
where each request of a connection starts and ends. The :class:`Framer` feeds it the bytes of
one request at a time (the head up to its blank line, then exactly ``Content-Length`` bytes of
body), so the parser never runs ahead into a pipelined request that aiohttp may have to serve.

On top of llhttp's framing the lane keeps a policy: it serves a request itself only when it is
a plain HTTP/1.1 ``GET`` or ``POST`` on a task route's exact path (no percent-encoding, no
fragment) with its request line in canonical form, one ``Host``, a body given by
``Content-Length`` within ``server.max_body_size``, no ``Transfer-Encoding``, ``Expect`` or
``Upgrade``, no ``Cookie`` (workers send none; a manager's session is read by aiohttp's cookie
parser, so every request's caller is resolved alike), no repeated field, and lines, field
count and head size within aiohttp's limits.
Anything else, and anything llhttp refuses, raises :class:`HandOff`: aiohttp serves it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple

import httptools
from aiohttp import web

# aiohttp's parser limits: a head beyond them is handed over, and aiohttp refuses it.
MAX_LINE = 8190
MAX_FIELDS = 128
MAX_HEAD = 16 * 1024

Handler = Callable[[Any], Awaitable[web.StreamResponse]]

_METHODS = (b"GET", b"POST")
_REFUSED = frozenset({b"transfer-encoding", b"expect", b"upgrade", b"cookie"})
_END_OF_HEAD = b"\r\n\r\n"


class HandOff(Exception):
    """This request is aiohttp's to serve."""


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


class Routes:
    """The routes the lane serves, looked up by method and path."""

    def __init__(self, table: web.RouteTableDef) -> None:
        self.exact: dict[tuple[bytes, bytes], Route] = {}
        self.prefixed: list[Route] = []
        for definition in table:
            assert isinstance(definition, web.RouteDef) and not isinstance(definition.handler, type)
            route = Route(definition.method, definition.path, definition.handler)
            if route.param:
                self.prefixed.append(route)
            else:
                self.exact[(route.method_bytes, route.prefix)] = route

    def match(self, method: bytes, path: bytes) -> tuple[Route, dict[str, str]] | None:
        route = self.exact.get((method, path))
        if route is not None:
            return route, {}
        for route in self.prefixed:
            if route.method_bytes == method and path.startswith(route.prefix):
                value = path[len(route.prefix) :]
                if value and b"/" not in value and b"%" not in value:
                    return route, {route.param: value.decode("ascii")}
        return None


class Head(NamedTuple):
    """A request the lane serves: its route and what the handler reads; ``size`` is the
    number of bytes it takes in the connection's stream, head and body."""

    route: Route
    path: str
    query: str  # the raw query string (after "?"), "" when none
    params: Mapping[str, str]
    fields: dict[bytes, bytes]
    body: bytes
    size: int
    close: bool  # the client asked to close the connection after the answer


class Framer:
    """Frames the requests of one connection, one at a time (see the module's docstring).

    ``frame(buffer)``, where ``buffer`` holds the connection's unserved bytes from the start
    of the current request, returns the request once it is complete, None while it is not,
    and raises ``HandOff`` as soon as it is not the lane's: before its end when llhttp already
    refuses its head (a bare LF, a bad request line), as aiohttp answers those at once.
    """

    __slots__ = ("_parser", "_routes", "_max_body", "_fed", "_head_end", "_length", "_url",
                 "_fields", "_body", "_complete", "_found", "_close")  # fmt: skip

    def __init__(self, routes: Routes, max_body: int) -> None:
        self._parser = httptools.HttpRequestParser(self)
        self._routes = routes
        self._max_body = max_body
        self._start()

    def _start(self) -> None:
        self._fed = 0  # bytes of the current request given to the parser
        self._head_end = -1  # where its body starts, once the blank line is in
        self._length = 0
        self._url = b""
        self._fields: dict[bytes, bytes] = {}
        self._body: list[bytes] = []
        self._complete = False
        self._found: tuple[Route, dict[str, str]] | None = None
        self._close = False

    def frame(self, buffer: bytearray) -> Head | None:
        if self._head_end < 0:
            end = buffer.find(_END_OF_HEAD, max(0, self._fed - 3), MAX_HEAD)
            if end < 0:
                if len(buffer) >= MAX_HEAD:
                    raise HandOff()
                self._feed(buffer, len(buffer))
                return None
            self._head_end = end + len(_END_OF_HEAD)
            self._feed(buffer, self._head_end)  # on_headers_complete checks the head
            if self._found is None:
                raise HandOff()
            self._check_request_line(buffer)
        end = self._head_end + self._length
        self._feed(buffer, min(len(buffer), end))
        if self._fed < end:
            return None
        if not self._complete:
            raise HandOff()  # llhttp and Content-Length disagree: not a plain request
        return self._finish(buffer, end)

    def _feed(self, buffer: bytearray, until: int) -> None:
        if until <= self._fed:
            return
        start, self._fed = self._fed, until
        with memoryview(buffer) as view, view[start:until] as data:  # no copy; released before
            try:  # the lane trims the buffer
                self._parser.feed_data(data)
            except httptools.HttpParserError:
                raise HandOff() from None  # refused by llhttp or by our checks in its callbacks

    def _check_request_line(self, buffer: bytearray) -> None:
        """The request line exactly as ``METHOD SP target SP HTTP/1.1 CRLF`` (llhttp lets
        some variants through that aiohttp may word differently)."""
        line = b"%s %s HTTP/1.1\r\n" % (self._parser.get_method(), self._url)
        if not buffer.startswith(line):
            raise HandOff()

    def _finish(self, buffer: bytearray, end: int) -> Head:
        assert self._found is not None
        route, params = self._found
        path, _, query = self._url.partition(b"?")
        if self._close and len(buffer) > end:
            raise HandOff()  # aiohttp refuses bytes after a "Connection: close" request
        head = Head(route, path.decode("ascii"), query.decode("utf-8", "surrogateescape"), params,
                    self._fields, b"".join(self._body), end, self._close)  # fmt: skip
        self._start()
        return head

    # llhttp's callbacks; an exception here makes the parser refuse the request

    def on_url(self, part: bytes) -> None:
        self._url += part
        if len(self._url) > MAX_LINE - 16:
            raise HandOff()

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        fields = self._fields
        if name in fields or name in _REFUSED or len(fields) >= MAX_FIELDS:
            raise HandOff()  # a repeated field: aiohttp refuses some (Host, Content-Length...)
        if len(name) + len(value) > MAX_LINE - 4:
            raise HandOff()
        fields[name] = value

    def on_headers_complete(self) -> None:
        parser, fields = self._parser, self._fields
        method = parser.get_method()
        if method not in _METHODS or parser.get_http_version() != "1.1":
            raise HandOff()
        if parser.should_upgrade() or b"host" not in fields:
            raise HandOff()
        path, _, _ = self._url.partition(b"?")
        if not path.startswith(b"/") or b"#" in self._url:
            raise HandOff()
        self._found = self._routes.match(method, path)
        if self._found is None:
            raise HandOff()
        length = fields.get(b"content-length", b"0")
        if not length.isdigit() or len(length) > 18 or int(length) > self._max_body:
            raise HandOff()
        self._length = int(length)
        self._close = not parser.should_keep_alive()  # llhttp forgets it once the body is in

    def on_body(self, part: bytes) -> None:
        self._body.append(part)

    def on_message_complete(self) -> None:
        self._complete = True

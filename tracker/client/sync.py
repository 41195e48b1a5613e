"""``Client``: the API for code without an event loop, over the standard library's
``http.client`` (one keep-alive connection; no extra dependency)."""

from __future__ import annotations

import http.client
import logging
import threading
import time
from types import TracebackType
from typing import TypeVar
from urllib.parse import urlsplit

from tracker.client import calls, errors, session
from tracker.client.api import Routes
from tracker.client.endpoints import SyncCaller
from tracker.client.session import Backoff, Cookies, WorkerIdentity

T = TypeVar("T")
log = logging.getLogger("tracker.client")

#: A connection idle this long is replaced before use: servers close idle ones (the tracker
#: after 75 s), and a request sent on a closing connection has an unknown outcome.
IDLE_REUSE = 15.0


class Client(SyncCaller, Routes):
    """``with Client("http://host:3010", worker=identity) as client: ...``

    Thread-safe (calls are serialized on its one connection); use one client per thread for
    parallel calls.
    """

    def __init__(
        self,
        url: str,
        worker: WorkerIdentity | None = None,
        *,
        backoff: Backoff | None = None,
        timeout: float = 30.0,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise errors.UsageError(f"not an http(s) URL: {url!r}")
        self.url = url.rstrip("/")
        self.worker = worker
        self.backoff = backoff or Backoff()
        self.cookies = Cookies()
        self._parts, self._prefix = parts, parts.path.rstrip("/")
        self._timeout = timeout
        self._lock = threading.Lock()
        self._connection: http.client.HTTPConnection | None = None
        self._last_used = 0.0

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._drop()

    def call(self, call: calls.Call[T]) -> T:
        """Send ``call``, retrying connection errors as ``session.may_retry`` allows."""
        headers = session.headers(call, self.worker, self.cookies)
        delays = self.backoff.delays()
        while True:
            try:
                status, body, set_cookies = self._send(call, headers)
            except errors.TransportError as exc:
                delay = next(delays, None) if session.may_retry(call, exc) else None
                if delay is None:
                    raise
                log.debug("%s %s: %s; retrying in %.2f s", call.method, call.path, exc, delay)
                time.sleep(delay)
                continue
            self.cookies.update(set_cookies)
            return calls.result(call, calls.answer_of(status, body))

    def _send(self, call: calls.Call[T], headers: dict) -> tuple[int, bytes, list[str]]:
        with self._lock:
            connection = self._connect()
            try:
                connection.request(call.method, self._prefix + call.path, call.body, headers)
                response = connection.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                raise errors.ConnectionLost(
                    f"{call.method} {call.path}: no answer ({type(exc).__name__}: {exc})"
                ) from None
            self._last_used = time.monotonic()
            if response.will_close:
                self._drop()
        if session.not_serving_yet(response.status, response.getheader("Retry-After")):
            raise errors.ConnectFailed(f"{call.method} {call.path}: {self.url} is starting")
        return response.status, body, response.headers.get_all("Set-Cookie") or []

    def _connect(self) -> http.client.HTTPConnection:
        stale = time.monotonic() - self._last_used > IDLE_REUSE
        if self._connection is not None and not stale:
            return self._connection
        self._drop()
        kind = (
            http.client.HTTPSConnection
            if self._parts.scheme == "https"
            else http.client.HTTPConnection
        )
        connection = kind(self._parts.hostname or "", self._parts.port, timeout=self._timeout)
        try:
            connection.connect()
        except OSError as exc:
            raise errors.ConnectFailed(f"cannot connect to {self.url}: {exc}") from None
        self._connection = connection
        return connection

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

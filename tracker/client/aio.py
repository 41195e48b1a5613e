"""``AsyncClient``: the API over aiohttp (already the server's dependency), for asyncio code."""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import TypeVar

import aiohttp

from tracker.client import calls, errors, session
from tracker.client.api import Routes
from tracker.client.endpoints import AsyncCaller
from tracker.client.session import Backoff, Cookies, WorkerIdentity

T = TypeVar("T")
log = logging.getLogger("tracker.client")


class AsyncClient(AsyncCaller, Routes):
    """``async with AsyncClient("http://host:3010", worker=identity) as client: ...``

    One aiohttp session (a pool of ``connections`` keep-alive connections), shared by every
    coroutine that uses this client.
    """

    def __init__(
        self,
        url: str,
        worker: WorkerIdentity | None = None,
        *,
        backoff: Backoff | None = None,
        timeout: float = 30.0,
        connections: int = 100,
    ) -> None:
        self.url = url.rstrip("/")
        self.worker = worker
        self.backoff = backoff or Backoff()
        self.cookies = Cookies()
        self._timeout, self._connections = timeout, connections
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def call(self, call: calls.Call[T]) -> T:
        """Send ``call``, retrying connection errors as ``session.may_retry`` allows."""
        headers = session.headers(call, self.worker, self.cookies)
        delays = self.backoff.delays()
        while True:
            try:
                status, body, set_cookies = await self._send(call, headers)
            except errors.TransportError as exc:
                delay = next(delays, None) if session.may_retry(call, exc) else None
                if delay is None:
                    raise
                log.debug("%s %s: %s; retrying in %.2f s", call.method, call.path, exc, delay)
                await asyncio.sleep(delay)
                continue
            self.cookies.update(set_cookies)
            return calls.result(call, calls.answer_of(status, body))

    async def _send(self, call: calls.Call[T], headers: dict) -> tuple[int, bytes, list[str]]:
        http = self._session()
        try:
            async with http.request(
                call.method, self.url + call.path, data=call.body, headers=headers
            ) as response:
                body = await response.read()
                status, retry_after = response.status, response.headers.get("Retry-After")
                cookies = response.headers.getall("Set-Cookie", [])
        except aiohttp.ClientConnectorError as exc:
            raise errors.ConnectFailed(f"cannot connect to {self.url}: {exc.os_error}") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise errors.ConnectionLost(
                f"{call.method} {call.path}: no answer ({type(exc).__name__}: {exc})"
            ) from None
        if session.not_serving_yet(status, retry_after):
            raise errors.ConnectFailed(f"{call.method} {call.path}: {self.url} is starting")
        return status, body, cookies

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                cookie_jar=aiohttp.DummyCookieJar(),  # ours (``Cookies``) also works on IPs
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            )
        return self._http

"""``tracker serve``'s server: listen first, answer health checks while the log replays, serve
until SIGINT or SIGTERM, and stop (exit status 1) when the log fails.

The socket is bound before anything is opened, so an address that cannot be used is refused
at once, and a load balancer sees ``/readyz`` 503 during a long replay instead of a refused
connection. A small app (``routes.health.starting_app``) answers on a duplicate of the
socket meanwhile; once the tracker is open the worker lane takes the socket over (connections
waiting in the backlog are served by it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Callable

from aiohttp import web

from tracker.http.keys import READINESS
from tracker.http.lane import IDLE_TIMEOUT, LaneSite
from tracker.http.routes.health import starting_app

log = logging.getLogger(__name__)


class ListenError(Exception):
    """The address to serve on cannot be listened on (in use, not ours, not resolvable)."""


class LogLost(Exception):
    """A group commit failed: the tracker stopped; a restart rebuilds it from the log."""


def listen(host: str, port: int, backlog: int = 1024) -> socket.socket:
    """A non-blocking TCP socket listening on ``host:port`` (port 0: any free port)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(backlog)
        except BaseException:
            sock.close()
            raise
    except OSError as exc:  # gaierror included; worded as uvloop words it
        reason = exc.strerror or (os.strerror(exc.errno) if exc.errno else str(exc))
        raise ListenError(f"cannot listen on {host}:{port}: {reason}") from None
    sock.setblocking(False)
    return sock


async def serve(app: web.Application, host: str, port: int,
                announce: Callable[[str], None] = lambda _: None) -> None:  # fmt: skip
    """Serve ``app`` until SIGINT or SIGTERM, then close it: the app's cleanup writes every
    queued event before the process ends. ``announce`` gets the address once listening."""
    sock = listen(host, port)
    readiness = app[READINESS]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    url = f"http://{host}:{sock.getsockname()[1]}"
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=IDLE_TIMEOUT)
    try:
        if not await _open(runner, sock, stop, url, announce):
            return  # stopped while replaying
        site = LaneSite(runner, host, port, sock=sock)
        await site.start()
        log.info("serving on %s", url, extra={"action": "serving", "url": url})
        await _first(asyncio.ensure_future(stop.wait()),
                     asyncio.ensure_future(readiness.failed.wait()))  # fmt: skip
        if readiness.phase != "failed":
            readiness.phase = "stopping"
    finally:
        await runner.cleanup()
    if readiness.phase == "failed":
        raise LogLost(readiness.reason)


async def _open(runner: web.AppRunner, sock: socket.socket, stop: asyncio.Event, url: str,
                announce: Callable[[str], None]) -> bool:  # fmt: skip
    """Open the app (its log and replay) while the starting app answers; False if stopped."""
    starting = web.AppRunner(starting_app(runner.app[READINESS]), access_log=None)
    await starting.setup()
    try:
        await web.SockSite(starting, sock.dup()).start()
        log.info("listening on %s; opening the log", url, extra={"action": "listening", "url": url})
        announce(url)
        setup = asyncio.ensure_future(runner.setup())
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait((setup, stopped), return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if not setup.done():
            setup.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await setup
            return False
        setup.result()  # its error, if it failed
        return True
    finally:
        await starting.cleanup()


async def _first(*waits: asyncio.Future[object]) -> None:
    """Wait until one of ``waits`` is done; cancel the others."""
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for wait in waits:
        wait.cancel()

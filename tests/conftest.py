"""Shared fixtures: the real app on a real SQLite file, with a clock the test controls."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp import DummyCookieJar
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from tests import postgres
from tests.processes import Servers
from tests.world import MakeClient, World
from tracker import config
from tracker.app import create_app
from tracker.http.lane import LaneSite

LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, LoopFactory] | None:
    """Tests run on asyncio's loop; those marked ``every_loop`` also on uvloop's, if installed."""
    factories: dict[str, LoopFactory] = {"asyncio": asyncio.new_event_loop}
    if item.get_closest_marker("every_loop") is None:
        return factories
    with contextlib.suppress(ImportError):
        import uvloop

        factories["uvloop"] = uvloop.new_event_loop
    return factories


# argon2id at its lowest cost: a hash takes about a millisecond instead of hundreds, so the
# tests can register the many managers they need. The hash is the same algorithm.
CHEAP_PASSWORDS = config.Passwords(argon2_time_cost=1, argon2_memory_cost=8, argon2_parallelism=1)


class Clock:
    """A settable clock: tests move time instead of sleeping."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def pytest_sessionfinish(session: pytest.Session) -> None:
    postgres.drop_all()


@pytest.fixture
async def pg_dsn() -> AsyncIterator[str]:
    """A PostgreSQL log of the test's own (tests/postgres.py); skipped without a server,
    failed in CI."""
    async for dsn in postgres.fresh_dsn():
        yield dsn


@pytest.fixture
def settings(data_dir: Path) -> config.Settings:
    """The tracker's settings for a test: its own data directory, any free port, deadlines
    expired by hand, and cheap password hashing (the same algorithm)."""
    return config.build(
        {
            "database": {"data_dir": str(data_dir)},
            "server": {"address": "127.0.0.1:0"},
            "maintenance": {"reset_timed_out_tasks_interval": "1h"},  # tests expire by hand
            "passwords": msgspec.structs.asdict(CHEAP_PASSWORDS),
        }
    )


class LaneServer(TestServer):
    """The app served as ``tracker serve`` serves it: connections start in the worker lane,
    and everything but the task routes is handed to aiohttp."""

    async def start_server(self, loop: Any = None, **kwargs: Any) -> None:
        if self.runner:
            return
        self.runner = await self._make_runner(**kwargs)
        await self.runner.setup()
        site = LaneSite(self.runner, self.host, 0)
        await site.start()
        self.port = site.port
        self.scheme = "http"
        self._root = URL(f"http://{self.host}:{self.port}")


@pytest.fixture
def make_client(aiohttp_client: Any, settings: config.Settings, clock: Clock) -> MakeClient:
    """Start the real app (again, after a restart) on the same data directory, served as
    ``tracker serve`` serves it.

    A new connection for every request: a connection that served any other route belongs to
    aiohttp from then on, and each task request should go through the lane as a worker's does.
    The client keeps no cookies: every request names its caller (tests/world.py).
    """

    async def make(app_settings: config.Settings | None = None) -> TestClient:
        app = create_app(app_settings or settings, clock=clock)
        connector = aiohttp.TCPConnector(force_close=True)
        client = await aiohttp_client(LaneServer(app), connector=connector,
                                      cookie_jar=DummyCookieJar())  # fmt: skip
        return client  # type: ignore[no-any-return]

    return make


@pytest.fixture
async def bare_world(make_client: MakeClient) -> World:
    """A tracker over HTTP that nobody has used yet (tests/world.py)."""
    return await World.start(make_client)


@pytest.fixture
async def world(bare_world: World) -> World:
    """The admin, a project and two workers granted access to it (``World.open``)."""
    return await bare_world.open()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    """``tracker serve`` processes (tests/processes.py): ``servers.start("node-a", ...)``;
    whatever is still running when the test ends is stopped."""
    started = Servers(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()

"""Shared fixtures: the real app on a real SQLite file, with a clock the test controls."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from tests import postgres
from tests.world import World
from tracker import config
from tracker.http.app import create_app
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


MakeClient = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def make_client(aiohttp_client: Any, settings: config.Settings, clock: Clock) -> MakeClient:
    """Start the real app (again, after a restart) on the same data directory.

    A new connection for every request: a connection that served any other route belongs to
    aiohttp from then on, and each task request should go through the lane as a worker's does.
    """

    async def make(
        app_settings: config.Settings | None = None, **client_options: Any
    ) -> TestClient:
        app = create_app(app_settings or settings, clock=clock)
        return await serve(aiohttp_client, app, **client_options)

    return make


async def serve(aiohttp_client: Any, app: web.Application, **client_options: Any) -> TestClient:
    """A test client of ``app`` served as ``tracker serve`` serves it (see ``make_client``)."""
    connector = aiohttp.TCPConnector(force_close=True)
    client = await aiohttp_client(LaneServer(app), connector=connector, **client_options)
    return client  # type: ignore[no-any-return]


@pytest.fixture
async def client(make_client: MakeClient) -> TestClient:
    return await make_client()


class Api:
    """A small test client speaking the tracker's HTTP API, as a real client would."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    async def call(self, method: str, path: str, json: Any = None, *, worker: dict | None = None,
                   status: int | None = None, **kwargs: Any) -> dict:  # fmt: skip
        headers = _worker_headers(worker) if worker else {}
        response = await self.client.request(method, path, json=json, headers=headers, **kwargs)
        body = await response.json() if response.status != 204 else {}
        if status is not None:
            assert response.status == status, (response.status, body)
        return body

    async def register(self, username: str = "admin", password: str = "password1") -> dict:
        return await self.call("POST", "/register", {"username": username, "password": password},
                               status=200)  # fmt: skip

    async def login(self, username: str, password: str = "password1") -> dict:
        return await self.call("POST", "/login", {"username": username, "password": password},
                               status=200)  # fmt: skip

    async def create_project(self, name: str = "project", **fields: Any) -> int:
        body = await self.call("POST", "/project/create", {"name": name, **fields}, status=200)
        return int(body["content"]["id"])

    async def create_worker(self, alias: str = "worker") -> dict:
        body = await self.call("POST", "/worker/create", {"alias": alias}, status=200)
        return dict(body["content"]["worker"])

    async def grant(
        self, worker: dict, project: int, assign: bool = True, submit: bool = True
    ) -> None:
        """The worker requests access and the logged-in manager accepts it."""
        await self.call("POST", "/project/request_access",
                        {"project": project, "assign": assign, "submit": submit},
                        worker=worker, status=200)  # fmt: skip
        await self.call("POST", f"/project/accept_request/{project}/{worker['id']}", status=200)

    async def submit(
        self, worker: dict, project: int, recipe: str = "recipe", **fields: Any
    ) -> dict:
        body = {"project": project, "recipe": recipe, **fields}
        return await self.call("POST", "/task/submit", body, worker=worker)

    async def assign(self, worker: dict, project: int) -> dict:
        return await self.call("GET", f"/task/get/{project}", worker=worker)

    async def release(self, worker: dict, task_id: int, result: int = 0, **fields: Any) -> dict:
        body = {"task_id": task_id, "result": result, **fields}
        return await self.call("POST", "/task/release", body, worker=worker)


def _worker_headers(worker: dict) -> dict[str, str]:
    return {"X-Worker-Id": str(worker["id"]), "X-Secret": worker["secret"]}


@pytest.fixture
async def bare_world(make_client: MakeClient) -> World:
    """A tracker over HTTP that nobody has used yet (tests/world.py)."""
    return await World.start(make_client)


@pytest.fixture
async def world(bare_world: World) -> World:
    """The admin, a project and two workers granted access to it (``World.open``)."""
    return await bare_world.open()


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client)

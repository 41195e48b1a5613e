"""A cluster node rides out its PostgreSQL restarting: while the server is down it answers
503 with ``Retry-After`` (the envelope) to what needs the log, ``/readyz`` says why and
``/healthz`` that it is up; when the server is back it reconnects by itself and serves again,
without exiting and without losing an acknowledged event.

The server is one of the test's own (``initdb`` in a temporary directory, a free port), so
stopping it disturbs no other test.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import aiohttp
import pytest

from tests.faults.postgres_server import OwnPostgres
from tests.integration.test_sigkill import prepare
from tests.processes import Servers
from tests.waiting import eventually

pytestmark = pytest.mark.slow


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    """A PostgreSQL server of this test's own (skipped without its binaries, failed in CI)."""
    try:
        server = OwnPostgres.create()
    except FileNotFoundError as missing:
        if os.environ.get("CI"):
            pytest.fail(f"{missing}: CI must run the restart test", pytrace=False)
        pytest.skip(str(missing))
    try:
        yield server
    finally:
        server.destroy()


async def answer(session: aiohttp.ClientSession, method: str, url: str,
                 **kwargs: object) -> tuple[int, dict, str | None]:  # fmt: skip
    async with session.request(method, url, **kwargs) as response:  # type: ignore[arg-type]
        return response.status, await response.json(), response.headers.get("Retry-After")


async def test_a_node_rides_out_a_postgresql_restart(
    servers: Servers, own_postgres: OwnPostgres
) -> None:
    node = servers.new("node", database=own_postgres.dsn("restart"),
                       env={"TRACKER_CLUSTER_STATEMENT_TIMEOUT": "3s"})  # fmt: skip
    async with aiohttp.ClientSession() as session:
        await node.astart()
        project, workers = await prepare(session, node.url)
        submit = {"project": project, "recipe": "before"}
        url = node.url + "/task/submit"
        assert (await answer(session, "POST", url, headers=workers[0], json=submit))[0] == 200

        own_postgres.stop()
        down = await answer(session, "POST", url, headers=workers[0], json=submit)
        assert down == (503, {"ok": False, "message": "Storage unavailable"}, "1")
        status, body, _ = await answer(session, "GET", node.url + "/")
        assert status == 503 and not body["ok"]
        status, body, _ = await answer(session, "GET", node.url + "/readyz")
        assert status == 503 and body["message"].startswith("Not ready: "), body
        assert (await answer(session, "GET", node.url + "/healthz"))[0] == 200
        await asyncio.sleep(3)  # the outage's length: the node keeps trying meanwhile
        assert node.running

        own_postgres.start()

        async def serving() -> bool:
            after = {"project": project, "recipe": "after"}
            status, _, _ = await answer(session, "POST", url, headers=workers[1], json=after)
            return status == 200

        await eventually(serving, within=20, every=0.2, what="the node serving again")
        status, body, _ = await answer(session, "GET", node.url + "/readyz")
        assert status == 200, body
        taken = await answer(session, "GET", f"{node.url}/task/get/{project}", headers=workers[0])
        assert taken[1]["content"]["task"]["recipe"] == "before"  # the acknowledged one stayed
    assert node.stop() == 0  # it never exited by itself, and stops cleanly

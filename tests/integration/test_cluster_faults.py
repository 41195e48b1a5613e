"""A cluster node that freezes, loses its sessions or its database holds no one hostage, and
finds its own way back (tracker/cluster/: turns, settling, leader, follower).

Real ``tracker serve`` processes on one PostgreSQL log, and a session of the test's own that
plays the operator (or the fault): it holds a table lock to catch a node at a chosen step of
its turn, then the node is frozen there with SIGSTOP; or it ends a node's sessions with
``pg_terminate_backend``, found by the ``application_name`` every session of a node carries.
Each test ends with the nodes' read models equal to a fresh replay of the log.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from tests.e2e.scripted_run import AUDIT_TOKEN
from tests.integration.test_cluster import replayed, same_models
from tests.integration.test_sigkill import call, prepare
from tests.processes import Server, Servers
from tests.waiting import eventually

pytestmark = pytest.mark.slow

TURN_TIMEOUT = 1.0  # cluster.turn_timeout of these nodes
LEASE = 1.0  # cluster.lease
ENV = {
    "TRACKER_CLUSTER_TURN_TIMEOUT": f"{TURN_TIMEOUT}s",
    "TRACKER_CLUSTER_STATEMENT_TIMEOUT": "3s",
    "TRACKER_CLUSTER_LEASE": f"{LEASE}s",
    "TRACKER_MAINTENANCE_RESET_TIMED_OUT_TASKS_INTERVAL": "0.2s",
    "TRACKER_AUDIT_TOKEN": AUDIT_TOKEN,
    "TRACKER_LOG_LEVEL": "info",
}
LEADS = "this node now runs the scheduler's jobs"


@pytest.fixture
def nodes(servers: Servers, pg_dsn: str) -> list[Server]:
    return [servers.new(f"node-{n}", database=pg_dsn, env=ENV) for n in "ab"]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


@pytest.fixture
async def operator(pg_dsn: str) -> AsyncIterator[Any]:
    """A session of the test's own on the nodes' log (its schema on the search path)."""
    conn = await asyncpg.connect(pg_dsn)
    try:
        yield conn
    finally:
        await conn.close()


def sessions_of(node: Server) -> str:
    return f"application_name LIKE 'tracker % {node.pid}'"


async def waiting_on_a_lock(operator: Any, node: Server) -> bool:
    query = ("SELECT count(*) FROM pg_stat_activity "
             f"WHERE {sessions_of(node)} AND wait_event_type = 'Lock'")  # fmt: skip
    return bool(await operator.fetchval(query))


async def submit(session: aiohttp.ClientSession, node: Server, worker: dict, project: int,
                 recipe: str) -> tuple[int, dict, str | None]:  # fmt: skip
    body = {"project": project, "recipe": recipe}
    async with session.post(node.url + "/task/submit", headers=worker, json=body) as answer:
        return answer.status, await answer.json(), answer.headers.get("Retry-After")


async def ready(session: aiohttp.ClientSession, node: Server) -> bool:
    async with session.get(node.url + "/readyz") as answer:
        return answer.status == 200


async def recipes_in_log(operator: Any) -> list[bytes]:
    rows = await operator.fetch("SELECT data FROM events WHERE type = 'TaskSubmitted'")
    return [row[0] for row in rows]


async def same_as_a_fresh_replay(session: aiohttp.ClientSession, nodes: list[Server],
                                 pg_dsn: str, tmp_path: Path) -> None:  # fmt: skip
    expected = await replayed(pg_dsn, tmp_path / "x")
    for node in nodes:

        async def caught_up(node: Server = node) -> bool:
            token = {"Authorization": f"Bearer {AUDIT_TOKEN}"}
            async with session.get(node.url + "/audit/digest", headers=token) as answer:
                return same_models((await answer.json())["content"], expected)

        await eventually(caught_up, within=10, what=f"{node.name} equal to a fresh replay")


async def test_a_node_frozen_in_its_turn_stalls_the_other_briefly_and_rebuilds_when_it_wakes(
    nodes: list[Server], session: aiohttp.ClientSession, operator: Any, pg_dsn: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    """Node a is caught after deciding a submit and applying it to its read models, its
    INSERT waiting for a table lock the test holds; then frozen (SIGSTOP) and the lock let go.
    a's session, idle in its transaction, is ended by PostgreSQL after the turn timeout, so b
    writes within about that long, at the position a had taken. When a wakes, its commit
    fails; it reads the log, finds b's row where its own would be, rebuilds its read models
    in-process and answers the frozen submit 503 (it is not in the log), without exiting."""
    a, b = nodes
    await a.astart()
    await b.astart()
    project, workers = await prepare(session, a.url)
    await operator.execute("BEGIN; LOCK TABLE events IN SHARE MODE")
    frozen = asyncio.ensure_future(submit(session, a, workers[0], project, "lost-on-a"))
    await eventually(lambda: waiting_on_a_lock(operator, a), within=10, what="a's INSERT waits")
    a.pause()
    try:
        await operator.execute("ROLLBACK")  # a's INSERT runs; a's session, idle, is ended
        started = time.monotonic()
        status, body, _ = await submit(session, b, workers[1], project, "written-on-b")
        stalled = time.monotonic() - started
    finally:
        a.resume()
    assert (status, body) == (200, {"ok": True})
    assert stalled < TURN_TIMEOUT + 2, stalled  # the bound: turn_timeout, plus a round trip
    status, body, retry = await frozen
    assert (status, body["ok"], body["message"], retry) == (503, False, "Storage unavailable", "1")
    await a.line("read models rebuilt from the log", within=15)
    await eventually(lambda: ready(session, a), within=15, what="a ready again")
    assert (await submit(session, a, workers[0], project, "after-on-a"))[0] == 200
    recipes = b"".join(await recipes_in_log(operator))
    assert b"written-on-b" in recipes and b"after-on-a" in recipes
    assert b"lost-on-a" not in recipes  # answered 503: never acknowledged, never in the log
    assert a.running and b.running
    await same_as_a_fresh_replay(session, nodes, pg_dsn, tmp_path)


async def test_a_frozen_scheduler_is_replaced_within_its_lease(
    nodes: list[Server], session: aiohttp.ClientSession, operator: Any
) -> None:
    """The leader is frozen: the other node takes the lease within the lease's length (and
    a try) of the freeze, and expires an assignment of 2 s taken through it; the old leader,
    when it wakes, knows it lost the lease, and nothing is expired twice."""
    a, b = nodes
    await a.astart()
    await a.line(LEADS, within=10)
    await b.astart()
    project, workers = await prepare(session, b.url)
    body = {"project": project, "recipe": "held", "max_assign_time": 2}
    await call(session, "POST", b.url + "/task/submit", headers=workers[0], json=body)
    taken = await call(session, "GET", f"{b.url}/task/get/{project}", headers=workers[0])
    assert taken["content"]["task"]["recipe"] == "held"
    started = time.monotonic()
    a.pause()
    try:
        await b.line(LEADS, within=LEASE + 10)
        replaced = time.monotonic() - started

        async def taken_back() -> bool:  # and closed by another worker
            answer = await call(session, "GET", f"{b.url}/task/get/{project}", headers=workers[1])
            if answer["ok"]:
                closed = {"task_id": answer["content"]["task"]["id"], "result": 0}
                await call(session, "POST", b.url + "/task/release", headers=workers[1],
                           json=closed)  # fmt: skip
            return bool(answer["ok"])

        await eventually(taken_back, within=10, every=0.1, what="b expiring the assignment")
        await asyncio.sleep(3)  # a stays frozen well past its lease (the fault's length)
    finally:
        a.resume()
    assert replaced < LEASE + 1.5, replaced  # its last renewal, the lease, b's next try
    await a.line("no longer runs the scheduler's jobs", within=10)
    expired = await operator.fetchval(
        "SELECT count(*) FROM events WHERE type = 'AssignmentExpired'"
    )
    assert expired == 1
    assert a.running and b.running


async def test_terminated_sessions_are_ridden_out(
    nodes: list[Server], session: aiohttp.ClientSession, operator: Any, pg_dsn: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    """Every session of node a is terminated 30 times while clients submit through it: each
    request is answered 200 or 503 with Retry-After (never 500, never a hang), a stays up,
    serves again, and its read models are the log's."""
    a, b = nodes
    await a.astart()
    await b.astart()
    project, workers = await prepare(session, a.url)
    statuses: list[int] = []
    acknowledged: list[str] = []
    done = asyncio.Event()

    async def client(worker: dict, name: str) -> None:
        n = 0
        while not done.is_set():
            n += 1
            status, body, retry = await asyncio.wait_for(
                submit(session, a, worker, project, f"{name}-{n}"), timeout=15
            )
            statuses.append(status)
            if status == 200:
                acknowledged.append(f"{name}-{n}")
            else:
                assert (status, body["ok"], retry) == (503, False, "1"), (status, body)

    clients = [asyncio.ensure_future(client(w, f"c{i}")) for i, w in enumerate(workers[:4])]
    try:
        for _ in range(30):
            await operator.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   f"WHERE {sessions_of(a)}")  # fmt: skip
            await asyncio.sleep(0.1)  # the pace of the faults, not a wait for a condition
            assert a.running
    finally:
        done.set()
        await asyncio.gather(*clients)
    assert statuses.count(200) > 0 and set(statuses) <= {200, 503}
    await eventually(lambda: ready(session, a), within=15, what="a ready again")
    assert (await submit(session, a, workers[0], project, "after"))[0] == 200
    recipes = b"".join(await recipes_in_log(operator))
    assert all(recipe.encode() in recipes for recipe in acknowledged)
    assert a.running and b.running
    await same_as_a_fresh_replay(session, nodes, pg_dsn, tmp_path)


async def test_a_read_that_cannot_reach_the_log_gets_503_within_the_statement_timeout(
    nodes: list[Server], session: aiohttp.ClientSession, operator: Any
) -> None:
    """The log is locked against reads (ACCESS EXCLUSIVE): a read on a node waits for its
    head query no longer than cluster.statement_timeout, then gets 503 with Retry-After, and
    /readyz says why; once the lock is gone the node serves again."""
    a, _ = nodes
    await a.astart()
    await operator.execute("BEGIN; LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
    try:
        started = time.monotonic()
        async with session.get(a.url + "/") as answer:
            waited = time.monotonic() - started
            assert answer.status == 503, await answer.text()
            assert answer.headers["Retry-After"] == "1"
    finally:
        await operator.execute("ROLLBACK")
    assert waited < 3 + 2, waited
    await eventually(lambda: ready(session, a), within=10, what="a ready again")
    assert a.running


async def test_a_log_that_does_not_continue_the_read_models_stops_the_node_in_one_line(
    nodes: list[Server], session: aiohttp.ClientSession, operator: Any
) -> None:
    """Rows the node folded are taken out of the log behind its back (the append-only
    trigger disabled): its next turn finds the log shorter than its read models. That is no
    fault to ride out: the write is answered 503, and the node exits with status 1 and one
    line naming the positions, no traceback."""
    a, _ = nodes
    await a.astart()
    project, workers = await prepare(session, a.url)
    head = await operator.fetchval("SELECT max(position) FROM events")
    await operator.execute("ALTER TABLE events DISABLE TRIGGER events_no_update; "
                           f"DELETE FROM events WHERE position > {head - 2}")  # fmt: skip
    status, body, _ = await submit(session, a, workers[0], project, "after the cut")
    assert (status, body["ok"]) == (503, False)
    assert a.wait() == 1
    last = a.stderr.strip().splitlines()[-1]
    assert last == (
        f"tracker: the event log failed (LogInconsistent: read models at {head}, the log at "
        f"{head - 2}); stopped (a restart rebuilds the tracker from the log)"
    ), a.stderr[-2000:]
    assert "Traceback" not in a.stderr

"""The worker lane (``tracker.http.lane``) on raw sockets: HTTP/1.1 framing, keep-alive,
pipelining, and the hand-off of every other request to aiohttp on the same connection.

The rest of the e2e suite runs through the lane too (one connection per request); these tests
write bytes as real clients do, including the awkward ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.waiting import eventually
from tests.world import World, amend
from tracker import config
from tracker.http import lane, metrics

pytestmark = pytest.mark.every_loop

LIMIT = 1 << 20  # server.max_body_size in these tests


@pytest.fixture
def settings(settings: config.Settings) -> config.Settings:
    return amend(settings, server={"max_body_size": LIMIT})


class Answer:
    def __init__(self, head: bytes, body: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        self.status_line = lines[0]
        self.status = int(lines[0].split()[1])
        self.headers = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines[1:])}
        self.field_lines = [line for line in lines[1:] if not line.startswith("Date: ")]
        self.body = body

    @property
    def json(self) -> dict:
        return dict(json.loads(self.body))


class Conn:
    """One raw keep-alive connection to the test server."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def answer(self) -> Answer:
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 5)
        found = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        body = await self.reader.readexactly(int(found[1])) if found else b""
        return Answer(head[:-4], body)

    async def closed(self) -> bool:
        return await asyncio.wait_for(self.reader.read(1), 5) == b""


@pytest.fixture
async def connect(world: World) -> AsyncIterator[Callable[[], Awaitable[Conn]]]:
    """Open raw connections to the test server; all are closed at the end of the test."""
    opened: list[Conn] = []

    async def open_one() -> Conn:
        port = world.client.server.port
        assert port is not None
        opened.append(Conn(*await asyncio.open_connection("127.0.0.1", port)))
        return opened[-1]

    yield open_one
    for conn in opened:
        conn.writer.close()
        with contextlib.suppress(OSError):
            await conn.writer.wait_closed()


Connect = Callable[[], Awaitable[Conn]]


def request(world: World, method: str, path: str, body: dict | bytes | None = None,
            extra: str = "", version: str = "1.1") -> bytes:  # fmt: skip
    data = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    worker = world.worker.worker
    return (
        f"{method} {path} HTTP/{version}\r\nHost: tracker\r\n"
        f"X-Worker-Id: {worker['id']}\r\nX-Secret: {worker['secret']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n{extra}\r\n"
    ).encode() + data


def submit(world: World, recipe: str = "r", **extra: str) -> bytes:
    return request(world, "POST", "/task/submit", {"project": world.project, "recipe": recipe},
                   **extra)  # fmt: skip


def answers_counted(world: World, route: str) -> int:
    """How many answers the tracker counted for ``route``, by the lane or by aiohttp."""
    counted = world.client.server.app[metrics.METRICS]  # type: ignore[union-attr]
    return sum(n for (_, r, _), n in counted.requests.items() if r == route)


async def test_a_worker_loop_on_one_connection(world: World, connect: Connect) -> None:
    conn = await connect()
    await conn.send(submit(world, "first"))
    assert (await conn.answer()).json == {"ok": True}
    await conn.send(request(world, "GET", f"/task/get/{world.project}"))
    got = await conn.answer()
    task = got.json["content"]["task"]
    assert (got.status, task["recipe"]) == (200, "first")
    await conn.send(request(world, "POST", "/task/release", {"task_id": task["id"], "result": 0}))
    assert (await conn.answer()).json == {"ok": True, "content": {"updated": True}}
    assert world.tracker.state.tasks.get(task["id"]) is None


async def test_answers_match_aiohttps_byte_for_byte_but_the_date(
    world: World, connect: Connect
) -> None:
    """The same requests, first in the lane, then on a connection aiohttp took over (a
    request for ``/`` hands it over): same status line, header fields and body."""
    tasks = world.tracker.state.tasks
    cases = [
        submit(world),
        request(world, "POST", "/task/submit", {"project": 999, "recipe": "x"}),
        request(world, "POST", "/task/submit", {"project": world.project, "priority": 70000}),
        b"POST /task/submit HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}",
        request(world, "GET", "/task/get/0"),
        request(world, "GET", "/task/get/abc"),
        request(world, "POST", "/task/release", {"task_id": 12345, "result": 0}),
        request(world, "POST", "/task/release", {"task_id": 0}),
        request(world, "GET", "/task/bulk_get/999?count=5"),
        request(world, "GET", "/task/bulk_get/999?count=%30"),
        request(world, "GET", "/task/bulk_get/999?a=1&count=%32&count=3"),
        request(world, "GET", "/task/bulk_get/999?count=2+"),
        request(world, "POST", "/task/bulk_release", {"releases": [{"task_id": 5, "result": 0}]}),
        request(world, "POST", "/task/bulk_release", {"releases": [{"task_id": 5, "result": 9}]}),
        request(world, "POST", "/task/touch", {"task_id": 5}),
        request(world, "POST", "/task/touch", {"task_id": 5, "seconds": 10**9}),
    ]
    in_lane, in_aiohttp = await connect(), await connect()
    await in_aiohttp.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (await in_aiohttp.answer()).status == 200
    for case in cases:
        await in_lane.send(case)
        first = await in_lane.answer()
        await in_aiohttp.send(case)
        second = await in_aiohttp.answer()
        assert (first.status_line, first.field_lines, first.body) == (
            second.status_line, second.field_lines, second.body), case  # fmt: skip
    assert len(tasks.tasks) == 2  # one valid submit on each connection


async def test_a_batch_worker_loop_on_one_connection(world: World, connect: Connect) -> None:
    conn = await connect()
    for recipe in ("a", "b", "c"):
        await conn.send(submit(world, recipe))
        assert (await conn.answer()).json == {"ok": True}
    await conn.send(request(world, "GET", f"/task/bulk_get/{world.project}?count=2"))
    tasks = (await conn.answer()).json["content"]["tasks"]
    assert [t["recipe"] for t in tasks] == ["a", "b"]
    await conn.send(request(world, "POST", "/task/touch", {"task_id": tasks[0]["id"]}))
    assert (await conn.answer()).status == 200
    releases = [{"task_id": t["id"], "result": 0} for t in tasks]
    await conn.send(request(world, "POST", "/task/bulk_release", {"releases": releases}))
    answered = (await conn.answer()).json["content"]["tasks"]
    assert [a["outcome"] for a in answered] == ["closed", "closed"]
    served = sum(answers_counted(world, route) for route in
                 ("/task/bulk_get/{project}", "/task/bulk_release", "/task/touch"))  # fmt: skip
    assert served == 3


async def test_pipelined_requests_are_answered_in_order(world: World, connect: Connect) -> None:
    conn = await connect()
    await conn.send(b"".join(submit(world, f"r{n}") for n in range(5)))
    assert [(await conn.answer()).json for _ in range(5)] == [{"ok": True}] * 5
    recipes = [t.recipe for t in world.tracker.state.tasks.tasks.values()]
    assert recipes == [f"r{n}" for n in range(5)]


async def test_a_request_arriving_a_byte_at_a_time(world: World, connect: Connect) -> None:
    conn = await connect()
    for byte in submit(world, "slow"):
        await conn.send(bytes([byte]))
    assert (await conn.answer()).json == {"ok": True}


async def test_other_routes_hand_the_connection_to_aiohttp_mid_stream(
    world: World, connect: Connect
) -> None:
    conn = await connect()
    before = answers_counted(world, "/task/submit")
    await conn.send(submit(world) + request(world, "GET", f"/worker/get/{world.worker.id}")
                    + submit(world))  # fmt: skip
    assert (await conn.answer()).json == {"ok": True}
    assert (await conn.answer()).json["content"]["worker"]["alias"] == "worker 1"
    assert (await conn.answer()).json == {"ok": True}
    assert answers_counted(world, "/task/submit") == before + 2
    assert len(world.tracker.state.tasks.tasks) == 2


@pytest.mark.parametrize(
    ("extra", "version", "status"),
    [
        ("", "1.0", 200),  # HTTP/1.0: aiohttp answers it and closes
        ("Expect: 100-continue\r\n", "1.1", 200),
        ("Content-Length: 5\r\n", "1.1", 400),  # two lengths: aiohttp refuses the request
        ("Transfer-Encoding: chunked\r\n", "1.1", 400),  # with a length: refused as well
    ],
)
async def test_framing_the_lane_leaves_to_aiohttp(world: World, connect: Connect, extra: str,
                                                  version: str, status: int) -> None:  # fmt: skip
    conn = await connect()
    await conn.send(submit(world, extra=extra, version=version))
    answer = await conn.answer()
    if answer.status == 100:
        answer = await conn.answer()
    assert answer.status == status
    assert len(world.tracker.state.tasks.tasks) == (status == 200)


async def test_a_chunked_submit_is_served_by_aiohttp(world: World, connect: Connect) -> None:
    body = json.dumps({"project": world.project, "recipe": "chunked"}).encode()
    worker = world.worker.worker
    conn = await connect()
    await conn.send(
        f"POST /task/submit HTTP/1.1\r\nHost: t\r\nX-Worker-Id: {worker['id']}\r\n"
        f"X-Secret: {worker['secret']}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    )
    assert (await conn.answer()).json == {"ok": True}
    [task] = world.tracker.state.tasks.tasks.values()
    assert task.recipe == "chunked"


async def test_an_oversize_body_gets_the_413_envelope(world: World, connect: Connect) -> None:
    conn = await connect()
    await conn.send(submit(world, "x" * LIMIT))
    answer = await conn.answer()
    assert answer.status == 413
    message = f"Request body too large: the limit is {LIMIT} bytes"
    assert answer.json == {"ok": False, "message": message}
    assert not world.tracker.state.tasks.tasks


async def test_malformed_heads_get_aiohttps_400_and_nothing_is_appended(
    world: World, connect: Connect
) -> None:
    position = world.tracker.state.position
    for head in [
        b"POST /task/submit HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}",  # no Host
        b"POST /task/submit HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n",
        b"POST /task/submit HTTP/1.1\r\nHost: t\r\n folded: x\r\n\r\n",
        b"POST /task/submit HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n",
        b"POST /task/submit HTTP/1.1\r\nHost: t\nContent-Length: 0\r\n\r\n",
        b"POST /task/submit HTTP/1.1\r\nHost: t\r\nHost: u\r\nContent-Length: 0\r\n\r\n",
        b"POST /task/submit HTTP/1.1\r\nHost: t\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n",
        b"POST /task/submit?" + b"q" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
        b"POST /task/submit HTTP/1.1\r\nHost: t\r\n" + b"X-Many: 1\r\n" * 200 + b"\r\n",
        # 60,000 spaces inside a value: once quadratic for the lane's header pattern
        b"POST /task/submit HTTP/1.1\r\nHost: t\r\nX-A: a" + b" " * 60_000 + b"b\r\n\r\n",
    ]:
        conn = await connect()
        await conn.send(head)
        assert (await conn.answer()).status == 400, head
        assert world.tracker.state.position == position


async def test_paths_the_lane_does_not_know_exactly(world: World, connect: Connect) -> None:
    """Each on a fresh connection, so the lane sees it first and must hand it to aiohttp."""
    encoded = "".join(f"%{byte:02X}" for byte in str(world.project).encode())
    for path in [
        f"/task/get/{encoded}",  # percent-encoded: aiohttp decodes it and routes it
        f"/task/get/{world.project}#x",  # a fragment: aiohttp drops it (not part of the id)
    ]:
        conn = await connect()
        await conn.send(submit(world) + request(world, "GET", path))
        assert (await conn.answer()).status == 200
        assert (await conn.answer()).json["content"]["task"]["recipe"] == "r", path
    conn = await connect()
    await conn.send(request(world, "GET", "/task/submit"))  # wrong method: aiohttp's 404
    assert (await conn.answer()).status == 404


async def test_connection_close_is_honoured(world: World, connect: Connect) -> None:
    conn = await connect()
    await conn.send(submit(world, extra="Connection: close\r\n"))
    answer = await conn.answer()
    assert (answer.status, answer.headers["connection"]) == (200, "close")
    assert await conn.closed()


async def test_a_client_that_half_closes_still_gets_its_answers(
    world: World, connect: Connect
) -> None:
    conn = await connect()
    await conn.send(submit(world, "a") + submit(world, "b"))
    conn.writer.write_eof()
    assert [(await conn.answer()).status for _ in range(2)] == [200, 200]
    assert await conn.closed()
    assert len(world.tracker.state.tasks.tasks) == 2


async def test_idle_connections_are_closed(world: World, connect: Connect,
                                           monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr(lane, "IDLE_TIMEOUT", 0.0)
    conn = await connect()
    await conn.send(submit(world))
    assert (await conn.answer()).status == 200
    site = next(iter(world.client.server.runner.sites))  # type: ignore[union-attr]
    assert isinstance(site, lane.LaneSite)
    site.sweep()
    assert await conn.closed()


def test_the_lane_serves_exactly_the_task_routes() -> None:
    assert lane.ROUTES.match(b"POST", b"/task/submit") is not None
    assert lane.ROUTES.match(b"POST", b"/task/bulk_submit") is not None
    assert lane.ROUTES.match(b"POST", b"/task/release") is not None
    route, params = lane.ROUTES.match(b"GET", b"/task/get/12")  # type: ignore[misc]
    assert (route.template, params) == ("/task/get/{project}", {"project": "12"})
    route, params = lane.ROUTES.match(b"GET", b"/task/bulk_get/3")  # type: ignore[misc]
    assert (route.template, params) == ("/task/bulk_get/{project}", {"project": "3"})
    assert lane.ROUTES.match(b"POST", b"/task/bulk_release") is not None
    assert lane.ROUTES.match(b"POST", b"/task/touch") is not None
    for method, path in [(b"GET", b"/task/submit"), (b"POST", b"/task/get/1"),
                         (b"GET", b"/task/get/"), (b"GET", b"/task/get/1/2"),
                         (b"GET", b"/task/get/%31"), (b"GET", b"/"),
                         (b"POST", b"/task/submit/")]:  # fmt: skip
        assert lane.ROUTES.match(method, path) is None, (method, path)


async def test_a_client_that_stops_reading_is_paused_not_buffered(
    world: World, connect: Connect
) -> None:
    """While the transport says the client's answers pile up unread (``pause_writing``), the
    lane serves nothing more and stops reading; on ``resume_writing`` it serves the rest."""
    conn = await connect()
    await conn.send(submit(world, "first"))
    assert (await conn.answer()).status == 200
    site = next(iter(world.client.server.runner.sites))  # type: ignore[union-attr]
    assert isinstance(site, lane.LaneSite)
    [connection] = site.connections
    connection.pause_writing()  # what the transport calls when its write buffer is full
    await conn.send(b"".join(submit(world, f"{n}") for n in range(5)))
    assert (await conn.answer()).status == 200  # the one already taken when the pause came
    await eventually(lambda: connection.idle, what="the lane done with that one")
    tasks = world.tracker.state.tasks.tasks  # and four requests wait, unserved, in its buffer
    assert len(tasks) == 2
    connection.resume_writing()
    assert [(await conn.answer()).status for _ in range(4)] == [200] * 4
    assert [task.recipe for task in tasks.values()] == ["first", "0", "1", "2", "3", "4"]


async def test_a_large_request_pipelined_behind_a_small_one(world: World, connect: Connect) -> None:
    """The second body arrives while the first is served: reading pauses at the high-water
    mark and must resume for the rest of it."""
    big = [{"project": world.project, "recipe": "x" * 300} for _ in range(1500)]
    body = json.dumps({"requests": big}).encode()
    assert lane.HIGH_WATER < len(body) <= LIMIT
    conn = await connect()
    await conn.send(submit(world, "small") + request(world, "POST", "/task/bulk_submit", body))
    assert [(await conn.answer()).status for _ in range(2)] == [200, 200]
    assert len(world.tracker.state.tasks.tasks) == 1 + len(big)


async def test_a_half_closed_connection_handed_to_aiohttp_is_closed(
    world: World, connect: Connect
) -> None:
    conn = await connect()
    await conn.send(submit(world) + request(world, "GET", f"/worker/get/{world.worker.id}"))
    conn.writer.write_eof()
    assert [(await conn.answer()).status for _ in range(2)] == [200, 200]
    assert await conn.closed()

"""The worker lane against aiohttp, on generated requests: the same bytes in, the same bytes out.

Each case is written on a fresh connection, which starts in the lane, and on a connection that
aiohttp already owns (a ``GET /`` first hands it over). Whatever the lane serves, hands over or
waits for, the client must not be able to tell: same status lines, header fields (but the
date), bodies and number of answers.

The requests come from a seeded generator (so a failure names a reproducible case): task
routes and others, odd methods, versions and targets, valid and broken ``Content-Length``,
``Transfer-Encoding``, ``Expect``, ``Connection``, ``Cookie``, repeated and malformed fields,
bare LF line ends, oversize lines, short or long bodies, and a second request pipelined behind
the first.
The worker has no access to the project, so every task request is refused the same way on
both sides and nothing changes between the two runs of a case.
"""

from __future__ import annotations

import asyncio
import json
import random
import re

import pytest

from tests.world import World, amend
from tracker import config
from tracker.http import lane
from tracker.http.framing import Framer, HandOff

pytestmark = pytest.mark.every_loop

CASES = 150
SEED = 20261128
LIMIT = 2048  # server.max_body_size: some generated bodies are over it
QUIET = 0.3  # seconds without a byte after which a side is taken to have answered all
AT_ONCE = 15  # cases run side by side (each on its own connections; nothing they do changes state)


@pytest.fixture
def settings(settings: config.Settings) -> config.Settings:
    return amend(settings, server={"max_body_size": LIMIT})


def generate(rng: random.Random, worker: dict) -> bytes:
    """About half of the cases are requests the lane serves; the rest are near misses."""
    eol = b"\r\n" if rng.random() < 0.97 else b"\n"
    method, target = rng.choice([
        (b"POST", b"/task/submit"), (b"POST", b"/task/release"), (b"POST", b"/task/bulk_submit"),
        (b"GET", b"/task/get/1"), (b"GET", b"/task/get/2"), (b"GET", b"/task/get/0"),
        (b"GET", b"/task/get/x"), (b"POST", b"/task/submit?a=1&b"),
        (b"GET", b"/task/get/" + b"9" * 25), (b"GET", b"/task/bulk_get/1?count=3"),
        (b"GET", b"/task/bulk_get/1?count=x&count=2"), (b"GET", b"/task/bulk_get/1"),
        (b"GET", b"/task/bulk_get/1?count=%C3%A9"), (b"GET", b"/task/bulk_get/1?count=\xc3\xa9"),
        (b"POST", b"/task/bulk_release"), (b"POST", b"/task/touch"),
    ] * 3 + [
        (b"PUT", b"/task/submit"), (b"HEAD", b"/task/get/1"), (b"get", b"/task/get/1"),
        (b"OPTIONS", b"/task/submit"), (b"GET", b"/task/submit"), (b"POST", b"/task/get/1"),
        (b"GET", b"/task/get/1/"), (b"GET", b"/task/get/%31"), (b"GET", b"/task/get/1#f"),
        (b"POST", b"/task/submit/"), (b"GET", b"/"), (b"GET", b"/worker/get/1"),
        (b"POST", b"http://t/task/submit"), (b"POST", b"/task/submit?" + b"q" * 9000),
    ])  # fmt: skip
    version = rng.choice([b"HTTP/1.1"] * 12 + [b"HTTP/1.0", b"HTTP/2.0", b"http/1.1"])
    gap = rng.choice([b" "] * 19 + [b"  "])
    body = rng.choice([
        json.dumps({"project": 1, "recipe": "r"}).encode(),
        json.dumps({"project": 2, "recipe": "r", "priority": 70000}).encode(),
        json.dumps({"task_id": 5, "result": 0}).encode(),
        json.dumps({"requests": [{"project": 1, "recipe": "r"}]}).encode(),
        json.dumps({"releases": [{"task_id": 5, "result": 0}]}).encode(),
        json.dumps({"task_id": 5, "seconds": 5}).encode(),
        b"{}", b"{bad", b"", b"null", b"x" * (LIMIT + 10),
    ])  # fmt: skip
    fields: list[tuple[bytes, bytes]] = []
    if rng.random() < 0.95:
        fields.append((b"Host", b"t"))
    if rng.random() < 0.9:
        fields += [(b"X-Worker-Id", str(worker["id"]).encode()),
                   (b"X-Secret", worker["secret"].encode())]  # fmt: skip
    length = rng.random()
    if length < 0.8:
        fields.append((b"Content-Length", str(len(body)).encode()))
    elif length < 0.84:
        fields.append((b"Content-Length", b"+%d" % len(body)))
    elif length < 0.88:
        fields.append((b"Content-Length", b"0%d" % len(body)))
    elif length < 0.92:
        fields += [(b"Content-Length", b"%d" % len(body))] * 2
    elif length < 0.97:  # lower case, and a body cut to it (bytes past a body are another
        body = body[:-1]  # request; aiohttp's answer to those depends on packet boundaries)
        fields.append((b"content-length", str(len(body)).encode()))
    else:  # no length: no body either, for the same reason (aiohttp, given the head and such
        body = b""  # bytes in one read, answers only their error; the lane answers both)
    for _ in range(rng.choice([0, 0, 0, 1, 2])):
        fields.append(rng.choice([
            (b"Transfer-Encoding", b"chunked"), (b"Expect", b"100-continue"),
            (b"Connection", b"close"), (b"Connection", b"keep-alive, Upgrade"),
            (b"Connection", b"keep-alive"), (b"Upgrade", b"websocket"), (b"Bad Name", b"x"),
            (b" Folded", b"x"), (b"Host", b"u"), (b"X-Nul", b"a\x00b"),
            (b"X-Spaces", b"  a  b  "), (b"X-Obs", b"\xff\xfe"), (b"X-Long", b"a" * 9000),
            (b"X-Worker-Id", b"2"), (b"X-Empty", b""), (b"X-Tab", b"\ta\t"),
            (b"Content-Type", b"application/json"), (b"Accept", b"*/*"), (b"Cookie", b"tt=x"),
        ]))  # fmt: skip
    rng.shuffle(fields)
    head = method + gap + target + b" " + version + eol
    head += b"".join(name + b": " + value + eol for name, value in fields) + eol
    data = head + body
    if rng.random() < 0.3:  # a second request behind it
        data += (b"GET /task/get/1 HTTP/1.1\r\nHost: t\r\nX-Worker-Id: %d\r\nX-Secret: %s\r\n"
                 b"\r\n" % (worker["id"], worker["secret"].encode()))  # fmt: skip
    return data


_DATE = re.compile(rb"\r\nDate: [^\r\n]*")


async def exchange(port: int, data: bytes, *, handed_over: bool) -> bytes:
    """Everything the server sends back for ``data``, until it is quiet or closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        if handed_over:
            writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"Content-Length: (\d+)", head)[1])  # type: ignore[index]
            await reader.readexactly(length)
        writer.write(data)
        received = b""
        while True:
            try:
                chunk = await asyncio.wait_for(reader.read(65536), QUIET)
            except TimeoutError:
                break
            if not chunk:
                break
            received += chunk
        return _DATE.sub(b"", received)
    finally:
        writer.close()


async def test_the_lane_answers_every_generated_request_as_aiohttp_does(
    bare_world: World,
) -> None:
    world = await bare_world.open(workers=0, name="p")
    worker = await world.new_worker("fuzz")  # no access to the project
    port = world.client.server.port
    assert port is not None
    rng = random.Random(SEED)
    cases = [generate(rng, dict(worker.worker)) for _ in range(CASES)]

    async def both(data: bytes) -> tuple[bytes, bytes]:
        return await asyncio.gather(exchange(port, data, handed_over=False),
                                    exchange(port, data, handed_over=True))  # fmt: skip

    answered = 0
    for start in range(0, CASES, AT_ONCE):
        batch = cases[start : start + AT_ONCE]
        for offset, (lane_answer, aiohttp_answer) in enumerate(
            await asyncio.gather(*(both(data) for data in batch))
        ):
            data = batch[offset]
            assert lane_answer == aiohttp_answer, (start + offset, data[:300], lane_answer[:400],
                                                   aiohttp_answer[:400])  # fmt: skip
            answered += lane_answer != b""
    served = sum(_lane_serves(data) for data in cases)
    assert served > CASES // 4  # the lane served many cases itself, not only handed them over
    assert answered > CASES * 0.9  # and the comparisons were of answers, not of silences


def _lane_serves(data: bytes) -> bool:
    try:
        head = Framer(lane.ROUTES, LIMIT).frame(bytearray(data))
    except HandOff:
        return False
    return head is not None

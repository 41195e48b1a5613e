"""The worker lane's framer (llhttp through httptools): where each request ends, whatever the
chunks the bytes arrive in, and what it leaves to aiohttp."""

from __future__ import annotations

import random

import pytest

from tracker.http import lane
from tracker.http.framing import MAX_HEAD, Framer, HandOff, Head

BODY = b'{"project": 1, "recipe": "r"}'
SUBMIT = b"POST /task/submit HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s" % (
    len(BODY), BODY
)  # fmt: skip
GET = b"GET /task/get/7?x=1 HTTP/1.1\r\nHost: t\r\nX-Worker-Id: 3\r\n\r\n"
RELEASE = b"POST /task/release HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}"


def frames_of(stream: bytes, chunks: list[int]) -> list[Head]:
    """Frame ``stream`` arriving in chunks of the given sizes, as the lane does."""
    framer, buffer, found = Framer(lane.ROUTES, 1024), bytearray(), []
    position = 0
    for size in [*chunks, len(stream)]:
        buffer += stream[position : position + size]
        position += size
        while (head := framer.frame(buffer)) is not None:
            found.append(head)
            del buffer[: head.size]
    assert not buffer
    return found


@pytest.mark.parametrize("seed", range(20))
def test_pipelined_requests_are_framed_the_same_in_any_chunks(seed: int) -> None:
    stream = SUBMIT + GET + RELEASE
    rng = random.Random(seed)
    heads = frames_of(stream, [rng.randint(1, 12) for _ in range(len(stream))])
    assert [(h.route.template, h.path, dict(h.params), h.body) for h in heads] == [
        ("/task/submit", "/task/submit", {}, BODY),
        ("/task/get/{project}", "/task/get/7", {"project": "7"}, b""),
        ("/task/release", "/task/release", {}, b"{}"),
    ]
    assert [h.size for h in heads] == [len(SUBMIT), len(GET), len(RELEASE)]
    assert heads[1].fields[b"x-worker-id"] == b"3"


@pytest.mark.parametrize(
    "data",
    [
        b"GET /task/get/1 HTTP/1.1\nHost: t\n\n",  # bare LF: llhttp refuses, aiohttp answers
        b"GET /task/get/1 HTTP/1.0\r\nHost: t\r\n\r\n",
        b"GET  /task/get/1 HTTP/1.1\r\nHost: t\r\n\r\n",  # not the canonical request line
        b"GET /task/get/1 HTTP/1.1\r\n\r\n",  # no Host
        b"GET /task/get/1 HTTP/1.1\r\nHost: t\r\nHost: u\r\n\r\n",
        b"GET /task/get/%31 HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET /task/get/1#f HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET /worker/get/1 HTTP/1.1\r\nHost: t\r\n\r\n",
        b"PUT /task/submit HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n",
        b"POST /task/submit HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"POST /task/submit HTTP/1.1\r\nHost: t\r\nContent-Length: 2048\r\n\r\n",  # over the limit
        b"POST /task/submit HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n\r\n",
        b"GET /task/get/1 HTTP/1.1\r\nHost: t\r\nCookie: tt=s\r\n\r\n",  # aiohttp's parser
        b"POST /task/submit HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" + GET,
        b"GET /task/get/1 HTTP/1.1\r\nHost: t\r\nX: " + b"v" * 9000 + b"\r\n\r\n",
    ],
)
def test_what_is_not_a_plain_task_request_is_handed_to_aiohttp(data: bytes) -> None:
    with pytest.raises(HandOff):
        Framer(lane.ROUTES, 1024).frame(bytearray(data))


def test_a_bad_request_line_is_handed_over_before_the_head_ends() -> None:
    with pytest.raises(HandOff):
        Framer(lane.ROUTES, 1024).frame(bytearray(b"GET /task/get/1 HTTP/1.1\nHost"))


def test_an_endless_head_is_handed_over_at_the_head_limit() -> None:
    framer = Framer(lane.ROUTES, 1024)
    buffer = bytearray(b"GET /task/get/1 HTTP/1.1\r\n")
    assert framer.frame(buffer) is None
    buffer += b"".join(b"X-%d: %s\r\n" % (n, b"v" * 200) for n in range(100))  # 20 KiB
    assert len(buffer) > MAX_HEAD
    with pytest.raises(HandOff):
        framer.frame(buffer)

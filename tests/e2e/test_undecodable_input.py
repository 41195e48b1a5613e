"""Input no decoder expects gets an answer, never a 500: header bytes that are not UTF-8 in
cookies, tokens and signatures, query numbers that are not ASCII integers or have thousands of
digits, a rate-limit delay too long for a float; and background bookkeeping (a checkpoint
anchor) that never fails on events applied but not yet durable.
"""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient

from tests.e2e.scripted_run import AUDIT_TOKEN, token
from tests.world import World, amend
from tracker import config
from tracker.commands.workers import CreateWorker

METRICS_TOKEN = "a-metrics-token-of-enough-length"


@pytest.fixture
def settings(settings: config.Settings) -> config.Settings:
    """The test's settings with an audit token and a metrics token."""
    return amend(settings, audit={"token": AUDIT_TOKEN}, metrics={"token": METRICS_TOKEN})


async def raw(client: TestClient, request: bytes) -> tuple[int, bytes]:
    """Send ``request`` as raw bytes (header values that are not UTF-8 included)."""
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    writer.write(request)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


def request(method: str, path: str, header: bytes, body: bytes = b"") -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: test\r\n".encode()
        + header
        + f"\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )


NOT_UTF8_COOKIE = b"Cookie: tt=\xff\xfe"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/account", 200),
        ("GET", "/project/list", 200),
        ("GET", "/logout", 204),
        ("GET", "/manager/list", 401),
        ("GET", "/events", 401),
        ("POST", "/project/create", 400),
    ],
)
async def test_a_session_cookie_that_is_not_utf8_counts_as_no_session(
    bare_world: World, method: str, path: str, status: int
) -> None:
    body = b'{"name": "p"}' if method == "POST" else b""
    answer = await raw(bare_world.client, request(method, path, NOT_UTF8_COOKIE, body))
    assert answer[0] == status, answer


@pytest.mark.parametrize("path", ["/events", "/audit/digest", "/task/history/1", "/metrics"])
async def test_a_bearer_token_that_is_not_utf8_is_refused_with_401(
    bare_world: World, path: str
) -> None:
    answer = await raw(bare_world.client, request("GET", path, b"Authorization: Bearer \xff\xfe"))
    assert answer[0] == 401, answer


async def test_a_webhook_signature_that_is_not_utf8_is_refused_with_403(world: World) -> None:
    await world.create_project("p", git_repo="owner/repo")
    body = b'{"ref": "refs/heads/master", "after": "v2", "repository": {"full_name": "owner/repo"}}'
    answer = await raw(world.client, request("POST", "/git/receivehook",
                                       b"X-Gogs-Signature: sha256=\xff", body))  # fmt: skip
    assert answer == (403, b"Signature does not match")


@pytest.mark.parametrize(
    "query",
    [
        "/events?after=²",
        "/events?limit=²",
        "/events?timeout=²",
        "/events?after=" + "9" * 5000,
        "/task/history/1?after=²",
        "/task/history/1?limit=" + "1" * 5000,
        "/project/state/1?at=²",
    ],
)
async def test_audit_query_numbers_that_are_not_ascii_integers_are_refused_with_400(
    world: World, query: str
) -> None:
    answer = await world.admin.get(query, headers=token())
    assert answer.status == 400, answer
    assert answer["ok"] is False and "Could not parse request" in answer["message"], answer


async def test_a_state_query_past_the_head_with_thousands_of_digits_reads_the_head(
    world: World,
) -> None:
    head = world.position()

    path = f"/project/state/{world.project}?at={'9' * 5000}"
    answer = await world.admin.get(path, headers=token())

    assert answer.status == 200, answer
    assert answer["content"]["position"] == head


async def test_a_checkpoint_anchor_waits_for_events_applied_but_not_yet_durable(
    bare_world: World,
) -> None:
    tracker = bare_world.tracker
    command = CreateWorker(alias="w", secret=bytes(32))
    pending = asyncio.create_task(tracker.execute(command))
    await asyncio.sleep(0)  # decided and applied; its batch is not written yet
    position = tracker.state.position
    assert tracker.writer.durable_position < position

    await asyncio.wait_for(tracker.durable(position), 10)

    assert tracker.writer.durable_position >= position
    await pending


async def test_a_rate_limit_delay_too_long_for_a_float_reads_as_the_originals_longest_delay(
    world: World,
) -> None:
    # A subnormal rate (5e-324 tokens/s) made the delay 1/rate = inf, sent as "null".
    project = await world.add_project("slow", submit_rate=5e-324)
    assert (await world.submit("first", project=project))["ok"] is True

    refused = await world.submit("second", project=project)

    assert refused["message"] == "Too many requests"
    assert refused["rate_limit_delay"] == 9223372036.854776

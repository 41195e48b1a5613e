"""Bad input on every worker and task route: always a 4xx with the envelope and a message,
nothing appended, never a 500 (issue 2, "Bad input"; behavior.md 2.2, 2.3, 3.1)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.world import MakeClient, World, amend
from tracker import config


@pytest.fixture
async def world(world: World) -> World:
    """The shared world with two tasks submitted, the first of them assigned."""
    await world.submit("one")
    await world.submit("two")
    await world.task()
    return world


#: Worker routes of issue 2 with a valid body, and the status of a failed worker check (3.1).
WORKER_ROUTES = [
    ("POST", "/task/submit", {"project": 1, "recipe": "r"}, 401),
    ("POST", "/task/bulk_submit", {"requests": [{"project": 1, "recipe": "r"}]}, 401),
    ("POST", "/worker/update", {"alias": "a"}, 401),
    ("POST", "/project/request_access", {"project": 1, "assign": True}, 401),
    ("GET", "/task/get/1", None, 403),
    ("POST", "/task/release", {"task_id": 1, "result": 0}, 403),
]

POST_ROUTES = [
    "/worker/create",
    "/worker/update",
    "/task/submit",
    "/task/bulk_submit",
    "/task/release",
    "/project/create",
    "/project/request_access",
]

#: Bodies no route can parse (a route's own field rules are tested with that route).
GARBAGE = [
    b"",
    b" \n\t",
    b"{",
    b"}",
    b"[]",
    b"[{}]",
    b'"text"',
    b"12",
    b"true",
    b'{"a":}',
    b"{'single': 'quotes'}",
    b'{"a": NaN}',
    b'{"a": 1e999}',
    b'{"alias": "\xed\xa0\x80"}',
    b'{"recipe": "\xff"}',
    b'{"alias": "\\ud800"}',
    b"\x00\x01\x02",
    b"\xef\xbb\xbf{}",
    b"[" * 50_000 + b"]" * 50_000,
    b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
    b'{"requests": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
    b'{"project": 1, "recipe": "r"}{"project": 1}',
]


def envelope_error(status: int, body: Any) -> None:
    assert 400 <= status < 500, (status, body)
    assert isinstance(body, dict) and body["ok"] is False, body
    assert isinstance(body.get("message"), str) and body["message"], body
    assert set(body) <= {"ok", "message", "rate_limit_delay", "content"}


@pytest.mark.parametrize("path", POST_ROUTES)
async def test_garbage_bodies_are_refused_with_the_envelope_and_append_nothing(
    world: World, path: str
) -> None:
    headers = world.worker.headers()  # and the admin's session, for the manager routes
    before, logged = world.position(), await world.log_head()
    for body in GARBAGE:
        answer = await world.admin.post(path, data=body, headers=headers)
        envelope_error(answer.status, answer.body)
    assert (world.position(), await world.log_head()) == (before, logged)


@pytest.mark.parametrize(("method", "path", "body", "status"), WORKER_ROUTES)
@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "worker id not specified"),
        ({"X-Worker-Id": "1"}, "secret is not specified"),
        ({"X-Worker-Id": "1x", "X-Secret": "s"}, 'strconv.ParseInt: parsing "1x": invalid syntax'),
        (
            {"X-Worker-Id": "-9223372036854775809", "X-Secret": "s"},
            'strconv.ParseInt: parsing "-9223372036854775809": value out of range',
        ),
        (
            {"X-Worker-Id": "9223372036854775807", "X-Secret": "s"},
            "worker id does not match any valid worker",
        ),
        ({"X-Worker-Id": "1", "X-Secret": "é"}, "invalid secret"),
        (
            {"X-Worker-Id": "9" * 5000, "X-Secret": "s"},
            f'strconv.ParseInt: parsing "{"9" * 64}": value out of range',
        ),
        ({"X-Worker-Id": "0" * 30 + "1", "X-Secret": "s"}, "invalid secret"),
    ],
    ids=[
        "no id",
        "no secret",
        "not a number",
        "out of range",
        "unknown",
        "not base64",
        "5000 digits",
        "leading zeros",
    ],
)
async def test_each_worker_route_refuses_bad_credentials_with_its_status(
    world: World, method: str, path: str, body: Any, status: int, headers: dict, message: str
) -> None:
    before = world.position()
    answer = await world.anonymous.call(method, path, body, headers=headers)
    assert answer.status == status
    assert answer.body == {"ok": False, "message": message}
    assert world.position() == before


async def raw_request(client: TestClient, head: bytes) -> tuple[int, bytes]:
    """Send bytes no HTTP client library would (headers that are not UTF-8)."""
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    writer.write(head + b"Host: tracker\r\nConnection: close\r\n\r\n")
    await writer.drain()
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize(
    ("worker_id", "shown"), [(b"\xff\xfe", r'"\xff\xfe"'), (b"1\xc3", r'"1\xc3"')]
)
async def test_a_worker_id_header_that_is_not_utf8_is_refused_not_a_crash(
    world: World, worker_id: bytes, shown: str
) -> None:
    """The id is quoted as Go's strconv.Quote does: bytes that are not UTF-8 as \\xNN."""
    head = b"GET /task/get/1 HTTP/1.1\r\nX-Worker-Id: " + worker_id + b"\r\nX-Secret: s\r\n"
    status, body = await raw_request(world.client, head)
    assert status == 403
    message = f"strconv.ParseInt: parsing {shown}: invalid syntax"
    assert json.loads(body) == {"ok": False, "message": message}


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/task/get/{}", "Invalid project id"),
        ("/project/get/{}", "Invalid worker id"),  # sic, the original's message
    ],
)
@pytest.mark.parametrize(
    "bad_id", ["0", "-1", "abc", "99999999999999999999", "1.0", "0x10", "%201", "1e3", "--1"]
)
async def test_bad_path_ids_are_400_with_the_routes_message(
    world: World, path: str, message: str, bad_id: str
) -> None:
    response = await world.client.get(
        path.format(bad_id), headers=world.worker.headers(), allow_redirects=False
    )
    assert response.status == 400
    assert await response.json() == {"ok": False, "message": message}


@pytest.mark.parametrize(
    "bad_id",
    ["0", "-1", "abc", "99999999999999999999", "%00", "9" * 5000, "١٢", "%FF", "%ED%A0%80"],
)
async def test_bad_worker_ids_are_400(world: World, bad_id: str) -> None:
    answer = await world.anonymous.get(f"/worker/get/{bad_id}")
    envelope_error(answer.status, answer.body)
    assert answer.status == 400


@pytest.mark.parametrize("count", ["%C2%B2", "%D9%A1", "9" * 5000, "18446744073709551616", "-1"])
async def test_odd_query_integers_count_as_zero_not_as_a_crash(world: World, count: str) -> None:
    """Query integers are unsigned decimals; anything else counts as 0 (behavior.md 2.2)."""
    answer = await world.anonymous.get(f"/project/monitoring/{world.project}?count={count}")
    envelope_error(answer.status, answer.body)


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        ("GET", "/task/get/42", "Project not found"),
        ("GET", "/worker/get/42", "Worker not found"),
        ("GET", "/project/get/42", "Project not found"),
    ],
)
async def test_unknown_ids_are_404(world: World, method: str, path: str, message: str) -> None:
    answer = await world.worker.call(method, path)
    assert answer.status == 404
    assert answer.body == {"ok": False, "message": message}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nowhere"),
        ("POST", "/task/get/1"),
        ("GET", "/task/submit"),
        ("GET", "/task/release"),
        ("PUT", "/worker/create"),
        ("DELETE", "/worker/get/1"),
        ("GET", "/worker/get/1/"),
        ("GET", "/project/list/"),
        ("GET", "/task/get/"),
        ("GET", "/task/get"),
    ],
)
async def test_unknown_paths_and_wrong_methods_are_404_with_the_envelope(
    world: World, method: str, path: str
) -> None:
    response = await world.client.request(method, path, allow_redirects=False)
    assert response.status == 404
    assert await response.json() == {"ok": False, "message": "Not found"}
    assert response.headers["Server"] == "task_tracker"


async def test_head_is_a_wrong_method_and_never_assigns_a_task(world: World) -> None:
    """aiohttp answers HEAD on GET routes by default; the original did not, and a HEAD on
    /task/get would hand out a task whose id the worker never sees."""
    await world.submit("not for a HEAD")
    before = world.position()
    for path in (f"/task/get/{world.project}", f"/worker/get/{world.worker.id}"):
        answer = await world.worker.call("HEAD", path)
        assert answer.status == 404, path
    assert world.position() == before
    assert [t["recipe"] for t in await world.drain()] == ["two", "not for a HEAD"]


@pytest.mark.parametrize("path", ["/task/submit", "/task/get/1", "/", "/nowhere", "/worker/get/x"])
async def test_options_answers_200_with_cors_headers_and_no_body(world: World, path: str) -> None:
    response = await world.client.options(path)
    assert response.status == 200
    assert await response.read() == b""
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    allowed = {
        h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {"content-type", "x-worker-id", "x-secret"} <= allowed


async def test_normal_answers_carry_no_cors_headers(world: World) -> None:
    response = await world.client.get("/")
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_a_body_over_the_configured_limit_is_413(
    make_client: MakeClient, settings: config.Settings
) -> None:
    limited = await World.start(make_client, amend(settings, server={"max_body_size": 1024}))
    world = await limited.open(workers=1)
    before, logged = world.position(), await world.log_head()
    big = {"project": world.project, "recipe": "x" * 2000}
    for path, body in (
        ("/task/submit", big),
        ("/task/bulk_submit", {"requests": [big]}),
        ("/worker/create", {"alias": "x" * 2000}),
        ("/worker/update", {"alias": "x" * 2000}),
    ):
        answer = await world.worker.post(path, body)
        assert answer.status == 413, path
        assert answer["ok"] is False and "1024" in answer["message"]
    assert (world.position(), await world.log_head()) == (before, logged)
    assert await world.submit("x" * 900) == {"ok": True}  # under the limit still works

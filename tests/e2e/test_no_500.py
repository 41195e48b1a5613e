"""No request is a crash: every route, every kind of caller, generated ids and bodies.

Every GET and POST route of the app (read from its router, so a new route is covered without
editing this file) is called by an anonymous client, a worker and the tracker admin, with path
parameters and JSON bodies from a seeded generator: good and unknown ids, zero, negatives,
overflowing and non-numeric ones; bodies of every JSON type, with the fields routes read set to
values of the wrong type, out of range, empty or huge. Every answer must be below 500 and, but
for the routes that answer in another format, carry the ``{ok, message}`` envelope.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest
from aiohttp import web

from tests.conftest import Api
from tests.e2e.support import cheap, open_desk, worker_headers
from tracker import config

SEED = 7_000_500
ROUNDS = 8  # per route and caller
# Prometheus text; the webhook answers plain text, as the original did (behavior.md 10)
NOT_JSON = {"/metrics", "/git/receivehook"}
FIELDS = ["project", "recipe", "priority", "max_retries", "max_assign_time", "hash_u64",
          "hash64", "unique_string", "verification_count", "task_id", "result", "verification",
          "requests", "alias", "worker", "paused", "username", "password", "name", "public",
          "hidden", "chain", "assign_rate", "submit_rate", "role", "secret", "level", "since",
          "after", "before", "limit", "message", "clone_url", "git_repo", "version", "motd",
          "priority", "assign", "submit", "ref", "repository"]  # fmt: skip


@pytest.fixture
def settings(settings: config.Settings) -> config.Settings:
    return cheap(settings)


def path_value(rng: random.Random, known: list[int]) -> str:
    return str(rng.choice([
        *known, 0, -1, 2**63 - 1, 2**63, 2**64, "x", "1.5", "%C2%B2", "9" * 40, "+1", " 1",
    ])).replace(" ", "%20")  # fmt: skip


def json_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(10 if depth < 2 else 7)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, 1, -1, 2**15, 2**31, 2**63 - 1, 2**63, -(2**64), 10**30])
    if kind == 3:
        return rng.choice([0.5, -1e308, 1e308, 3.0])
    if kind == 4:
        return rng.choice(["", "x", "1", "a" * 5000, "\u00e9\u0000", "INFO", "admin"])
    if kind in (5, 6):
        return rng.randrange(1, 5)
    if kind == 7:
        return [json_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    return {rng.choice(FIELDS): json_value(rng, depth + 1) for _ in range(rng.randrange(6))}


def body(rng: random.Random) -> bytes:
    if rng.random() < 0.1:
        return rng.choice([b"", b"{", b"[1,", b"\xff", b"nul", b'{"project": 1e999}'])
    if rng.random() < 0.75:
        return json.dumps({rng.choice(FIELDS): json_value(rng) for _ in range(rng.randrange(8))},
                          allow_nan=False).encode()  # fmt: skip
    return json.dumps(json_value(rng)).encode()


def routes(app: web.Application) -> list[tuple[str, str]]:
    found = {(route.method, route.resource.canonical) for route in app.router.routes()
             if route.method in ("GET", "POST") and route.resource is not None}  # fmt: skip
    return sorted(found)


def check_answer(status: int, text: bytes, template: str, context: tuple) -> None:
    assert status < 500, (*context, text[:300])
    if template in NOT_JSON or status == 204:
        return
    try:
        answer = json.loads(text)
    except ValueError:
        raise AssertionError((*context, status, text[:200])) from None
    if not (isinstance(answer, dict) and "ok" in answer):
        assert status == 200, (*context, text[:300])  # a view that is not an envelope
    elif status >= 400:
        assert answer.get("message"), (*context, answer)


async def test_no_route_answers_500_to_any_caller(api: Api) -> None:
    desk = await open_desk(api, workers=2)
    await desk.submit("one")
    await desk.submit("two", verification_count=2)
    task = await desk.task()
    known = [desk.project, desk.worker["id"], task["id"], 1, 2]
    cookies = api.client.session.cookie_jar
    rng = random.Random(SEED)
    table = routes(api.client.server.app)  # type: ignore[arg-type]
    assert len(table) >= 45
    checked = 0
    for method, template in table:
        for caller in ("anonymous", "worker", "admin"):
            for _ in range(ROUNDS):
                path = re.sub(r"\{\w+\}", lambda _m: path_value(rng, known), template)
                if template == "/events":
                    path += "?timeout=0"
                worker = desk.workers[rng.randrange(2)]
                headers = worker_headers(worker) if caller == "worker" else {}
                cookies.clear()
                if caller == "admin":
                    await api.login("admin")  # again: a generated call may have logged out
                data = body(rng) if method == "POST" else None
                response = await api.client.request(method, path, data=data, headers=headers)
                check_answer(response.status, await response.read(), template,
                             (method, path, caller, data))  # fmt: skip
                checked += 1
    assert checked == len(table) * 3 * ROUNDS
    assert (await api.call("GET", "/"))["ok"]  # and the server is still serving

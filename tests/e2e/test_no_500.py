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

from aiohttp import web

from tests.world import World

SEED = 7_000_500
ROUNDS = 8  # per route and caller
# Prometheus text; the webhook answers plain text, as the original did (behavior.md 10);
# the web UI's routes (under /ui) answer HTML pages
NOT_JSON = {"/metrics", "/git/receivehook"}
QUERY = {"/events": "?timeout=0", "/project/monitoring/{id}": "?count=5",
         "/project/monitoring-between/{id}": "?from=1&to=4000000000",
         "/task/bulk_get/{project}": "?count=5",
         "/project/tasks/{id}/count": "?action=cancel"}  # fmt: skip
FIELDS = ["project", "recipe", "priority", "max_retries", "max_assign_time", "hash_u64",
          "hash64", "unique_string", "verification_count", "task_id", "result", "verification",
          "requests", "alias", "worker", "paused", "username", "password", "name", "public",
          "hidden", "chain", "assign_rate", "submit_rate", "role", "secret", "level", "since",
          "after", "before", "limit", "message", "clone_url", "git_repo", "version", "motd",
          "priority", "assign", "submit", "ref", "repository", "releases", "seconds",
          "task_ids", "confirm"]  # fmt: skip


def path_value(rng: random.Random, known: list[int]) -> str:
    """A known id half the time (so calls get past validation), else an odd one."""
    if rng.random() < 0.5:
        return str(rng.choice(known))
    return str(rng.choice([
        0, -1, 2**63 - 1, 2**63, 2**64, "x", "1.5", "%C2%B2", "9" * 40, "+1", " 1",
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


def plausible(rng: random.Random, known: list[int], tasks: list[int]) -> dict[str, Any]:
    """A body most routes accept: each field a route may read, with a sensible value."""
    n = rng.randrange(10**9)
    return {
        "project": known[0], "recipe": f"r{n}", "priority": rng.randrange(-2, 3),
        "max_retries": rng.randrange(3), "max_assign_time": rng.choice([0, 60]),
        "verification_count": rng.randrange(3), "task_id": rng.choice(known),
        "result": rng.randrange(3), "verification": rng.randrange(3),
        "requests": [{"project": known[0], "recipe": f"b{n}"}], "alias": f"a{n}",
        "worker": rng.choice(known), "paused": rng.random() < 0.5, "username": f"user{n}",
        "password": "password1", "name": f"p{n}", "public": rng.random() < 0.5,
        "hidden": False, "chain": 0, "assign_rate": 0, "submit_rate": 0,
        "role": rng.randrange(64), "secret": "s" * 36, "assign": True, "submit": True,
        "clone_url": "", "git_repo": "", "version": "1", "motd": "", "message": "m",
        "level": rng.choice([1, 2, 3, 4]), "since": 0, "limit": 10, "scope": "s",
        "timestamp": 1_700_000_000, "seconds": rng.choice([0, 30]),
        "releases": [{"task_id": rng.choice(known), "result": rng.randrange(3)}],
        "task_ids": [*known, *tasks],
    }  # fmt: skip


def body(rng: random.Random, known: list[int], tasks: list[int]) -> bytes:
    roll = rng.random()
    if roll < 0.1:
        return rng.choice([b"", b"{", b"[1,", b"\xff", b"nul", b'{"project": 1e999}'])
    if roll < 0.55:  # mostly sensible, with a field or two of the wrong kind
        fields = plausible(rng, known, tasks)
        for _ in range(rng.choice([0, 0, 1, 2])):
            fields[rng.choice(FIELDS)] = json_value(rng)
        return json.dumps(fields, allow_nan=False).encode()
    if roll < 0.85:
        return json.dumps({rng.choice(FIELDS): json_value(rng) for _ in range(rng.randrange(8))},
                          allow_nan=False).encode()  # fmt: skip
    return json.dumps(json_value(rng)).encode()


def routes(app: web.Application) -> list[tuple[str, str]]:
    found = {(route.method, route.resource.canonical) for route in app.router.routes()
             if route.method in ("GET", "POST") and route.resource is not None}  # fmt: skip
    return sorted(found)


def check_answer(status: int, text: bytes, template: str, context: tuple) -> None:
    assert status < 500, (*context, text[:300])
    if template in NOT_JSON or template.startswith("/ui") or status == 204:
        return  # the web UI answers pages (tests/ui checks them)
    try:
        answer = json.loads(text)
    except ValueError:
        raise AssertionError((*context, status, text[:200])) from None
    if not (isinstance(answer, dict) and "ok" in answer):
        assert status == 200, (*context, text[:300])  # a view that is not an envelope
    elif status >= 400:
        assert answer.get("message"), (*context, answer)


async def stock(world: World) -> list[int]:
    """A queued, an assigned and a failed task in the world's project, whatever generated
    calls did to it before (paused or edited it, paused or turned away its workers, logged the
    admin out): their ids, for the bodies' ``task_ids``."""
    admin = await world.login("admin")
    await world.update_project(by=admin, paused=False, assign_rate=0, submit_rate=0)
    for worker in world.workers:
        await admin.post("/worker/set_paused", {"worker": worker.id, "paused": False})
        await worker.post("/project/request_access", {"project": world.project, "assign": True,
                                                      "submit": True})  # fmt: skip
        await admin.post(f"/project/accept_request/{world.project}/{worker.id}")
    first = world.tracker.state.tasks.next_id
    for recipe in ("queued", "assigned", "failed"):
        assert (await world.submit(recipe)).ok
    await world.task(by=1)
    await world.release((await world.task(by=1))["id"], 1, by=1)
    return list(range(first, world.tracker.state.tasks.next_id))


async def test_no_route_answers_500_to_any_caller(world: World) -> None:
    await world.register("second")  # manager 2, for promote and demote
    await world.submit("one")
    await world.submit("two", verification_count=2)
    task = await world.task()
    known = [world.project, world.worker.id, task["id"], 1, 2]
    rng = random.Random(SEED)
    table = routes(world.client.server.app)  # type: ignore[arg-type]
    assert len(table) >= 45
    checked = 0
    accepted: set[tuple[str, str]] = set()
    tasks: list[int] = []
    for method, template in table:
        if template.startswith("/project/tasks/{id}/"):
            tasks = await stock(world)  # an action on tasks needs some; a hard reset deleted them
        for caller in ("anonymous", "worker", "admin"):
            for _ in range(ROUNDS):
                path = re.sub(r"\{\w+\}", lambda _m: path_value(rng, known), template)
                path += QUERY.get(template, "")
                worker = world.workers[rng.randrange(2)]
                headers = worker.headers() if caller == "worker" else {}
                if caller == "admin":  # a new session: a generated call may have logged out
                    headers = (await world.login("admin")).headers()
                data = body(rng, known, tasks) if method == "POST" else None
                response = await world.client.request(method, path, data=data, headers=headers)
                check_answer(response.status, await response.read(), template,
                             (method, path, caller, data))  # fmt: skip
                checked += 1
                if response.status < 300:
                    accepted.add((method, template))
    assert checked == len(table) * 3 * ROUNDS
    # past validation too: most routes carried out some of the generated calls
    # a UI form needs its CSRF token, which no generated call carries: those never count
    possible = {(m, t) for m, t in table if not (m == "POST" and t.startswith("/ui/"))}
    assert len(accepted & possible) >= len(possible) * 3 // 4, sorted(possible - accepted)
    assert (await world.anonymous.get("/")).ok  # and the server is still serving

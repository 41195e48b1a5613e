#!/usr/bin/env python3
"""CPU time per worker-lane request, in-process: what the tracker itself spends on a submit, on a
get + release, and per task of a batch cycle (bulk_get of 100 + bulk_release of them, on a build
that has them), with no socket, no wrk and no other process on the path.

    python scripts/bench_request_cpu.py [--requests 20000] [--rounds 5] [--concurrency 64]

Each request is framed from its raw bytes by the lane's framer and answered through
``middleware.answer`` with the route's handler, exactly as the worker lane serves it, against
a real app on a fresh SQLite log (group commit and fsync included; 64 requests in flight, so
commits batch as under load). The figure is process CPU time (every thread: the commit
thread too) divided by requests; the minimum over rounds is the least disturbed one, so it
holds on a shared, noisy machine where throughput figures do not.

To compare two builds in one sitting, run the same command with the other build first on
``PYTHONPATH`` (e.g. ``git archive <commit> | tar -x -C /tmp/before`` then
``PYTHONPATH=/tmp/before python scripts/bench_request_cpu.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

import tracker
from tracker import config
from tracker.http import lane, middleware
from tracker.http.framing import Framer

try:
    from tracker.app import create_app
except ImportError:  # a build from before the composition root moved above http
    from tracker.http.app import create_app  # type: ignore[import-not-found,no-redef]

CHEAP = {"argon2_time_cost": 1, "argon2_memory_cost": 8, "argon2_parallelism": 1}
BATCH = 100  # tasks per bulk_get and bulk_release in the batch phase


def request_bytes(method: str, path: str, worker: dict[str, Any], body: bytes = b"") -> bytes:
    head = (f"{method} {path} HTTP/1.1\r\nHost: bench\r\nX-Worker-Id: {worker['id']}\r\n"
            f"X-Secret: {worker['secret']}\r\nContent-Length: {len(body)}\r\n\r\n")  # fmt: skip
    return head.encode() + body


async def serve(app: web.Application, raw: bytes) -> dict[str, Any]:
    """One request as the lane serves it; the decoded answer."""
    max_body = 16 * 1024 * 1024
    head = Framer(lane.ROUTES, max_body).frame(bytearray(raw))
    assert head is not None, raw
    call = lane.LaneRequest(app, head, max_body)
    route = head.route
    response = await middleware.answer(call, route.handler, route.method, route.template)
    assert isinstance(response, web.Response) and isinstance(response.body, bytes)
    return json.loads(response.body)  # type: ignore[no-any-return]


async def set_up(client: TestClient) -> tuple[int, dict[str, Any]]:
    """A manager, a project and a worker with access to it, over HTTP."""
    answer = await client.post("/register", json={"username": "bench", "password": "password1"})
    cookie = {"Cookie": f"tt={answer.cookies['tt'].value}"}
    project = (await (await client.post("/project/create", json={"name": "bench"},
                                        headers=cookie)).json())["content"]["id"]  # fmt: skip
    worker = (await (await client.post("/worker/create", json={})).json())["content"]["worker"]
    headers = {"X-Worker-Id": str(worker["id"]), "X-Secret": worker["secret"]}
    body = {"project": project, "assign": True, "submit": True}
    await client.post("/project/request_access", json=body, headers=headers)
    await client.post(f"/project/accept_request/{project}/{worker['id']}", headers=cookie)
    return project, worker


async def bulk_submit(app: web.Application, project: int, worker: dict[str, Any],
                      count: int) -> None:  # fmt: skip
    """``count`` tasks for the batch phase (not timed)."""
    for start in range(0, count, 5000):
        items = [{"project": project, "recipe": f"batch {n}"}
                 for n in range(start, min(count, start + 5000))]  # fmt: skip
        body = json.dumps({"requests": items}).encode()
        answer = await serve(app, request_bytes("POST", "/task/bulk_submit", worker, body))
        assert answer["ok"], answer


async def timed(count: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> float:
    """Process CPU seconds per call of ``one`` (``concurrency`` in flight at a time)."""
    started = time.process_time()
    for start in range(0, count, concurrency):
        await asyncio.gather(*(one(n) for n in range(start, min(count, start + concurrency))))
    return (time.process_time() - started) / count


async def measure(args: argparse.Namespace) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = config.build({"database": {"data_dir": data_dir}, "passwords": CHEAP,
                                 "checkpoint": {"enabled": False}})  # fmt: skip
        app = create_app(settings)
        async with TestClient(TestServer(app)) as client:
            project, worker = await set_up(client)
            found: dict[str, list[float]] = {"submit": [], "get+release": []}
            batches = (await (await client.get("/")).json())["content"].get("max_batch_size", 0)
            if batches >= BATCH:
                found["batch of 100"] = []

            async def submit(n: int) -> None:
                body = json.dumps({"project": project, "recipe": f"task {n}"}).encode()
                answer = await serve(app, request_bytes("POST", "/task/submit", worker, body))
                assert answer["ok"], answer

            async def cycle(n: int) -> None:
                got = await serve(app, request_bytes("GET", f"/task/get/{project}", worker))
                body = json.dumps({"task_id": got["content"]["task"]["id"], "result": 0})
                released = await serve(app, request_bytes("POST", "/task/release", worker,
                                                          body.encode()))  # fmt: skip
                assert released["content"]["updated"], released

            async def batch(n: int) -> None:
                path = f"/task/bulk_get/{project}?count={BATCH}"
                got = await serve(app, request_bytes("GET", path, worker))
                items = [{"task_id": t["id"], "result": 0} for t in got["content"]["tasks"]]
                body = json.dumps({"releases": items}).encode()
                released = await serve(app, request_bytes("POST", "/task/bulk_release", worker,
                                                          body))  # fmt: skip
                assert all(r["updated"] for r in released["content"]["tasks"]), released

            for _ in range(args.rounds):
                found["submit"].append(await timed(args.requests, args.concurrency, submit))
                found["get+release"].append(await timed(args.requests, args.concurrency, cycle))
                if "batch of 100" in found:
                    await bulk_submit(app, project, worker, args.requests)
                    cycles = args.requests // BATCH
                    per_cycle = await timed(cycles, min(args.concurrency, 16), batch)
                    found["batch of 100"].append(per_cycle / BATCH)
            return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="per round and phase")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    found = asyncio.run(measure(args))
    print(f"tracker from {tracker.__file__}")
    for phase, seconds in found.items():
        micros = [round(s * 1e6, 1) for s in seconds]
        per = {"submit": "request", "get+release": "cycle (2 requests)"}.get(phase, "task")
        print(f"{phase:12} CPU per {per}: min {min(micros)} µs, median "
              f"{statistics.median(micros)} µs   rounds: {micros}")  # fmt: skip


if __name__ == "__main__":
    main()

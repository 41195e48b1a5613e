#!/usr/bin/env python3
"""Throughput of one node on SQLite, one node on PostgreSQL and two nodes on one PostgreSQL log,
and the propagation delay between two nodes.

    python scripts/bench_cluster.py [--runs 3] [--duration 8] [--dsn URL] [--json PATH]
                                    [--server-cmd CMD]  # another build, for before/after

For each set-up and run: fresh servers (``tracker serve``; on PostgreSQL a fresh schema of the
``--dsn`` database, dropped afterwards), then wrk with scripts/bench/lua (the same scripts as
scripts/bench.py):

    submit  single-task POST /task/submit, 64 connections split over the nodes   req/s
    cycle   64 workers: GET /task/get + POST /task/release, split over the nodes  cycles/s

with each process's CPU seconds per request (the nodes' and PostgreSQL's backends), from which
the closing lines estimate what more cores would give. Then, on two PostgreSQL nodes: a
client long-polls node B's change feed (``GET /events``) while it submits on node A; the delay
is from A's answer to B's feed answer (the feed polls its node's durable position every 20 ms,
which bounds the resolution). Nothing is pinned: on a two-core machine the nodes, PostgreSQL
and wrk share both cores, so the multi-node figures say what one log costs, not what more
machines would give. Medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import shlex
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import wrk  # noqa: E402
from bench.api import Api, Fixture, add_worker, preload, setup  # noqa: E402
from bench.server import CLK_TCK, Server, cpu_seconds, default_command  # noqa: E402

DSN = "postgresql://postgres@127.0.0.1:5432/test"
TOKEN = "bench-cluster-audit-token-0123456789"
CONNECTIONS = 64
SETUPS = {"sqlite-1": ("sqlite", 1), "postgres-1": ("postgres", 1), "postgres-2": ("postgres", 2)}


def log(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def postgres_cpu() -> float:
    """CPU seconds of every process named postgres (the server and its backends)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            text = stat.read_text()
            if text.split("(", 1)[1].startswith("postgres)"):
                fields = text.rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


@contextlib.contextmanager
def nodes(kind: str, count: int, dsn: str, command: list[str]) -> Iterator[list[Server]]:
    tmp = Path(tempfile.mkdtemp(prefix="tracker-bench-cluster-"))
    schema = f"bench_{secrets.token_hex(4)}"
    env = {"TRACKER_AUDIT_TOKEN": TOKEN, "TRACKER_CHECKPOINT_ENABLED": "false"}
    if kind == "postgres":
        env["TRACKER_DATABASE_CONN_STR"] = f"{dsn}?search_path={schema}"
    started: list[Server] = []
    try:
        for n in range(count):
            (tmp / f"data-{n}").mkdir()
            server = Server(command, tmp / f"data-{n}", None, env)
            server.log_path = tmp / f"node-{n}.log"
            server.start()
            started.append(server)
        yield started
    finally:
        for server in started:
            server.stop()
        if kind == "postgres":
            drop_schema(dsn, schema)
        shutil.rmtree(tmp, ignore_errors=True)


def drop_schema(dsn: str, schema: str) -> None:
    import asyncio

    import asyncpg

    async def drop() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()

    asyncio.run(drop())


def run_wrk(servers: list[Server], script: str, args_of: list[list[str]],
            duration: float) -> dict[str, Any]:  # fmt: skip
    """One wrk per node at once, the connections split over them; CPU per request."""
    results: list[wrk.WrkResult | None] = [None] * len(servers)
    cpu0 = [cpu_seconds(s.pid) for s in servers]
    pg0, wall0 = postgres_cpu(), time.perf_counter()

    def one(i: int) -> None:
        results[i] = wrk.run(script, servers[i].url, args_of[i],
                             connections=CONNECTIONS // len(servers), duration=duration,
                             core=None)  # fmt: skip

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(servers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - wall0
    done = [r for r in results if r is not None]
    node_cpu = sum(cpu_seconds(s.pid) - c for s, c in zip(servers, cpu0, strict=True))
    return {"results": done, "wall": wall, "node_cpu": node_cpu, "pg_cpu": postgres_cpu() - pg0}


def measure_submit(servers: list[Server], duration: float) -> dict[str, Any]:
    api = Api(servers[0].port)
    fixture = setup(api, 1)
    worker = fixture.workers[0]
    args = [str(fixture.project), str(worker.id), worker.secret, "64"]
    ran = run_wrk(servers, "submit.lua", [args] * len(servers), duration)
    ok = sum(r.counters["ok"] for r in ran["results"])
    errors = sum(r.counters["not_ok"] + r.socket_errors for r in ran["results"])
    seconds = max(r.seconds for r in ran["results"])
    return _figures(ok, errors, seconds, ran)


def measure_cycle(servers: list[Server], duration: float, tmp: Path) -> dict[str, Any]:
    api = Api(servers[0].port)
    fixture = setup(api, CONNECTIONS)
    preload(api, fixture, max(50_000, int(15_000 * duration)))
    args_of = []
    per_node = CONNECTIONS // len(servers)
    for n in range(len(servers)):
        path = tmp / f"workers-{n}.txt"
        mine = fixture.workers[n * per_node : (n + 1) * per_node]
        path.write_text("".join(f"{w.id} {w.secret}\n" for w in mine))
        args_of.append([str(path), str(fixture.project), "0", "0", "1"])
    ran = run_wrk(servers, "cycle.lua", args_of, duration)
    closed = sum(r.counters.get("released_updated", 0) for r in ran["results"])
    kinds = ("http_errors", "released_not_updated", "other", "parse_errors")
    errors = sum(sum(r.counters.get(k, 0) for k in kinds) + r.socket_errors
                 for r in ran["results"])  # fmt: skip
    seconds = max(r.seconds for r in ran["results"])
    return _figures(closed, errors, seconds, ran, requests_per_unit=2)


def _figures(count: int, errors: int, seconds: float, ran: dict[str, Any],
             requests_per_unit: int = 1) -> dict[str, Any]:  # fmt: skip
    requests = max(count * requests_per_unit, 1)
    return {
        "per_s": round(count / seconds, 1),
        "errors": errors,
        "node_cpu_us_per_request": round(ran["node_cpu"] / requests * 1e6, 1),
        "pg_cpu_us_per_request": round(ran["pg_cpu"] / requests * 1e6, 1),
        "p99_ms": max(r.latency_ms("p99") for r in ran["results"]),
    }


def measure_propagation(servers: list[Server], samples: int) -> dict[str, float]:
    a, b = servers
    api = Api(a.port)
    fixture: Fixture = setup(api, 0)
    worker = add_worker(api, fixture.project, "probe")
    delays = []
    for n in range(samples):
        head = json.loads(_get(b, "/events?after=0&limit=1"))["content"]["head"]
        answer: dict[str, float] = {}

        def poll(head: int = head, answer: dict[str, float] = answer) -> None:
            _get(b, f"/events?after={head}&limit=1&timeout=10")
            answer["t"] = time.perf_counter()

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(0.05)  # the long poll is waiting on b
        api.call("POST", "/task/submit", {"project": fixture.project, "recipe": f"p{n}"},
                 worker.headers)  # fmt: skip
        answered = time.perf_counter()
        poller.join()
        delays.append(max(answer["t"] - answered, 0.0) * 1000)
    delays.sort()
    return {"p50_ms": round(statistics.median(delays), 2),
            "p99_ms": round(delays[min(len(delays) - 1, int(len(delays) * 0.99))], 2),
            "samples": samples}  # fmt: skip


def _get(server: Server, path: str) -> str:
    request = urllib.request.Request(server.url + path,
                                     headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(response.read().decode())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--dsn", default=DSN, help="a PostgreSQL database (trust auth)")
    parser.add_argument("--samples", type=int, default=200, help="propagation samples")
    parser.add_argument("--only", action="append", default=[], choices=[*SETUPS, "propagation"])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--server-cmd", help="how to start `tracker` (default: this venv's)")
    args = parser.parse_args(argv)
    wrk.ensure_wrk()
    chosen = args.only or [*SETUPS, "propagation"]
    command = shlex.split(args.server_cmd) if args.server_cmd else default_command()
    report: dict[str, Any] = {}
    for name in [n for n in SETUPS if n in chosen]:
        kind, count = SETUPS[name]
        for measure in ("submit", "cycle"):
            runs = []
            for run in range(args.runs):
                log(f"{name} {measure} run {run + 1}/{args.runs}")
                with nodes(kind, count, args.dsn, command) as servers:
                    if measure == "submit":
                        runs.append(measure_submit(servers, args.duration))
                    else:
                        runs.append(measure_cycle(servers, args.duration,
                                                  servers[0].data_dir.parent))  # fmt: skip
            report[f"{name} {measure}"] = {
                key: statistics.median(r[key] for r in runs) for key in runs[0]
            } | {"runs": [r["per_s"] for r in runs]}
    if "propagation" in chosen:
        log("propagation between two nodes")
        with nodes("postgres", 2, args.dsn, command) as servers:
            report["propagation"] = measure_propagation(servers, args.samples)
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 1 if any(v.get("errors") for v in report.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())

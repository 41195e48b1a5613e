"""The seven measurements. Each starts its own server on a fresh data dir.

Every function takes a Config and returns a Result whose ``value`` is the
headline figure compared with the target; ``errors`` counts failed requests
and ``check`` says whether the server's own state agrees with what the load
generator saw.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import wrk
from .api import Api, Fixture, can_assign, closed_by, preload, queued, setup
from .server import CpuWatch, Server, rss_bytes, running_server

RECIPE_LEN = 64
BULK_SIZE = 1000
SHALLOW = 1000
REPLAYED = re.compile(r"replayed\s+([\d,_]+)\s+events?\s+in\s+([\d.]+)\s*(ms|s)\b", re.I)


@dataclass(frozen=True)
class Config:
    command: list[str]
    server_core: int | None
    client_core: int | None
    duration: float
    big: int = 1_000_000  # queue size for latency (deep), replay and memory
    connections: int = 64  # submit and cycle
    batch_connections: int = 16  # batch: workers, each holding a batch at a time
    batch_size: int = 100
    bulk_connections: int = 8
    latency_connections: int = 4
    latency_delay_ms: int = 2
    warmup_s: float = 2.0
    env: dict[str, str] = field(default_factory=dict)  # extra server environment


@dataclass
class Result:
    value: float
    errors: int = 0
    check: str = "ok"
    details: dict[str, Any] = field(default_factory=dict)


def log(msg: str) -> None:
    print(f"  .. {msg}", file=sys.stderr, flush=True)


def _server(cfg: Config) -> AbstractContextManager[Server]:
    return running_server(cfg.command, cfg.server_core, cfg.env)


def _wrk(
    cfg: Config,
    srv: Server,
    script: str,
    args: list[Any],
    connections: int,
    duration: float | None = None,
) -> wrk.WrkResult:
    watch = CpuWatch(srv.pid, cfg.server_core)
    res = wrk.run(
        script,
        srv.url,
        [str(a) for a in args],
        connections=connections,
        duration=duration or cfg.duration,
        core=cfg.client_core,
    )
    res.data["cpu"] = watch.shares()
    return res


def _within(label: str, seen: int | None, low: int, high: int) -> str:
    if seen is None:
        return f"unverified ({label}: the read route is missing)"
    return "ok" if low <= seen <= high else f"{label}={seen}, expected {low}..{high}"


def _write_workers(srv: Server, fx: Fixture) -> Path:
    path = srv.data_dir.parent / "workers.txt"
    path.write_text("".join(f"{w.id} {w.secret}\n" for w in fx.workers))
    return path


def _cycle_errors(res: wrk.WrkResult) -> int:
    c = res.counters
    kinds = ("http_errors", "no_task", "released_not_updated", "other", "starved", "parse_errors")
    return sum(c.get(k, 0) for k in kinds) + res.socket_errors


def _wrk_details(res: wrk.WrkResult) -> dict[str, Any]:
    return {
        "requests": res.data["requests"],
        "seconds": round(res.seconds, 3),
        "rps": round(res.data["requests"] / res.seconds, 1),
        "p50_ms": res.latency_ms("p50"),
        "p99_ms": res.latency_ms("p99"),
        "socket_errors": res.socket_errors,
        "non_2xx": res.status_errors,
        **res.data["cpu"],
        "counters": res.counters,
    }


def _closes_check(api: Api, fx: Fixture, seen: int, slack: int) -> tuple[str, list[int] | None]:
    """The server's closed count against the closes wrk saw (and up to ``slack`` more, cut
    off when it stopped), every worker having closed some; and the per-worker counts."""
    closed = closed_by(api, fx.workers)
    check = _within("closed by server", None if closed is None else sum(closed), seen,
                    seen + slack)  # fmt: skip
    if check == "ok" and closed and min(closed) == 0:
        check = "some worker closed no task"
    return check, closed


def submit(cfg: Config) -> Result:
    """Single-task POST /task/submit, 64 connections; successful submits/s."""
    with _server(cfg) as srv:
        api = Api(srv.port)
        fx = setup(api, 1)
        w = fx.workers[0]
        res = _wrk(
            cfg, srv, "submit.lua", [fx.project, w.id, w.secret, RECIPE_LEN], cfg.connections
        )
        ok = res.counters["ok"]
        time.sleep(0.5)
        stored = queued(api, fx.project)
        return Result(
            value=ok / res.seconds,
            errors=res.counters["not_ok"] + res.socket_errors,
            check=_within("tasks stored", stored, ok, ok + cfg.connections),
            details={**_wrk_details(res), "tasks_stored": stored},
        )


def cycle(cfg: Config) -> Result:
    """64 workers on 64 connections: GET /task/get then release OK; closes/s."""
    with _server(cfg) as srv:
        api = Api(srv.port)
        fx = setup(api, cfg.connections)
        tasks = max(50_000, int(30_000 * cfg.duration))
        log(f"preloading {tasks} tasks")
        rate = preload(api, fx, tasks)
        workers = _write_workers(srv, fx)
        res = _wrk(cfg, srv, "cycle.lua", [workers, fx.project, 0, 0, 1], cfg.connections)
        c = res.counters
        time.sleep(0.5)
        check, closed = _closes_check(api, fx, c["released_updated"], cfg.connections)
        return Result(
            value=c["released_updated"] / res.seconds,
            errors=_cycle_errors(res),
            check=check,
            details={
                **_wrk_details(res),
                "preloaded": tasks,
                "preload_tasks_per_s": round(rate),
                "closed_per_worker_min": min(closed) if closed else None,
                "closed_per_worker_max": max(closed) if closed else None,
                "assignments_per_worker": res.data.get("per_worker"),
            },
        )


def batch(cfg: Config) -> Result:
    """16 workers: GET /task/bulk_get?count=100 then POST /task/bulk_release of them; closes/s."""
    with _server(cfg) as srv:
        api = Api(srv.port)
        fx = setup(api, cfg.batch_connections)
        # enough for 150k closes/s: a batch run that drains the queue counts no_task errors
        tasks = max(200_000, int(150_000 * cfg.duration))
        log(f"preloading {tasks} tasks")
        rate = preload(api, fx, tasks)
        workers = _write_workers(srv, fx)
        args = [workers, fx.project, cfg.batch_size, 1]
        res = _wrk(cfg, srv, "batch_cycle.lua", args, cfg.batch_connections)
        c = res.counters
        time.sleep(0.5)
        slack = cfg.batch_connections * cfg.batch_size  # releases cut off when wrk stopped
        check, closed = _closes_check(api, fx, c["released_updated"], slack)
        return Result(
            value=c["released_updated"] / res.seconds,
            errors=_cycle_errors(res) + (c.get("batches", 0) == 0),
            check=check,
            details={
                **_wrk_details(res),
                "batch_size": cfg.batch_size,
                "batches_per_s": round(c.get("batches", 0) / res.seconds, 1),
                "preloaded": tasks,
                "preload_tasks_per_s": round(rate),
                "closed_per_worker_min": min(closed) if closed else None,
                "closed_per_worker_max": max(closed) if closed else None,
            },
        )


def bulk(cfg: Config) -> Result:
    """POST /task/bulk_submit of 1,000 tasks, 8 connections; tasks/s."""
    with _server(cfg) as srv:
        api = Api(srv.port)
        fx = setup(api, 1)
        w = fx.workers[0]
        res = _wrk(
            cfg,
            srv,
            "bulk.lua",
            [fx.project, w.id, w.secret, BULK_SIZE, RECIPE_LEN],
            cfg.bulk_connections,
        )
        ok = res.counters["ok"]
        time.sleep(1.0)
        stored = queued(api, fx.project)
        return Result(
            value=ok * BULK_SIZE / res.seconds,
            errors=res.counters["not_ok"] + res.socket_errors,
            check=_within(
                "tasks stored", stored, ok * BULK_SIZE, (ok + cfg.bulk_connections) * BULK_SIZE
            ),
            details={**_wrk_details(res), "tasks_stored": stored},
        )


def _latency_run(cfg: Config, srv: Server, workers: Path, project: int) -> wrk.WrkResult:
    args = [workers, project, 2, cfg.latency_delay_ms, 1]  # result 2 = SKIP
    _wrk(cfg, srv, "cycle.lua", args, cfg.latency_connections, cfg.warmup_s)
    return _wrk(cfg, srv, "cycle.lua", args, cfg.latency_connections)


def latency(cfg: Config) -> Result:
    """p99 of get+release(SKIP) at a fixed moderate load: 1M queued vs 1k queued."""
    with _server(cfg) as srv:
        api = Api(srv.port)
        fx = setup(api, cfg.latency_connections)
        workers = _write_workers(srv, fx)
        preload(api, fx, SHALLOW)
        shallow = _latency_run(cfg, srv, workers, fx.project)
        depth_shallow = queued(api, fx.project)
        log(f"preloading {cfg.big - SHALLOW} more tasks")
        rate = preload(api, fx, cfg.big - SHALLOW, start=SHALLOW)
        deep = _latency_run(cfg, srv, workers, fx.project)
        depth_deep = queued(api, fx.project)
        runs = (shallow, deep)
        p99 = [r.latency_ms("p99") for r in runs]
        slack = 2 * cfg.latency_connections  # tasks held by requests cut off at the end
        check = _within("queue depth (1k)", depth_shallow, SHALLOW - slack, SHALLOW)
        if check == "ok":
            check = _within("queue depth (deep)", depth_deep, cfg.big - 2 * slack, cfg.big)
        return Result(
            value=p99[1] / p99[0] if p99[0] > 0 else float("inf"),
            errors=sum(_cycle_errors(r) for r in runs),
            check=check,
            details={
                "p99_ms_shallow": p99[0],
                "p99_ms_deep": p99[1],
                "p50_ms_shallow": shallow.latency_ms("p50"),
                "p50_ms_deep": deep.latency_ms("p50"),
                "rps_shallow": round(shallow.data["requests"] / shallow.seconds, 1),
                "rps_deep": round(deep.data["requests"] / deep.seconds, 1),
                "core_other_share": max(r.data["cpu"]["core_other_share"] for r in runs),
                "depth_shallow": depth_shallow,
                "depth_deep": depth_deep,
                "preload_tasks_per_s": round(rate),
            },
        )


# Restart A replays the whole log: checkpoints off, and none written at its shutdown.
FULL_REPLAY_ENV = {
    "TRACKER_LOG_LEVEL": "info",  # the "replayed N events in S s" line is logged at info
    "TRACKER_CHECKPOINT_ENABLED": "false",
    "TRACKER_CHECKPOINT_ON_SHUTDOWN": "false",
}


def _restart(srv: Server, extra_env: dict[str, str]) -> tuple[float, int | None, float | None]:
    """Stop, start again; (seconds until GET / answered, events replayed, server's seconds)."""
    srv.stop()
    offset = len(srv.log_text())
    wall = srv.start(extra_env)
    m = REPLAYED.search(srv.log_text()[offset:])
    if m is None:
        return wall, None, None
    seconds = float(m[2]) / (1000.0 if m[3].lower() == "ms" else 1.0)
    return wall, int(re.sub(r"[,_]", "", m[1])), seconds


def replay(cfg: Config) -> Result:
    """``big`` bulk-submitted tasks, SIGTERM, restart replaying the whole log; tasks/s.

    A bulk submit is one event (``TasksSubmitted``), so this log holds few, large events and
    the figure is tasks folded per second. Events per second over a log of one-task events
    (submit, assign, release) is measured by ``scripts/bench_restart.py``.

    Restart A turns the server's read-model checkpoints off, so the whole log is replayed:
    that is the replay speed. Restart B uses the default settings (a checkpoint written at
    shutdown, then only the log's tail replayed): that is the everyday restart time.
    """
    with _server(cfg) as srv:
        api = Api(srv.port)
        fx = setup(api, 1)
        log(f"preloading {cfg.big} tasks")
        rate = preload(api, fx, cfg.big)
        api.close()
        wall, events, server_s = _restart(srv, FULL_REPLAY_ENV)
        counted = events if events is not None else cfg.big  # estimate: one event per task
        check = _replay_check(api, fx, cfg.big, "after full replay")
        wall_b, events_b, _ = _restart(srv, {"TRACKER_LOG_LEVEL": "info"})
        if check == "ok":
            check = _replay_check(api, fx, cfg.big, "after checkpoint restart")
        return Result(
            value=cfg.big / wall,
            check=check,
            details={
                "events": counted,
                "events_source": "log" if events is not None else "estimate (tasks)",
                "restart_to_ready_s": round(wall, 3),
                "server_replay_s": server_s,
                "server_events_per_s": round(counted / server_s) if server_s else None,
                "checkpoint_restart_to_ready_s": round(wall_b, 3),
                "checkpoint_restart_events_replayed": events_b,
                "preload_tasks_per_s": round(rate),
            },
        )


def _replay_check(api: Api, fx: Fixture, expected: int, label: str) -> str:
    stored = queued(api, fx.project)
    if stored is None:
        return "ok" if can_assign(api, fx) else f"no task could be assigned {label}"
    return _within(f"tasks {label}", stored, expected, expected)


def memory(cfg: Config) -> Result:
    """VmRSS with 0 tasks vs with ``big`` queued 64-byte-recipe tasks; bytes/task."""
    with _server(cfg) as srv:
        api = Api(srv.port)
        fx = setup(api, 1)
        time.sleep(1.0)
        before = rss_bytes(srv.pid)
        log(f"preloading {cfg.big} tasks")
        rate = preload(api, fx, cfg.big)
        time.sleep(2.0)
        after = rss_bytes(srv.pid)
        stored = queued(api, fx.project)
        grown = (after["rss"] + after["children_rss"]) - (before["rss"] + before["children_rss"])
        return Result(
            value=grown / cfg.big,
            check=_within("tasks stored", stored, cfg.big, cfg.big),
            details={
                "rss_empty_mib": round(before["rss"] / 2**20, 1),
                "rss_full_mib": round(after["rss"] / 2**20, 1),
                "hwm_full_mib": round(after["hwm"] / 2**20, 1),
                "children_rss_mib": round(after["children_rss"] / 2**20, 1),
                "tasks": cfg.big,
                "preload_tasks_per_s": round(rate),
            },
        )


@dataclass(frozen=True)
class Measure:
    name: str
    run: Callable[[Config], Result]
    unit: str
    target: float
    higher_is_better: bool

    def passes(self, value: float) -> bool:
        return value >= self.target if self.higher_is_better else value <= self.target


MEASURES = {
    m.name: m
    for m in (
        Measure("submit", submit, "req/s", 10_000, True),
        Measure("cycle", cycle, "cycles/s", 5_000, True),
        Measure("batch", batch, "tasks/s", 50_000, True),
        Measure("bulk", bulk, "tasks/s", 100_000, True),
        Measure("latency", latency, "p99 ratio", 1.5, False),
        Measure("replay", replay, "tasks/s", 300_000, True),
        Measure("memory", memory, "B/task", 500, False),
    )
}

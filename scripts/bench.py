#!/usr/bin/env python3
"""Benchmark a real ``tracker serve`` process with wrk.

    python scripts/bench.py [--runs 3] [--only NAME[,NAME]] [--duration 10] [--json PATH]

The server runs pinned to core 0 (taskset), wrk and this script on core 1.
Every run of every measurement uses a fresh server and data dir, removed
afterwards.  Measurements (details in scripts/bench/measures.py):

    submit   single-task POST /task/submit, 64 connections    req/s      >= 10,000
    cycle    64 workers: GET /task/get + POST /task/release    cycles/s   >= 5,000
    batch    16 workers: bulk_get of 100 + bulk_release        tasks/s    >= 50,000
    bulk     POST /task/bulk_submit of 1,000 tasks             tasks/s    >= 100,000
    latency  p99 get+release at 1M queued / p99 at 1k queued   ratio      <= 1.5
    replay   restart after 1M submitted tasks, until GET /     events/s   >= 300,000
    memory   VmRSS growth per queued 64-byte-recipe task       B/task     <= 500

Exit status: 0 when every measured median meets its target and no request
failed, 1 otherwise, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import traceback
from pathlib import Path

# scripts/bench/ (the helper package) shadows this file's own name on import.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import report  # noqa: E402
from bench.measures import MEASURES, Config, Result, log  # noqa: E402
from bench.server import default_command  # noqa: E402
from bench.wrk import ensure_wrk  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3, help="repetitions per measurement (median)")
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help=f"run only these ({', '.join(MEASURES)}); repeatable or comma-separated",
    )
    p.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    p.add_argument(
        "--tasks",
        type=int,
        default=1_000_000,
        help="queue size for latency (deep), replay and memory",
    )
    p.add_argument(
        "--server-cmd",
        metavar="CMD",
        help="server command before `serve ...` (default: the venv's `tracker`)",
    )
    p.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for every server start, e.g. TRACKER_CHECKPOINT_ENABLED=false",
    )
    args = p.parse_args(argv)
    if any("=" not in kv for kv in args.server_env):
        p.error("--server-env takes KEY=VALUE")
    args.env = dict(kv.split("=", 1) for kv in args.server_env)
    names = [n.strip() for item in args.only for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in MEASURES]
    if unknown:
        p.error(f"unknown measurement(s) {unknown}; choose from {list(MEASURES)}")
    args.names = names or list(MEASURES)
    if args.runs < 1 or args.duration < 1 or args.tasks < 2000:
        p.error("need --runs >= 1, --duration >= 1 and --tasks >= 2000")
    return args


def cores() -> tuple[int | None, int | None]:
    """Server on core 0, load on core 1 (this process too); unpinned below 2 cores."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        print("fewer than 2 cores: server and wrk are NOT pinned", file=sys.stderr)
        return None, None
    server, client = available[0], available[1]
    os.sched_setaffinity(0, {client})
    return server, client


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds, so every server is stopped and removed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    ensure_wrk()
    command = shlex.split(args.server_cmd) if args.server_cmd else default_command()
    server_core, client_core = cores()
    cfg = Config(
        command=command,
        server_core=server_core,
        client_core=client_core,
        duration=args.duration,
        big=args.tasks,
        env=args.env,
    )
    info = report.machine(server_core, client_core, command, args.env)
    summaries = {}
    for name in args.names:
        measure = MEASURES[name]
        runs: list[Result | str] = []
        for i in range(1, args.runs + 1):
            print(f"[{name} {i}/{args.runs}]", file=sys.stderr, flush=True)
            try:
                result = measure.run(cfg)
            except Exception as exc:  # one failed run must not hide the others
                traceback.print_exc()
                runs.append(f"{type(exc).__name__}: {exc}"[:2000])
                continue
            runs.append(result)
            log(f"{result.value:,.2f} {measure.unit}, errors {result.errors}, check {result.check}")
        summaries[name] = report.summarize(measure, runs)
    print(report.details(summaries))
    print()
    print(report.table(info, summaries))
    if args.json:
        report.write_json(
            args.json,
            info,
            {k: v for k, v in vars(args).items() if k not in ("only", "json", "server_env")},
            summaries,
        )
    good = all(
        s["passes"]
        and not s["errors"]
        and not s["failures"]
        and report.check_word(s["checks"]) != "BAD"
        for s in summaries.values()
    )
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())

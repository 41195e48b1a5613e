#!/usr/bin/env python3
"""Fault injection on two ``tracker serve`` nodes under load: every scenario, with its figures.

    python scripts/cluster_faults.py [--scenario NAME ...] [--markdown FILE] [--keep]

Each scenario (``--list`` names them) runs on a fresh schema of a PostgreSQL server of the
script's own (initdb and pg_ctl in a temporary directory, on a free port: the shared server is
never touched), with eight workers under steady load; the harness is ``tests/faults/``, of
which tests/integration/test_cluster_fault_scenarios.py runs a few scenarios in CI. Each
prints a Markdown table (longest stall per node, first write after the fault, latencies,
exits, how late the scheduler took back assignments, and the checks: every acknowledged submit
closed exactly once, no task held by two workers, every node's digests equal to a fresh
replay), then a summary. Exit status 1 if any scenario broke a bound (or its run broke).
``--keep`` keeps the nodes' data and logs.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.faults.postgres_server import OwnPostgres  # noqa: E402
from tests.faults.report import SUMMARY_HEAD, Figures, measure  # noqa: E402
from tests.faults.scenarios import SCENARIOS, run  # noqa: E402
from tests.processes import Servers  # noqa: E402


async def run_all(names: list[str], where: Path, warmup: float, after: float) -> list[Figures]:
    postgres = OwnPostgres.create()
    servers = Servers(where)
    done = []
    try:
        for name in names:
            print(f"  .. {name}", file=sys.stderr, flush=True)
            try:
                figures = measure(await run(SCENARIOS[name], servers, postgres,
                                            warmup=warmup, after=after))  # fmt: skip
            except Exception as broke:  # the run itself broke (a node wedged, say): say so
                print(f"### {name}\n\n**FAIL**: the run broke: {broke!r}\n", flush=True)
                servers.stop_all()
                continue
            print(figures.table(), flush=True)
            done.append(figures)
    finally:
        servers.stop_all()
        postgres.destroy()
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), default=[])
    parser.add_argument("--list", action="store_true", help="name the scenarios and stop")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before")
    parser.add_argument("--after", type=float, default=8.0, help="seconds of load after")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    parser.add_argument("--keep", action="store_true", help="keep the nodes' data and logs")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(SCENARIOS))
        return 0
    where = Path(tempfile.mkdtemp(prefix="tracker-faults-"))
    try:
        names = args.scenario or list(SCENARIOS)
        done = asyncio.run(run_all(names, where, args.warmup, args.after))
    finally:
        if args.keep:
            print(f"  .. nodes' data and logs kept in {where}", file=sys.stderr)
        else:
            shutil.rmtree(where, ignore_errors=True)
    text = "\n".join([*(f.table() for f in done), SUMMARY_HEAD, *(f.summary_row() for f in done)])
    print("\n" + SUMMARY_HEAD + "\n" + "\n".join(f.summary_row() for f in done))
    if args.markdown:
        args.markdown.write_text(text + "\n")
    return 1 if len(done) < len(names) or any(f.failures() for f in done) else 0


if __name__ == "__main__":
    raise SystemExit(main())

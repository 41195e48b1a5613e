"""``tracker work --project N -- COMMAND``: run a worker in one command."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from tracker.client import errors
from tracker.client.command import Command
from tracker.client.worker import TooManyFailures, Worker

DEFAULT_URL = "http://127.0.0.1:3010"


def register(commands: Any) -> None:
    """Add ``work`` to the ``tracker`` command's subcommands."""
    work = commands.add_parser(
        "work",
        help="run a worker: get tasks of a project, run COMMAND on each, release the result",
        description="Runs COMMAND once per task with the recipe on standard input. Exit status "
        "0 releases the task OK, anything else FAIL (with the status and the end of standard "
        "error as the reason); standard output becomes the verification hash (first 8 bytes "
        "of its SHA-256, 0 if empty). SIGTERM or SIGINT: no new task; commands still running "
        "after --grace get SIGTERM and their tasks are released SKIP. Exit status: 0 when "
        "stopped or done, 1 when the tracker refused the worker, 2 for a command that cannot "
        "run (refused before any task is taken) or bad options, 3 after --max-failures "
        "failures in a row.",
    )
    work.add_argument("--url", default=os.environ.get("TRACKER_URL", DEFAULT_URL),
                      help=f"the tracker (default $TRACKER_URL or {DEFAULT_URL})")  # fmt: skip
    work.add_argument("--project", type=int, required=True, help="project id to work on")
    work.add_argument("--concurrency", type=int, default=1, help="tasks run at once (1)")
    work.add_argument("--identity", help="worker identity file, created 0600 if missing "
                      "(default ~/.config/tracker/worker-<host>-<port>.json)")  # fmt: skip
    work.add_argument("--alias", default="", help="alias of a newly created worker")
    work.add_argument("--grace", type=float, default=0.0,
                      help="seconds running commands may finish after SIGTERM (0)")  # fmt: skip
    work.add_argument("--until-empty", action="store_true",
                      help="exit once the project has no task to give")  # fmt: skip
    work.add_argument("--no-request-access", dest="request_access", action="store_false",
                      help="do not ask for assign access at start")  # fmt: skip
    work.add_argument("--max-failures", type=int, default=20, metavar="N",
                      help="stop (exit 3) after N failures in a row within --failure-window, "
                      "releasing the tasks held SKIP; 0: never (20)")  # fmt: skip
    work.add_argument("--failure-window", type=float, default=10.0, metavar="S",
                      help="seconds the run of failures must fall within (10)")  # fmt: skip
    work.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")
    work.set_defaults(run=_work)


def _work(args: argparse.Namespace) -> int:
    argv = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not argv:
        print("tracker work: give the command after --, e.g. -- ./handle.sh", file=sys.stderr)
        return 2
    try:
        command = Command(argv)  # refused here, before anything is asked of the tracker
        worker = Worker(
            args.url, args.project, identity_file=args.identity, alias=args.alias,
            concurrency=args.concurrency, request_access=args.request_access,
            until_empty=args.until_empty, grace=args.grace, max_failures=args.max_failures,
            failure_window=args.failure_window,
        )  # fmt: skip
    except errors.UsageError as exc:
        print(f"tracker work: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        summary = worker.run(command)
    except errors.UsageError as exc:
        print(f"tracker work: {exc}", file=sys.stderr)
        return 2
    except TooManyFailures as exc:
        print(f"tracker work: {exc}; the tasks held were released SKIP", file=sys.stderr)
        return 3
    except errors.ClientError as exc:
        print(f"tracker work: {exc}", file=sys.stderr)
        return 1
    print(f"tracker work: released {summary.ok} OK ({summary.closed} closed), "
          f"{summary.failed} FAIL, {summary.skipped} SKIP", file=sys.stderr)  # fmt: skip
    return 0

"""The ``tracker`` command: ``tracker serve`` runs the tracker on the embedded SQLite log (or on
PostgreSQL, with ``--database``).

Every option and setting is checked before anything starts; a refusal is one line on standard
error naming the option or key, with exit status 2, never a traceback. A command whose output
pipe closes (``tracker events export | head``) stops quietly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn

from tracker import __version__, config
from tracker.audit import cli as audit_cli
from tracker.client import cli as client_cli
from tracker.ops import cli as ops_cli
from tracker.ops import logformat
from tracker.ops.lock import DataDirError, DataDirLock


class Parser(argparse.ArgumentParser):
    """argparse, with a refusal in one line (``tracker serve: argument --port: ...``)."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message}", file=sys.stderr)
        sys.exit(2)


def port(text: str) -> int:
    """A TCP port: 1 to 65535, or 0 for any free port (the chosen one is printed)."""
    try:
        number = int(text)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"a port from 1 to 65535 (0: any free port), got {text!r}")
    return number


def _settings(args: argparse.Namespace, origin: config.Origin) -> config.Settings:
    overrides: dict[str, dict[str, object]] = {}
    if args.data_dir is not None:
        overrides["database"] = {"data_dir": args.data_dir}
    if args.database:
        overrides.setdefault("database", {})["conn_str"] = args.database
    settings = config.load(args.config, overrides=overrides, origin=origin)
    if args.host is None and args.port is None:
        return settings
    host = settings.host if args.host is None else args.host
    listen_port = settings.port if args.port is None else args.port
    overrides["server"] = {"address": f"{host}:{listen_port}"}
    return config.load(args.config, overrides=overrides)


def _serve(args: argparse.Namespace) -> int:
    origin = config.Origin()
    try:
        settings = _settings(args, origin)
        lock = DataDirLock.acquire(settings.database.data_dir)
    except (config.ConfigError, DataDirError) as exc:
        print(f"tracker: {exc}", file=sys.stderr)
        return 2
    logformat.setup(settings.log.level, settings.log.format)
    _tell(origin)
    from tracker.app import create_app
    from tracker.http.serving import ListenError, LogLost, serve
    from tracker.startup.replay import DamagedLog

    try:
        app = create_app(settings)
        _event_loop_runner()(serve(app, settings.host, settings.port, _announce))
    except (ListenError, ConnectionError) as exc:  # ConnectionError: PostgreSQL unreachable
        print(f"tracker: {exc}", file=sys.stderr)
        return 2
    except (DamagedLog, sqlite3.DatabaseError) as exc:
        where = settings.database.data_dir
        print(f"tracker: cannot start, the event log in {where} is damaged: {exc} "
              "(`tracker audit verify` checks all of it)", file=sys.stderr)  # fmt: skip
        return 2
    except LogLost as exc:
        print(f"tracker: {exc}; stopped (a restart rebuilds the tracker from the log)",
              file=sys.stderr)  # fmt: skip
        return 1
    finally:
        lock.release()
    return 0


def _tell(origin: config.Origin) -> None:
    """Which config file the settings came from, and what in it was ignored."""
    log = logging.getLogger("tracker.config")
    if origin.file is not None:
        found = " (in the working directory: read as task_tracker did)"
        log.info("settings from %s%s", origin.file, found if origin.from_working_directory else "")
    for warning in origin.warnings:
        log.warning("%s", warning)


def _announce(url: str) -> None:
    with contextlib.suppress(OSError):  # nobody reads standard output: serve all the same
        print(f"tracker: listening on {url}", flush=True)


def _event_loop_runner() -> Callable[[Coroutine[Any, Any, None]], None]:
    """uvloop's ``run`` when the ``fast`` extra is installed, else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


def parser() -> Parser:
    top = Parser(prog="tracker", description="Event-sourced task tracker")
    top.add_argument("--version", action="version", version=f"tracker {__version__}")
    commands = top.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--config", help=audit_cli.CONFIG_HELP)
    serve.add_argument("--host", help="listen address (default from server.address, 0.0.0.0)")
    serve.add_argument("--port", type=port, help="listen port, 1-65535 (0: any free port; "
                       "default 3010)")  # fmt: skip
    serve.add_argument("--data-dir", help="where the event log lives (default ./data)")
    serve.add_argument("--database", metavar="CONN_STR",
                       help="keep the log in PostgreSQL (postgresql://user@host/db), "
                       "default database.conn_str; without it, SQLite in --data-dir")  # fmt: skip
    serve.set_defaults(run=_serve)
    audit_cli.register(commands)
    ops_cli.register(commands)
    client_cli.register(commands)
    return top


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)  # --help and --version write to standard output too
        return int(args.run(args))
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, and let nothing flush to the pipe
        # at exit (that would print a second error).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

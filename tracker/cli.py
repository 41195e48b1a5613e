"""The ``tracker`` command: ``tracker serve`` runs the tracker on the embedded SQLite log (or on
PostgreSQL, with ``--database``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from tracker import __version__, config
from tracker.audit import cli as audit_cli
from tracker.client import cli as client_cli


def _serve(args: argparse.Namespace) -> int:
    overrides: dict[str, dict[str, object]] = {}
    if args.host or args.port:
        current = config.load(args.config)
        host = args.host or current.host
        port = args.port or current.port
        overrides["server"] = {"address": f"{host}:{port}"}
    if args.data_dir:
        overrides.setdefault("database", {})["data_dir"] = args.data_dir
    if args.database:
        overrides.setdefault("database", {})["conn_str"] = args.database
    try:
        settings = config.load(args.config, overrides=overrides)
    except (config.ConfigError, OSError) as exc:
        print(f"tracker: {exc}", file=sys.stderr)
        return 2
    _setup_logging(settings.log.level)
    from tracker.audit.startup import DamagedLog
    from tracker.http.app import create_app
    from tracker.http.lane import ListenError, serve

    try:
        _event_loop_runner()(serve(create_app(settings), settings.host, settings.port))
    except (ListenError, ConnectionError) as exc:  # ConnectionError: PostgreSQL unreachable
        print(f"tracker: {exc}", file=sys.stderr)
        return 2
    except (DamagedLog, sqlite3.DatabaseError) as exc:
        where = settings.database.data_dir
        print(f"tracker: cannot start, the event log in {where} is damaged: {exc} "
              "(`tracker audit verify` checks all of it)", file=sys.stderr)  # fmt: skip
        return 2
    return 0


def _setup_logging(level: str) -> None:
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = {
            "TRACE": logging.DEBUG,
            "PANIC": logging.CRITICAL,
            "FATAL": logging.CRITICAL,
        }.get(level.upper(), logging.INFO)
    logging.basicConfig(level=numeric, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("apscheduler").setLevel(max(numeric, logging.WARNING))


def _event_loop_runner() -> Callable[[Coroutine[Any, Any, None]], None]:
    """uvloop's ``run`` when the ``fast`` extra is installed, else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tracker", description="Event-sourced task tracker")
    parser.add_argument("--version", action="version", version=f"tracker {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--config", help="config file (.yml, .toml, .json); default $TRACKER_CONFIG")
    serve.add_argument("--host", help="listen address (default from server.address, 0.0.0.0)")
    serve.add_argument("--port", type=int, help="listen port (default 3010)")
    serve.add_argument("--data-dir", help="where the event log lives (default ./data)")
    serve.add_argument("--database", metavar="CONN_STR",
                       help="keep the log in PostgreSQL (postgresql://user@host/db), "
                       "default database.conn_str; without it, SQLite in --data-dir")  # fmt: skip
    serve.set_defaults(run=_serve)
    audit_cli.register(commands)
    client_cli.register(commands)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())

"""``tracker backup`` and ``tracker restore``: each prints one line of what it did.

Either works on the log the settings name: the SQLite log in ``--data-dir``, or the
PostgreSQL log of ``--database`` (``database.conn_str``). Exit status 0 done, 2 refused or
failed (the message says why, in one line), options that cannot be honoured included.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from tracker import config
from tracker.audit.cli import CommandFailed, _common, refuse_unused_data_dir, settings_of
from tracker.dsn import redacted
from tracker.ops import backup as backups
from tracker.ops import restore as restores
from tracker.ops import retention
from tracker.ops.lock import DataDirError


def register(commands: Any) -> None:
    """Add ``backup`` and ``restore`` to the ``tracker`` command's subcommands."""
    make = commands.add_parser("backup", help="copy the log while trackers serve it")
    _common(make)
    where = make.add_mutually_exclusive_group(required=True)
    where.add_argument("-o", "--output", help="the backup file to write (new)")
    where.add_argument("--into", metavar="DIR", help="write DIR/tracker-<UTC time>.db")
    make.add_argument(
        "--keep", type=_count, metavar="N",
        help="with --into: then remove all but the newest N backups in DIR",
    )  # fmt: skip
    make.set_defaults(run=lambda args: _run(_backup, args))
    put = commands.add_parser("restore", help="make a backup the log of an empty data "
                              "directory or PostgreSQL schema")  # fmt: skip
    put.add_argument("backup", help="a file written by tracker backup")
    _common(put)
    put.set_defaults(run=lambda args: _run(_restore, args))


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a number of backups, at least 1, got {text!r}")
    return int(text)


def _run(command: Any, args: argparse.Namespace) -> int:
    try:
        settings = settings_of(args)
        refuse_unused_data_dir(args, settings)
        return int(command(settings, args))
    except (config.ConfigError, CommandFailed, backups.BackupError, restores.RestoreError,
            DataDirError) as exc:  # fmt: skip
        print(f"tracker: {exc}", file=sys.stderr)
        return 2


def _backup(settings: config.Settings, args: argparse.Namespace) -> int:
    if args.keep is not None and args.into is None:
        raise CommandFailed(
            "--keep prunes the backups of --into DIR: give --into, or leave --keep out"
        )
    output = Path(args.output) if args.output else retention.new_name(Path(args.into), time.time())
    conn_str = settings.database.conn_str
    if conn_str:
        made = backups.from_postgres(conn_str, output)
    else:
        made = backups.from_sqlite(settings.database.data_dir, output)
    print(f"backed up {made.position} events ({made.size / 2**20:,.1f} MiB) to {made.path} in "
          f"{made.seconds:.2f} s; head position {made.position}, hash {made.hash.hex()} "
          f"(recorded in {backups.head_file(made.path)})")  # fmt: skip
    if args.keep is not None:
        removed = retention.prune(Path(args.into), args.keep)
        names = ", ".join(path.name for path in removed) or "none"
        print(f"kept the newest {args.keep} backups in {args.into}; removed: {names}")
    return 0


def _restore(settings: config.Settings, args: argparse.Namespace) -> int:
    conn_str = settings.database.conn_str
    if conn_str:
        done = restores.into_postgres(args.backup, conn_str)
        where = f"the PostgreSQL log at {redacted(conn_str)}"
    else:
        done = restores.into_data_dir(args.backup, settings.database.data_dir)
        where = settings.database.data_dir
    checked = "and its .head file" if done.anchored else "(no .head file beside it: chain only)"
    print(f"restored {done.position} events into {where}; hash chain checked {checked} "
          f"in {done.seconds:.2f} s; head position {done.position}, hash "
          f"{done.hash.hex()}")  # fmt: skip
    return 0

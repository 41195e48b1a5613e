"""``tracker backup`` and ``tracker restore``: each prints one line of what it did.

Exit status 0 done, 2 refused or failed (the message says why, in one line).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tracker import config
from tracker.audit.cli import _common
from tracker.ops.backup import BackupError, backup, head_file
from tracker.ops.lock import DataDirError
from tracker.ops.restore import RestoreError, restore


def register(commands: Any) -> None:
    """Add ``backup`` and ``restore`` to the ``tracker`` command's subcommands."""
    make = commands.add_parser("backup", help="copy the log while the tracker serves it")
    _common(make)
    make.add_argument("-o", "--output", required=True, help="the backup file to write (new)")
    make.set_defaults(run=lambda args: _run(_backup, args))
    put = commands.add_parser("restore", help="make a backup the log of an empty data directory")
    put.add_argument("backup", help="a file written by tracker backup")
    _common(put)
    put.set_defaults(run=lambda args: _run(_restore, args))


def _run(command: Any, args: argparse.Namespace) -> int:
    overrides = {"database": {"data_dir": args.data_dir}} if args.data_dir else {}
    try:
        settings = config.load(args.config, overrides=overrides)
        return int(command(settings, args))
    except (config.ConfigError, BackupError, RestoreError, DataDirError) as exc:
        print(f"tracker: {exc}", file=sys.stderr)
        return 2


def _backup(settings: config.Settings, args: argparse.Namespace) -> int:
    made = backup(settings.database.data_dir, args.output)
    print(f"backed up {made.position} events ({made.size / 2**20:,.1f} MiB) to {made.path} in "
          f"{made.seconds:.2f} s; head position {made.position}, hash {made.hash.hex()} "
          f"(recorded in {head_file(made.path)})")  # fmt: skip
    return 0


def _restore(settings: config.Settings, args: argparse.Namespace) -> int:
    done = restore(args.backup, settings.database.data_dir)
    checked = "and its .head file" if done.anchored else "(no .head file beside it: chain only)"
    print(f"restored {done.position} events into {settings.database.data_dir}; hash chain "
          f"checked {checked} in {done.seconds:.2f} s; head position {done.position}, hash "
          f"{done.hash.hex()}")  # fmt: skip
    return 0

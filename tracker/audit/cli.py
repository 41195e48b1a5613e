"""The audit commands: ``tracker audit verify``, ``tracker audit replay``, ``tracker events
export``.

Each opens the log read-only (a running tracker may keep writing it meanwhile) and prints a
short report. Exit codes: 0 intact / matching, 1 broken / different, 2 could not check.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
import sys
from pathlib import Path
from typing import Any, BinaryIO

from tracker import config
from tracker.audit import records, verify
from tracker.audit.replay import checkpoint_digests, compare, compare_keys, replay_until
from tracker.checkpoints import fileformat
from tracker.checkpoints.directory import Checkpoints
from tracker.events.reading import rows
from tracker.events.store import EventStore
from tracker.projections import digest
from tracker.startup.log import open_reader
from tracker.startup.replay import read_models


class CommandFailed(Exception):
    """The command could not do its check; the message says why."""


def register(commands: Any) -> None:
    """Add ``audit`` and ``events`` to the ``tracker`` command's subcommands."""
    audit = commands.add_parser("audit", help="check the log and the read models")
    checks = audit.add_subparsers(dest="audit_command", required=True)
    check = checks.add_parser("verify", help="recompute the log's hash chain")
    _common(check)
    check.add_argument("--anchor", action="append", default=[], metavar="POSITION:HASH",
                       help="a head position and hash recorded earlier (repeatable)")  # fmt: skip
    check.set_defaults(run=lambda args: _run(_verify, args))
    rebuild = checks.add_parser("replay", help="rebuild the read models and compare digests")
    _common(rebuild)
    rebuild.add_argument("--url", help="a running tracker, e.g. http://127.0.0.1:3010")
    rebuild.add_argument("--token", help="its audit.token (default: from the settings)")
    rebuild.add_argument(
        "--checkpoint", metavar="FILE|latest",
        help="compare with a checkpoint instead (the default without --url)",
    )  # fmt: skip
    rebuild.set_defaults(run=lambda args: _run(_replay, args))
    events = commands.add_parser("events", help="read the event log")
    actions = events.add_subparsers(dest="events_command", required=True)
    export = actions.add_parser("export", help="write events as JSON Lines (secrets redacted)")
    _common(export)
    export.add_argument("--from", dest="first", type=_position, default=1,
                        help="first position (1)")  # fmt: skip
    export.add_argument("--to", dest="last", type=_position,
                        help="last position (default: the head)")  # fmt: skip
    only = export.add_mutually_exclusive_group()
    only.add_argument("--project", type=int, help="only events of this project")
    only.add_argument("--task", type=int, help="only events of this task (and its chain copy)")
    only.add_argument("--worker", type=int, help="only events of or by this worker")
    export.add_argument("-o", "--output", help="file to write (default: standard output)")
    export.set_defaults(run=lambda args: _run(_export, args))


CONFIG_HELP = ("config file (.yml, .toml, .json); default $TRACKER_CONFIG, else config.yml (.json, "
               ".toml, .yaml) in the working directory, as task_tracker read it")  # fmt: skip


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help=CONFIG_HELP)
    parser.add_argument("--data-dir", help="where the event log lives (default ./data)")
    parser.add_argument(
        "--database", metavar="CONN_STR", help="a PostgreSQL log; default database.conn_str"
    )


def _position(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a log position, from 1, got {text!r}")
    return int(text)


def refuse_unused_data_dir(args: argparse.Namespace, settings: config.Settings) -> None:
    """``--data-dir`` where it would name only a SQLite log, with the log in PostgreSQL."""
    if args.data_dir and settings.database.conn_str:
        raise CommandFailed("--data-dir names a SQLite log, but the log is in PostgreSQL "
                            "(--database or database.conn_str): leave --data-dir out")  # fmt: skip


def settings_of(args: argparse.Namespace) -> config.Settings:
    """The settings ``_common``'s options select; warnings about them on standard error."""
    overrides: dict[str, dict[str, Any]] = {"database": {}}
    if args.data_dir:
        overrides["database"]["data_dir"] = args.data_dir
    if args.database:
        overrides["database"]["conn_str"] = args.database
    origin = config.Origin()
    settings = config.load(args.config, overrides=overrides, origin=origin)
    for warning in origin.warnings:
        print(f"tracker: warning: {warning}", file=sys.stderr)
    return settings


def _run(command: Any, args: argparse.Namespace) -> int:
    try:
        settings = settings_of(args)
        return int(asyncio.run(command(settings, args)))
    except BrokenPipeError:
        raise  # the reader went away: the tracker command stops quietly
    except (config.ConfigError, OSError, CommandFailed) as exc:
        print(f"tracker: {exc}", file=sys.stderr)
        return 2
    except sqlite3.Error as exc:  # the log file could not be opened or read at all
        print(f"tracker: cannot read the event log: {exc}", file=sys.stderr)
        return 2


async def _reader(settings: config.Settings) -> EventStore:
    return await open_reader(settings)


def _anchors(settings: config.Settings, given: list[str]) -> list[verify.Anchor]:
    found = []
    for text in given:
        position, _, hex_hash = text.partition(":")
        try:
            found.append(verify.Anchor(int(position), bytes.fromhex(hex_hash), "--anchor"))
        except ValueError:
            raise CommandFailed(f"--anchor {text!r}: expected POSITION:HEX") from None
    for _, path in Checkpoints.of(settings).paths():
        try:
            trailer = fileformat.peek(path)
        except fileformat.InvalidCheckpoint:
            continue  # damaged: says nothing about the log
        found.append(verify.Anchor(trailer.position, trailer.log_hash, f"checkpoint {path.name}"))
    return found


async def _verify(settings: config.Settings, args: argparse.Namespace) -> int:
    anchors = _anchors(settings, args.anchor)
    store = await _reader(settings)
    try:
        report = await verify.verify(store, anchors)
    finally:
        await store.close()
    print(f"checked {report.events} events in {report.seconds:.2f} s "
          f"({report.rate:,.0f} events/s); {report.anchors_checked} anchor(s) matched")  # fmt: skip
    if report.broken is not None:
        print(f"BROKEN at position {report.broken.position}: {report.broken.reason}")
        return 1
    print(f"INTACT: head position {report.head}, hash {report.head_hash.hex()}")
    return 0


async def _export(settings: config.Settings, args: argparse.Namespace) -> int:
    refuse_unused_data_dir(args, settings)
    if args.last is not None and args.last < args.first:
        raise CommandFailed(f"--to {args.last} is before --from {args.first}")
    keep = records.Filter(project=args.project, task=args.task, worker=args.worker)
    # A command-line tool: nothing else runs on this loop, blocking writes are fine.
    out: BinaryIO = open(args.output, "wb") if args.output else sys.stdout.buffer  # noqa: SIM115, ASYNC230
    store = await _reader(settings)
    written = 0
    try:
        # aclosing: a write that fails (a closed pipe) closes the reading before the store
        async with contextlib.aclosing(rows(store, args.first - 1, args.last)) as found:  # type: ignore[type-var]
            async for batch in found:
                for row in batch:
                    event = records.event_of(row)
                    if keep(event):
                        out.write(records.line(records.record(row, event)))
                        written += 1
    finally:
        await store.close()
        if args.output:
            out.close()
    print(f"exported {written} events", file=sys.stderr)
    return 0


async def _replay(settings: config.Settings, args: argparse.Namespace) -> int:
    if args.url and args.checkpoint:
        raise CommandFailed("--url and --checkpoint: compare with one of them")
    if args.token and not args.url:
        raise CommandFailed("--token is the audit.token of the tracker at --url: give --url")
    if args.url:
        refuse_unused_data_dir(args, settings)  # checkpoints are not read either
    store = await _reader(settings)
    try:
        if args.url:
            return await _against_tracker(settings, store, args)
        return await _against_checkpoint(settings, store, args.checkpoint or "latest")
    finally:
        await store.close()


def _make_state(settings: config.Settings) -> Any:
    return lambda: read_models(settings)


def _report(position: int, seconds: float, differences: list[Any], against: str) -> int:
    rate = position / seconds if seconds else 0.0
    print(f"replayed {position} events from position 0 in {seconds:.2f} s ({rate:,.0f} events/s)")
    if not differences:
        print(f"MATCH: every read model equals {against} at position {position}")
        return 0
    print(f"DIFFERENT from {against} at position {position}:")
    for difference in differences:
        print(f"  {difference}")
    return 1


async def _against_checkpoint(settings: config.Settings, store: Any, which: str) -> int:
    checkpoints = Checkpoints.of(settings)
    paths = [path for _, path in checkpoints.paths()] if which == "latest" else [Path(which)]
    if not paths:
        raise CommandFailed("no checkpoint to compare with (give --url or --checkpoint FILE)")
    path = paths[0]
    try:
        await checkpoints.anchored(store, path)
        position, saved = await checkpoint_digests(path, checkpoints.fingerprint)
    except fileformat.InvalidCheckpoint as exc:
        raise CommandFailed(f"checkpoint not usable: {exc}") from None
    started = asyncio.get_running_loop().time()
    rebuilt = await replay_until(_make_state(settings), store, position, wait=0)
    seconds = asyncio.get_running_loop().time() - started
    differences = compare(saved, digest.compute(rebuilt))
    if differences:
        names = {d.model for d in differences}
        mine = digest.key_digests(rebuilt, names)
        del rebuilt  # one set of read models at a time: the checkpoint's are built next
        theirs = await _checkpoint_key_digests(settings, checkpoints, path, names)
        differences = compare_keys(theirs, mine) or differences
    return _report(position, seconds, differences, f"checkpoint {path.name}")


async def _checkpoint_key_digests(settings: config.Settings, checkpoints: Checkpoints,
                                  path: Path, names: set[str]) -> digest.KeyDigests:  # fmt: skip
    try:
        saved = _make_state(settings)()
        fileformat.restore(await fileformat.load(path, checkpoints.fingerprint), saved)
    except fileformat.InvalidCheckpoint as exc:
        raise CommandFailed(f"checkpoint not usable: {exc}") from None
    return digest.key_digests(saved, names)


async def fetch_digests(url: str, token: str, keys: list[str] | None = None) -> dict[str, Any]:
    """``GET /audit/digest`` of a running tracker (with per-key digests of ``keys``)."""
    import aiohttp

    params = {"keys": ",".join(keys)} if keys else {}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"{url.rstrip('/')}/audit/digest", params=params, headers=headers
            ) as response,
        ):
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, ValueError) as exc:
        raise CommandFailed(f"{url}: {exc}") from None
    if not isinstance(body, dict) or not body.get("ok"):
        message = body.get("message") if isinstance(body, dict) else body
        raise CommandFailed(f"{url}: {response.status} {message}")
    return dict(body["content"])


async def _against_tracker(settings: config.Settings, store: Any, args: argparse.Namespace) -> int:
    token = args.token or settings.audit.token
    live = await fetch_digests(args.url, token)
    if live["fingerprint"] != Checkpoints.of(settings).fingerprint:
        print("warning: the tracker runs other read-model code or settings than this command")
    started = asyncio.get_running_loop().time()
    state = await replay_until(_make_state(settings), store, live["position"])
    seconds = asyncio.get_running_loop().time() - started
    differences = compare(live["models"], digest.compute(state))
    position = live["position"]
    if differences:
        names = sorted({d.model for d in differences})
        try:
            live = await fetch_digests(args.url, token, names)
        except CommandFailed as exc:  # refused (over its budget, busy): no per-key detail
            print(f"per-key digests not available: {exc}")
        else:
            state = await replay_until(lambda: state, store, live["position"])
            keyed = digest.key_digests(state, names)
            differences = compare_keys(live["keys"], keyed) or differences
            position = live["position"]
    return _report(position, seconds, differences, f"the tracker at {args.url}")

"""Settings: defaults that work out of the box, then a config file, then the environment.

The file uses the original's keys (``config.yml`` of task_tracker, of any release, works as it
is: :mod:`tracker.original_config`; TOML and JSON are read too). It is the one ``--config``
or ``TRACKER_CONFIG`` names, else the ``config.<ext>`` the original would have read in the
working directory. Every key can also be set as ``TRACKER_<SECTION>_<KEY>``, for example
``TRACKER_SESSION_COOKIE_NAME=tt``. Durations use Go syntax (``90s``, ``1h30m``, ``400h``).
"""

from __future__ import annotations

import difflib
import http.cookies
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import yaml
from msgspec import Meta

from tracker import dsn, original_config

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class ConfigError(ValueError):
    """The configuration is invalid; the message says which key and why."""


def parse_duration(text: str | float | int) -> float:
    """Seconds in a Go duration such as ``1h30m``; a bare number is seconds."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        if text < 0:
            raise ConfigError(f"invalid duration {text!r}: must not be negative")
        return float(text)
    if not isinstance(text, str):
        raise ConfigError(f"invalid duration {text!r} (use Go syntax such as 90s or 1h30m)")
    text = text.strip()
    if text.startswith("-"):
        raise ConfigError(f"invalid duration {text!r}: must not be negative")
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    pos, total = 0, 0.0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ConfigError(f"invalid duration {text!r} (use Go syntax such as 90s or 1h30m)")
    return total


#: Seconds, written in Go syntax (``90s``, ``1h30m``) or as a number; never negative.
Duration = Annotated[float, Meta(ge=0, extra={"duration": True})]
Count = Annotated[int, Meta(ge=1)]
Bytes = Annotated[int, Meta(ge=1024)]
NonNegative = Annotated[int, Meta(ge=0)]
BatchSize = Annotated[int, Meta(ge=0, le=10_000)]


class Section(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A section of the settings: a mistyped key is refused, not ignored."""


class Server(Section):
    address: str = "0.0.0.0:3010"
    max_body_size: Bytes = 16 * 1024 * 1024  # bytes; larger bodies get 413


class Database(Section):
    data_dir: str = "./data"
    conn_str: str = ""  # a postgres:// DSN selects PostgreSQL; empty means embedded SQLite
    log_levels: list[str] = msgspec.field(default_factory=lambda: ["error", "info", "warn"])
    # What POST /logs serves from memory, per level: the newest lines up to this many and
    # about this many bytes. Older lines stay in the event log.
    log_buffer_entries: Count = 100_000
    log_buffer_bytes: Bytes = 64 * 1024 * 1024


class Git(Section):
    webhook_hash: str = "sha256"
    webhook_sig_header: str = "X-Gogs-Signature"
    # The branch whose pushes set a project's version: an exact ref match on refs/heads/<it>
    # (a full ref such as refs/tags/release is used as it is). The original matched any ref
    # ending in "master".
    webhook_branch: str = "master"


class Log(Section):
    level: str = "info"
    # text: readable lines; json: one JSON object per line, with the fields the code attaches
    format: Literal["text", "json"] = "text"


class Session(Section):
    cookie_name: str = "tt"
    expiration: Duration = 8 * 3600.0
    # How often sessions past their expiry are forgotten (SessionEnded, actor "system").
    # They are refused from the moment they expire; this only keeps the read model small.
    cleanup_interval: Duration = 60.0


class Monitoring(Section):
    snapshot_interval: Duration = 120.0
    history_length: Duration = 400 * 3600.0


class Maintenance(Section):
    # How often deadlines are checked. The original swept every 5 minutes; here an expired
    # assignment is taken back within this interval of its deadline.
    reset_timed_out_tasks_interval: Duration = 0.5


class Tasks(Section):
    # What ``max_assign_time: 0`` means: this many seconds (the original's sweep period).
    default_max_assign_time: Duration = 300.0
    # The most tasks one /task/bulk_get takes or one /task/bulk_release releases (a larger
    # count is refused with 400); 0 turns both routes off (404, as the original answers).
    max_batch_size: BatchSize = 1000
    # The most seconds a keep-alive (/task/touch) may ask for; 0 turns the route off (404).
    max_keep_alive: Duration = 3600.0


class Metrics(Section):
    # Empty: GET /metrics is open, without hidden projects' series (tracker admins see all).
    # Set: it needs "Authorization: Bearer <token>" (or a tracker admin session), and shows all.
    token: str = ""


class Checkpoint(Section):
    # Checkpoints of the read models (data_dir/checkpoints) so a restart replays only the tail
    # of the log. One is written when `interval` passed or `every_events` events were appended
    # since the last one (interval 0: only by event count), and at shutdown.
    interval: Duration = 300.0
    every_events: Count = 1_000_000
    keep: Count = 3  # the newest checkpoints kept; older ones serve time travel until pruned
    on_shutdown: bool = True
    enabled: bool = True
    # Encode in a forked child (the event loop pauses only for the fork; the child's copied
    # pages cost memory meanwhile). false, or where fork is missing: encode on the event loop.
    fork: bool = True


class Audit(Section):
    # Bearer token for GET /events and GET /audit/digest (integrations, `tracker audit
    # replay`); empty: only sessions (tracker admins; managers for /events) are accepted.
    token: str = ""
    # The most events one time-travel query (GET /project/state/:id?at=) may replay.
    max_replay_events: NonNegative = 2_000_000
    # Heavy reads (time travel, digests of the live state): how many run at once, how long
    # one more waits for its turn before a 503 with Retry-After, and the memory one may hold
    # (a read that would hold more is refused with 400, not run).
    max_concurrent_reads: Count = 2
    read_wait: Duration = 2.0
    max_read_memory: Bytes = 256 * 1024 * 1024


class Workers(Section):
    default_alias: str = "default_alias"


class Passwords(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    # argon2id cost of manager password hashes (argon2-cffi's defaults, RFC 9106 low-memory).
    # Stored hashes carry their own parameters, so changing these never locks anyone out.
    argon2_time_cost: Count = 3
    argon2_memory_cost: Count = 64 * 1024  # KiB
    argon2_parallelism: Count = 4


class Cluster(Section):
    # Several nodes on one PostgreSQL log (database.conn_str): how long a frozen or cut-off
    # node can hold the others up, and how long a request waits for a log it cannot reach.
    # PostgreSQL ends a writer's turn (its transaction holds the log's lock) that stays idle
    # this long: idle_in_transaction_session_timeout. A node frozen in its turn stalls the
    # other nodes' writes about this long.
    turn_timeout: Duration = 2.0
    # The longest one statement may run (statement_timeout; waits for the log's lock
    # included), and the longest a request waits for the log: past it, 503 with Retry-After.
    statement_timeout: Duration = 5.0
    # The scheduler's lease: PostgreSQL ends the leader's lock session after it stayed idle
    # this long (idle_session_timeout); the leader renews it every quarter of it and acts only
    # while its last renewal is younger than this (monotonic clock). Others try as often.
    lease: Duration = 2.0
    # Connections of this node's pool to the log (writer turns, catch-up, head reads).
    pool_size: Count = 4


class Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    server: Server = msgspec.field(default_factory=Server)
    database: Database = msgspec.field(default_factory=Database)
    git: Git = msgspec.field(default_factory=Git)
    log: Log = msgspec.field(default_factory=Log)
    session: Session = msgspec.field(default_factory=Session)
    monitoring: Monitoring = msgspec.field(default_factory=Monitoring)
    maintenance: Maintenance = msgspec.field(default_factory=Maintenance)
    tasks: Tasks = msgspec.field(default_factory=Tasks)
    workers: Workers = msgspec.field(default_factory=Workers)
    passwords: Passwords = msgspec.field(default_factory=Passwords)
    metrics: Metrics = msgspec.field(default_factory=Metrics)
    checkpoint: Checkpoint = msgspec.field(default_factory=Checkpoint)
    audit: Audit = msgspec.field(default_factory=Audit)
    cluster: Cluster = msgspec.field(default_factory=Cluster)

    @property
    def host(self) -> str:
        return self.server.address.rpartition(":")[0] or "0.0.0.0"

    @property
    def port(self) -> int:
        return int(self.server.address.rpartition(":")[2])


def read_file(path: str | Path) -> dict[str, Any]:
    """The file's sections; any reason it cannot be read is a ``ConfigError`` naming it."""
    path = Path(path)
    if path.suffix not in (".yml", ".yaml", ".toml", ".json"):
        raise ConfigError(f"{path}: use a .yml, .yaml, .toml or .json file")
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(text.decode())
        elif path.suffix == ".json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text) or {}
    except (ValueError, yaml.YAMLError) as exc:  # decode errors of all three, and UTF-8's
        reason = " ".join(str(exc).split())
        raise ConfigError(f"{path}: not valid {path.suffix[1:].upper()}: {reason}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections")
    return data


def _variables() -> dict[str, tuple[str, str]]:
    """``TRACKER_<SECTION>_<KEY>`` for every key, to its (section, key)."""
    names = {}
    for section in msgspec.structs.fields(Settings):
        for key in msgspec.structs.fields(section.type):
            names[f"TRACKER_{section.name}_{key.name}".upper()] = (section.name, key.name)
    return names


def from_env(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """The sections the ``TRACKER_*`` variables set; an unknown one is refused by name."""
    known = _variables()
    sections: dict[str, dict[str, Any]] = {}
    for name, value in environ.items():
        if not name.startswith("TRACKER_") or name == "TRACKER_CONFIG":
            continue
        if name not in known:
            near = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            raise ConfigError(f"{name}: unknown setting variable{hint}")
        section, key = known[name]
        if key == "log_levels":
            sections.setdefault(section, {})[key] = [
                level.strip() for level in value.split(",") if level.strip()
            ]
        else:
            sections.setdefault(section, {})[key] = value
    return sections


def build(*layers: Mapping[str, Any]) -> Settings:
    """Merge layers (later wins) over the defaults, and validate."""
    merged: dict[str, dict[str, Any]] = {}
    for layer in layers:
        for section, values in layer.items():
            if not isinstance(values, Mapping):
                raise ConfigError(f"{section}: a section must be a mapping of keys")
            merged.setdefault(section, {}).update(values)
    _parse_durations(merged)
    try:
        settings = msgspec.convert(merged, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(_explain(str(exc))) from None
    _check(settings)
    return settings


def _parse_durations(merged: dict[str, dict[str, Any]]) -> None:
    """Durations in Go syntax become seconds; an invalid one is refused with its key."""
    for section in msgspec.structs.fields(Settings):
        values = merged.get(section.name)
        if not isinstance(values, dict):
            continue
        for key in msgspec.structs.fields(section.type):
            if key.type == Duration and key.name in values:
                try:
                    values[key.name] = parse_duration(values[key.name])
                except ConfigError as exc:
                    raise ConfigError(f"{section.name}.{key.name}: {exc}") from None


_UNKNOWN = re.compile(r"Object contains unknown field `([^`]*)`(?: - at `\$\.([^`]*)`)?$")
_AT = re.compile(r"(.*) - at `\$\.(.*)`$")


def _explain(message: str) -> str:
    """msgspec's message, led by the key it concerns: ``server.adress: unknown key``."""
    if unknown := _UNKNOWN.match(message):
        key, section = unknown.groups()
        return f"{section}.{key}: unknown key" if section else f"{key}: unknown section"
    if located := _AT.match(message):
        reason, key = located.groups()
        return f"{key}: {reason[0].lower()}{reason[1:]}"
    return f"invalid configuration: {message}"


def _check(settings: Settings) -> None:
    """What the schema cannot say: each rule a small named check."""
    _check_conn_str(settings.database)
    _check_address(settings.server)
    _check_git(settings.git)
    _check_session(settings.session)
    _check_passwords(settings.passwords)
    _check_tokens(settings.metrics, settings.audit)
    _check_logs(settings.database, settings.log)
    _check_intervals(settings)
    _check_cluster(settings.cluster)


def _check_conn_str(database: Database) -> None:
    """A URL, or libpq's key=value form (the original's), which becomes the URL it means."""
    if not database.conn_str:
        return
    try:
        database.conn_str = dsn.to_url(database.conn_str)
    except dsn.InvalidDsn as exc:
        raise ConfigError(f"database.conn_str: {exc}; or leave it empty to use the embedded "
                          "SQLite log in database.data_dir") from None  # fmt: skip


def _check_address(server: Server) -> None:
    host, colon, port = server.address.rpartition(":")
    if not colon or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(
            f"server.address must be host:port with a port from 1 to 65535 (0: any free port), "
            f"got {server.address!r}"
        )


def _check_git(git: Git) -> None:
    if git.webhook_hash not in ("sha1", "sha256"):
        raise ConfigError("git.webhook_hash must be sha1 or sha256")
    if not git.webhook_branch.strip() or not git.webhook_sig_header.strip():
        raise ConfigError("git.webhook_branch and git.webhook_sig_header must not be empty")


def _check_intervals(settings: Settings) -> None:
    if settings.session.cleanup_interval <= 0:
        raise ConfigError("session.cleanup_interval must be positive")
    if settings.monitoring.snapshot_interval < 1:
        raise ConfigError("monitoring.snapshot_interval must be at least 1s")
    if settings.maintenance.reset_timed_out_tasks_interval <= 0:
        raise ConfigError("maintenance.reset_timed_out_tasks_interval must be positive")
    if not 0 < settings.tasks.default_max_assign_time <= 2**31 - 1:
        raise ConfigError("tasks.default_max_assign_time must be positive (it is what 0 means)")


def _check_cluster(cluster: Cluster) -> None:
    """PostgreSQL reads 0 as "no limit", and takes milliseconds."""
    for name in ("turn_timeout", "statement_timeout", "lease"):
        if getattr(cluster, name) < 0.1:
            raise ConfigError(f"cluster.{name} must be at least 100ms")
    if cluster.statement_timeout <= cluster.turn_timeout:
        raise ConfigError("cluster.statement_timeout must be longer than cluster.turn_timeout")


def _check_tokens(metrics: Metrics, audit: Audit) -> None:
    if metrics.token and len(metrics.token) < 16:
        raise ConfigError("metrics.token must be at least 16 characters (or empty)")
    if audit.token and len(audit.token) < 16:
        raise ConfigError("audit.token must be at least 16 characters (or empty to disable)")


def _check_session(session: Session) -> None:
    try:  # the cookie library's own rule (a reserved attribute name such as "path" included)
        http.cookies.Morsel().set(session.cookie_name, "", "")  # type: ignore[arg-type]
    except http.cookies.CookieError:
        raise ConfigError(
            f"session.cookie_name {session.cookie_name!r} cannot name a cookie: use letters, "
            "digits and !#$%&'*+-.^_`|~:"
        ) from None
    if session.expiration <= 0:
        raise ConfigError("session.expiration must be positive")


_LOG_LEVEL_NAMES = ("fatal", "panic", "error", "warn", "warning", "info", "debug", "trace")


def _check_logs(database: Database, log: Log) -> None:
    unknown = [level for level in database.log_levels if level.lower() not in _LOG_LEVEL_NAMES]
    if unknown:
        raise ConfigError(f"database.log_levels: unknown {unknown}; use {_LOG_LEVEL_NAMES}")
    if log.level.lower() not in _LOG_LEVEL_NAMES:
        raise ConfigError(f"log.level: unknown {log.level!r}; use one of {_LOG_LEVEL_NAMES}")


def _check_passwords(passwords: Passwords) -> None:
    if passwords.argon2_memory_cost < 8 * passwords.argon2_parallelism:
        raise ConfigError("passwords.argon2_memory_cost must be >= 8 KiB per unit of parallelism")


@dataclass
class Origin:
    """Where the settings came from, for the lines ``tracker serve`` starts with."""

    file: Path | None = None  # the config file read, if any
    from_working_directory: bool = False  # found there, as task_tracker looked for it
    warnings: list[str] = field(default_factory=list)


def load(path: str | Path | None = None, environ: Mapping[str, str] | None = None,
         overrides: Mapping[str, Any] | None = None, *, cwd: Path | None = None,
         origin: Origin | None = None) -> Settings:  # fmt: skip
    """Defaults, then the file (if any), then ``TRACKER_*`` variables, then ``overrides``.

    The file is ``path``, else ``$TRACKER_CONFIG``, else the ``config.<ext>`` the original
    would have read in the working directory (``cwd``). ``origin``, if given, is told which.
    """
    environ = os.environ if environ is None else environ
    origin = Origin() if origin is None else origin
    path = path or environ.get("TRACKER_CONFIG") or _in_working_directory(cwd, origin)
    layers: list[Mapping[str, Any]] = []
    if path:
        data, dropped = original_config.without_unused(read_file(path))
        origin.file = Path(path)
        if dropped:
            origin.warnings.append(original_config.unused_notice(Path(path), dropped))
        layers.append(data)
    layers.append(from_env(environ))
    if overrides:
        layers.append(overrides)
    try:
        return build(*layers)
    except ConfigError as exc:
        if not origin.from_working_directory:
            raise
        raise ConfigError(f"{path} (found in the working directory, read as task_tracker did; "
                          f"--config names another file): {exc}") from None  # fmt: skip


def _in_working_directory(cwd: Path | None, origin: Origin) -> Path | None:
    found = original_config.in_working_directory(Path.cwd() if cwd is None else cwd)
    if found is None:
        return None
    if found.suffix not in original_config.READABLE:
        origin.warnings.append(f"{found}: not read (task_tracker would have read it; give "
                               "the settings as YAML, TOML or JSON)")  # fmt: skip
        return None
    origin.from_working_directory = True
    return found

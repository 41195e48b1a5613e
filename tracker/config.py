"""Settings: defaults that work out of the box, then a config file, then the environment.

The file uses the original's keys (``config.yml`` of task_tracker works as it is; TOML and
JSON are read too). Every key can also be set as ``TRACKER_<SECTION>_<KEY>``, for example
``TRACKER_SESSION_COOKIE_NAME=tt``. Durations use Go syntax (``90s``, ``1h30m``, ``400h``).
"""

from __future__ import annotations

import http.cookies
import json
import os
import re
import tomllib
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec
import yaml

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class ConfigError(ValueError):
    """The configuration is invalid; the message says which key and why."""


def parse_duration(text: str | float | int) -> float:
    """Seconds in a Go duration such as ``1h30m``; a bare number is seconds."""
    if isinstance(text, int | float):
        return float(text)
    text = text.strip()
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


class Server(msgspec.Struct, kw_only=True):
    address: str = "0.0.0.0:3010"
    max_body_size: int = 16 * 1024 * 1024  # bytes; larger bodies get 413


class Database(msgspec.Struct, kw_only=True):
    data_dir: str = "./data"
    conn_str: str = ""  # a postgres:// DSN selects PostgreSQL; empty means embedded SQLite
    log_levels: list[str] = msgspec.field(default_factory=lambda: ["error", "info", "warn"])
    # What POST /logs serves from memory, per level: the newest lines up to this many and
    # about this many bytes. Older lines stay in the event log.
    log_buffer_entries: int = 100_000
    log_buffer_bytes: int = 64 * 1024 * 1024


class Git(msgspec.Struct, kw_only=True):
    webhook_hash: str = "sha256"
    webhook_sig_header: str = "X-Gogs-Signature"
    # The branch whose pushes set a project's version: an exact ref match on refs/heads/<it>
    # (a full ref such as refs/tags/release is used as it is). The original matched any ref
    # ending in "master".
    webhook_branch: str = "master"


class Log(msgspec.Struct, kw_only=True):
    level: str = "info"


class Session(msgspec.Struct, kw_only=True):
    cookie_name: str = "tt"
    expiration: float = 8 * 3600.0
    # How often sessions past their expiry are forgotten (SessionEnded, actor "system").
    # They are refused from the moment they expire; this only keeps the read model small.
    cleanup_interval: float = 60.0


class Monitoring(msgspec.Struct, kw_only=True):
    snapshot_interval: float = 120.0
    history_length: float = 400 * 3600.0


class Maintenance(msgspec.Struct, kw_only=True):
    # How often deadlines are checked. The original swept every 5 minutes; here an expired
    # assignment is taken back within this interval of its deadline.
    reset_timed_out_tasks_interval: float = 0.5


class Tasks(msgspec.Struct, kw_only=True):
    # What ``max_assign_time: 0`` means: this many seconds (the original's sweep period).
    default_max_assign_time: float = 300.0


class Metrics(msgspec.Struct, kw_only=True):
    # Empty: GET /metrics is open, without hidden projects' series (tracker admins see all).
    # Set: it needs "Authorization: Bearer <token>" (or a tracker admin session), and shows all.
    token: str = ""


class Checkpoint(msgspec.Struct, kw_only=True):
    # Checkpoints of the read models (data_dir/checkpoints) so a restart replays only the tail
    # of the log. One is written when `interval` passed or `every_events` events were appended
    # since the last one (interval 0: only by event count), and at shutdown.
    interval: float = 300.0
    every_events: int = 1_000_000
    keep: int = 3  # the newest checkpoints kept; older ones serve time travel until pruned
    on_shutdown: bool = True
    enabled: bool = True
    # Encode in a forked child (the event loop pauses only for the fork; the child's copied
    # pages cost memory meanwhile). false, or where fork is missing: encode on the event loop.
    fork: bool = True


class Audit(msgspec.Struct, kw_only=True):
    # Bearer token for GET /events and GET /audit/digest (integrations, `tracker audit
    # replay`); empty: only sessions (tracker admins; managers for /events) are accepted.
    token: str = ""
    # The most events one time-travel query (GET /project/state/:id?at=) may replay.
    max_replay_events: int = 2_000_000


class Workers(msgspec.Struct, kw_only=True):
    default_alias: str = "default_alias"


class Passwords(msgspec.Struct, kw_only=True, frozen=True):
    # argon2id cost of manager password hashes (argon2-cffi's defaults, RFC 9106 low-memory).
    # Stored hashes carry their own parameters, so changing these never locks anyone out.
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 64 * 1024  # KiB
    argon2_parallelism: int = 4


class Settings(msgspec.Struct, kw_only=True):
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

    @property
    def host(self) -> str:
        return self.server.address.rpartition(":")[0] or "0.0.0.0"

    @property
    def port(self) -> int:
        return int(self.server.address.rpartition(":")[2])


_DURATION_KEYS = {
    ("session", "expiration"),
    ("session", "cleanup_interval"),
    ("monitoring", "snapshot_interval"),
    ("monitoring", "history_length"),
    ("maintenance", "reset_timed_out_tasks_interval"),
    ("tasks", "default_max_assign_time"),
    ("checkpoint", "interval"),
}


def read_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    text = path.read_bytes()
    if path.suffix in (".yml", ".yaml"):
        data = yaml.safe_load(text) or {}
    elif path.suffix == ".toml":
        data = tomllib.loads(text.decode())
    elif path.suffix == ".json":
        data = json.loads(text)
    else:
        raise ConfigError(f"{path}: use a .yml, .yaml, .toml or .json file")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections")
    return data


def from_env(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    sections: dict[str, dict[str, Any]] = {}
    for field in msgspec.structs.fields(Settings):
        section_type = field.type
        for key in msgspec.structs.fields(section_type):
            name = f"TRACKER_{field.name}_{key.name}".upper()
            if name in environ:
                value: Any = environ[name]
                if key.name == "log_levels":
                    value = [level.strip() for level in value.split(",") if level.strip()]
                sections.setdefault(field.name, {})[key.name] = value
    return sections


def build(*layers: Mapping[str, Any]) -> Settings:
    """Merge layers (later wins) over the defaults, and validate."""
    merged: dict[str, dict[str, Any]] = {}
    for layer in layers:
        for section, values in layer.items():
            if not isinstance(values, Mapping):
                raise ConfigError(f"section {section!r} must be a mapping")
            merged.setdefault(section, {}).update(values)
    for section, key in _DURATION_KEYS:
        if key in merged.get(section, {}):
            merged[section][key] = parse_duration(merged[section][key])
    try:
        settings = msgspec.convert(merged, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid configuration: {exc}") from exc
    _check(settings)
    return settings


def _check(settings: Settings) -> None:
    conn_str = settings.database.conn_str
    if conn_str and urllib.parse.urlsplit(conn_str).scheme not in ("postgres", "postgresql"):
        raise ConfigError(
            "database.conn_str must be a PostgreSQL URL (postgresql://user@host:5432/dbname), "
            "or empty to use the embedded SQLite log in database.data_dir"
        )
    if settings.git.webhook_hash not in ("sha1", "sha256"):
        raise ConfigError("git.webhook_hash must be sha1 or sha256")
    if not settings.git.webhook_branch.strip() or not settings.git.webhook_sig_header.strip():
        raise ConfigError("git.webhook_branch and git.webhook_sig_header must not be empty")
    if settings.session.cleanup_interval <= 0:
        raise ConfigError("session.cleanup_interval must be positive")
    _check_session(settings.session)
    _check_passwords(settings.passwords)
    _check_audit(settings.checkpoint, settings.audit)
    _check_logs(settings.database)
    if settings.monitoring.snapshot_interval < 1:
        raise ConfigError("monitoring.snapshot_interval must be at least 1s")
    if settings.maintenance.reset_timed_out_tasks_interval <= 0:
        raise ConfigError("maintenance.reset_timed_out_tasks_interval must be positive")
    if not 0 < settings.tasks.default_max_assign_time <= 2**31 - 1:
        raise ConfigError("tasks.default_max_assign_time must be positive (it is what 0 means)")
    if settings.metrics.token and len(settings.metrics.token) < 16:
        raise ConfigError("metrics.token must be at least 16 characters (or empty)")
    if settings.server.max_body_size < 1024:
        raise ConfigError("server.max_body_size must be at least 1024 bytes")
    try:
        settings.port  # noqa: B018
    except ValueError as exc:
        raise ConfigError(
            f"server.address must be host:port, got {settings.server.address!r}"
        ) from exc


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


def _check_logs(database: Database) -> None:
    unknown = [level for level in database.log_levels if level.lower() not in _LOG_LEVEL_NAMES]
    if unknown:
        raise ConfigError(f"database.log_levels: unknown {unknown}; use {_LOG_LEVEL_NAMES}")
    if database.log_buffer_entries < 1 or database.log_buffer_bytes < 1024:
        raise ConfigError("database.log_buffer_entries must be >= 1 and log_buffer_bytes >= 1024")


def _check_audit(checkpoint: Checkpoint, audit: Audit) -> None:
    if checkpoint.interval < 0 or checkpoint.every_events < 1 or checkpoint.keep < 1:
        raise ConfigError("checkpoint.interval must be >= 0, every_events and keep >= 1")
    if audit.token and len(audit.token) < 16:
        raise ConfigError("audit.token must be at least 16 characters (or empty to disable)")
    if audit.max_replay_events < 0:
        raise ConfigError("audit.max_replay_events must be >= 0")


def _check_passwords(passwords: Passwords) -> None:
    if passwords.argon2_time_cost < 1 or passwords.argon2_parallelism < 1:
        raise ConfigError("passwords.argon2_time_cost and argon2_parallelism must be >= 1")
    if passwords.argon2_memory_cost < 8 * passwords.argon2_parallelism:
        raise ConfigError("passwords.argon2_memory_cost must be >= 8 KiB per unit of parallelism")


def load(path: str | Path | None = None, environ: Mapping[str, str] | None = None,
         overrides: Mapping[str, Any] | None = None) -> Settings:  # fmt: skip
    """Defaults, then the file (if any), then ``TRACKER_*`` variables, then ``overrides``."""
    environ = os.environ if environ is None else environ
    layers: list[Mapping[str, Any]] = []
    path = path or environ.get("TRACKER_CONFIG")
    if path:
        layers.append(read_file(path))
    layers.append(from_env(environ))
    if overrides:
        layers.append(overrides)
    return build(*layers)

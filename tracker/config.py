"""Settings: defaults that work out of the box, then a config file, then the environment.

The file uses the original's keys (``config.yml`` of task_tracker works as it is; TOML and
JSON are read too). Every key can also be set as ``TRACKER_<SECTION>_<KEY>``, for example
``TRACKER_SESSION_COOKIE_NAME=tt``. Durations use Go syntax (``90s``, ``1h30m``, ``400h``).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
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


class Workers(msgspec.Struct, kw_only=True):
    default_alias: str = "default_alias"


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
    if settings.git.webhook_hash not in ("sha1", "sha256"):
        raise ConfigError("git.webhook_hash must be sha1 or sha256")
    if not settings.git.webhook_branch.strip() or not settings.git.webhook_sig_header.strip():
        raise ConfigError("git.webhook_branch and git.webhook_sig_header must not be empty")
    if settings.session.cleanup_interval <= 0:
        raise ConfigError("session.cleanup_interval must be positive")
    if settings.monitoring.snapshot_interval < 1:
        raise ConfigError("monitoring.snapshot_interval must be at least 1s")
    if settings.maintenance.reset_timed_out_tasks_interval <= 0:
        raise ConfigError("maintenance.reset_timed_out_tasks_interval must be positive")
    if settings.server.max_body_size < 1024:
        raise ConfigError("server.max_body_size must be at least 1024 bytes")
    try:
        settings.port  # noqa: B018
    except ValueError as exc:
        raise ConfigError(f"server.address must be host:port, got {settings.server.address!r}") from exc


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

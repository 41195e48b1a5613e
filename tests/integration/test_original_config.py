"""Moving from the original: its ``config.yml``, of any release, works as it is.

Every key any release shipped is accepted (the ones that mean nothing here are named in one
warning line); other unknown keys are still refused. The ``key=value`` ``conn_str`` those
releases shipped reaches the real PostgreSQL server, and its password is never printed. A
``config.yml`` in the working directory is read, as the original read it. ``log.level:
trace`` (the shipped level) turns on the tracker's own lines only.
"""

from __future__ import annotations

import re
import secrets
import urllib.parse
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from tests import postgres
from tests.integration.test_sigkill import call
from tests.processes import Servers, run
from tracker import config
from tracker.dsn import schema_of

#: Every key of every config.yml the original's repository shipped (its own and its test
#: suite's, at every commit of simon987/task_tracker), with a value one of them had.
ORIGINAL = {
    "server": {"address": "127.0.0.1:5001", "test_address": "127.0.0.1:5001"},
    "database": {
        "conn_str": "user=task_tracker password=task_tracker dbname=task_tracker sslmode=disable",
        "test_conn_str": "user=task_tracker dbname=task_tracker_test sslmode=disable",
        "log_levels": ["debug", "error", "trace", "info", "warning"],
    },
    "git": {
        "webhook_secret": "very_secret_secret",
        "webhook_hash": "sha1",
        "webhook_sig_header": "X-Hub-Signature",
    },  # fmt: skip
    "log": {"level": "trace"},
    "session": {"cookie_name": "tt_test", "expiration": "25m"},
    "monitoring": {"snapshot_interval": "10h", "history_length": "400h"},
    "maintenance": {"reset_timed_out_tasks_interval": "5m"},
}

#: The last release's config.yml (its keys, values and layout; comments left out).
LAST_RELEASE = """\
server:
  address: "0.0.0.0:3010"

database:
  conn_str: "postgres://task_tracker:task_tracker@tt_db/task_tracker?sslmode=disable"
  log_levels: ["error", "info", "warn"]

git:
  webhook_hash: "sha256"
  webhook_sig_header: "X-Gogs-Signature"

log:
  level: "trace"

session:
  cookie_name: "tt"
  expiration: "8h"

monitoring:
  snapshot_interval: "120s"
  history_length: "400h"

maintenance:
  reset_timed_out_tasks_interval: "5m"
"""


def _yaml(sections: dict) -> str:
    lines = []
    for section, values in sections.items():
        lines.append(f"{section}:")
        lines += [f"  {key}: {value!r}" if isinstance(value, str) else f"  {key}: {value}"
                  for key, value in values.items()]  # fmt: skip
    return "\n".join(lines) + "\n"


def test_every_key_any_release_shipped_is_accepted_and_the_unused_ones_named_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "config.yml"
    path.write_text(_yaml(ORIGINAL))
    origin = config.Origin()
    settings = config.load(path, environ={}, cwd=tmp_path, origin=origin)
    assert (settings.host, settings.port, settings.git.webhook_hash) == ("127.0.0.1", 5001, "sha1")
    assert settings.session.expiration == 25 * 60
    assert settings.maintenance.reset_timed_out_tasks_interval == 300
    assert settings.database.conn_str == (
        "postgresql://task_tracker:task_tracker@/task_tracker?sslmode=disable"
    )
    [warning] = origin.warnings  # one line, naming each
    for key in ("git.webhook_secret", "server.test_address", "database.test_conn_str"):
        assert key in warning
    assert "very_secret_secret" not in warning and "task_tracker_test" not in warning


def test_the_last_release_config_yml_is_read_as_shipped(tmp_path: Path) -> None:
    (tmp_path / "config.yml").write_text(LAST_RELEASE)
    origin = config.Origin()
    settings = config.load(environ={}, cwd=tmp_path, origin=origin)
    assert (origin.file, origin.from_working_directory) == (tmp_path / "config.yml", True)
    assert origin.warnings == []
    assert settings.database.conn_str.startswith("postgres://task_tracker:task_tracker@tt_db/")


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("git:\n  webhook_secrets: x\n", "git.webhook_secrets: unknown key"),
        ("server:\n  adress: x\n", "server.adress: unknown key"),
        ("database:\n  conn_str: 'user=a connect_timeout=5'\n", "keyword 'connect_timeout'"),
        ('database:\n  conn_str: "user=a password=\'unclosed"\n', "has no closing quote"),
        ("database:\n  conn_str: 'mysql://a@b/c'\n", "must be a PostgreSQL URL"),
    ],
)
def test_keys_no_release_had_and_unusable_conn_strs_are_still_refused(
    tmp_path: Path, text: str, complaint: str
) -> None:
    (tmp_path / "config.yml").write_text(text)
    with pytest.raises(config.ConfigError) as refused:
        config.load(environ={}, cwd=tmp_path)
    assert complaint in str(refused.value)
    assert "found in the working directory" in str(refused.value)  # says which file it read
    assert "unclosed" not in str(refused.value)  # a value (a password) is never repeated


def test_which_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "config.yml").write_text("session:\n  cookie_name: from_yml\n")
    (tmp_path / "other.toml").write_text('[session]\ncookie_name = "from_toml"\n')
    assert config.load(environ={}, cwd=tmp_path).session.cookie_name == "from_yml"
    given = {"TRACKER_CONFIG": str(tmp_path / "other.toml")}
    assert config.load(environ=given, cwd=tmp_path).session.cookie_name == "from_toml"
    flag = config.load(tmp_path / "other.toml", environ={}, cwd=tmp_path)
    assert flag.session.cookie_name == "from_toml"
    (tmp_path / "config.json").write_text('{"session": {"cookie_name": "from_json"}}')
    assert config.load(environ={}, cwd=tmp_path).session.cookie_name == "from_json"  # viper's order
    (tmp_path / "config.json").unlink()
    (tmp_path / "config.yml").unlink()
    (tmp_path / "config.hcl").write_text('session { cookie_name = "x" }\n')
    origin = config.Origin()
    assert config.load(environ={}, cwd=tmp_path, origin=origin).session.cookie_name == "tt"
    assert origin.warnings == [f"{tmp_path / 'config.hcl'}: not read (task_tracker would have "
                               "read it; give the settings as YAML, TOML or JSON)"]  # fmt: skip


_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>[A-Z]+) (?P<logger>\S+) ")


async def test_tracker_serve_in_the_originals_directory(
    tmp_path: Path, servers: Servers, pg_dsn: str
) -> None:
    """The original's config.yml as it was deployed (beside the binary, log.level trace, the
    key=value conn_str with a password), pointed at the test server: the tracker serves from
    PostgreSQL, prints only its own log lines, one warning, and never the password."""
    schema, password = schema_of(pg_dsn), f"pw-{secrets.token_hex(8)}"
    where = urllib.parse.urlsplit(postgres.SERVER)  # trust auth: the password is not needed
    conn_str = (f"user={where.username} password='{password}' dbname={where.path[1:]} "
                f"sslmode=disable host={where.hostname} port={where.port or 5432} "
                f"options='-c search_path={schema}'")  # fmt: skip
    text = _yaml({**ORIGINAL, "database": {**ORIGINAL["database"], "conn_str": conn_str}})
    (tmp_path / "config.yml").write_text(text)
    server = await servers.new("data", cwd=tmp_path).astart()  # config.yml is in its cwd
    try:
        async with aiohttp.ClientSession() as session:
            account = {"username": "admin", "password": "password1"}
            await call(session, "POST", server.url + "/register", json=account)
    finally:
        assert server.stop() == 0
    conn = await asyncpg.connect(pg_dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM events") >= 1  # in the named schema
    finally:
        await conn.close()
    out, err = server.stdout, server.stderr
    assert password not in out + err
    lines = [_LINE.match(line) for line in err.splitlines()]
    assert all(lines), err  # nothing but log lines (no traceback, no stray print)
    assert {m["logger"].split(".")[0] for m in lines if m} == {"tracker"}, err  # tzlocal's...
    assert "DEBUG" in {m["level"] for m in lines if m}  # trace is on, for the tracker's lines
    warnings = [line for line in err.splitlines() if " WARNING " in line]
    assert len(warnings) == 1 and "git.webhook_secret" in warnings[0], warnings
    assert f"settings from {tmp_path / 'config.yml'} (in the working directory" in err


def test_a_password_is_never_printed_when_postgresql_cannot_be_reached(tmp_path: Path) -> None:
    conn_str = "user=task_tracker password=s3cret-Pw dbname=task_tracker host=127.0.0.1 port=1"
    done = run("audit", "verify", "--database", conn_str, "--data-dir", str(tmp_path))
    assert done.returncode == 2, done.stdout
    assert "cannot reach PostgreSQL at postgresql://task_tracker:***@/task_tracker" in done.stderr
    assert "s3cret" not in done.stdout + done.stderr

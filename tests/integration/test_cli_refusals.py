"""Bad input at the edge: every refusal of an option or setting is one line naming it, exit
status 2, never a traceback, whatever other flags are given. Each case is its own process."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import aiohttp
import pytest

from tests.integration import sample_log
from tests.processes import ROOT, Servers, command, environment, run


def unwritable(tmp_path: Path) -> Path:
    """A directory this process cannot create files in (root ignores modes: /sys then)."""
    locked = tmp_path / "read-only"
    locked.mkdir()
    locked.chmod(0o500)
    found = locked if not os.access(locked, os.W_OK) else Path("/sys")
    with pytest.raises(OSError):  # the premise, checked: it really is not writable
        (found / "probe").open("x").close()
    return found


def files(tmp_path: Path) -> dict[str, str]:
    def write(name: str, text: str) -> str:
        (tmp_path / name).write_text(text)
        return str(tmp_path / name)

    (tmp_path / "folder.yml").mkdir()
    (tmp_path / "a-file").write_text("")
    return {
        "missing": str(tmp_path / "missing.yml"),
        "folder": str(tmp_path / "folder.yml"),
        "bad_yaml": write("bad.yml", "server: [unclosed\n"),
        "bad_toml": write("bad.toml", "[server\naddress = 1\n"),
        "negative": write("negative.yml", "session:\n  expiration: -5s\n"),
        "typo": write("typo.yml", "server:\n  adress: 127.0.0.1:3010\n"),
        "section": write("section.yml", "sever:\n  address: 127.0.0.1:3010\n"),
        "too_small": write("small.json", '{"server": {"max_body_size": 10}}'),
        "bad_port": write("port.yml", "server:\n  address: 127.0.0.1:70000\n"),
        "a_file": str(tmp_path / "a-file"),
        "unwritable": str(unwritable(tmp_path)),
    }


CASES = [  # (arguments, extra environment, what the one line must say)
    (["serve", "--port", "99999"], {}, "argument --port: a port from 1 to 65535"),
    (["serve", "--port", "-1", "--host", "127.0.0.1"], {}, "argument --port: a port from 1"),
    (["serve", "--port", "ten"], {}, "argument --port: a port from 1 to 65535"),
    (["serve", "--prot", "3010"], {}, "unrecognized arguments: --prot"),
    (["serve", "--data-dir", "{a_file}", "--port", "3011"], {}, "is not a directory"),
    (["serve", "--data-dir", "{unwritable}", "--port", "3011"], {}, "not writable"),
    (["serve", "--config", "{missing}", "--port", "3011"], {}, "missing.yml: cannot read it"),
    (["serve", "--config", "{folder}", "--host", "127.0.0.1"], {}, "Is a directory"),
    (["serve", "--config", "{bad_yaml}", "--port", "3011"], {}, "bad.yml: not valid YML"),
    (["serve", "--config", "{bad_toml}", "--port", "3011"], {}, "bad.toml: not valid TOML"),
    (["serve", "--config", "{negative}", "--port", "3011"], {},
     "session.expiration: invalid duration '-5s': must not be negative"),
    (["serve", "--config", "{typo}", "--port", "3011"], {}, "server.adress: unknown key"),
    (["serve", "--config", "{section}"], {}, "sever: unknown section"),
    (["serve", "--config", "{too_small}", "--port", "3011"], {}, "server.max_body_size"),
    (["serve", "--config", "{bad_port}"], {}, "server.address must be host:port"),
    (["serve", "--port", "3011"], {"TRACKER_SERVER_ADRESS": "x:1"},
     "TRACKER_SERVER_ADRESS: unknown setting variable (did you mean TRACKER_SERVER_ADDRESS?)"),
    (["serve", "--port", "3011"], {"TRACKER_SESSION_EXPIRATION": "soon"},
     "session.expiration: invalid duration 'soon'"),
    (["serve", "--port", "3011"], {"TRACKER_LOG_FORMAT": "xml"}, "log.format"),
    (["backup", "--data-dir", "{a_file}"], {}, "one of the arguments -o/--output --into is"),
    (["backup", "-o", "{missing}", "--keep", "2"], {}, "--keep prunes the backups of --into DIR"),
    (["backup", "--into", "{folder}", "--keep", "0"], {}, "argument --keep: a number of backups"),
    (["backup", "--data-dir", "{a_file}", "--database", "postgresql://u:pw@127.0.0.1:1/x", "-o",
      "{missing}"], {}, "--data-dir names a SQLite log, but the log is in PostgreSQL"),
    (["restore", "{missing}", "--data-dir", "{a_file}"], {"TRACKER_DATABASE_CONN_STR":
      "user=u password=pw host=127.0.0.1 port=1"}, "--data-dir names a SQLite log"),
    (["backup", "-o", "{missing}"], {"TRACKER_DATABASE_CONN_STR": "user=u connect_timeout=3"},
     "database.conn_str: keyword 'connect_timeout' is not supported here"),
    (["audit", "replay", "--token", "t" * 20], {}, "--token is the audit.token of the tracker"),
    (["audit", "replay", "--url", "http://127.0.0.1:1", "--checkpoint", "latest"], {},
     "--url and --checkpoint: compare with one of them"),
    (["events", "export", "--from", "5", "--to", "2"], {}, "--to 2 is before --from 5"),
    (["events", "export", "--from", "0"], {}, "argument --from: a log position, from 1"),
    (["events", "export", "--data-dir", "{a_file}", "--database", "postgresql://u@127.0.0.1:1/x"],
     {}, "--data-dir names a SQLite log"),
    (["backup", "--data-dir", "{a_file}", "-o", "{missing}"], {}, "no event log at"),
    (["restore", "{missing}", "--data-dir", "{a_file}"], {}, "missing.yml: no such backup file"),
    (["audit", "verify", "--config", "{typo}"], {}, "server.adress: unknown key"),
    (["events", "export", "--from", "first"], {}, "argument --from: a log position, from 1"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "env", "says"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_a_bad_option_or_setting_is_one_line_and_status_2(
    tmp_path: Path, args: list[str], env: dict[str, str], says: str
) -> None:
    paths = files(tmp_path)
    arguments = [arg.format(**paths) for arg in args]
    if "--data-dir" not in arguments and args[0] != "events":
        arguments += ["--data-dir", str(tmp_path / "data")]
    done = run(*arguments, env=environment(**env))
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert says in done.stderr, done.stderr
    assert done.stdout == ""
    assert not (tmp_path / "data" / "events.sqlite3").exists()  # nothing was started


async def test_port_0_means_any_free_port_and_the_chosen_one_is_printed(servers: Servers) -> None:
    server = servers.new()
    assert server.port == 0  # what it is started with: `tracker serve --port 0`
    await server.astart()
    assert f"tracker: listening on http://127.0.0.1:{server.port}" in server.stdout
    assert server.port != 0
    try:
        async with aiohttp.ClientSession() as session, session.get(server.url + "/healthz") as got:
            assert got.status == 200
    finally:
        assert server.stop() == 0


def test_every_command_stops_quietly_when_its_output_pipe_closes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    sample_log.write_log(data_dir, sample_log.events(tasks_count=2000))  # far over a pipe buffer
    for args in (["events", "export", "--data-dir", str(data_dir)], ["--help"]):
        process = subprocess.Popen(command(*args), cwd=ROOT, env=environment(),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.read(10)  # as `| head -c 10` reads, then goes away
        process.stdout.close()
        assert process.wait(timeout=120) in (0, 1)  # 1: its output was cut short
        with process.stderr:
            assert process.stderr.read() == b""

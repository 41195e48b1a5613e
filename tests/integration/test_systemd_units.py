"""The systemd units in docs/systemd/ work as written.

``systemd-analyze verify`` checks them (any warning fails: an unknown key is only a warning to
systemd), with the install paths of docs/production.md mapped onto this machine: the package's
``/opt/tracker/bin/`` onto this environment's, ``/etc/tracker`` and ``/var/lib`` onto the
test's directory. Then each unit's command runs as the unit would run it (its ExecStart,
Environment and WorkingDirectory): ``tracker serve`` answers ``/readyz`` and exits 0 on
SIGTERM, and the backup unit writes a backup beside its ``.head``, both owner-only. Without
``systemd-analyze`` the check is skipped with the reason (it fails instead under ``CI``).
"""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import ROOT, Servers, environment

UNITS = ROOT / "docs" / "systemd"


def _mapped(tmp_path: Path) -> dict[str, str]:
    return {
        "/opt/tracker/bin/": f"{Path(sys.executable).parent}/",  # tracker beside this python
        "/etc/tracker/": f"{tmp_path}/etc/tracker/",
        "/var/lib/": f"{tmp_path}/",  # /var/lib/tracker: the servers fixture's "tracker"
    }


def _copy(tmp_path: Path) -> Path:
    """docs/systemd with the paths mapped, and the directories systemd would create."""
    copy = tmp_path / "units"
    shutil.copytree(UNITS, copy)
    for unit in copy.rglob("*"):
        if unit.is_file():
            text = unit.read_text()
            for installed, here in _mapped(tmp_path).items():
                text = text.replace(installed, here)
            unit.write_text(text)
    for state in ("tracker", "tracker-backup"):  # StateDirectory=
        (tmp_path / state).mkdir(mode=0o700)
    (tmp_path / "etc" / "tracker").mkdir(parents=True)
    (tmp_path / "etc" / "tracker" / "config.yml").write_text(
        "server:\n  address: 127.0.0.1:0\n"  # docs/production.md's example, on a free port
    )
    return copy


def _directives(unit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def _how_systemd_runs(unit: Path) -> tuple[list[str], Path, dict[str, str]]:
    """The unit's command, working directory and Environment= (no specifiers are used)."""
    directives = _directives(unit)
    [command] = directives["ExecStart"]
    [cwd] = directives["WorkingDirectory"]
    env = {}
    for assignment in directives.get("Environment", []):
        key, _, value = assignment.partition("=")
        env[key] = value
    return shlex.split(command), Path(cwd), env


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        reason = "systemd-analyze is not installed (Debian: apt-get install systemd)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must check the units", pytrace=False)
        pytest.skip(reason)
    copy = _copy(tmp_path)
    names = sorted(p.name for p in copy.iterdir() if p.suffix in (".service", ".timer"))
    assert names == ["tracker-backup.service", "tracker-backup.timer", "tracker.service"]
    assert (copy / "tracker.service.d" / "postgresql.conf").is_file()  # verified with its unit
    done = subprocess.run([analyze, "verify", *names], cwd=copy, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
    postgresql = _directives(copy / "tracker.service.d" / "postgresql.conf")
    assert postgresql["After"] == postgresql["Wants"] == ["postgresql.service"]
    timer = _directives(copy / "tracker-backup.timer")
    assert timer["OnCalendar"] == ["daily"] and timer["Persistent"] == ["true"]


def test_the_units_commands_run_as_written(tmp_path: Path, servers: Servers) -> None:
    copy = _copy(tmp_path)
    argv, cwd, env = _how_systemd_runs(copy / "tracker.service")
    assert argv[0] == f"{Path(sys.executable).parent}/tracker"
    assert env["TRACKER_DATABASE_DATA_DIR"] == str(tmp_path / "tracker")
    server = servers.new("tracker", argv=argv, cwd=cwd, env=env).start()  # /readyz: 200
    assert server.stop() == 0
    assert (server.data_dir / "events.sqlite3").is_file()

    argv, cwd, env = _how_systemd_runs(copy / "tracker-backup.service")
    done = subprocess.run(argv, cwd=cwd, env=environment(**env), capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    made = sorted((tmp_path / "tracker-backup").iterdir())
    assert [p.suffix for p in made] == [".db", ".head"]
    assert {stat.S_IMODE(p.stat().st_mode) for p in made} == {0o600}

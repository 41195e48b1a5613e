"""The package as a user installs it: the wheel built from the source, ``pip install``-ed into a
fresh virtual environment (its dependencies from the package index, as a user's would come),
then ``tracker --help`` and ``tracker serve`` from there, far from the source tree.

The wheel must hold every file of the web UI (templates, static files) and nothing of the tests;
the installed ``tracker serve`` must answer ``/readyz`` and serve a UI page and its static files.
Without a package index the test is skipped with the reason, and fails instead under ``CI``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.processes import ROOT, Servers, fetch

pytestmark = pytest.mark.slow

UI = ROOT / "tracker" / "ui"


def _pip(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """This environment's pip (``--python`` aims it at another one: no pip to install there)."""
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=600)  # fmt: skip


def _or_skip(done: subprocess.CompletedProcess[str], what: str) -> None:
    """A pip that could not reach the package index: skipped here, a failure in CI."""
    if done.returncode == 0:
        return
    reason = f"{what} failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}"
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def _source(into: Path) -> Path:
    """What a source distribution holds (so the build writes nothing into the checkout)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "tracker", into / "tracker", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(ROOT / name, into / name)
    return into


def _wheel(tmp_path: Path) -> Path:
    built = _pip("wheel", "--no-deps", "--wheel-dir", str(tmp_path / "dist"),
                 str(_source(tmp_path / "source")), cwd=tmp_path)  # fmt: skip
    _or_skip(built, "pip wheel")
    [wheel] = (tmp_path / "dist").glob("*.whl")
    return wheel


def test_the_wheel_holds_the_package_the_ui_and_the_command(
    tmp_path: Path, servers: Servers
) -> None:
    wheel = _wheel(tmp_path)
    assert wheel.name.startswith("task_tracker_server-")
    names = set(zipfile.ZipFile(wheel).namelist())
    ui_files = {p.relative_to(ROOT).as_posix() for folder in ("templates", "static")
                for p in (UI / folder).rglob("*") if p.is_file()}  # fmt: skip
    assert ui_files - names == set()  # every template and static file
    name, version = wheel.name.split("-")[:2]
    assert {n.split("/")[0] for n in names} == {"tracker", f"{name}-{version}.dist-info"}
    meta = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "tracker = tracker.cli:main" in zipfile.ZipFile(wheel).read(meta).decode()

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)  # fmt: skip
    python = venv / "bin" / "python"
    installed = _pip("--python", str(python), "install", "--quiet", str(wheel), cwd=tmp_path)
    _or_skip(installed, "pip install")
    checked = _pip("--python", str(python), "check", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout
    away = tmp_path / "elsewhere"  # not the checkout: only the installed package can be used
    away.mkdir()
    found = subprocess.run([str(python), "-c", "import tracker; print(tracker.__file__)"],
                           cwd=away, capture_output=True, text=True, check=True)  # fmt: skip
    assert found.stdout.startswith(str(venv))
    helped = subprocess.run([str(venv / "bin" / "tracker"), "--help"], cwd=away,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert helped.returncode == 0 and "serve" in helped.stdout, helped.stderr
    _serve_from(venv / "bin" / "tracker", away, servers)


def _serve_from(tracker: Path, cwd: Path, servers: Servers) -> None:
    """``tracker serve`` of the installed package, run in ``cwd``: ready, a UI page and its
    static files, exit status 0 on SIGTERM."""
    data = servers.where / "data"
    argv = [str(tracker), "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data)]
    server = servers.start("data", argv=argv, cwd=cwd)
    status, page = fetch(server.url + "/ui/login")
    assert status == 200 and "<form" in page
    assets = re.findall(r'(?:href|src)="(/ui/static/[^"]+)"', page)
    kinds = {asset.partition("?")[0].rpartition(".")[2] for asset in assets}
    assert {"css", "js"} <= kinds, assets
    assert [asset for asset in assets if fetch(server.url + asset)[0] != 200] == []
    assert server.stop() == 0

"""Browser tests: a real ``tracker serve`` process on a real SQLite file, driven through
Debian's headless Chromium with Playwright (its driver ships in the wheel; no browser is
downloaded). Without chromium the tests are skipped on a developer's machine and FAIL in CI."""

from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "ui"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Http:
    """A small HTTP client of the tracker's API (a worker's or a manager's, with cookies)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def call(self, method: str, path: str, body: Any = None, worker: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if worker:
            request.add_header("X-Worker-Id", str(worker["id"]))
            request.add_header("X-Secret", worker["secret"])
        try:
            with self.opener.open(request, timeout=30) as response:
                text = response.read()
        except urllib.error.HTTPError as error:
            text = error.read()
        return json.loads(text) if text else {}

    def worker(self, alias: str) -> dict:
        return dict(self.call("POST", "/worker/create", {"alias": alias})["content"]["worker"])

    def submit(self, worker: dict, project: int, recipe: str, **fields: Any) -> dict:
        body = {"project": project, "recipe": recipe, **fields}
        return self.call("POST", "/task/submit", body, worker)

    def take(self, worker: dict, project: int) -> dict:
        return self.call("GET", f"/task/get/{project}", worker=worker)

    def release(self, worker: dict, task_id: int, result: int = 0) -> dict:
        return self.call("POST", "/task/release", {"task_id": task_id, "result": result}, worker)


class Server:
    """``tracker serve`` in a child process, on its own data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / "serve.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
        env.update(
            TRACKER_PASSWORDS_ARGON2_TIME_COST="1", TRACKER_PASSWORDS_ARGON2_MEMORY_COST="8",
            TRACKER_PASSWORDS_ARGON2_PARALLELISM="1", TRACKER_MONITORING_SNAPSHOT_INTERVAL="1s",
        )  # fmt: skip
        command = [sys.executable, "-m", "tracker.cli", "serve", "--host", "127.0.0.1",
                   "--port", str(self.port), "--data-dir", str(data_dir)]  # fmt: skip
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        self._wait()

    def _wait(self) -> None:
        for _ in range(600):
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("the server did not start within 30 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    started = Server(tmp_path / "data")
    try:
        yield started
    finally:
        started.stop()
    assert "Traceback" not in started.log.read_text(), started.log.read_text()[-3000:]


@pytest.fixture
def api(server: Server) -> Http:
    return Http(server.url)


@pytest.fixture(scope="module")  # a running Playwright holds the thread's event loop
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install it (apt-get install -y chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium); CI is unset, so "
                    "the browser tests are skipped here and fail in CI")  # fmt: skip
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    """A fresh browser context (no cookies) at desktop size; console errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server.url)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: errors.append(str(e)))
    opened.set_default_timeout(15_000)
    try:
        yield opened
    finally:
        context.close()
    assert not errors, errors


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

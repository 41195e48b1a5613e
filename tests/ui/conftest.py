"""Browser tests: a real ``tracker serve`` process on a real SQLite file (tests/processes.py),
driven through Debian's headless Chromium with Playwright (its driver ships in the wheel; no
browser is downloaded). Without chromium the tests are skipped on a developer's machine and
FAIL in CI. Screenshots go to a temporary directory unless ``TESTS_SCREENSHOTS`` names one."""

from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.processes import ROOT, Server, Servers

SHOTS: Path  # where ``shot`` writes, chosen by the ``screenshots`` fixture
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


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


@pytest.fixture
def server(servers: Servers) -> Iterator[Server]:
    started = servers.start(env={"TRACKER_MONITORING_SNAPSHOT_INTERVAL": "1s"})
    yield started
    started.stop()
    assert "Traceback" not in started.stderr, started.stderr[-3000:]


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


@pytest.fixture(scope="session", autouse=True)
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where ``shot`` writes: ``TESTS_SCREENSHOTS`` (relative to the checkout, e.g.
    ``TESTS_SCREENSHOTS=docs/ui`` refreshes the README's pictures), else a temporary directory,
    so that a test run leaves the checkout as it was."""
    global SHOTS
    asked = os.environ.get("TESTS_SCREENSHOTS")
    SHOTS = ROOT / asked if asked else tmp_path_factory.mktemp("screenshots")
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def shot(page: Any, name: str) -> None:
    """A full-page screenshot, taken on every run (a page that cannot render fails here)."""
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

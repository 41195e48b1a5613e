"""``tracker serve`` as an operator meets it, each a real process: readiness while a large log
replays, one tracker per data directory, a lost log ending the process, and logs (text or
JSON) that never carry a secret."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from tests.integration import sample_log
from tests.integration.test_sigkill import prepare
from tests.processes import Servers, run
from tests.waiting import eventually
from tracker.events.base import SYSTEM
from tracker.events.sqlite import SQLiteEventStore
from tracker.events.workers import WorkerCreated
from tracker.ops.lock import LOCK_FILE
from tracker.startup.log import LOG_FILE


async def _write_big_log(data_dir: Path, tasks: int) -> int:
    data_dir.mkdir(parents=True)  # noqa: ASYNC240 (set-up, before anything runs)
    store = await SQLiteEventStore.open(data_dir / LOG_FILE)
    try:
        events = sample_log.events(tasks_count=tasks)
        head = 0
        for start in range(0, len(events), 20_000):
            head = await store.append(events[start : start + 20_000], head)
        return head
    finally:
        await store.close()


async def _get(session: aiohttp.ClientSession, url: str) -> tuple[int, dict]:
    async with session.get(url) as response:
        return response.status, await response.json()


async def test_readiness_flips_once_a_large_log_is_replayed(servers: Servers) -> None:
    server = servers.new()
    head = await _write_big_log(server.data_dir, 150_000)
    server.launch()
    seen: list[tuple[int, str, int, int]] = []  # /readyz status, its phase, /healthz, /
    try:
        async with aiohttp.ClientSession() as session:

            async def ready() -> dict | None:
                if not server.listening():
                    return None
                ready, body = await _get(session, server.url + "/readyz")
                up, _ = await _get(session, server.url + "/healthz")
                root, _ = await _get(session, server.url + "/")
                seen.append((ready, body["content"]["phase"], up, root))
                return body if ready == 200 else None

            body = await eventually(ready, within=60, what="ready after the replay")
            assert body == {
                "ok": True,
                "content": {
                    "ready": True,
                    "phase": "ready",
                    "position": head,
                    "durable_position": head,
                },
            }
    finally:
        assert server.stop() == 0
    assert seen[0] == (503, "replaying", 200, 503)  # up, not ready, the API not served yet
    assert seen[-1] == (200, "ready", 200, 200)
    assert "replayed" in server.stderr


def test_a_second_tracker_on_a_data_directory_refuses_naming_the_first(
    servers: Servers,
) -> None:
    first = servers.start()
    second = run("serve", "--port", "0", "--data-dir", str(first.data_dir))
    assert second.returncode == 2
    assert f"in use by another tracker (pid {first.pid}" in second.stderr
    assert len(second.stderr.splitlines()) == 1 and "Traceback" not in second.stderr
    assert first.stop() == 0
    # the lock goes with the process: a new tracker starts at once
    again = first.start()
    assert (again.data_dir / LOCK_FILE).read_text().strip() == str(again.pid)
    assert again.stop() == 0


async def test_a_tracker_that_loses_its_log_stops_and_exits_with_a_message(
    servers: Servers,
) -> None:
    server = await servers.new().astart()
    async with aiohttp.ClientSession() as session:
        project, workers = await prepare(session, server.url)
        # Another writer appends behind the tracker's back: its next commit fails.
        intruder = await SQLiteEventStore.open(server.data_dir / LOG_FILE)
        head = await intruder.head()
        stray = WorkerCreated(at=0.0, actor=SYSTEM, worker_id=999, alias="x", secret=b"s" * 32)
        await intruder.append([stray], head)
        await intruder.close()
        body = {"project": project, "recipe": "lost"}
        async with session.post(server.url + "/task/submit", json=body,
                                headers=workers[0]) as response:  # fmt: skip
            assert response.status == 503
            assert (await response.json())["message"] == "Storage unavailable"
    assert server.wait(60) == 1
    last = server.lines()[-1]
    assert last.startswith("tracker: the event log failed (Conflict")
    assert last.endswith("stopped (a restart rebuilds the tracker from the log)")


@pytest.mark.parametrize("form", ["json", "text"])
async def test_logs_carry_the_codes_fields_and_no_secret(servers: Servers, form: str) -> None:
    token = "metrics-token-0123456789abcdef"
    env = {"TRACKER_LOG_FORMAT": form, "TRACKER_LOG_LEVEL": "debug",
           "TRACKER_METRICS_TOKEN": token}  # fmt: skip
    server = await servers.new(env=env).astart()
    try:
        async with aiohttp.ClientSession() as session:
            project, workers = await prepare(session, server.url)  # password, cookie, secrets
            cookie = session.cookie_jar.filter_cookies(server.url)  # type: ignore[arg-type]
            for headers in workers[:2]:
                await session.post(server.url + "/task/submit", headers=headers,
                                   json={"project": project, "recipe": "r"})  # fmt: skip
                await session.get(f"{server.url}/task/get/{project}?secret={headers['X-Secret']}",
                                  headers=headers)  # fmt: skip
            await session.get(server.url + "/metrics",
                              headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            await session.post(
                server.url + "/login", json={"username": "admin", "password": "wrong-password-77"}
            )
    finally:
        assert server.stop() == 0
    text = server.stderr
    secrets = [
        token,
        "password1",
        "wrong-password-77",
        *(h["X-Secret"] for h in workers),
        *(m.value for m in cookie.values()),
    ]
    assert [s for s in secrets if not s or s in text] == []
    lines = text.strip().splitlines()
    if form == "json":
        records = [json.loads(line) for line in lines]  # every line is one JSON object
        replayed = next(r for r in records if r.get("action") == "replayed")
        assert {"time", "level", "logger", "message", "events", "seconds"} <= set(replayed)
        requests = [r for r in records if r.get("action") == "request"]
        assert {"route": "/task/submit", "status": 200} in (
            {"route": r["route"], "status": r["status"]} for r in requests
        )
        assert {r["route"] for r in requests} >= {"/task/get/{project}", "/metrics", "/login"}
    else:
        assert any(" DEBUG tracker.http.requests POST /task/submit 200 " in line for line in lines)
        assert any(" INFO tracker.startup.replay replayed " in line for line in lines)

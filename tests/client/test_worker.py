"""The worker loop (``Worker(...).serve(handler)``) against a real ``tracker serve``."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.client import history
from tests.client.conftest import World
from tests.integration import sample_log
from tests.processes import Server, Servers
from tests.waiting import eventually, wait_until
from tracker.client import (
    AsyncClient,
    Backoff,
    Client,
    Info,
    NewTask,
    ProjectSettings,
    Result,
    Task,
    UsageError,
    identity,
)
from tracker.client.worker import Skip, Worker


def _fill(world: World, count: int, **fields: object) -> None:
    for start in range(0, count, 2000):
        batch = range(start, min(count, start + 2000))
        world.worker.bulk_submit([NewTask(project=world.project, recipe=f"task {i}", **fields)
                                  for i in batch])  # type: ignore[arg-type]  # fmt: skip


def _worker(world: World, tmp_path: Path, project: int = 0, **options: object) -> Worker:
    """A worker loop as the world's worker (granted access), unless given its own file."""
    if "identity_file" not in options:
        options["identity_file"] = path = tmp_path / "identity.json"
        if not path.exists():
            identity.write(path, world.identity, world.server.url, "tester")
    return Worker(world.server.url, project or world.project, until_empty=True,
                  **options)  # type: ignore[arg-type]  # fmt: skip


@pytest.mark.slow
async def test_ten_thousand_tasks_closed_by_eight_concurrent_handlers(
    world: World, tmp_path: Path
) -> None:
    _fill(world, 10_000)
    running, most = 0, 0

    async def handler(task: Task) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.001)  # the scenario: handlers that take a while, overlapping
        running -= 1
        return task.id

    summary = await _worker(world, tmp_path, concurrency=8).serve(handler)
    assert (summary.ok, summary.closed, summary.failed, summary.skipped) == (10_000, 10_000, 0, 0)
    assert 1 < most <= 8  # never more than 8 at once; all 8 at once is timing (7 seen under load)
    events = world.server.events()
    closes = history.releases(events, "closed")
    assert set(closes) == history.submitted(events) and len(closes) == 10_000
    assert set(closes.values()) == {1}
    assert all(task == value for task, value in history.verifications(events).items())


async def test_results_handler_exceptions_and_skip(world: World, tmp_path: Path) -> None:
    world.worker.bulk_submit([
        NewTask(project=world.project, recipe="ok"),
        NewTask(project=world.project, recipe="boom", max_retries=1),
        NewTask(project=world.project, recipe="skip-once"),
    ])  # fmt: skip
    skipped: list[int] = []

    def handler(task: Task) -> int | None:  # a plain function: runs in a thread
        if task.recipe == "boom":
            raise RuntimeError("handler broke")
        if task.recipe == "skip-once" and not skipped:
            skipped.append(task.id)
            raise Skip()
        return None

    summary = await _worker(world, tmp_path).serve(handler)
    assert (summary.ok, summary.closed, summary.failed, summary.skipped) == (2, 2, 1, 1)
    events = world.server.events()
    assert sum(history.releases(events, "failed").values()) == 1
    assert list(history.releases(events, "skipped")) == skipped


async def test_a_server_restarted_mid_run_loses_nothing_and_closes_nothing_twice(
    world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _fill(world, 1500, max_assign_time=3)  # an answer lost in the restart comes back in 3 s
    restarted = threading.Event()

    async def handler(task: Task) -> None:
        if task.id == 300 and not restarted.is_set():
            restarted.set()
            threading.Thread(target=_restart, args=(world,)).start()
        await asyncio.sleep(0)

    async def all_closed() -> list[dict] | None:
        """Work until the queue is empty; the log, once every task is closed. (A task whose
        answer was lost in the restart is queued again when its 3 s deadline has passed.)"""
        await _worker(world, tmp_path, concurrency=4).serve(handler)
        events = world.server.events()
        return events if len(history.releases(events, "closed")) == 1500 else None

    events = await eventually(all_closed, within=120, every=0.2, what="every task closed")
    assert restarted.is_set()
    closes = history.releases(events, "closed")
    assert set(closes) == history.submitted(events)
    assert set(closes.values()) == {1}
    assert "retrying" in caplog.text  # it did meet the restart
    assert world.identity.secret not in caplog.text
    secret = (tmp_path / "identity.json").read_text()
    assert secret.split('"secret": "')[1].split('"')[0] not in caplog.text


def _restart(world: World) -> None:
    world.server.restart()


def test_a_call_made_while_the_tracker_replays_is_sent_again_once_it_serves(
    servers: Servers, caplog: pytest.LogCaptureFixture
) -> None:
    """While it replays, a tracker answers 503 with Retry-After to every request and does
    nothing else: the client waits and sends again, as after a refused connection."""
    caplog.set_level(logging.DEBUG, logger="tracker.client")
    server = servers.new()
    sample_log.write_log(server.data_dir, sample_log.events(tasks_count=20_000), 20_000)
    server.launch()
    wait_until(lambda: _replaying(server), what="the tracker replaying")
    patience = Backoff(attempts=400, cap=0.1)

    def sync_info() -> Info:
        with Client(server.url, backoff=patience) as client:
            return client.info()  # GET /: answered once the replay is done

    async def async_info() -> Info:
        async with AsyncClient(server.url, backoff=patience) as client:
            return await client.info()

    with ThreadPoolExecutor(1) as thread:
        synced = thread.submit(sync_info)
        served = Info(name="task_tracker", version="1.1", max_batch_size=1000,
                      max_keep_alive=3600.0, default_max_assign_time=300.0)  # fmt: skip
        assert asyncio.run(async_info()) == synced.result() == served
    assert caplog.text.count("is starting; retrying") >= 2


def _replaying(server: Server) -> bool:
    """Whether ``GET /readyz`` says the tracker is replaying its log."""
    if not server.listening():
        return False
    try:
        urllib.request.urlopen(server.url + "/readyz", timeout=5).close()
    except urllib.error.HTTPError as refused:
        return bool(json.loads(refused.read())["content"]["phase"] == "replaying")
    return False  # ready already: too late to test anything


def test_the_sync_client_rides_out_a_restart(world: World) -> None:
    world.worker.submit_task(NewTask(project=world.project, recipe="across a restart"))
    world.server.stop()
    threading.Timer(1.0, world.server.start).start()  # the scenario: down for a second
    patient = Client(world.server.url, worker=world.identity, backoff=Backoff(attempts=40, cap=1))
    with patient:
        task = patient.get_task(world.project)  # never sent while down: retried
        assert task is not None and task.recipe == "across a restart"
        assert patient.release(task.id, Result.OK) is True
    assert world.admin.get_project(world.project).id == world.project  # session survived


async def test_the_identity_file_is_owner_only_and_reused(world: World, tmp_path: Path) -> None:
    public = world.admin.create_project(ProjectSettings(name="open", public=True))
    world.worker.request_access(public, submit=True)
    world.admin.accept_request(public, world.identity.id)
    world.worker.submit_task(NewTask(project=public, recipe="for a new worker"))
    path = tmp_path / "ids" / "worker.json"
    worker = _worker(world, tmp_path, public, identity_file=path, alias="loop")
    summary = await worker.serve(lambda task: None)
    assert summary.closed == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    first = path.read_text()
    await _worker(world, tmp_path, public, identity_file=path).serve(lambda task: None)
    assert path.read_text() == first  # reused, not replaced
    aliases = [s.alias for s in world.admin.worker_stats()]
    assert aliases.count("loop") == 1
    os.chmod(path, 0o644)
    with pytest.raises(UsageError, match="readable by others"):
        await _worker(world, tmp_path, identity_file=path).serve(lambda task: None)

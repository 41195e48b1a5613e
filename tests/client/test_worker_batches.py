"""The worker loop takes and releases in batches when the tracker says it can, keeps long tasks
alive, and falls back to one request per task against a tracker without them (a real
``tracker serve`` with ``tasks.max_batch_size`` and ``tasks.max_keep_alive`` at 0, which
answers the batch routes 404 and announces nothing in ``GET /``, as the original)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client import history
from tests.client.conftest import World, fill, worker_loop, world_in
from tests.processes import Servers
from tests.waiting import eventually
from tracker.client import AsyncClient, Backoff, Client, Result, Task, WorkerIdentity
from tracker.client.exchange import Batches, Done

WITHOUT_EXTENSIONS = {"TRACKER_TASKS_MAX_BATCH_SIZE": "0", "TRACKER_TASKS_MAX_KEEP_ALIVE": "0"}


@pytest.fixture
def original_like(servers: Servers) -> Iterator[World]:
    """A world in a tracker with its batch and keep-alive routes off."""
    made = world_in(servers.start("original-like", env=WITHOUT_EXTENSIONS))
    yield made
    made.admin.close()
    made.worker.close()


def _types(events: list[dict]) -> Counter[str]:
    return Counter(record["type"] for record in events)


async def test_batches_sized_to_the_free_slots_close_every_task_once(
    world: World, tmp_path: Path
) -> None:
    fill(world, 500, verification_count=1)

    async def handler(task: Task) -> int:
        await asyncio.sleep(0)
        return task.id

    summary = await worker_loop(world, tmp_path, concurrency=16).serve(handler)
    assert (summary.ok, summary.closed, summary.failed, summary.skipped) == (500, 500, 0, 0)
    events = world.server.events()
    closes = history.releases(events, "closed")
    assert set(closes) == history.submitted(events) and set(closes.values()) == {1}
    assert all(task == value for task, value in history.verifications(events).items())
    types = _types(events)
    assert types["TaskAssigned"] == types["TaskReleased"] == 0
    assert 500 / 16 <= types["TasksAssigned"] < 500  # at most 16 a batch: one per free slot
    batches = [r["event"]["tasks"] for r in events if r["type"] == "TasksAssigned"]
    assert max(len(tasks) for tasks in batches) == 16 and types["TasksReleased"] < 500


async def test_against_a_tracker_without_batches_it_asks_one_task_at_a_time(
    original_like: World, tmp_path: Path
) -> None:
    world = original_like
    assert world.worker.info().max_batch_size == 0
    fill(world, 60, max_retries=2)
    failed: set[int] = set()

    def handler(task: Task) -> None:
        if task.id % 10 == 0 and task.id not in failed:
            failed.add(task.id)
            raise ValueError(f"task {task.id} is odd")

    summary = await worker_loop(world, tmp_path, concurrency=4).serve(handler)
    assert (summary.closed, summary.failed) == (60, 6)
    events = world.server.events()
    types = _types(events)
    assert types["TasksAssigned"] == types["TasksReleased"] == 0
    assert (types["TaskAssigned"], types["TaskReleased"]) == (66, 66)
    reasons = history.reasons(events)
    assert reasons[10] == ["ValueError: task 10 is odd", ""]  # the original ignores it; we keep it


def _other_worker(world: World) -> Client:
    created = world.admin.create_worker("watcher")
    assert created.secret is not None
    watcher = Client(world.server.url, worker=WorkerIdentity(created.id, created.secret))
    watcher.request_access(world.project, assign=True)
    world.admin.accept_request(world.project, created.id)
    return watcher


async def test_a_task_running_past_its_deadline_is_kept_and_not_given_to_another(
    world: World, tmp_path: Path
) -> None:
    fill(world, 1, max_assign_time=2)  # taken back after 2 s unless kept alive
    watcher = _other_worker(world)
    seen: list[object] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append(watcher.get_task(world.project))
            time.sleep(0.1)  # the scenario: another worker polling, as workers do

    watching = threading.Thread(target=watch)

    async def handler(task: Task) -> None:
        watching.start()  # the task is ours: another worker asks for it all along
        await asyncio.sleep(4.5)  # the scenario: a task that runs past two deadlines

    try:
        summary = await worker_loop(world, tmp_path).serve(handler)
    finally:
        stop.set()
        if watching.is_alive():
            watching.join()
        watcher.close()
    assert summary.closed == 1 and len(seen) > 20 and set(seen) == {None}
    types = _types(world.server.events())
    assert types["AssignmentExtended"] >= 3 and types["AssignmentExpired"] == 0


async def test_without_keep_alive_a_long_task_is_taken_back_as_by_the_original(
    original_like: World, tmp_path: Path
) -> None:
    world = original_like
    fill(world, 1, max_assign_time=1)

    runs: list[int] = []

    async def handler(task: Task) -> None:
        runs.append(task.id)
        if len(runs) == 1:
            await asyncio.sleep(2.5)  # the scenario: taken back after 1 s (and the sweep)

    summary = await worker_loop(world, tmp_path).serve(handler)
    assert runs == [1, 1] and (summary.ok, summary.closed) == (2, 1)  # given again, closed then
    types = _types(world.server.events())
    assert types["AssignmentExpired"] >= 1 and types["AssignmentExtended"] == 0


async def test_a_task_given_as_the_previous_release_ends_is_still_sent(world: World) -> None:
    """The worker loop gives a finished task to the exchange at any moment; under load one
    lands in the loop turn where the sender of the releases before it returns, before asyncio
    runs that sender's done callbacks. It must be sent all the same, not left queued: a task
    never released stays assigned until its deadline, and a worker ``until_empty`` ends
    without it."""
    fill(world, 2)
    async with AsyncClient(world.server.url, world.identity) as client:
        exchange = Batches(client, world.project, Backoff(), limit=10)
        first, second = await exchange.take(2)
        exchange.give(Done(first, Result.OK))
        # looked at every loop turn: resumed in the turn the first release is answered in
        await eventually(lambda: exchange.released, every=0, what="the first release answered")
        exchange.give(Done(second, Result.OK))
        await asyncio.wait_for(exchange.settle(), 30)
    assert (exchange.released, exchange.summary.closed) == (2, 2)
    held = {a.assignee: a.task_count for a in world.admin.assignees(world.project)}
    assert held == {}  # both closed: nothing left, assigned or not

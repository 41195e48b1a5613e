"""What a failing handler sends and what it stops: the exception's type and message as the
release's reason (kept in the log and the task's history), a run of failures in a short time
stops the worker, and a handler that cannot run stops it at once. Against a real server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.client import history
from tests.client.conftest import World, fill, worker_loop
from tracker.client import Task, UsageError, WorkerIdentity, identity
from tracker.client.reasons import MAX_REASON_BYTES, first_bytes, last_bytes
from tracker.client.worker import TooManyFailures, Worker


async def test_a_failure_is_released_with_the_exception_type_and_message(
    world: World, tmp_path: Path
) -> None:
    fill(world, 2, max_retries=3)
    long = "\u00e9" * MAX_REASON_BYTES  # two bytes each: cut on a character boundary

    def handler(task: Task) -> None:
        if task.retries == 0:
            raise KeyError("url") if task.id == 1 else RuntimeError(long)

    summary = await worker_loop(world, tmp_path).serve(handler)
    assert (summary.failed, summary.closed) == (2, 2)
    reasons = history.reasons(world.server.events())
    assert reasons[1] == ["KeyError: 'url'", ""]
    sent = reasons[2][0]
    assert sent.startswith("RuntimeError: \u00e9") and len(sent.encode()) <= MAX_REASON_BYTES
    assert len(sent.encode()) > MAX_REASON_BYTES - 2


def test_texts_are_cut_on_a_character_boundary() -> None:
    assert first_bytes("ab\u00e9", 3) == "ab" and first_bytes("ab\u00e9", 4) == "ab\u00e9"
    assert last_bytes("\u00e9ab", 3) == "ab" and last_bytes("\u00e9ab", 4) == "\u00e9ab"
    assert last_bytes("abc", 0) == "" and first_bytes("a\udcff", 10) == "a?"


async def test_a_run_of_failures_stops_the_worker_and_gives_back_what_it_holds(
    world: World, tmp_path: Path
) -> None:
    fill(world, 200, max_retries=5)
    started = asyncio.Event()

    async def handler(task: Task) -> None:
        if task.id % 4 == 0:  # some run long: they are held when the worker stops
            started.set()
            await asyncio.sleep(30)  # the scenario: still running when the worker stops
        raise ConnectionError("database unreachable")

    worker = worker_loop(world, tmp_path, concurrency=8, max_failures=5, failure_window=10)
    with pytest.raises(TooManyFailures, match="5 failures in a row within 10 s; the last: "
                       "ConnectionError: database unreachable"):  # fmt: skip
        await asyncio.wait_for(worker.serve(handler), 20)
    events = world.server.events()
    failed = sum(history.releases(events, "retry").values())
    skipped = sum(history.releases(events, "skipped").values())
    assert 5 <= failed <= 5 + 8 and skipped >= 1  # a handful burnt, the long ones given back
    held = {a.assignee: a.task_count for a in world.admin.assignees(world.project)}
    assert held == {"unassigned": 200}  # nothing left assigned


async def test_an_ok_in_between_resets_the_run(world: World, tmp_path: Path) -> None:
    fill(world, 30, max_retries=1)  # a failure is final: the order stays 3 fail, 1 OK, ...

    def handler(task: Task) -> None:
        if task.id % 4:
            raise ValueError("bad input")

    summary = await worker_loop(world, tmp_path, max_failures=4).serve(handler)
    assert (summary.failed, summary.closed) == (23, 7)


async def test_failures_spread_over_more_than_the_window_do_not_stop_it(
    world: World, tmp_path: Path
) -> None:
    fill(world, 6, max_retries=1)

    async def handler(task: Task) -> None:
        await asyncio.sleep(0.05)  # the scenario: failures spread over time
        raise ValueError("slow and bad")

    summary = await worker_loop(world, tmp_path, max_failures=3, failure_window=0.08).serve(handler)
    assert summary.failed == 6


async def test_a_handler_that_cannot_run_stops_the_worker_at_once(
    world: World, tmp_path: Path
) -> None:
    fill(world, 10)

    def handler(task: Task) -> None:
        raise UsageError("cannot run the command: ./gone.sh: No such file or directory")

    with pytest.raises(UsageError, match="gone.sh"):
        await worker_loop(world, tmp_path, concurrency=2).serve(handler)
    events = world.server.events()
    assert not history.releases(events, "retry") and not history.releases(events, "failed")
    assert {a.assignee: a.task_count for a in world.admin.assignees(world.project)} == {
        "unassigned": 10}  # fmt: skip


@pytest.mark.parametrize("request_access", [True, False])
async def test_a_worker_the_server_does_not_know_is_told_to_start_afresh(
    world: World, tmp_path: Path, request_access: bool
) -> None:
    fill(world, 3)
    path = tmp_path / "stale.json"
    identity.write(path, WorkerIdentity(world.identity.id, "d3Jvbmc="), world.server.url, "x")
    worker = Worker(world.server.url, world.project, identity_file=path, until_empty=True,
                    request_access=request_access)  # fmt: skip
    with pytest.raises(UsageError, match="the server refused the worker in .*stale.json "
                       r"\(invalid secret\); delete the file"):  # fmt: skip
        await worker.serve(lambda task: None)

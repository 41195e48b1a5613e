"""GET /project/state/:id?at=: task counts, queue depth and assignees as of a log position or
a time, replayed from the nearest checkpoint, against a scripted sequence with a set clock."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import Clock
from tests.e2e.callers import (
    ANONYMOUS,
    Caller,
    call,
    create_project,
    grant,
    new_worker,
    register,
    start,
)
from tests.e2e.scripted_run import assign, audit_settings, release, submit, token
from tests.world import tracker_of
from tracker import config
from tracker.http.routes.audit import AUDIT

T0 = 1_700_000_000.0


@pytest.fixture
def settings(data_dir: Path) -> config.Settings:
    return audit_settings(data_dir)


@pytest.fixture
async def client(aiohttp_client: Any, settings: config.Settings, clock: Clock) -> TestClient:
    return await start(aiohttp_client, settings, clock)


@dataclass
class Timeline:
    admin: Caller
    alice: Caller
    workers: list[Caller]
    project: int
    created: int  # positions after each step
    submitted: int
    assigned: int
    released: int


async def timeline(client: TestClient, clock: Clock) -> Timeline:
    """T0: 5 tasks submitted; T0+100: w1 takes 2, w2 takes 1; T0+200: w1 closes one, w2 fails
    its task for good."""
    position = lambda: tracker_of(client).state.position  # noqa: E731
    admin, alice = await register(client, "admin"), await register(client, "alice")
    project = await create_project(client, admin, "alpha")
    workers = [await new_worker(client, f"w{i}") for i in range(3)]
    for worker in workers:
        await grant(client, admin, worker, project)
    created = position()
    clock.now = T0
    await submit(client, workers[0], project, 5, 0, max_retries=1)
    submitted = position()
    clock.now = T0 + 100
    taken = [await assign(client, w, project) for w in (workers[1], workers[1], workers[2])]
    assigned = position()
    clock.now = T0 + 200
    await release(client, workers[1], taken[0]["id"], 0)
    await release(client, workers[2], taken[2]["id"], 1)
    return Timeline(admin, alice, workers, project, created, submitted, assigned, position())


async def state_at(client: TestClient, t: Timeline, at: str | int | None,
                   caller: Caller | None = None) -> Any:  # fmt: skip
    query = "" if at is None else f"?at={at}"
    return await call(client, "GET", f"/project/state/{t.project}{query}", caller or t.admin)


async def test_counts_queue_depth_and_assignees_as_of_each_position(
    client: TestClient, clock: Clock
) -> None:
    t = await timeline(client, clock)
    w1, w2 = t.workers[1].id, t.workers[2].id

    at_created = (await state_at(client, t, t.created)).content
    at_submitted = (await state_at(client, t, t.submitted)).content
    at_assigned = (await state_at(client, t, t.assigned)).content
    now = (await state_at(client, t, None)).content

    assert at_created["tasks"] == {"queued": 0, "assigned": 0, "failed": 0, "closed": 0}
    assert at_submitted["tasks"] == {"queued": 5, "assigned": 0, "failed": 0, "closed": 0}
    assert at_submitted["queue_depth"] == 5 and at_submitted["assignees"] == []
    assert at_assigned["tasks"] == {"queued": 2, "assigned": 3, "failed": 0, "closed": 0}
    assert at_assigned["assignees"] == [{"worker": w1, "tasks": 2}, {"worker": w2, "tasks": 1}]
    assert now["tasks"] == {"queued": 2, "assigned": 1, "failed": 1, "closed": 1}
    assert now["assignees"] == [{"worker": w1, "tasks": 1}]
    assert (at_assigned["position"], at_assigned["at"]) == (t.assigned, T0 + 100)
    assert now["position"] == t.released


async def test_a_time_names_the_last_event_decided_at_or_before_it(
    client: TestClient, clock: Clock
) -> None:
    t = await timeline(client, clock)
    iso = datetime.datetime.fromtimestamp(T0 + 150, datetime.UTC).isoformat()

    between = (await state_at(client, t, f"@{T0 + 50}")).content
    by_iso = (await state_at(client, t, iso.replace("+00:00", "Z"))).content
    before_all = await state_at(client, t, "@1000")

    assert between["position"] == t.submitted and between["tasks"]["queued"] == 5
    assert by_iso["position"] == t.assigned and by_iso["tasks"]["assigned"] == 3
    assert before_all.status == 404 and "did not exist yet at position 0" in before_all.message


async def test_replay_starts_from_the_nearest_checkpoint_and_is_bounded(
    aiohttp_client: Any, data_dir: Path, clock: Clock
) -> None:
    bounded = audit_settings(data_dir, audit={"max_replay_events": 15})
    client = await start(aiohttp_client, bounded, clock)
    t = await timeline(client, clock)
    assert t.assigned > 15  # more than audit.max_replay_events from position 0
    too_far = await state_at(client, t, t.released)
    assert too_far.status == 400 and "at most 15 are replayed" in too_far.message

    written = await client.server.app[AUDIT].checkpointer.write()
    assert written is not None and written.position == t.released
    await call(client, "POST", "/worker/create", json={"alias": "later"})

    from_checkpoint = (await state_at(client, t, t.released)).content
    before_it = await state_at(client, t, t.assigned)

    assert from_checkpoint["replayed_from"] == t.released
    assert from_checkpoint["tasks"] == {"queued": 2, "assigned": 1, "failed": 1, "closed": 1}
    assert before_it.status == 400  # the checkpoint is after it, position 0 too far before


async def test_a_position_past_the_head_is_the_head_and_a_bad_one_is_400(
    client: TestClient, clock: Clock
) -> None:
    t = await timeline(client, clock)

    assert (await state_at(client, t, 10**9)).content["position"] == t.released
    bad = await state_at(client, t, "yesterday")
    assert bad.status == 400 and "at must be a log position" in bad.message
    assert (await state_at(client, t, 1)).status == 404  # the project did not exist yet
    missing = await call(client, "GET", "/project/state/77", t.admin)
    assert missing.status == 404


async def test_a_projects_past_is_for_those_who_may_read_it(
    client: TestClient, clock: Clock
) -> None:
    t = await timeline(client, clock)

    assert (await call(client, "GET", f"/project/state/{t.project}")).status == 401
    assert (await state_at(client, t, None, t.alice)).status == 403
    answer = await call(client, "GET", f"/project/state/{t.project}", ANONYMOUS, headers=token())
    assert answer.status == 200

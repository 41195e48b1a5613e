"""GET /project/state/:id?at=: task counts, queue depth and assignees as of a log position or
a time, replayed from the nearest checkpoint, against a scripted sequence with a set clock."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Clock
from tests.e2e.scripted_run import assign, audit_settings, release, submit, token
from tests.world import Caller, MakeClient, World
from tracker import config
from tracker.http.keys import AUDIT

T0 = 1_700_000_000.0


@pytest.fixture
def settings(data_dir: Path) -> config.Settings:
    return audit_settings(data_dir)


@pytest.fixture
async def world(bare_world: World) -> World:
    return await bare_world.open(workers=3, name="alpha")


@dataclass
class Timeline:
    alice: Caller  # a manager without roles
    created: int  # positions after each step
    submitted: int
    assigned: int
    released: int


async def timeline(world: World, clock: Clock) -> Timeline:
    """The world (admin, alpha, w0..w2) and alice; T0: 5 tasks submitted; T0+100: w1 takes 2,
    w2 takes 1; T0+200: w1 closes one, w2 fails its task for good."""
    alice = await world.register("alice")
    w0, w1, w2 = world.workers
    created = world.position()
    clock.now = T0
    await submit(w0, world.project, 5, 0, max_retries=1)
    submitted = world.position()
    clock.now = T0 + 100
    taken = [await assign(w, world.project) for w in (w1, w1, w2)]
    assigned = world.position()
    clock.now = T0 + 200
    await release(w1, taken[0]["id"], 0)
    await release(w2, taken[2]["id"], 1)
    return Timeline(alice, created, submitted, assigned, world.position())


async def state_at(world: World, at: str | int | None, caller: Caller | None = None) -> Any:
    query = "" if at is None else f"?at={at}"
    return await (caller or world.admin).get(f"/project/state/{world.project}{query}")


async def test_counts_queue_depth_and_assignees_as_of_each_position(
    world: World, clock: Clock
) -> None:
    t = await timeline(world, clock)
    w1, w2 = world.workers[1].id, world.workers[2].id

    at_created = (await state_at(world, t.created)).content
    at_submitted = (await state_at(world, t.submitted)).content
    at_assigned = (await state_at(world, t.assigned)).content
    now = (await state_at(world, None)).content

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
    world: World, clock: Clock
) -> None:
    t = await timeline(world, clock)
    iso = datetime.datetime.fromtimestamp(T0 + 150, datetime.UTC).isoformat()

    between = (await state_at(world, f"@{T0 + 50}")).content
    by_iso = (await state_at(world, iso.replace("+00:00", "Z"))).content
    before_all = await state_at(world, "@1000")

    assert between["position"] == t.submitted and between["tasks"]["queued"] == 5
    assert by_iso["position"] == t.assigned and by_iso["tasks"]["assigned"] == 3
    assert before_all.status == 404 and "did not exist yet at position 0" in before_all.message


async def test_replay_starts_from_the_nearest_checkpoint_and_is_bounded(
    make_client: MakeClient, data_dir: Path, clock: Clock
) -> None:
    bounded = audit_settings(data_dir, audit={"max_replay_events": 15})
    world = await World.start(make_client, bounded)
    await world.open(workers=3, name="alpha")
    t = await timeline(world, clock)
    assert t.assigned > 15  # more than audit.max_replay_events from position 0
    too_far = await state_at(world, t.released)
    assert too_far.status == 400 and "at most 15 are replayed" in too_far.message

    written = await world.client.server.app[AUDIT].checkpointer.write()
    assert written is not None and written.position == t.released
    await world.anonymous.post("/worker/create", {"alias": "later"})

    from_checkpoint = (await state_at(world, t.released)).content
    before_it = await state_at(world, t.assigned)

    assert from_checkpoint["replayed_from"] == t.released
    assert from_checkpoint["tasks"] == {"queued": 2, "assigned": 1, "failed": 1, "closed": 1}
    assert before_it.status == 400  # the checkpoint is after it, position 0 too far before


async def test_a_position_past_the_head_is_the_head_and_a_bad_one_is_400(
    world: World, clock: Clock
) -> None:
    t = await timeline(world, clock)

    assert (await state_at(world, 10**9)).content["position"] == t.released
    bad = await state_at(world, "yesterday")
    assert bad.status == 400 and "at must be a log position" in bad.message
    assert (await state_at(world, 1)).status == 404  # the project did not exist yet
    missing = await world.admin.get("/project/state/77")
    assert missing.status == 404


async def test_a_projects_past_is_for_those_who_may_read_it(world: World, clock: Clock) -> None:
    t = await timeline(world, clock)

    assert (await world.anonymous.get(f"/project/state/{world.project}")).status == 401
    assert (await state_at(world, None, t.alice)).status == 403
    answer = await world.anonymous.get(f"/project/state/{world.project}", headers=token())
    assert answer.status == 200

"""GET /project/state/:id?at=: task counts, queue depth and assignees as of a log position or
a time, replayed from the nearest checkpoint, against a scripted sequence with a set clock."""

from __future__ import annotations

import asyncio
import datetime
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Clock
from tests.e2e.scripted_run import (
    assign,
    audit_settings,
    release,
    round_of_work,
    scripted_run,
    submit,
    token,
)
from tests.waiting import eventually
from tests.world import Caller, MakeClient, World
from tracker import config
from tracker.checkpoints.directory import DIRECTORY
from tracker.events.codec import decode
from tracker.events.reading import rows
from tracker.http.keys import AUDIT, SETTINGS
from tracker.projections import project_status
from tracker.projections.project_status import ProjectStatus
from tracker.startup.replay import read_models

T0 = 1_700_000_000.0


@pytest.fixture
def settings(data_dir: Path) -> config.Settings:
    return audit_settings(data_dir)


@pytest.fixture
async def world(bare_world: World) -> World:
    return await bare_world.open(workers=3, name="alpha")


async def alpha_world(make_client: MakeClient, data_dir: Path, workers: int = 3,
                      **audit: Any) -> World:  # fmt: skip
    """A world of its own with these ``audit`` settings, its project "alpha" opened."""
    world = await World.start(make_client, audit_settings(data_dir, audit=audit))
    return await world.open(workers=workers, name="alpha")


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
    world = await alpha_world(make_client, data_dir, max_replay_events=15)
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


# -- what time travel folds, and its budget -----------------------------------------------------


async def statuses_along_the_log(world: World) -> list[dict[int, ProjectStatus | None]]:
    """For each position (index 0: the empty log), every project's status two ways: by the
    live read models folded up to there, and by folding that project's events alone."""
    state, lean = read_models(world.client.server.app[SETTINGS]), {}
    both: list[dict[int, ProjectStatus | None]] = [{}]
    async for batch in rows(world.tracker.store, 0):
        for row in batch:
            event = decode(row.data)
            state.apply(event)
            project = event.concerned_project()
            if project is not None:
                lean[project] = project_status.apply(lean.get(project), event)
            live = {p: status for p, (_, status) in project_status.of_state(state).items()}
            assert lean == live, (row.position, event)
            both.append(dict(lean))
    return both


async def test_folding_one_projects_events_shows_what_the_read_models_show_at_every_position(
    bare_world: World, clock: Clock
) -> None:
    """Every kind of task event of a long scripted run (bulk submits, assignments, every
    release outcome, votes, expiries, resets, reclaims, chain copies) and a hard reset."""
    people = await scripted_run(bare_world, clock, rounds=6)
    await bare_world.admin.post(f"/project/hard_reset/{people.chained}", status=200)
    await round_of_work(bare_world, clock, people, 7)

    along = await statuses_along_the_log(bare_world)

    assert len(along) == bare_world.position() + 1
    last = along[-1]
    assert last[people.chained] is not None and last[people.hidden] is not None
    assert last[people.chained].closed and last[people.hidden].failed == set()


async def test_batches_and_keep_alives_fold_as_the_read_models_show_them(
    bare_world: World, clock: Clock
) -> None:
    """Batch assignments and releases (every outcome, a task the worker does not hold), a
    keep-alive, an expiry after one, and a chain copy from a batch."""
    world = await bare_world.open(workers=2)
    target = await world.add_project("target")
    await world.update_project(chain=target)
    body = {"requests": [{"project": world.project, "recipe": f"b{i}", "max_retries": 2,
                          "verification_count": 2 if i % 5 == 0 else 1, "max_assign_time": 60}
                         for i in range(12)]}  # fmt: skip
    assert (await world.worker.post("/task/bulk_submit", body)).ok
    mine = [t["id"] for t in (await world.take(8)).content["tasks"]]
    theirs = [t["id"] for t in (await world.take(8, by=1)).content["tasks"]]
    clock.advance(40)
    await world.touch(theirs[0], by=1)
    releases = [{"task_id": t, "result": n % 3} for n, t in enumerate(mine)]
    await world.release_all(*releases, {"task_id": theirs[1], "result": 0})
    clock.advance(40)
    assert await world.tracker.expire_due() == len(theirs) - 1  # all but the kept one
    await world.release_all((theirs[0], 0), by=1)

    along = await statuses_along_the_log(world)

    last = along[-1]
    assert last[world.project] is not None and last[target] is not None
    assert last[world.project].closed >= 1 and last[target].queued >= 1


async def test_answers_from_a_checkpoint_equal_answers_from_the_start(
    bare_world: World, clock: Clock, data_dir: Path
) -> None:
    people = await scripted_run(bare_world, clock, rounds=3)
    written = await bare_world.client.server.app[AUDIT].checkpointer.write()
    assert written is not None
    await round_of_work(bare_world, clock, people, 3)
    positions = range(written.position, bare_world.position() + 1, 7)

    async def answers() -> list[Any]:
        found = []
        for position in positions:
            for project in (people.chained, people.target, people.hidden):
                answer = await bare_world.admin.get(f"/project/state/{project}?at={position}")
                found.append((answer.content.pop("replayed_from"), answer.content))
        return found

    from_checkpoint = await answers()
    shutil.rmtree(data_dir / DIRECTORY)
    from_start = await answers()

    assert {base for base, _ in from_checkpoint} == {written.position}
    assert {base for base, _ in from_start} == {0}
    assert [a for _, a in from_checkpoint] == [a for _, a in from_start]


async def test_a_query_that_would_hold_more_than_its_budget_is_refused_naming_the_setting(
    make_client: MakeClient, data_dir: Path, clock: Clock
) -> None:
    # 1024 bytes: six assigned or failed tasks fit (ENTRY_BYTES each), seven do not
    world = await alpha_world(make_client, data_dir, workers=1, max_read_memory=1024)
    await submit(world.worker, world.project, 9, 0, max_retries=1)
    six = [await assign(world.worker, world.project) for _ in range(6)]
    fits = world.position()
    await assign(world.worker, world.project)
    too_many = world.position()

    assert (await state_at(world, fits)).content["tasks"]["assigned"] == 6
    refused = await state_at(world, too_many)
    assert refused.status == 400, refused
    assert refused.message == (
        "This project's past state would hold about 1,050 bytes (7 entries), more than "
        "audit.max_read_memory (1,024 bytes) allows"
    )

    await release(world.worker, six[0]["id"], 0)
    written = await world.client.server.app[AUDIT].checkpointer.write()
    assert written is not None  # its summary says the project holds 6: within budget
    answer = await state_at(world, written.position)
    assert answer.content["replayed_from"] == written.position
    assert answer.content["tasks"]["assigned"] == 6


async def test_heavy_reads_past_the_limit_wait_briefly_then_get_503_with_retry_after(
    make_client: MakeClient, data_dir: Path, clock: Clock
) -> None:
    world = await alpha_world(make_client, data_dir, 1, max_concurrent_reads=1, read_wait="0.5s")
    gate = world.client.server.app[AUDIT].gate
    path = f"/project/state/{world.project}"

    async with gate.turn():  # a heavy read runs: the only turn is taken
        waiting = asyncio.create_task(world.admin.get(path))
        await eventually(lambda: gate.waiting == 1, what="a read waiting for its turn")
        started = time.monotonic()
        at_once = await world.client.get(path, headers=token())  # nobody else may wait
        digest = await world.anonymous.get("/audit/digest", headers=token())
        assert time.monotonic() - started < 0.5
        waited = await waiting  # its wait ran out
    assert at_once.status == digest.status == waited.status == 503
    assert at_once.headers["Retry-After"] == "1"
    message = (await at_once.json())["message"]
    assert "Too many heavy reads at once (audit.max_concurrent_reads is 1)" in message
    assert waited.message == message

    async with gate.turn():
        waiting = asyncio.create_task(world.admin.get(path))
        await eventually(lambda: gate.waiting == 1, what="a read waiting for its turn")
    assert (await waiting).status == 200  # its turn came within audit.read_wait


async def test_the_ui_says_why_a_time_travel_was_refused(
    make_client: MakeClient, data_dir: Path, clock: Clock
) -> None:
    world = await alpha_world(make_client, data_dir, 1, max_concurrent_reads=1, read_wait="0.1s")
    gate = world.client.server.app[AUDIT].gate

    async with gate.turn():
        page = await world.admin.get(f"/ui/project/{world.project}?at=1")

    assert page.status == 200
    assert "Too many heavy reads at once (audit.max_concurrent_reads is 1)" in page.body

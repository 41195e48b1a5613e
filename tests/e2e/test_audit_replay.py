"""`tracker audit replay`: a fresh process rebuilds every read model from the log and compares
digests with the running tracker (GET /audit/digest) or a checkpoint, naming what differs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Clock
from tests.e2e.scripted_run import audit_settings, config_file, run_cli, scripted_run, token
from tests.world import World
from tracker import config
from tracker.http.keys import AUDIT


@pytest.fixture
def settings(data_dir: Path) -> config.Settings:
    return audit_settings(data_dir, checkpoint={"on_shutdown": False})


@pytest.fixture
def config_path(tmp_path: Path, data_dir: Path) -> str:
    return config_file(tmp_path / "tracker.json", data_dir, checkpoint={"on_shutdown": False})


def url(world: World) -> str:
    return str(world.client.make_url("")).rstrip("/")


async def test_a_fresh_replay_matches_the_running_tracker_after_a_long_run(
    bare_world: World, clock: Clock, config_path: str
) -> None:
    world = bare_world
    await scripted_run(world, clock, rounds=15)
    assert world.position() > 500

    ran = await run_cli("audit", "replay", "--config", config_path, "--url", url(world))

    assert ran.code == 0, ran
    assert "MATCH: every read model equals the tracker" in ran.out
    assert "warning" not in ran.out


async def test_a_replay_names_the_read_model_and_key_a_live_state_got_wrong(
    bare_world: World, clock: Clock, config_path: str
) -> None:
    world = bare_world
    await scripted_run(world, clock, rounds=3)
    state = world.tracker.state
    task_id = next(iter(state.tasks.tasks))
    state.tasks.tasks[task_id].priority += 1  # as a faulty reducer would
    state.workers.by_id[world.workers[1].id].alias = "tampered"

    ran = await run_cli("audit", "replay", "--config", config_path, "--url", url(world))

    assert ran.code == 1, ran
    assert f"tasks.tasks[{task_id}]: differs" in ran.out
    assert f"workers.by_id[{world.workers[1].id}]: differs" in ran.out
    assert ran.out.count(": differs") == 2


async def test_a_replay_matches_a_checkpoint_and_names_an_entry_a_bad_checkpoint_holds(
    bare_world: World, clock: Clock, config_path: str
) -> None:
    world = bare_world
    await scripted_run(world, clock, rounds=3)
    services = world.client.server.app[AUDIT]
    assert await services.checkpointer.write() is not None
    ran = await run_cli("audit", "replay", "--config", config_path)
    assert ran.code == 0, ran
    assert "MATCH: every read model equals checkpoint checkpoint-" in ran.out

    state = world.tracker.state
    project = state.projects.by_id[1]
    project.closed_task_count += 5  # the checkpoint is written from a wrong state
    await world.anonymous.post("/worker/create", {"alias": "one more event"})
    assert await services.checkpointer.write() is not None
    ran = await run_cli("audit", "replay", "--config", config_path, "--checkpoint", "latest")

    assert ran.code == 1, ran
    assert "projects.by_id[1]: differs" in ran.out


async def test_live_digests_are_for_tracker_admins_and_the_audit_token(
    bare_world: World, clock: Clock
) -> None:
    world = bare_world
    people = await scripted_run(world, clock, rounds=1)

    assert (await world.anonymous.get("/audit/digest")).status == 401
    wrong = {"Authorization": "Bearer not-the-token-at-all"}
    assert (await world.anonymous.get("/audit/digest", headers=wrong)).status == 401
    assert (await people.alice.get("/audit/digest")).status == 403
    assert (await world.workers[0].get("/audit/digest")).status == 401
    by_admin = await world.admin.get("/audit/digest")
    by_token = await world.anonymous.get("/audit/digest?keys=workers", headers=token())

    assert by_admin.status == by_token.status == 200
    assert by_admin.content["models"] == by_token.content["models"]
    assert by_admin.content["position"] == world.position()
    assert set(by_token.content["keys"]["workers"]["by_id"]) == {str(w.id) for w in world.workers}


async def test_the_digest_leaves_out_the_deadline_heap_that_queries_pop(
    bare_world: World, clock: Clock
) -> None:
    world = bare_world
    await scripted_run(world, clock, rounds=2)
    before = (await world.anonymous.get("/audit/digest", headers=token())).content
    clock.advance(10_000)
    world.tracker.state.tasks.due(clock())  # pops the heap, appends nothing

    after = (await world.anonymous.get("/audit/digest", headers=token())).content

    assert after["position"] == before["position"]
    assert after["models"] == before["models"]

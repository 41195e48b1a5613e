"""`tracker audit replay`: a fresh process rebuilds every read model from the log and compares
digests with the running tracker (GET /audit/digest) or a checkpoint, naming what differs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import Clock
from tests.e2e.callers import ANONYMOUS, call, start
from tests.e2e.scripted_run import audit_settings, config_file, run_cli, scripted_run, token
from tests.world import tracker_of
from tracker import config
from tracker.http.routes.audit import AUDIT


@pytest.fixture
def settings(data_dir: Path) -> config.Settings:
    return audit_settings(data_dir, checkpoint={"on_shutdown": False})


@pytest.fixture
async def client(aiohttp_client: Any, settings: config.Settings, clock: Clock) -> TestClient:
    return await start(aiohttp_client, settings, clock)


@pytest.fixture
def config_path(tmp_path: Path, data_dir: Path) -> str:
    return config_file(tmp_path / "tracker.json", data_dir, checkpoint={"on_shutdown": False})


def url(client: TestClient) -> str:
    return str(client.make_url("")).rstrip("/")


async def test_a_fresh_replay_matches_the_running_tracker_after_a_long_run(
    client: TestClient, clock: Clock, config_path: str
) -> None:
    await scripted_run(client, clock, rounds=15)
    assert tracker_of(client).state.position > 500

    ran = await run_cli("audit", "replay", "--config", config_path, "--url", url(client))

    assert ran.code == 0, ran
    assert "MATCH: every read model equals the tracker" in ran.out
    assert "warning" not in ran.out


async def test_a_replay_names_the_read_model_and_key_a_live_state_got_wrong(
    client: TestClient, clock: Clock, config_path: str
) -> None:
    people = await scripted_run(client, clock, rounds=3)
    state = tracker_of(client).state
    task_id = next(iter(state.tasks.tasks))
    state.tasks.tasks[task_id].priority += 1  # as a faulty reducer would
    state.workers.by_id[people.workers[1].id].alias = "tampered"

    ran = await run_cli("audit", "replay", "--config", config_path, "--url", url(client))

    assert ran.code == 1, ran
    assert f"tasks.tasks[{task_id}]: differs" in ran.out
    assert f"workers.by_id[{people.workers[1].id}]: differs" in ran.out
    assert ran.out.count(": differs") == 2


async def test_a_replay_matches_a_checkpoint_and_names_an_entry_a_bad_checkpoint_holds(
    client: TestClient, clock: Clock, config_path: str
) -> None:
    await scripted_run(client, clock, rounds=3)
    services = client.server.app[AUDIT]
    assert await services.checkpointer.write() is not None
    ran = await run_cli("audit", "replay", "--config", config_path)
    assert ran.code == 0, ran
    assert "MATCH: every read model equals checkpoint checkpoint-" in ran.out

    state = tracker_of(client).state
    project = state.projects.by_id[1]
    project.closed_task_count += 5  # the checkpoint is written from a wrong state
    await call(client, "POST", "/worker/create", json={"alias": "one more event"})
    assert await services.checkpointer.write() is not None
    ran = await run_cli("audit", "replay", "--config", config_path, "--checkpoint", "latest")

    assert ran.code == 1, ran
    assert "projects.by_id[1]: differs" in ran.out


async def test_live_digests_are_for_tracker_admins_and_the_audit_token(
    client: TestClient, clock: Clock
) -> None:
    people = await scripted_run(client, clock, rounds=1)

    assert (await call(client, "GET", "/audit/digest")).status == 401
    wrong = {"Authorization": "Bearer not-the-token-at-all"}
    assert (await call(client, "GET", "/audit/digest", headers=wrong)).status == 401
    assert (await call(client, "GET", "/audit/digest", people.alice)).status == 403
    assert (await call(client, "GET", "/audit/digest", people.workers[0])).status == 401
    by_admin = await call(client, "GET", "/audit/digest", people.admin)
    by_token = await call(client, "GET", "/audit/digest?keys=workers", ANONYMOUS, headers=token())

    assert by_admin.status == by_token.status == 200
    assert by_admin.content["models"] == by_token.content["models"]
    assert by_admin.content["position"] == tracker_of(client).state.position
    assert set(by_token.content["keys"]["workers"]["by_id"]) == {str(w.id) for w in people.workers}


async def test_the_digest_leaves_out_the_deadline_heap_that_queries_pop(
    client: TestClient, clock: Clock
) -> None:
    await scripted_run(client, clock, rounds=2)
    before = (await call(client, "GET", "/audit/digest", headers=token())).content
    clock.advance(10_000)
    tracker_of(client).state.tasks.due(clock())  # pops the heap, appends nothing

    after = (await call(client, "GET", "/audit/digest", headers=token())).content

    assert after["position"] == before["position"]
    assert after["models"] == before["models"]

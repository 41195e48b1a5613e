"""Monitoring, statistics and their Prometheus counters, driven by a known story.

A public project "watched" and a hidden one "secret" live through submits, assignments,
releases (OK, FAIL, SKIP, a verification vote), a reset of failed tasks and quiet periods, on
a clock the test moves. Every snapshot, the statistics and the counters folded from the log
are checked exactly, then again after a restart on the same data directory.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Clock
from tests.world import CLOSED, NOT_CLOSED, Caller, World, amend
from tracker import config

T = 1_700_000_040  # a multiple of the interval: boundaries fall on T, T + 60, ...
INTERVAL = 60
HISTORY = 3600


@pytest.fixture
def settings(settings: config.Settings) -> config.Settings:
    return amend(settings, monitoring={"snapshot_interval": INTERVAL, "history_length": HISTORY})


def snap(new: int, failed: int, closed: int, access: int, votes: int, at: int) -> dict:
    return {
        "new_task_count": new, "failed_task_count": failed, "closed_task_count": closed,
        "worker_access_count": access, "awaiting_verification_count": votes, "time_stamp": at,
    }  # fmt: skip


@pytest.fixture
async def world(bare_world: World, clock: Clock) -> World:
    """The story starts at T + 1: the admin, the public project "watched" and two workers."""
    clock.now = T + 1
    return await bare_world.open(workers=2, name="watched", public=True)


async def play(world: World, clock: Clock) -> None:
    """The story; the comments give the counts (new, failed, closed, access, votes) after it."""
    await world.create_project("secret", hidden=True)
    pending = await world.new_worker("pending")
    body = {"project": world.project, "assign": True}
    await pending.post("/project/request_access", body, status=200)
    clock.now = T + 10
    for recipe in "abc":
        await world.submit(recipe)
    await world.submit("d", verification_count=2)  # (4, 0, 0, 3, 0) at T + 60
    clock.now = T + 70
    a = await world.task(by=0)
    assert await world.release(a["id"], 0, by=0) == CLOSED
    b = await world.task(by=0)
    assert await world.release(b["id"], 1, by=0) == CLOSED  # max_retries 0: FAILED
    c = await world.task(by=1)  # (2, 1, 1, 3, 0) at T + 120, 180 and 240: c assigned is new
    clock.now = T + 250
    d = await world.task(by=0)
    assert d["recipe"] == "d"
    assert await world.release(d["id"], 0, by=0, verification=7) == NOT_CLOSED  # a vote
    assert await world.release(c["id"], 2, by=1) == CLOSED  # SKIP: (1, 1, 1, 3, 1) at T + 300
    clock.now = T + 310
    reset = await world.admin.post(f"/project/reset_failed_tasks/{world.project}", status=200)
    assert reset["content"] == {"affected_tasks": 1}
    assert (await world.task(by=1))["recipe"] == "d"
    assert await world.release(d["id"], 0, by=1, verification=7) == CLOSED  # verified
    clock.now = T + 320
    assert (await world.task(by=0))["recipe"] == "c"  # (2, 0, 2, 3, 0) at T + 360
    clock.now = T + 400


EXPECTED = [
    snap(2, 0, 2, 3, 0, T + 360),
    snap(1, 1, 1, 3, 1, T + 300),
    snap(2, 1, 1, 3, 0, T + 240),
    snap(2, 1, 1, 3, 0, T + 180),
    snap(2, 1, 1, 3, 0, T + 120),
    snap(4, 0, 0, 3, 0, T + 60),
]


async def snapshots(caller: Caller, project: int, query: str = "count=999") -> list[dict]:
    answer = await caller.get(f"/project/monitoring/{project}?{query}", status=200)
    return list(answer["content"]["snapshots"])


async def between(caller: Caller, project: int, start: int, end: int) -> list[dict]:
    path = f"/project/monitoring-between/{project}?from={start}&to={end}"
    return list((await caller.get(path, status=200))["content"]["snapshots"])


async def scrape(caller: Caller) -> dict[tuple[str, tuple], float]:
    answer = await caller.get("/metrics", status=200)
    samples = {}
    for family in text_string_to_metric_families(answer.body):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def project_series(samples: dict, project: str) -> dict[tuple[str, str], float]:
    """The per-project series of ``project``, by (metric, status)."""
    found = {}
    for (name, labels), value in samples.items():
        labels = dict(labels)
        if labels.get("project") == project:
            found[(name, labels.get("status", ""))] = value
    return found


WATCHED_SERIES = {
    ("tracker_tasks", "queued"): 1.0,
    ("tracker_tasks", "assigned"): 1.0,
    ("tracker_tasks", "failed"): 0.0,
    ("tracker_tasks_closed_total", ""): 2.0,
    ("tracker_verification_votes", ""): 0.0,
    ("tracker_worker_access", ""): 3.0,
}
EVENTS_BY_TYPE = {
    "ManagerRegistered": 1, "ProjectCreated": 2, "ProjectRoleSet": 2, "WorkerCreated": 3,
    "AccessRequested": 3, "AccessGranted": 2, "TaskSubmitted": 4, "TaskAssigned": 6,
    "TaskReleased": 5, "FailedTasksReset": 1,
}  # fmt: skip


def events_by_type(samples: dict) -> dict[str, float]:
    return {
        dict(labels)["type"]: value
        for (name, labels), value in samples.items()
        if name == "tracker_events_total"
    }


async def check_everything(world: World, sessions: int) -> None:
    admin = world.admin
    assert await snapshots(admin, world.project) == EXPECTED
    assert await snapshots(admin, world.project, "count=2") == EXPECTED[:2]
    assert await between(admin, world.project, T + 100, T + 300) == EXPECTED[1:5]
    assert await snapshots(admin, 2) == [snap(0, 0, 0, 0, 0, T + 60 * n) for n in range(6, 0, -1)]
    stats = (await admin.get("/worker/stats", status=200))["content"]["stats"]
    assert stats == [
        {"alias": "worker 1", "closed_task_count": 1, "paused": False, "id": 1},
        {"alias": "worker 2", "closed_task_count": 1, "paused": False, "id": 2},
        {"alias": "pending", "closed_task_count": 0, "paused": False, "id": 3},
    ]
    assignees = await admin.get(f"/project/assignees/{world.project}", status=200)
    assert assignees["content"]["assignees"] == [
        {"assignee": "unassigned", "task_count": 1},
        {"assignee": "worker 1", "task_count": 1},
    ]
    samples = await scrape(admin)  # the tracker admin: hidden ones too
    assert project_series(samples, "watched") == WATCHED_SERIES
    assert project_series(samples, "secret")[("tracker_tasks", "queued")] == 0.0
    assert events_by_type(samples) == EVENTS_BY_TYPE | {"SessionStarted": sessions}
    assert samples[("tracker_events_appended_total", ())] == await world.log_head()


async def test_snapshots_statistics_and_counters_follow_the_story_and_survive_a_restart(
    world: World, clock: Clock
) -> None:
    await play(world, clock)
    await check_everything(world, sessions=1)
    await world.restart()

    world.admin = await world.login("admin")
    await check_everything(world, sessions=2)  # the login after the restart


async def test_quiet_periods_repeat_the_current_counts_up_to_now(
    world: World, clock: Clock
) -> None:
    await play(world, clock)
    clock.now = T + 545
    assert (await snapshots(world.admin, world.project, "count=4")) == [
        snap(2, 0, 2, 3, 0, T + 540), snap(2, 0, 2, 3, 0, T + 480),
        snap(2, 0, 2, 3, 0, T + 420), EXPECTED[0],
    ]  # fmt: skip
    await world.client.close()
    clock.now = T + 605  # stopped for a while: the boundaries in between are still there
    await world.restart()
    quiet = await snapshots(world.anonymous, world.project, "count=3")
    assert [s["time_stamp"] for s in quiet] == [
        T + 600, T + 540, T + 480,
    ]  # fmt: skip


async def test_snapshots_older_than_the_history_length_are_gone(world: World, clock: Clock) -> None:
    await play(world, clock)
    clock.now = T + HISTORY + 130
    found = await snapshots(world.admin, world.project)
    assert found[-1] == snap(2, 1, 1, 3, 0, T + 180)  # T + 120 is more than an hour ago
    assert len(found) == HISTORY // INTERVAL  # T + 180 to T + 3720
    assert await between(world.admin, world.project, 1, T + 200) == [snap(2, 1, 1, 3, 0, T + 180)]


async def test_the_public_scrape_leaves_out_hidden_projects(world: World, clock: Clock) -> None:
    await play(world, clock)
    samples = await scrape(world.anonymous)
    assert project_series(samples, "watched") == WATCHED_SERIES
    assert project_series(samples, "secret") == {}


async def test_assignees_are_the_16_largest_groups_largest_first(bare_world: World) -> None:
    world = await bare_world.open(workers=18, name="busy")
    for n in range(22):
        await world.submit(f"r{n}")
    for _ in range(3):
        await world.task(by=0)
    for worker in range(1, 18):
        task = await world.task(by=worker)
    assert await world.release(task["id"], 1, by=17) == CLOSED  # FAILED: back in "unassigned"
    answer = await world.admin.get(f"/project/assignees/{world.project}", status=200)
    ones = sorted(f"worker {n}" for n in range(2, 18))[:14]  # "worker 10" < "worker 2"
    expected = [
        {"assignee": "unassigned", "task_count": 3},  # 2 queued and 1 failed; ties by label
        {"assignee": "worker 1", "task_count": 3},
    ]
    expected += [{"assignee": alias, "task_count": 1} for alias in ones]
    assert answer["content"]["assignees"] == expected


async def answers(world: World) -> tuple:
    """What a restart must not change: snapshots, statistics, logs and the log's counters."""
    admin = world.admin
    samples = await scrape(admin)
    logs = await admin.post("/logs", {"level": 5, "since": 1}, status=200)
    return (
        await snapshots(admin, world.project),
        await snapshots(admin, 2),
        (await admin.get("/worker/stats", status=200))["content"],
        (await admin.get(f"/project/assignees/{world.project}", status=200))["content"],
        logs["content"],
        project_series(samples, "watched"),
        project_series(samples, "secret"),
        {k: v for k, v in events_by_type(samples).items() if k != "SessionStarted"},
    )


async def test_a_checkpoint_restart_and_a_full_replay_give_the_same_answers(
    world: World, clock: Clock, settings: config.Settings
) -> None:
    await play(world, clock)
    line = {"scope": "crawler", "message": "done", "timestamp": T}
    assert world.worker.id == 1
    assert (await world.worker.post("/log/info", line)).status == 204
    expected = await answers(world)
    await world.client.close()
    assert list((Path(settings.database.data_dir) / "checkpoints").glob("*.ckpt"))

    for restart_settings in (settings, amend(settings, checkpoint={"enabled": False})):
        await world.restart(restart_settings)
        world.admin = await world.login("admin")
        assert await answers(world) == expected
        await world.client.close()

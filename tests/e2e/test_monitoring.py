"""Monitoring, statistics and their Prometheus counters, driven by a known story.

A public project "watched" and a hidden one "secret" live through submits, assignments,
releases (OK, FAIL, SKIP, a verification vote), a reset of failed tasks and quiet periods, on
a clock the test moves. Every snapshot, the statistics and the counters folded from the log
are checked exactly, then again after a restart on the same data directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Api, Clock, MakeClient
from tests.e2e.support import CLOSED, NOT_CLOSED, Desk, cheap, log_head, open_desk
from tracker import config

T = 1_700_000_040  # a multiple of the interval: boundaries fall on T, T + 60, ...
INTERVAL = 60
HISTORY = 3600


@pytest.fixture
def settings(settings: config.Settings) -> config.Settings:
    return cheap(settings, monitoring={"snapshot_interval": INTERVAL, "history_length": HISTORY})


def snap(new: int, failed: int, closed: int, access: int, votes: int, at: int) -> dict:
    return {
        "new_task_count": new, "failed_task_count": failed, "closed_task_count": closed,
        "worker_access_count": access, "awaiting_verification_count": votes, "time_stamp": at,
    }  # fmt: skip


async def play(api: Api, clock: Clock) -> Desk:
    """The story; the comments give the counts (new, failed, closed, access, votes) after it."""
    clock.now = T + 1
    desk = await open_desk(api, workers=2, name="watched", public=True)
    await api.create_project("secret", hidden=True)
    pending = await api.create_worker("pending")
    body = {"project": desk.project, "assign": True}
    await api.call("POST", "/project/request_access", body, worker=pending, status=200)
    clock.now = T + 10
    for recipe in "abc":
        await desk.submit(recipe)
    await desk.submit("d", verification_count=2)  # (4, 0, 0, 3, 0) at T + 60
    clock.now = T + 70
    a = await desk.task(by=0)
    assert await desk.release(a["id"], 0, by=0) == CLOSED
    b = await desk.task(by=0)
    assert await desk.release(b["id"], 1, by=0) == CLOSED  # max_retries 0: FAILED
    c = await desk.task(by=1)  # (2, 1, 1, 3, 0) at T + 120, 180 and 240: c assigned is new
    clock.now = T + 250
    d = await desk.task(by=0)
    assert d["recipe"] == "d"
    assert await desk.release(d["id"], 0, by=0, verification=7) == NOT_CLOSED  # a vote
    assert await desk.release(c["id"], 2, by=1) == CLOSED  # SKIP: (1, 1, 1, 3, 1) at T + 300
    clock.now = T + 310
    reset = await api.call("POST", f"/project/reset_failed_tasks/{desk.project}", status=200)
    assert reset["content"] == {"affected_tasks": 1}
    assert (await desk.task(by=1))["recipe"] == "d"
    assert await desk.release(d["id"], 0, by=1, verification=7) == CLOSED  # verified
    clock.now = T + 320
    assert (await desk.task(by=0))["recipe"] == "c"  # (2, 0, 2, 3, 0) at T + 360
    clock.now = T + 400
    return desk


EXPECTED = [
    snap(2, 0, 2, 3, 0, T + 360),
    snap(1, 1, 1, 3, 1, T + 300),
    snap(2, 1, 1, 3, 0, T + 240),
    snap(2, 1, 1, 3, 0, T + 180),
    snap(2, 1, 1, 3, 0, T + 120),
    snap(4, 0, 0, 3, 0, T + 60),
]


async def snapshots(api: Api, project: int, query: str = "count=999") -> list[dict]:
    answer = await api.call("GET", f"/project/monitoring/{project}?{query}", status=200)
    return list(answer["content"]["snapshots"])


async def between(api: Api, project: int, start: int, end: int) -> list[dict]:
    path = f"/project/monitoring-between/{project}?from={start}&to={end}"
    return list((await api.call("GET", path, status=200))["content"]["snapshots"])


async def scrape(client: TestClient, **kwargs: Any) -> dict[tuple[str, tuple], float]:
    response = await client.get("/metrics", **kwargs)
    assert response.status == 200, await response.text()
    samples = {}
    for family in text_string_to_metric_families(await response.text()):
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


async def check_everything(api: Api, desk: Desk, sessions: int) -> None:
    assert await snapshots(api, desk.project) == EXPECTED
    assert await snapshots(api, desk.project, "count=2") == EXPECTED[:2]
    assert await between(api, desk.project, T + 100, T + 300) == EXPECTED[1:5]
    assert await snapshots(api, 2) == [snap(0, 0, 0, 0, 0, T + 60 * n) for n in range(6, 0, -1)]
    stats = (await api.call("GET", "/worker/stats", status=200))["content"]["stats"]
    assert stats == [
        {"alias": "worker 1", "closed_task_count": 1, "paused": False, "id": 1},
        {"alias": "worker 2", "closed_task_count": 1, "paused": False, "id": 2},
        {"alias": "pending", "closed_task_count": 0, "paused": False, "id": 3},
    ]
    assignees = await api.call("GET", f"/project/assignees/{desk.project}", status=200)
    assert assignees["content"]["assignees"] == [
        {"assignee": "unassigned", "task_count": 1},
        {"assignee": "worker 1", "task_count": 1},
    ]
    samples = await scrape(api.client)  # logged in as the tracker admin: hidden ones too
    assert project_series(samples, "watched") == WATCHED_SERIES
    assert project_series(samples, "secret")[("tracker_tasks", "queued")] == 0.0
    assert events_by_type(samples) == EVENTS_BY_TYPE | {"SessionStarted": sessions}
    assert samples[("tracker_events_appended_total", ())] == await log_head(api)


async def test_snapshots_statistics_and_counters_follow_the_story_and_survive_a_restart(
    api: Api, clock: Clock, make_client: MakeClient
) -> None:
    desk = await play(api, clock)
    await check_everything(api, desk, sessions=1)
    await api.client.close()

    restarted = Api(await make_client())
    await restarted.login("admin")
    desk.api = restarted
    await check_everything(restarted, desk, sessions=2)  # the login after the restart


async def test_quiet_periods_repeat_the_current_counts_up_to_now(
    api: Api, clock: Clock, make_client: MakeClient
) -> None:
    desk = await play(api, clock)
    clock.now = T + 545
    assert (await snapshots(api, desk.project, "count=4")) == [
        snap(2, 0, 2, 3, 0, T + 540), snap(2, 0, 2, 3, 0, T + 480),
        snap(2, 0, 2, 3, 0, T + 420), EXPECTED[0],
    ]  # fmt: skip
    await api.client.close()
    clock.now = T + 605  # stopped for a while: the boundaries in between are still there
    restarted = Api(await make_client())
    assert [s["time_stamp"] for s in await snapshots(restarted, desk.project, "count=3")] == [
        T + 600, T + 540, T + 480,
    ]  # fmt: skip


async def test_snapshots_older_than_the_history_length_are_gone(api: Api, clock: Clock) -> None:
    desk = await play(api, clock)
    clock.now = T + HISTORY + 130
    found = await snapshots(api, desk.project)
    assert found[-1] == snap(2, 1, 1, 3, 0, T + 180)  # T + 120 is more than an hour ago
    assert len(found) == HISTORY // INTERVAL  # T + 180 to T + 3720
    assert await between(api, desk.project, 1, T + 200) == [snap(2, 1, 1, 3, 0, T + 180)]


async def test_the_public_scrape_leaves_out_hidden_projects(api: Api, clock: Clock) -> None:
    await play(api, clock)
    api.client.session.cookie_jar.clear()
    samples = await scrape(api.client)
    assert project_series(samples, "watched") == WATCHED_SERIES
    assert project_series(samples, "secret") == {}


async def test_assignees_are_the_16_largest_groups_largest_first(api: Api) -> None:
    desk = await open_desk(api, workers=18, name="busy")
    for n in range(22):
        await desk.submit(f"r{n}")
    for _ in range(3):
        await desk.task(by=0)
    for worker in range(1, 18):
        task = await desk.task(by=worker)
    assert await desk.release(task["id"], 1, by=17) == CLOSED  # FAILED: back in "unassigned"
    answer = await api.call("GET", f"/project/assignees/{desk.project}", status=200)
    ones = sorted(f"worker {n}" for n in range(2, 18))[:14]  # "worker 10" < "worker 2"
    expected = [
        {"assignee": "unassigned", "task_count": 3},  # 2 queued and 1 failed; ties by label
        {"assignee": "worker 1", "task_count": 3},
    ]
    expected += [{"assignee": alias, "task_count": 1} for alias in ones]
    assert answer["content"]["assignees"] == expected


async def answers(api: Api, desk: Desk) -> tuple:
    """What a restart must not change: snapshots, statistics, logs and the log's counters."""
    samples = await scrape(api.client)
    logs = await api.call("POST", "/logs", {"level": 5, "since": 1}, status=200)
    return (
        await snapshots(api, desk.project),
        await snapshots(api, 2),
        (await api.call("GET", "/worker/stats", status=200))["content"],
        (await api.call("GET", f"/project/assignees/{desk.project}", status=200))["content"],
        logs["content"],
        project_series(samples, "watched"),
        project_series(samples, "secret"),
        {k: v for k, v in events_by_type(samples).items() if k != "SessionStarted"},
    )


async def test_a_checkpoint_restart_and_a_full_replay_give_the_same_answers(
    api: Api, clock: Clock, make_client: MakeClient, settings: config.Settings
) -> None:
    desk = await play(api, clock)
    line = {"scope": "crawler", "message": "done", "timestamp": T}
    headers = {"X-Worker-Id": "1", "X-Secret": desk.worker["secret"]}
    assert (await api.client.post("/log/info", json=line, headers=headers)).status == 204
    expected = await answers(api, desk)
    await api.client.close()
    assert list((Path(settings.database.data_dir) / "checkpoints").glob("*.ckpt"))

    for restart_settings in (settings, cheap(settings, checkpoint={"enabled": False})):
        restarted = Api(await make_client(restart_settings))
        await restarted.login("admin")
        assert await answers(restarted, desk) == expected
        await restarted.client.close()

"""``GET /metrics``: the Prometheus text format, request counts by route template, commit
batches, per-app registries, and who may read it."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.world import Caller, MakeClient, World, amend
from tracker import config

TOKEN = "s3cret-scrape-token"


async def samples(
    caller: Caller, headers: dict[str, str] | None = None
) -> dict[tuple[str, tuple], float]:
    response = await caller.world.client.get(
        "/metrics", headers={**caller.headers(), **(headers or {})}
    )
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    found = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def requests(found: dict, route: str, method: str = "GET", status: str = "200") -> float:
    key = (("method", method), ("route", route), ("status", status))
    return found.get(("tracker_http_requests_total", key), 0.0)


async def test_requests_are_counted_by_route_template_method_and_status(
    bare_world: World,
) -> None:
    world = await bare_world.open(workers=1)  # one grant, one accepted request
    for _ in range(3):
        await world.assign()
    await world.admin.get("/worker/get/1", status=200)
    await world.admin.get("/no/such/path", status=404)
    await world.admin.get("/project/list/", status=404)
    for method in ("PROPFIND", "PURGE"):  # rarer methods share one series
        await world.admin.call(method, "/")
    found = await samples(world.admin)
    assert requests(found, "/task/get/{project}") == 3
    assert requests(found, "/worker/get/{id}") == 1
    assert requests(found, "/project/accept_request/{id}/{wid}", "POST") == 1
    assert requests(found, "unmatched", status="404") == 2
    assert requests(found, "unmatched", "other", status="404") == 2
    assert not [key for key in found if "/task/get/1" in str(key)]  # never the raw path
    count = ("tracker_http_request_duration_seconds_count",
             (("method", "GET"), ("route", "/task/get/{project}")))  # fmt: skip
    assert found[count] == 3


async def test_commit_batches_are_a_histogram_of_events_per_batch(world: World) -> None:
    sizes = world.tracker.writer.batch_sizes
    found = await samples(world.admin)
    assert found[("tracker_commit_batch_size_count", ())] == sizes.batches > 0
    assert found[("tracker_commit_batch_size_sum", ())] == sizes.total
    assert found[("tracker_commit_batch_size_bucket", (("le", "+Inf"),))] == sizes.batches
    assert found[("tracker_commit_batch_size_bucket", (("le", "4096.0"),))] == sizes.batches


async def test_each_app_counts_its_own_requests(
    bare_world: World, make_client: MakeClient, settings: config.Settings, tmp_path: Path
) -> None:
    elsewhere = amend(settings, database={"data_dir": str(tmp_path / "other")})
    other = await World.start(make_client, elsewhere)
    for _ in range(4):
        await other.anonymous.get("/")
    await bare_world.anonymous.get("/")
    assert requests(await samples(bare_world.anonymous), "/") == 1
    assert requests(await samples(other.anonymous), "/") == 4


async def test_the_request_counters_start_again_but_log_counters_do_not(
    bare_world: World,
) -> None:
    world = await bare_world.open(workers=1)  # one WorkerCreated
    await world.admin.get("/")
    before = await samples(world.admin)
    await world.restart()
    after = await samples(world.anonymous)  # the restarted client had no session
    assert requests(before, "/") == 1 and requests(after, "/") == 0
    appended = ("tracker_events_appended_total", ())
    assert after[appended] == before[appended] > 0
    assert after[("tracker_events_total", (("type", "WorkerCreated"),))] == 1


async def test_with_a_token_a_scrape_needs_it_or_an_admin_session(
    make_client: MakeClient, settings: config.Settings
) -> None:
    world = await World.start(make_client, amend(settings, metrics={"token": TOKEN}))
    admin = await world.register("admin")
    await world.create_project("hidden one", by=admin, hidden=True)
    assert ("tracker_projects", ()) in await samples(admin)  # the admin session
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        answer = await world.anonymous.get("/metrics", headers=headers)
        assert answer.status == 401
        assert answer.body == {"ok": False, "message": "Unauthorized"}
    found = await samples(world.anonymous, headers={"Authorization": f"Bearer {TOKEN}"})
    closed = ("tracker_tasks_closed_total", (("project", "hidden one"), ("project_id", "1")))
    assert found[closed] == 0


async def test_without_a_token_anyone_may_scrape_the_public_view(bare_world: World) -> None:
    admin = await bare_world.register("admin")
    await bare_world.create_project("hidden one", by=admin, hidden=True)
    await bare_world.create_project("private one", by=admin)
    found = await samples(bare_world.anonymous)
    projects = {dict(labels).get("project") for (_, labels) in found}
    assert "private one" in projects and "hidden one" not in projects
    assert found[("tracker_projects", ())] == 2  # totals are not per project

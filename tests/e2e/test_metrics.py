"""``GET /metrics``: the Prometheus text format, request counts by route template, commit
batches, per-app registries, and who may read it."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Api, MakeClient
from tests.e2e.support import cheap, forget_session, open_desk
from tests.world import tracker_of
from tracker import config

TOKEN = "s3cret-scrape-token"


async def samples(client: TestClient, **kwargs: object) -> dict[tuple[str, tuple], float]:
    response = await client.get("/metrics", **kwargs)  # type: ignore[arg-type]
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


async def test_requests_are_counted_by_route_template_method_and_status(api: Api) -> None:
    desk = await open_desk(api)
    for _ in range(3):
        await desk.assign()
    await api.call("GET", "/worker/get/1", status=200)
    await api.call("GET", "/no/such/path", status=404)
    await api.call("GET", "/project/list/", status=404)
    for method in ("PROPFIND", "PURGE"):  # rarer methods share one series
        await api.client.request(method, "/")
    found = await samples(api.client)
    assert requests(found, "/task/get/{project}") == 3
    assert requests(found, "/worker/get/{id}") == 1
    assert requests(found, "/project/accept_request/{id}/{wid}", "POST") == 1
    assert requests(found, "unmatched", status="404") == 2
    assert requests(found, "unmatched", "other", status="404") == 2
    assert not [key for key in found if "/task/get/1" in str(key)]  # never the raw path
    count = ("tracker_http_request_duration_seconds_count",
             (("method", "GET"), ("route", "/task/get/{project}")))  # fmt: skip
    assert found[count] == 3


async def test_commit_batches_are_a_histogram_of_events_per_batch(api: Api) -> None:
    await open_desk(api, workers=2)
    committer = tracker_of(api.client).committer
    found = await samples(api.client)
    assert found[("tracker_commit_batch_size_count", ())] == committer.batches > 0
    assert found[("tracker_commit_batch_size_sum", ())] == committer.batch_sizes_total
    assert found[("tracker_commit_batch_size_bucket", (("le", "+Inf"),))] == committer.batches
    assert found[("tracker_commit_batch_size_bucket", (("le", "4096.0"),))] == committer.batches


async def test_each_app_counts_its_own_requests(
    api: Api, make_client: MakeClient, settings: config.Settings, tmp_path: Path
) -> None:
    other = await make_client(cheap(settings, database={"data_dir": str(tmp_path / "other")}))
    for _ in range(4):
        await other.get("/")
    await api.client.get("/")
    assert requests(await samples(api.client), "/") == 1
    assert requests(await samples(other), "/") == 4


async def test_the_request_counters_start_again_but_log_counters_do_not(
    api: Api, make_client: MakeClient
) -> None:
    await open_desk(api)
    await api.client.get("/")
    before = await samples(api.client)
    await api.client.close()
    restarted = await make_client()
    after = await samples(restarted)
    assert requests(before, "/") == 1 and requests(after, "/") == 0
    appended = ("tracker_events_appended_total", ())
    assert after[appended] == before[appended] > 0
    assert after[("tracker_events_total", (("type", "WorkerCreated"),))] == 1


async def test_with_a_token_a_scrape_needs_it_or_an_admin_session(
    make_client: MakeClient, settings: config.Settings
) -> None:
    client = await make_client(cheap(settings, metrics={"token": TOKEN}))
    api = Api(client)
    await api.register("admin")
    await api.create_project("hidden one", hidden=True)
    assert ("tracker_projects", ()) in await samples(client)  # the admin session
    forget_session(api)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        response = await client.get("/metrics", headers=headers)
        assert response.status == 401
        assert await response.json() == {"ok": False, "message": "Unauthorized"}
    found = await samples(client, headers={"Authorization": f"Bearer {TOKEN}"})
    closed = ("tracker_tasks_closed_total", (("project", "hidden one"), ("project_id", "1")))
    assert found[closed] == 0


async def test_without_a_token_anyone_may_scrape_the_public_view(api: Api) -> None:
    await api.register("admin")
    await api.create_project("hidden one", hidden=True)
    await api.create_project("private one")
    forget_session(api)
    found = await samples(api.client)
    projects = {dict(labels).get("project") for (_, labels) in found}
    assert "private one" in projects and "hidden one" not in projects
    assert found[("tracker_projects", ())] == 2  # totals are not per project

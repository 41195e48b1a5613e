"""What the worker and task HTTP tests share: a desk (an admin session, a project, workers
with granted access) and small helpers that speak the API as a client would.

The ``settings`` fixture (tests/conftest.py) already hashes passwords cheaply; ``cheap`` also
replaces other sections' fields, for modules that need them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp.test_utils import TestClient

from tests.conftest import CHEAP_PASSWORDS, Api
from tests.world import tracker_of
from tracker import config

NO_TASK = {"ok": False, "message": "No task available"}
CLOSED = {"ok": True, "content": {"updated": True}}
NOT_CLOSED = {"ok": True, "message": "Task was not marked as closed", "content": {"updated": False}}
HELLO_WORLD = 8565956259293726066  # SipHash-2-4 (1, 2) of "Hello, world" (section 14)


def cheap(settings: config.Settings, **sections: dict[str, Any]) -> config.Settings:
    """``settings`` with cheap password hashing and the given sections' fields replaced."""
    settings = msgspec.structs.replace(settings, passwords=CHEAP_PASSWORDS)
    for name, values in sections.items():
        section = msgspec.structs.replace(getattr(settings, name), **values)
        settings = msgspec.structs.replace(settings, **{name: section})
    return settings


@dataclass
class Desk:
    """An admin logged in on ``api``'s client, a project and workers granted access to it."""

    api: Api
    project: int
    workers: list[dict] = field(default_factory=list)

    @property
    def client(self) -> TestClient:
        return self.api.client

    @property
    def worker(self) -> dict:
        return self.workers[0]

    async def submit(self, recipe: str = "recipe", *, by: int = 0, **fields: Any) -> dict:
        return await self.api.submit(self.workers[by], self.project, recipe, **fields)

    async def assign(self, by: int = 0, project: int | None = None) -> dict:
        return await self.api.assign(self.workers[by], project or self.project)

    async def task(self, by: int = 0, project: int | None = None) -> dict:
        """Assign and return the task; fails the test if none was available."""
        answer = await self.assign(by, project)
        assert answer.get("ok") is True, answer
        return dict(answer["content"]["task"])

    async def release(self, task_id: int, result: int = 0, *, by: int = 0, **fields: Any) -> dict:
        return await self.api.release(self.workers[by], task_id, result, **fields)


async def open_desk(api: Api, *, workers: int = 1, name: str = "project", **project: Any) -> Desk:
    """Register the admin (the first manager is tracker admin) unless logged in, then build."""
    account = await api.call("GET", "/account")
    if not account.get("ok"):
        await api.register("admin")
    project_id = await api.create_project(name, **project)
    desk = Desk(api, project_id)
    for n in range(workers):
        worker = await api.create_worker(f"worker {n + 1}")
        await api.grant(worker, project_id)
        desk.workers.append(worker)
    return desk


async def add_project(desk: Desk, name: str, **project: Any) -> int:
    """Another project on the desk; every desk worker gets access to it."""
    project_id = await desk.api.create_project(name, **project)
    for worker in desk.workers:
        await desk.api.grant(worker, project_id)
    return project_id


async def pause_worker(api: Api, worker: dict, paused: bool = True) -> None:
    body = {"worker": worker["id"], "paused": paused}
    await api.call("POST", "/worker/set_paused", body, status=200)


async def update_project(api: Api, project: int, **fields: Any) -> None:
    """``/project/update`` with the project's current settings and ``fields`` changed."""
    view = (await api.call("GET", f"/project/get/{project}", status=200))["content"]["project"]
    view.update(fields)
    view.pop("id")
    await api.call("POST", f"/project/update/{project}", view, status=200)


def position(api_or_client: Api | TestClient) -> int:
    """How many events the tracker has applied."""
    client = api_or_client.client if isinstance(api_or_client, Api) else api_or_client
    return tracker_of(client).state.position


async def log_head(api_or_client: Api | TestClient) -> int:
    """How many events the log file holds."""
    client = api_or_client.client if isinstance(api_or_client, Api) else api_or_client
    return await tracker_of(client).store.head()


async def drain(desk: Desk, by: int = 0, project: int | None = None) -> list[dict]:
    """Assign until nothing is left: the tasks in the order the tracker handed them out."""
    tasks = []
    while (answer := await desk.assign(by, project)).get("ok"):
        tasks.append(answer["content"]["task"])
    assert answer == NO_TASK, answer
    return tasks


def forget_session(api: Api) -> None:
    """From now on the client calls as an anonymous caller (no session cookie)."""
    api.client.session.cookie_jar.clear()


def worker_headers(worker: dict) -> dict[str, str]:
    return {"X-Worker-Id": str(worker["id"]), "X-Secret": worker["secret"]}

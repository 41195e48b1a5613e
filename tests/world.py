"""The one way tests speak to a tracker over HTTP.

A ``World`` is one tracker, served as ``tracker serve`` serves it (``conftest.LaneServer``),
and the people who use it. Every request names its caller: a ``Caller`` is nobody, a manager
(their session cookie) or a worker (their id and secret). The client keeps no cookies, so one
test acts as many people at once and nobody's session leaks into another's request.

The ``world`` fixture (tests/conftest.py) holds the admin (the first manager is tracker
admin), a project and two workers granted access to it; ``bare_world`` holds nobody yet.
Callers stay valid across ``World.restart``: sessions and workers are events in the log.

A test that needs ``tracker serve`` as a process of its own (a signal, SIGKILL, several nodes,
another command or a browser beside it) starts one with tests/processes.py instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import web
from aiohttp.test_utils import TestClient

from tracker import config
from tracker.http.keys import TRACKER
from tracker.service import Tracker

PASSWORD = "password1"
COOKIE = config.Session().cookie_name

NO_TASK = {"ok": False, "message": "No task available"}
CLOSED = {"ok": True, "content": {"updated": True}}
NOT_CLOSED = {"ok": True, "message": "Task was not marked as closed", "content": {"updated": False}}
HELLO_WORLD = 8565956259293726066  # SipHash-2-4 (1, 2) of "Hello, world" (section 14)

MakeClient = Callable[..., Awaitable[TestClient]]


def tracker_of(client: TestClient) -> Tracker:
    """The tracker behind a test client, for what HTTP does not show (positions, the log)."""
    app: web.Application = client.server.app  # type: ignore[attr-defined]
    return app[TRACKER]


class Answer(dict[str, Any]):
    """An answer: its JSON envelope as a dict (empty if the body is not a JSON object), its
    status, and ``body``, the decoded JSON of any shape, the text, or None when empty."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(body if isinstance(body, dict) else {})
        self.status = status
        self.body = body

    @property
    def ok(self) -> bool | None:
        return self.get("ok")

    @property
    def message(self) -> str:
        return str(self.get("message", ""))

    @property
    def content(self) -> Any:
        return self.get("content")

    def __repr__(self) -> str:
        return f"Answer({self.status}, {self.body!r})"


@dataclass(frozen=True, eq=False)
class Caller:
    """Who sends a request: nobody, a manager (cookie) or a worker (``worker``, the content
    of ``/worker/create``: id, secret, alias)."""

    world: World
    name: str = "anonymous"
    cookie: str = ""
    worker: Mapping[str, Any] = field(default_factory=dict)
    id: int = 0

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.cookie:
            headers["Cookie"] = f"{COOKIE}={self.cookie}"
        if self.worker:
            headers["X-Worker-Id"] = str(self.worker["id"])
            headers["X-Secret"] = str(self.worker["secret"])
        return headers

    async def call(self, method: str, path: str, json: Any = None, *,
                   data: bytes | str | None = None, headers: Mapping[str, str] | None = None,
                   status: int | None = None) -> Answer:  # fmt: skip
        """One request as this caller; ``status``, if given, must be the answer's."""
        client = self.world.client
        all_headers = {**self.headers(), **(headers or {})}
        if json is not None:
            response = await client.request(method, path, json=json, headers=all_headers)
        else:
            response = await client.request(method, path, data=data, headers=all_headers)
        text = await response.text()
        if not text:
            answer = Answer(response.status, None)
        elif response.content_type == "application/json":
            answer = Answer(response.status, await response.json())
        else:
            answer = Answer(response.status, text)
        if status is not None:
            assert answer.status == status, answer
        return answer

    async def get(self, path: str, **options: Any) -> Answer:
        return await self.call("GET", path, **options)

    async def post(self, path: str, json: Any = None, **options: Any) -> Answer:
        return await self.call("POST", path, json, **options)


@dataclass(eq=False)
class World:
    """A tracker over HTTP and its people: the admin, a project, workers with access to it."""

    client: TestClient
    make_client: MakeClient
    admin: Caller = field(init=False)
    project: int = 0
    workers: list[Caller] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.admin = self.anonymous

    @classmethod
    async def start(cls, make_client: MakeClient, settings: config.Settings | None = None) -> World:
        """A tracker nobody has used yet, with ``settings`` (default: the test's)."""
        return cls(await make_client(settings), make_client)

    @property
    def anonymous(self) -> Caller:
        return Caller(self)

    @property
    def worker(self) -> Caller:
        return self.workers[0]

    @property
    def tracker(self) -> Tracker:
        return tracker_of(self.client)

    def position(self) -> int:
        """How many events the tracker has applied."""
        return self.tracker.state.position

    async def log_head(self) -> int:
        """How many events the log holds."""
        return await self.tracker.store.head()

    async def restart(self, settings: config.Settings | None = None) -> None:
        """Stop the tracker and start it again on the same log (with ``settings``, if given)."""
        await self.client.close()
        self.client = await self.make_client(settings)

    # --- people ---------------------------------------------------------------------------

    async def open(self, *, workers: int = 2, name: str = "project", **project: Any) -> World:
        """Register the admin (unless there is one), create the project and ``workers``
        workers, each granted access to it."""
        if not self.admin.cookie:
            self.admin = await self.register("admin")
        self.project = await self.create_project(name, **project)
        for n in range(workers):
            worker = await self.new_worker(f"worker {n + 1}")
            await self.grant(worker)
            self.workers.append(worker)
        return self

    async def register(self, username: str, password: str = PASSWORD) -> Caller:
        return await self._session("/register", username, password)

    async def login(self, username: str, password: str = PASSWORD) -> Caller:
        return await self._session("/login", username, password)

    async def _session(self, path: str, username: str, password: str) -> Caller:
        credentials = {"username": username, "password": password}
        response = await self.client.post(path, json=credentials)
        assert response.status == 200, await response.text()
        caller = Caller(self, username, cookie=response.cookies[COOKIE].value)
        account = await caller.get("/account", status=200)
        return Caller(self, username, cookie=caller.cookie, id=account.content["manager"]["id"])

    async def new_worker(self, alias: str = "worker") -> Caller:
        answer = await self.anonymous.post("/worker/create", {"alias": alias}, status=200)
        worker = answer.content["worker"]
        return Caller(self, alias, worker=worker, id=worker["id"])

    async def create_project(self, name: str = "project", *, by: Caller | None = None,
                             **fields: Any) -> int:  # fmt: skip
        manager = by or self.admin
        answer = await manager.post("/project/create", {"name": name, **fields}, status=200)
        return int(answer.content["id"])

    async def add_project(self, name: str, **fields: Any) -> int:
        """Another project of the admin's; every worker of the world gets access to it."""
        project = await self.create_project(name, **fields)
        for worker in self.workers:
            await self.grant(worker, project)
        return project

    async def request_access(self, worker: Caller, project: int | None = None,
                             assign: bool = True, submit: bool = True) -> Answer:  # fmt: skip
        body = {"project": project or self.project, "assign": assign, "submit": submit}
        return await worker.post("/project/request_access", body, status=200)

    async def grant(self, worker: Caller, project: int | None = None, *,
                    by: Caller | None = None, assign: bool = True,
                    submit: bool = True) -> None:  # fmt: skip
        """The worker requests access and the manager (the admin by default) accepts it."""
        project = project or self.project
        await self.request_access(worker, project, assign, submit)
        path = f"/project/accept_request/{project}/{worker.id}"
        answer = await (by or self.admin).post(path, status=200)
        assert answer.ok, answer

    async def set_role(self, project: int, target: Caller, role: int, *,
                       by: Caller | None = None) -> Answer:  # fmt: skip
        body = {"manager": target.id, "role": role}
        return await (by or self.admin).post(f"/manager/set_role_for_project/{project}", body)

    async def update_project(self, project: int | None = None, *, by: Caller | None = None,
                             **fields: Any) -> None:  # fmt: skip
        """``/project/update`` with the project's current settings and ``fields`` changed."""
        project = project or self.project
        manager = by or self.admin
        view = (await manager.get(f"/project/get/{project}", status=200)).content["project"]
        view.update(fields)
        view.pop("id")
        await manager.post(f"/project/update/{project}", view, status=200)

    async def pause_worker(self, worker: Caller, paused: bool = True) -> None:
        body = {"worker": worker.id, "paused": paused}
        await self.admin.post("/worker/set_paused", body, status=200)

    # --- tasks ----------------------------------------------------------------------------

    def _worker(self, by: int | Caller) -> Caller:
        return self.workers[by] if isinstance(by, int) else by

    async def submit(self, recipe: str = "recipe", *, by: int | Caller = 0,
                     project: int | None = None, **fields: Any) -> Answer:  # fmt: skip
        body = {"project": project or self.project, "recipe": recipe, **fields}
        return await self._worker(by).post("/task/submit", body)

    async def assign(self, by: int | Caller = 0, project: int | None = None) -> Answer:
        return await self._worker(by).get(f"/task/get/{project or self.project}")

    async def task(self, by: int | Caller = 0, project: int | None = None) -> dict[str, Any]:
        """Assign and return the task; fails the test if none was available."""
        answer = await self.assign(by, project)
        assert answer.ok is True, answer
        return dict(answer.content["task"])

    async def release(self, task_id: int, result: int = 0, *, by: int | Caller = 0,
                      **fields: Any) -> Answer:  # fmt: skip
        body = {"task_id": task_id, "result": result, **fields}
        return await self._worker(by).post("/task/release", body)

    async def take(self, count: int, by: int | Caller = 0, project: int | None = None) -> Answer:
        """``/task/bulk_get``: up to ``count`` tasks at once."""
        path = f"/task/bulk_get/{project or self.project}?count={count}"
        return await self._worker(by).get(path)

    async def release_all(self, *releases: dict[str, Any] | tuple[int, int],
                          by: int | Caller = 0) -> Answer:  # fmt: skip
        """``/task/bulk_release``; each element a body of ``/task/release`` or (task, result)."""
        items = [r if isinstance(r, dict) else {"task_id": r[0], "result": r[1]}
                 for r in releases]  # fmt: skip
        return await self._worker(by).post("/task/bulk_release", {"releases": items})

    async def touch(self, task_id: int, by: int | Caller = 0, **fields: Any) -> Answer:
        """``/task/touch``: keep the task alive."""
        return await self._worker(by).post("/task/touch", {"task_id": task_id, **fields})

    async def drain(self, by: int | Caller = 0, project: int | None = None) -> list[dict]:
        """Assign until nothing is left: the tasks in the order the tracker handed them out."""
        tasks = []
        while (answer := await self.assign(by, project)).ok:
            tasks.append(answer.content["task"])
        assert answer == NO_TASK, answer
        return tasks


def project_body(name: str, **fields: Any) -> dict[str, Any]:
    """A full ``/project/update`` body, as the UI sends it back."""
    body: dict[str, Any] = {
        "name": name, "clone_url": "", "git_repo": "", "version": "", "priority": 0,
        "motd": "", "public": False, "hidden": False, "chain": 0, "paused": False,
        "assign_rate": 0, "submit_rate": 0,
    }  # fmt: skip
    body.update(fields)
    return body


def amend(settings: config.Settings, **sections: dict[str, Any]) -> config.Settings:
    """``settings`` with the given sections' fields replaced, e.g.
    ``amend(settings, tasks={"default_max_assign_time": 5})``."""
    for name, values in sections.items():
        section = msgspec.structs.replace(getattr(settings, name), **values)
        settings = msgspec.structs.replace(settings, **{name: section})
    return settings

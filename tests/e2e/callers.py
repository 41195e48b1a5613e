"""Callers of the HTTP API for the manager tests: managers hold their own session cookie,
workers their headers, so one test client can act as many people at once.

The tests use a client whose cookie jar keeps nothing: every request names its caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import DummyCookieJar
from aiohttp.test_utils import TestClient

from tests.conftest import Clock, serve
from tests.e2e.support import cheap
from tracker import config
from tracker.http.app import create_app

PASSWORD = "password1"
COOKIE = "tt"


@dataclass
class Caller:
    """Who sends a request: nobody, a manager (cookie) or a worker (headers)."""

    name: str = "anonymous"
    cookie: str = ""
    worker: dict = field(default_factory=dict)
    id: int = 0

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.cookie:
            headers["Cookie"] = f"{COOKIE}={self.cookie}"
        if self.worker:
            headers["X-Worker-Id"] = str(self.worker["id"])
            headers["X-Secret"] = self.worker["secret"]
        return headers


ANONYMOUS = Caller()


@dataclass
class Answer:
    status: int
    body: Any  # the decoded JSON, the text, or None for an empty body

    @property
    def ok(self) -> bool | None:
        return self.body.get("ok") if isinstance(self.body, dict) else None

    @property
    def message(self) -> str:
        return self.body.get("message", "") if isinstance(self.body, dict) else ""

    @property
    def content(self) -> Any:
        return self.body.get("content") if isinstance(self.body, dict) else None


async def start(aiohttp_client: Any, settings: config.Settings, clock: Clock) -> TestClient:
    app = create_app(cheap(settings), clock=clock)
    return await serve(aiohttp_client, app, cookie_jar=DummyCookieJar())


async def call(client: TestClient, method: str, path: str, caller: Caller = ANONYMOUS,
               json: Any = None, data: bytes | str | None = None,
               headers: dict[str, str] | None = None) -> Answer:  # fmt: skip
    all_headers = {**caller.headers(), **(headers or {})}
    if json is not None:
        response = await client.request(method, path, json=json, headers=all_headers)
    else:
        response = await client.request(method, path, data=data, headers=all_headers)
    text = await response.text()
    if not text:
        return Answer(response.status, None)
    if response.content_type == "application/json":
        return Answer(response.status, await response.json())
    return Answer(response.status, text)


async def register(client: TestClient, username: str, password: str = PASSWORD) -> Caller:
    response = await client.post("/register", json={"username": username, "password": password})
    assert response.status == 200, await response.text()
    cookie = response.cookies[COOKIE].value
    account = await call(client, "GET", "/account", Caller(cookie=cookie))
    return Caller(username, cookie=cookie, id=account.content["manager"]["id"])


async def login(client: TestClient, username: str, password: str = PASSWORD) -> Caller:
    response = await client.post("/login", json={"username": username, "password": password})
    assert response.status == 200, await response.text()
    body = await response.json()
    manager_id = body["content"]["manager"]["id"]
    return Caller(username, cookie=response.cookies[COOKIE].value, id=manager_id)


async def new_worker(client: TestClient, alias: str) -> Caller:
    answer = await call(client, "POST", "/worker/create", json={"alias": alias})
    assert answer.status == 200, answer
    worker = answer.content["worker"]
    return Caller(alias, worker=worker, id=worker["id"])


async def create_project(client: TestClient, manager: Caller, name: str, **fields: Any) -> int:
    answer = await call(client, "POST", "/project/create", manager, json={"name": name, **fields})
    assert answer.status == 200, answer
    return int(answer.content["id"])


async def request_access(client: TestClient, worker: Caller, project: int,
                         assign: bool = True, submit: bool = True) -> None:  # fmt: skip
    body = {"project": project, "assign": assign, "submit": submit}
    answer = await call(client, "POST", "/project/request_access", worker, json=body)
    assert answer.status == 200, answer


async def grant(client: TestClient, manager: Caller, worker: Caller, project: int,
                assign: bool = True, submit: bool = True) -> None:  # fmt: skip
    await request_access(client, worker, project, assign, submit)
    path = f"/project/accept_request/{project}/{worker.id}"
    answer = await call(client, "POST", path, manager)
    assert answer.status == 200 and answer.ok, answer


async def set_role(client: TestClient, manager: Caller, project: int, target: Caller,
                   role: int) -> Answer:  # fmt: skip
    body = {"manager": target.id, "role": role}
    return await call(
        client, "POST", f"/manager/set_role_for_project/{project}", manager, json=body
    )


def project_body(name: str, **fields: Any) -> dict[str, Any]:
    """A full ``/project/update`` body, as the UI sends it back."""
    body: dict[str, Any] = {
        "name": name, "clone_url": "", "git_repo": "", "version": "", "priority": 0,
        "motd": "", "public": False, "hidden": False, "chain": 0, "paused": False,
        "assign_rate": 0, "submit_rate": 0,
    }  # fmt: skip
    body.update(fields)
    return body

"""A small keep-alive HTTP client for the tracker API, and the bench set-up.

Set-up follows behavior.md sections 3 and 6: the first manager registered is
tracker admin (needed to create a public project); each worker asks for
assign+submit access and the manager grants it.
"""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from .server import HOST

COOKIE_NAME = "tt"
USERNAME = "benchadmin"
PASSWORD = "bench-password"


class ApiError(RuntimeError):
    """A set-up call did not answer 200 with ok: true."""


@dataclass(frozen=True)
class Worker:
    id: int
    secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Worker-Id": str(self.id), "X-Secret": self.secret}


@dataclass
class Fixture:
    project: int
    workers: list[Worker] = field(default_factory=list)


class Api:
    """Keep-alive JSON client bound to 127.0.0.1:port, with the manager cookie."""

    def __init__(self, port: int, timeout: float = 300.0) -> None:
        self.port = port
        self.timeout = timeout
        self.cookie: str | None = None
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def raw(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        if self.cookie is not None:
            hdrs["Cookie"] = f"{COOKIE_NAME}={self.cookie}"
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            try:
                self._conn.request(method, path, body=body, headers=hdrs)
                resp = self._conn.getresponse()
                data = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A keep-alive connection the server closed while idle: retry once.
                self.close()
                if attempt == 2:
                    raise
                continue
            self._remember_cookie(resp.getheader("Set-Cookie"))
            return resp.status, dict(resp.getheaders()), data
        raise AssertionError("unreachable")

    def _remember_cookie(self, header: str | None) -> None:
        if not header:
            return
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if COOKIE_NAME in jar:
            self.cookie = jar[COOKIE_NAME].value

    def call(
        self,
        method: str,
        path: str,
        payload: Any = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Send JSON, expect 200 and ``ok: true``; return the envelope."""
        body = None if payload is None else json.dumps(payload).encode()
        status, _, data = self.raw(method, path, body, headers)
        try:
            envelope = json.loads(data) if data else {}
        except ValueError:
            envelope = {}
        if status != 200 or envelope.get("ok") is not True:
            raise ApiError(f"{method} {path} -> {status} {data[:300]!r}")
        return envelope


def setup(api: Api, n_workers: int) -> Fixture:
    """Manager (tracker admin), one public unlimited project, granted workers."""
    api.call("POST", "/register", {"username": USERNAME, "password": PASSWORD})
    if api.cookie is None:
        raise ApiError(f"/register set no `{COOKIE_NAME}` cookie")
    project = api.call(
        "POST",
        "/project/create",
        {
            "name": "bench",
            "clone_url": "",
            "git_repo": "",
            "version": "1",
            "motd": "",
            "priority": 1,
            "public": True,
            "hidden": False,
            "chain": 0,
            "assign_rate": 0,
            "submit_rate": 0,
        },
    )["content"]["id"]
    fixture = Fixture(project=int(project))
    for i in range(n_workers):
        fixture.workers.append(add_worker(api, fixture.project, f"bench-{i}"))
    return fixture


def add_worker(api: Api, project: int, alias: str) -> Worker:
    created = api.call("POST", "/worker/create", {"alias": alias})["content"]["worker"]
    worker = Worker(int(created["id"]), str(created["secret"]))
    api.call(
        "POST",
        "/project/request_access",
        {"project": project, "assign": True, "submit": True},
        worker.headers,
    )
    api.call("POST", f"/project/accept_request/{project}/{worker.id}")
    return worker


def recipe(i: int, length: int = 64) -> str:
    head = f"r{i}-"
    return head + "x" * (length - len(head))


def preload(api: Api, fixture: Fixture, count: int, chunk: int = 5000, start: int = 0) -> float:
    """Bulk-submit ``count`` distinct 64-byte-recipe tasks; return tasks/s.

    Halves the chunk on 413 (request body too large) and retries.
    """
    worker = fixture.workers[0]
    t0 = time.perf_counter()
    done = 0
    while done < count:
        n = min(chunk, count - done)
        items = ",".join(
            f'{{"project":{fixture.project},"recipe":"{recipe(start + done + i)}"}}'
            for i in range(n)
        )
        body = f'{{"requests":[{items}]}}'.encode()
        status, _, data = api.raw("POST", "/task/bulk_submit", body, worker.headers)
        if status == 413 and chunk > 100:
            chunk //= 2
            continue
        if status != 200 or b'"ok":true' not in data.replace(b" ", b""):
            raise ApiError(f"bulk_submit -> {status} {data[:300]!r}")
        done += n
    return count / max(time.perf_counter() - t0, 1e-9)


def _optional(api: Api, path: str) -> dict[str, Any] | None:
    """GET a read route; None when the server does not have it (404)."""
    try:
        return api.call("GET", path)
    except ApiError as exc:
        if " -> 404 " in str(exc):
            return None
        raise


def queued(api: Api, project: int) -> int | None:
    """Live tasks of the project (all assignee groups of /project/assignees), or None."""
    envelope = _optional(api, f"/project/assignees/{project}")
    if envelope is None:
        return None
    groups = envelope["content"]["assignees"] or []
    return sum(int(g["task_count"]) for g in groups)


def closed_by(api: Api, workers: list[Worker]) -> list[int] | None:
    """closed_task_count of each worker, from /worker/stats, or None."""
    envelope = _optional(api, "/worker/stats")
    if envelope is None:
        return None
    by_id = {
        int(s["id"]): int(s.get("closed_task_count", 0)) for s in envelope["content"]["stats"] or []
    }
    return [by_id.get(w.id, 0) for w in workers]


def can_assign(api: Api, fixture: Fixture) -> bool:
    """One GET /task/get returns a task; it is given back with release SKIP (2)."""
    worker = fixture.workers[0]
    status, _, data = api.raw("GET", f"/task/get/{fixture.project}", None, worker.headers)
    try:
        task = json.loads(data)["content"]["task"]
    except (ValueError, KeyError, TypeError):
        return False
    api.call("POST", "/task/release", {"task_id": task["id"], "result": 2}, worker.headers)
    return status == 200

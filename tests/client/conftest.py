"""Fixtures: a real ``tracker serve`` and a world in it (an admin, a project, a worker)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.processes import Server, Servers
from tracker.client import Client, ProjectSettings, WorkerIdentity


@pytest.fixture
def server(servers: Servers) -> Server:
    return servers.start()


@dataclass
class World:
    server: Server
    admin: Client  # logged in as the first manager (tracker admin)
    worker: Client  # a worker with granted assign and submit access to ``project``
    identity: WorkerIdentity
    project: int


def world_in(server: Server, name: str = "client-tests", **project: object) -> World:
    admin = Client(server.url)
    admin.register("admin", "password1")
    project_id = admin.create_project(ProjectSettings(name=name, **project))  # type: ignore[arg-type]
    with Client(server.url) as anonymous:
        created = anonymous.create_worker("tester")
    assert created.secret is not None
    identity = WorkerIdentity(created.id, created.secret)
    worker = Client(server.url, worker=identity)
    worker.request_access(project_id, assign=True, submit=True)
    admin.accept_request(project_id, identity.id)
    return World(server, admin, worker, identity, project_id)


@pytest.fixture
def world(server: Server) -> Iterator[World]:
    made = world_in(server)
    yield made
    made.admin.close()
    made.worker.close()

"""Fixtures: a real ``tracker serve`` and a world in it (an admin, a project, a worker)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import Server, Servers
from tracker.client import Client, NewTask, ProjectSettings, WorkerIdentity, identity
from tracker.client.worker import Worker


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


def worker_loop(world: World, tmp_path: Path, **options: object) -> Worker:
    """The worker loop as the world's worker (its identity in a file of the test's), until the
    project is empty."""
    path = tmp_path / f"identity-{world.server.port}.json"
    if not path.exists():
        identity.write(path, world.identity, world.server.url, "tester")
    return Worker(world.server.url, world.project, identity_file=path, until_empty=True,
                  **options)  # type: ignore[arg-type]  # fmt: skip


def fill(world: World, count: int, **fields: object) -> None:
    """``count`` tasks in the world's project, in one bulk submission."""
    world.worker.bulk_submit([NewTask(project=world.project, recipe=f"t{i}", **fields)
                              for i in range(count)])  # type: ignore[arg-type]  # fmt: skip

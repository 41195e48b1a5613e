"""Error mapping: each refusal of a real ``tracker serve`` raises the class its status and
message stand for, carrying the server's status and message."""

from __future__ import annotations

import socket

import pytest

from tests.client.conftest import World
from tracker import client as c
from tracker.client import Backoff, Client, NewTask, ProjectSettings, WorkerIdentity, calls
from tracker.client.errors import from_answer


def test_bad_input_is_bad_request_with_the_servers_message(world: World) -> None:
    with pytest.raises(c.BadRequest) as caught:
        world.worker.submit_task(NewTask(project=world.project, recipe=""))
    assert caught.value.status == 400
    assert caught.value.message.startswith("Invalid task")


def test_a_wrong_secret_is_worker_auth_failed_whatever_status_the_route_uses(world: World) -> None:
    wrong = Client(world.server.url, worker=WorkerIdentity(world.identity.id, "AAAA" * 11))
    with wrong:
        with pytest.raises(c.WorkerAuthFailed) as on_get:
            wrong.get_task(world.project)
        with pytest.raises(c.WorkerAuthFailed) as on_submit:
            wrong.submit_task(NewTask(project=world.project, recipe="r"))
        with pytest.raises(c.WorkerAuthFailed) as on_log:
            wrong.log("info", "scope", "message")
    assert (on_get.value.status, on_submit.value.status, on_log.value.status) == (403, 401, 400)
    assert "invalid secret" in on_get.value.message
    assert "AAAA" not in str(on_get.value)


def test_session_and_role_refusals(world: World) -> None:
    with Client(world.server.url) as anonymous:
        with pytest.raises(c.Unauthorized) as no_session:
            anonymous.managers()
        assert no_session.value.status == 401
        anonymous.register("mallory", "password3")
        with pytest.raises(c.Forbidden) as not_admin:
            anonymous.set_worker_paused(world.identity.id, True)
        assert (not_admin.value.status, not_admin.value.message) == (403, "Unauthorized")
    with pytest.raises(c.NotFound, match="Project not found"):
        world.admin.get_project(999)


def test_refusals_with_status_200_and_an_empty_queue(world: World) -> None:
    assert world.worker.get_task(world.project) is None  # "No task available" is not an error
    with pytest.raises(c.Refused) as refused:
        world.admin.accept_request(world.project, 999)
    assert refused.value.status == 200
    assert refused.value.message == "Worker did not have access to this project"


def test_a_paused_worker_and_a_rate_limit(world: World) -> None:
    world.admin.set_worker_paused(world.identity.id, True)
    with pytest.raises(c.WorkerPaused, match="paused you"):
        world.worker.get_task(world.project)
    slow = world.admin.create_project(ProjectSettings(name="slow", submit_rate=0.01))
    world.worker.request_access(slow, assign=True, submit=True)
    world.admin.accept_request(slow, world.identity.id)
    world.worker.submit_task(NewTask(project=slow, recipe="first"))
    with pytest.raises(c.RateLimited) as limited:
        world.worker.submit_task(NewTask(project=slow, recipe="second"))
    assert limited.value.status == 429 and 0 < limited.value.delay <= 100


def test_an_answer_that_is_not_the_envelope_is_a_protocol_error(world: World) -> None:
    webhook = calls.post("/git/receivehook", {"ref": 1})  # plain-text answers, by design
    with pytest.raises(c.ProtocolError, match="400: not a tracker answer"):
        world.admin.call(webhook)


def test_no_server_is_connect_failed_after_the_retries() -> None:
    with socket.socket() as bound:  # a port that is ours and never listens: refused
        bound.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{bound.getsockname()[1]}"
        with (
            Client(url, backoff=Backoff(attempts=2, first=0.01)) as nobody,
            pytest.raises(c.ConnectFailed, match="cannot connect"),
        ):
            nobody.info()


@pytest.mark.parametrize(
    ("status", "message", "kind"),
    [
        (200, "No task available", c.NoTaskAvailable),
        (200, "Could not update worker", c.Refused),
        (400, "Invalid task: recipe must not be empty", c.BadRequest),
        (400, "A manager has paused you", c.WorkerPaused),
        (400, "Could not parse request: invalid secret", c.WorkerAuthFailed),
        (401, "worker id does not match any valid worker", c.WorkerAuthFailed),
        (403, 'strconv.ParseInt: parsing "abc": invalid syntax', c.WorkerAuthFailed),
        (401, "Unauthorized", c.Unauthorized),
        (403, "Unauthorized", c.Forbidden),
        (404, "Project not found", c.NotFound),
        (413, "Request body too large", c.RequestTooLarge),
        (429, "Too many requests", c.RateLimited),
        (500, "pq: something", c.InternalServerError),
        (418, "teapot", c.ServerError),
    ],
)
def test_status_and_message_choose_the_class(status: int, message: str, kind: type) -> None:
    error = from_answer(status, message, None, 1.5)
    assert type(error) is kind
    assert (error.status, error.message) == (status, message)
    assert isinstance(error, c.ClientError)

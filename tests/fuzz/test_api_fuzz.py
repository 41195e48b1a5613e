"""Schemathesis against a real ``tracker serve`` process, from its own ``/openapi.json``
(issue 11): every operation, as a worker, a manager and a tracker admin, with a fixed number of
generated requests per operation (bounded time in CI), then stateful runs that follow the
document's links (create a project, then use its id).

Checks: no 5xx, the status is one the document lists, the media type and body match the
document's schema, and the server still answers ``GET /`` afterwards. The number of requests
tried per route is printed at the end (``-s`` or the terminal summary shows it).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.report import REQUESTS
from tests.processes import Server
from tests.world import COOKIE, PASSWORD

EXAMPLES = int(os.environ.get("TESTS_FUZZ_EXAMPLES", "10"))  # per operation and caller
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]  # fmt: skip
AUDIT_TOKEN = "audit-token-for-the-fuzz-test-0123456789"
METRICS_TOKEN = "metrics-token-for-the-fuzz-test-0123456789"


@dataclass
class Fuzzed:
    """The server under test and the callers made in it."""

    server: Server
    cookie: str = COOKIE
    callers: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> headers
    project: int = 0
    worker: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def call(self, method: str, path: str, **kwargs: object) -> requests.Response:
        return requests.request(method, self.url + path, timeout=30, **kwargs)  # type: ignore[arg-type]

    def login(self, username: str) -> str:
        body = {"username": username, "password": PASSWORD}
        response = self.call("POST", "/login", json=body)
        assert response.status_code == 200, response.text
        return response.cookies[self.cookie]

    def alive(self) -> bool:
        return self.server.running() and self.call("GET", "/").status_code == 200


def _prepare(server: Fuzzed) -> None:
    """The root admin (first manager), a second tracker admin and a plain manager, a project
    and a worker with access to it; each caller's credentials as headers."""
    for name in ("root", "admin", "manager"):
        body = {"username": name, "password": PASSWORD}
        assert server.call("POST", "/register", json=body).status_code == 200
    root = {"Cookie": f"{server.cookie}={server.login('root')}"}
    admin_id = 2
    assert server.call("GET", f"/manager/promote/{admin_id}", headers=root).status_code == 204
    project = server.call("POST", "/project/create", json={"name": "fuzzed"}, headers=root)
    server.project = project.json()["content"]["id"]
    server.worker = server.call("POST", "/worker/create", json={"alias": "w"}).json()["content"][
        "worker"
    ]
    worker = {"X-Worker-Id": str(server.worker["id"]), "X-Secret": server.worker["secret"]}
    body = {"project": server.project, "assign": True, "submit": True}
    assert server.call("POST", "/project/request_access", json=body, headers=worker).ok
    grant = f"/project/accept_request/{server.project}/{server.worker['id']}"
    assert server.call("POST", grant, headers=root).ok
    task = {"project": server.project, "recipe": "fuzz"}
    assert server.call("POST", "/task/submit", json=task, headers=worker).ok
    server.callers = {
        "root": root,
        "worker": worker,
        "manager": {"Cookie": f"{server.cookie}={server.login('manager')}"},
        "admin": {"Cookie": f"{server.cookie}={server.login('admin')}",
                  "Authorization": f"Bearer {AUDIT_TOKEN}"},
    }  # fmt: skip


def _restore(server: Fuzzed) -> None:
    """Undo what a fuzzed request may have taken from the callers: a logout, a demotion, a
    paused worker, a removed access (so later requests still test authorised paths)."""
    root = server.callers["root"]
    for name in ("manager", "admin", "root"):
        headers = server.callers[name]
        account = server.call("GET", "/account", headers=headers).json()
        if not account["content"]["logged_in"]:
            headers["Cookie"] = f"{server.cookie}={server.login(name)}"
    for manager_id, by in ((1, "admin"), (2, "root")):
        server.call("GET", f"/manager/promote/{manager_id}", headers=server.callers[by])
    body = {"worker": server.worker["id"], "paused": False}
    server.call("POST", "/worker/set_paused", json=body, headers=root)
    worker = server.callers["worker"]
    body = {"project": server.project, "assign": True, "submit": True}
    server.call("POST", "/project/request_access", json=body, headers=worker)
    server.call("POST", f"/project/accept_request/{server.project}/{server.worker['id']}",
                headers=root)  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    env = {"TRACKER_AUDIT_TOKEN": AUDIT_TOKEN, "TRACKER_METRICS_TOKEN": METRICS_TOKEN}
    started = Server(tmp_path_factory.mktemp("fuzz") / "data", env=env).start()
    try:
        fuzzed = Fuzzed(started)
        _prepare(fuzzed)
        yield fuzzed
    finally:
        started.stop(within=60)
        assert "Traceback" not in started.stderr, started.stderr[-5000:]


def _schema(server: Fuzzed) -> schemathesis.schemas.BaseSchema:
    document = server.call("GET", "/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    schema.config.update(base_url=server.url)
    return schema


def _bounded(case: schemathesis.Case) -> None:
    """The change feed long-polls up to ``timeout`` seconds: a second at most here."""
    value = (case.query or {}).get("timeout")
    if isinstance(value, int | str) and str(value).isdigit() and int(value) > 1:
        case.query["timeout"] = 1  # a value the server refuses is left as it is


SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
    suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.explicit,
                                                     hypothesis.Phase.generate],
)  # fmt: skip


def _fuzz(server: Fuzzed, operation: Any, who: str, headers: dict, mode: GenerationMode) -> None:
    label = f"{operation.method.upper()} {operation.path}"

    @SETTINGS
    @given(case=operation.as_strategy(generation_mode=mode))
    def fuzz(case: schemathesis.Case) -> None:
        _bounded(case)
        response = case.call(headers=dict(headers))
        REQUESTS[(who, label)] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    fuzz()


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("caller", ["worker", "manager", "admin"])
def test_no_operation_answers_5xx_or_off_its_schema(
    server: Fuzzed, caller: str, mode: GenerationMode
) -> None:
    """Positive: requests the document allows; negative: requests it forbids (wrong types,
    out-of-range ids, missing fields), which must be refused with a documented 4xx."""
    schema = _schema(server)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 49
    for operation in operations:
        raw = operation.definition.raw
        if mode is GenerationMode.NEGATIVE and not ("parameters" in raw or "requestBody" in raw):
            continue  # nothing to get wrong in a request without parameters or body
        _fuzz(server, operation, f"{caller} ({mode.value})", server.callers[caller], mode)
        _restore(server)
    assert server.alive()


@pytest.mark.slow
def test_stateful_runs_follow_the_links_and_answer_within_the_schema(server: Fuzzed) -> None:
    schema = _schema(server)
    headers = server.callers["admin"]
    tried: Counter[str] = Counter()

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict:
            _bounded(case)
            return {"headers": dict(headers)}

        def validate_response(self, response, case, additional_checks=None, **kwargs):  # type: ignore[no-untyped-def]
            tried[f"{case.operation.method.upper()} {case.operation.path}"] += 1
            case.validate_response(response, checks=CHECKS, headers=kwargs.get("headers"))

    Machine.run(settings=hypothesis.settings(
        max_examples=EXAMPLES, stateful_step_count=6, deadline=None,
        derandomize=True, database=None, suppress_health_check=list(HealthCheck),
    ))  # fmt: skip
    for label, count in tried.items():
        REQUESTS[("stateful admin", label)] += count
    assert tried, "the state machine made no request"
    _restore(server)
    assert server.alive()

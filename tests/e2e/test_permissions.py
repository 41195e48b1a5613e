"""The permission matrix: for every route, each kind of caller gets exactly the allowed answer,
and a refused call appends nothing to the log.

Callers: anonymous; a worker without access, with a pending request, with granted access;
a manager without a role on the project, a manager with each role bit alone; the tracker admin.
The project is hidden, so ROLE_READ matters. Before each call the route's ``arrange`` step makes
sure an allowed call would change something (so a refusal that still wrote would be caught);
allowed writes must append, allowed reads must not.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.world import Answer, Caller, World, project_body
from tracker import config

WORKERS = ("worker_none", "worker_pending", "worker_granted")
ROLES = {"manager_read": 1, "manager_edit": 2, "manager_access": 4, "manager_secret": 8,
         "manager_maintenance": 16}  # fmt: skip
MANAGERS = ("manager_none", *ROLES)
CALLERS = ("anonymous", *WORKERS, *MANAGERS, "admin")  # admin last: its calls change most


@pytest.fixture
async def world(bare_world: World) -> World:
    """The admin, the hidden project and one worker granted access to it."""
    return await bare_world.open(workers=1, name="hidden", hidden=True)


@dataclass
class Cast:
    """The world and every kind of caller of the matrix."""

    world: World
    callers: dict[str, Caller]
    target: Caller  # a manager no caller is, for promote, demote and set_role
    paused_worker: Caller
    fresh: Caller  # the worker accept and reject act on (``_fresh_request``)
    counter: itertools.count = field(default_factory=itertools.count)

    @property
    def project(self) -> int:
        return self.world.project

    @property
    def admin(self) -> Caller:
        return self.callers["admin"]

    @property
    def granted(self) -> Caller:
        return self.callers["worker_granted"]

    def unique(self) -> int:
        return next(self.counter)


async def build_cast(world: World) -> Cast:
    admin, project = world.admin, world.project
    callers: dict[str, Caller] = {"anonymous": world.anonymous, "admin": admin}
    for name in MANAGERS:
        callers[name] = await world.register(name[:16])
        if name in ROLES:
            assert (await world.set_role(project, callers[name], ROLES[name])).ok
    callers["worker_none"] = await world.new_worker("worker_none")
    callers["worker_pending"] = await world.new_worker("worker_pending")
    await world.request_access(callers["worker_pending"], project)
    callers["worker_granted"] = world.worker
    target = await world.register("target")
    paused = await world.new_worker("to-pause")
    return Cast(world, callers, target, paused, fresh=world.anonymous)


Body = Callable[[Cast], Any]


async def _no_arrangement(cast: Cast) -> None:
    return None


@dataclass
class Route:
    method: str
    path: Callable[[Cast], str]
    allowed: dict[str, tuple]  # caller -> the answer; everyone else gets ``refused``
    refused: dict[str, tuple]  # by kind: "anonymous", "worker", "manager"
    body: Body | None = None
    arrange: Callable[[Cast], Awaitable[Any]] = _no_arrangement
    writes: bool = True  # allowed calls append (True) or never append (False)
    see: Callable[[Cast, Answer], Any] | None = None  # more of the answer to compare

    def expected(self, caller: str) -> tuple:
        if caller in self.allowed:
            return self.allowed[caller]
        kind = "worker" if caller in WORKERS else "manager" if caller != "anonymous" else caller
        return self.refused[kind]


async def _fresh_request(cast: Cast) -> None:
    """A new worker with a pending request: the one accept and reject act on."""
    cast.fresh = await cast.world.new_worker(f"fresh{cast.unique()}")
    await cast.world.request_access(cast.fresh)


async def _submit(cast: Cast, **fields: Any) -> None:
    answer = await cast.world.submit(f"task {cast.unique()}", by=cast.granted, **fields)
    assert answer.ok, answer


async def _fail_one(cast: Cast) -> None:
    await _submit(cast, max_retries=0)
    task = await cast.world.task(cast.granted)
    await cast.world.release(task["id"], 1, by=cast.granted)


async def _assign_one(cast: Cast) -> None:
    await _submit(cast)
    assert (await cast.world.assign(cast.granted)).ok


async def _target_is_admin(cast: Cast) -> None:
    state = cast.world.tracker.state
    if not state.managers.by_id[cast.target.id].tracker_admin:
        await cast.admin.get(f"/manager/promote/{cast.target.id}")


def _project_listed(cast: Cast, answer: Answer) -> bool:
    return any(p["id"] == cast.project for p in answer.content["projects"])


OK = (200, True)
FORBIDDEN = (403, False)
SESSION_NEEDED = (401, False)
MANAGE = {"manager_access": OK, "admin": OK}
SECRET = {"manager_secret": OK, "admin": OK}
MAINTAIN = {"manager_maintenance": OK, "admin": OK}
ONLY_MANAGERS = {"anonymous": FORBIDDEN, "worker": FORBIDDEN, "manager": FORBIDDEN}
NO_WORKER_AUTH = {"anonymous": (401, False), "manager": (401, False)}


def pid(cast: Cast) -> str:
    return str(cast.project)


ROUTES: dict[str, Route] = {
    "GET /project/get": Route(
        "GET", lambda w: f"/project/get/{pid(w)}", {"manager_read": OK, "admin": OK},
        ONLY_MANAGERS, writes=False,
    ),
    "GET /project/list": Route(
        "GET", lambda w: "/project/list",
        {"manager_read": (200, True, True), "admin": (200, True, True)},
        {"anonymous": (200, True, False), "worker": (200, True, False),
         "manager": (200, True, False)},
        writes=False, see=_project_listed,
    ),
    "GET /task/get": Route(
        "GET", lambda w: f"/task/get/{pid(w)}", {"worker_granted": OK},
        {"anonymous": FORBIDDEN, "worker": (200, False), "manager": FORBIDDEN},
        arrange=_submit,
    ),
    "POST /task/submit": Route(
        "POST", lambda w: "/task/submit", {"worker_granted": OK},
        {**NO_WORKER_AUTH, "worker": (400, False)},
        body=lambda w: {"project": w.project, "recipe": f"r{w.unique()}"},
    ),
    "POST /project/request_access": Route(
        "POST", lambda w: "/project/request_access", {"worker_none": OK},
        {**NO_WORKER_AUTH, "worker": (400, False)},
        body=lambda w: {"project": w.project, "assign": True, "submit": True},
    ),
    "POST /project/accept_request": Route(
        "POST", lambda w: f"/project/accept_request/{pid(w)}/{w.fresh.id}",
        MANAGE, ONLY_MANAGERS, arrange=_fresh_request,
    ),
    "POST /project/reject_request": Route(
        "POST", lambda w: f"/project/reject_request/{pid(w)}/{w.fresh.id}",
        MANAGE, ONLY_MANAGERS, arrange=_fresh_request,
    ),
    "GET /project/access_list": Route(
        "GET", lambda w: f"/project/access_list/{pid(w)}", MANAGE, ONLY_MANAGERS, writes=False,
    ),
    "POST /project/update": Route(
        "POST", lambda w: f"/project/update/{pid(w)}", {"manager_edit": OK, "admin": OK},
        ONLY_MANAGERS, body=lambda w: project_body("hidden", hidden=True, motd=f"{w.unique()}"),
    ),
    "GET /project/secret": Route(
        "GET", lambda w: f"/project/secret/{pid(w)}", {**SECRET, "worker_granted": OK},
        ONLY_MANAGERS, writes=False,
    ),
    "POST /project/secret": Route(
        "POST", lambda w: f"/project/secret/{pid(w)}", SECRET, ONLY_MANAGERS,
        body=lambda w: {"secret": f"secret {w.unique()}"},
    ),
    "GET /project/webhook_secret": Route(
        "GET", lambda w: f"/project/webhook_secret/{pid(w)}", SECRET, ONLY_MANAGERS,
        writes=False,
    ),
    "POST /project/webhook_secret": Route(
        "POST", lambda w: f"/project/webhook_secret/{pid(w)}", SECRET, ONLY_MANAGERS,
        body=lambda w: {"webhook_secret": f"hook {w.unique()}"},
    ),
    "POST /project/reset_failed_tasks": Route(
        "POST", lambda w: f"/project/reset_failed_tasks/{pid(w)}", MAINTAIN, ONLY_MANAGERS,
        arrange=_fail_one,
    ),
    "POST /project/hard_reset": Route(
        "POST", lambda w: f"/project/hard_reset/{pid(w)}", MAINTAIN, ONLY_MANAGERS,
        arrange=_submit,
    ),
    "POST /project/reclaim_assigned_tasks": Route(
        "POST", lambda w: f"/project/reclaim_assigned_tasks/{pid(w)}", MAINTAIN, ONLY_MANAGERS,
        arrange=_assign_one,
    ),
    "POST /worker/set_paused": Route(
        "POST", lambda w: "/worker/set_paused", {"admin": OK}, ONLY_MANAGERS,
        body=lambda w: {"worker": w.paused_worker.id, "paused": True},
    ),
    "GET /manager/list": Route(
        "GET", lambda w: "/manager/list", {name: OK for name in (*MANAGERS, "admin")},
        {"anonymous": SESSION_NEEDED, "worker": SESSION_NEEDED}, writes=False,
    ),
    "GET /manager/list_for_project": Route(
        "GET", lambda w: f"/manager/list_for_project/{pid(w)}",
        {name: OK for name in (*MANAGERS, "admin")},
        {"anonymous": SESSION_NEEDED, "worker": SESSION_NEEDED}, writes=False,
    ),
    "GET /manager/promote": Route(
        "GET", lambda w: f"/manager/promote/{w.target.id}", {"admin": (204, None)},
        {"anonymous": SESSION_NEEDED, "worker": SESSION_NEEDED, "manager": SESSION_NEEDED},
    ),
    "GET /manager/demote": Route(
        "GET", lambda w: f"/manager/demote/{w.target.id}", {"admin": (204, None)},
        {"anonymous": SESSION_NEEDED, "worker": SESSION_NEEDED, "manager": FORBIDDEN},
        arrange=_target_is_admin,
    ),
    "POST /manager/set_role_for_project": Route(
        "POST", lambda w: f"/manager/set_role_for_project/{pid(w)}", MANAGE, ONLY_MANAGERS,
        body=lambda w: {"manager": w.target.id, "role": 1 + w.unique() % 31},
    ),
}  # fmt: skip


async def _observe(cast: Cast, route: Route, caller: Caller) -> tuple[tuple, int]:
    """The answer ``caller`` gets (as the matrix writes it) and how many events it appended."""
    await route.arrange(cast)
    before = cast.world.position()
    body = route.body(cast) if route.body else None
    answer = await caller.call(route.method, route.path(cast), body)
    seen = (answer.status, answer.ok)
    if route.see is not None and answer.status == 200:
        seen += (route.see(cast, answer),)
    return seen, cast.world.position() - before


@pytest.mark.parametrize("name", list(ROUTES))
async def test_each_caller_gets_exactly_the_allowed_answer_and_refusals_append_nothing(
    world: World, name: str
) -> None:
    route, cast = ROUTES[name], await build_cast(world)
    wrong = []
    for caller_name in CALLERS:
        seen, appended = await _observe(cast, route, cast.callers[caller_name])
        expected = route.expected(caller_name)
        allowed = caller_name in route.allowed
        appends_as_it_should = appended > 0 if allowed and route.writes else appended == 0
        if seen != expected or not appends_as_it_should:
            wrong.append(f"{caller_name}: expected {expected}, got {seen}, appended {appended}")
    assert not wrong, "\n".join(wrong)


def test_the_matrix_covers_every_route_of_issue_3_and_the_issue_2_routes_it_names() -> None:
    from tracker.app import create_app

    settings = config.build({})
    app = create_app(settings)
    registered = {
        f"{r.method} {r.resource.canonical.rsplit('/{', 1)[0].split('/{')[0]}"  # type: ignore[union-attr]
        for r in app.router.routes()
    }
    ours = {
        "GET /manager/list", "GET /manager/list_for_project", "GET /manager/promote",
        "GET /manager/demote", "POST /manager/set_role_for_project", "POST /project/update",
        "GET /project/secret", "POST /project/secret", "GET /project/webhook_secret",
        "POST /project/webhook_secret", "GET /project/access_list", "POST /project/reject_request",
        "POST /project/accept_request", "POST /project/reset_failed_tasks",
        "POST /project/hard_reset", "POST /project/reclaim_assigned_tasks",
        "POST /worker/set_paused", "GET /project/get", "GET /project/list", "GET /task/get",
        "POST /task/submit", "POST /project/request_access",
    }  # fmt: skip
    assert ours <= registered
    assert set(ROUTES) == ours
